/* bf_buf: growable byte buffer with a hard cap (see bf_buf.h). */
#include "bf_buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_json.h"

void bf_buf_init(bf_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void bf_buf_free(bf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void bf_buf_reset(bf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* cap counts usable bytes; one extra byte is always allocated for the NUL terminator. */
int bf_buf_reserve(bf_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - 1 - b->len)
        return -E2BIG;
    size_t need = b->len + extra;
    if (b->max && need > b->max)
        return -E2BIG;
    if (need <= b->cap && b->data)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 - 1) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    /* Never allocate beyond the cap: a capped buffer must not cost more than its cap. */
    if (b->max && ncap > b->max)
        ncap = b->max;
    char *p = realloc(b->data, ncap + 1);
    if (!p)
        return -ENOMEM;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = ncap;
    return 0;
}

int bf_buf_append(bf_buf *b, const void *p, size_t n)
{
    int rc = bf_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int bf_buf_puts(bf_buf *b, const char *s)
{
    return bf_buf_append(b, s, strlen(s));
}

int bf_buf_putc(bf_buf *b, char c)
{
    return bf_buf_append(b, &c, 1);
}

int bf_buf_vprintf(bf_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    int rc = bf_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int bf_buf_printf(bf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = bf_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* Short escapes for the control characters JSON names; others use \u00XX. */
static const char json_short_esc[0x20] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

int bf_buf_json_str(bf_buf *b, const char *s, size_t n)
{
    /* Worst case growth is 6x (\u00XX); reserve the common case up front, appends grow as needed. */
    int rc = bf_buf_reserve(b, n + 2);
    if (rc)
        return rc;
    rc = bf_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (!rc && i < n) {
        /* Copy the longest run that needs no escaping in one append. */
        size_t start = i;
        while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
            i++;
        if (i > start && (rc = bf_buf_append(b, p + start, i - start)))
            break;
        if (i >= n)
            break;
        unsigned c = p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c;
            rc = bf_buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            if (json_short_esc[c]) {
                esc[0] = '\\'; esc[1] = json_short_esc[c];
                rc = bf_buf_append(b, esc, 2);
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                rc = bf_buf_append(b, esc, 6);
            }
            i++;
        } else {
            size_t l = bf_utf8_seq(p + i, n - i);
            if (l) {
                rc = bf_buf_append(b, p + i, l);
                i += l;
            } else {
                rc = bf_buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
                i++;
            }
        }
    }
    if (!rc)
        rc = bf_buf_putc(b, '"');
    return rc;
}

char *bf_buf_steal(bf_buf *b, size_t *len)
{
    char *d = b->data;
    /* An empty buffer still yields a valid string, so callers need no NULL special case
     * (NULL is returned only when that tiny allocation fails). */
    if (!d)
        d = calloc(1, 1);
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}
