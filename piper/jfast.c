/* jfast: see jfast.h. The builder trusts the text's syntax (checked by bf_json_object_check or produced by us) but
 * still bounds every read by the end pointer, so malformed input cannot read out of bounds. */
#include "jfast.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_json.h"

typedef struct rd { const char *p, *e; int depth; bf_buf tmp; } rd;

static void skip_ws(rd *r)
{
    while (r->p < r->e && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
    }
    return v;
}

static int put_utf8(bf_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
    else { u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
    return bf_buf_append(b, u, n);
}

/* Reads a string at r->p; s and n point into the text or into r->tmp when unescaping. */
static int read_str(rd *r, const char **s, size_t *n)
{
    const char *st = ++r->p;
    const char *q = st;
    while (q < r->e && *q != '"' && *q != '\\')
        q++;
    if (q >= r->e)
        return -EINVAL;
    if (*q == '"') {
        *s = st;
        *n = (size_t)(q - st);
        r->p = q + 1;
        return 0;
    }
    bf_buf_reset(&r->tmp);
    if (bf_buf_append(&r->tmp, st, (size_t)(q - st)))
        return -ENOMEM;
    while (q < r->e && *q != '"') {
        if (*q != '\\') {
            const char *z = q;
            while (z < r->e && *z != '"' && *z != '\\')
                z++;
            if (bf_buf_append(&r->tmp, q, (size_t)(z - q)))
                return -ENOMEM;
            q = z;
            continue;
        }
        if (q + 1 >= r->e)
            return -EINVAL;
        char c = q[1];
        int rc = 0;
        if (c == 'u') {
            if (r->e - q < 6)
                return -EINVAL;
            unsigned cp = hex4(q + 2);
            q += 6;
            if (cp >= 0xD800 && cp < 0xDC00 && r->e - q >= 6 && q[0] == '\\' && q[1] == 'u') {
                unsigned lo = hex4(q + 2);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    q += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000)
                cp = 0xFFFD;   /* lone surrogate */
            rc = put_utf8(&r->tmp, cp);
        } else {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *f = memchr(from, c, sizeof from - 1);
            if (!f)
                return -EINVAL;
            rc = bf_buf_putc(&r->tmp, to[f - from]);
            q += 2;
        }
        if (rc)
            return -ENOMEM;
    }
    if (q >= r->e)
        return -EINVAL;
    r->p = q + 1;
    *s = r->tmp.data ? r->tmp.data : "";
    *n = r->tmp.len;
    return 0;
}

static json_t *read_num(rd *r)
{
    const char *st = r->p;
    int is_real = 0;
    while (r->p < r->e && strchr("+-0123456789.eE", *r->p) && *r->p) {
        if (*r->p == '.' || *r->p == 'e' || *r->p == 'E')
            is_real = 1;
        r->p++;
    }
    char buf[64];
    size_t n = (size_t)(r->p - st);
    if (n == 0 || n >= sizeof buf)
        return n >= sizeof buf ? json_real(strtod(st, NULL)) : NULL;
    memcpy(buf, st, n);
    buf[n] = 0;
    if (!is_real) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (!errno)
            return json_integer(v);
    }
    return json_real(strtod(buf, NULL));
}

static json_t *read_val(rd *r);

static json_t *read_obj(rd *r)
{
    json_t *o = json_object();
    r->p++;
    skip_ws(r);
    if (r->p < r->e && *r->p == '}') {
        r->p++;
        return o;
    }
    while (o && r->p < r->e) {
        skip_ws(r);
        const char *k;
        size_t kl;
        if (r->p >= r->e || *r->p != '"' || read_str(r, &k, &kl))
            goto bad;
        if (memchr(k, 0, kl))   /* "\u0000" in a field name: jansson refuses it, so do we (found by fuzzing) */
            goto bad;
        char kbuf[256];
        char *key = kl < sizeof kbuf ? kbuf : malloc(kl + 1);
        if (!key)
            goto bad;
        memcpy(key, k, kl);
        key[kl] = 0;
        skip_ws(r);
        if (r->p >= r->e || *r->p++ != ':') {
            if (key != kbuf)
                free(key);
            goto bad;
        }
        skip_ws(r);
        json_t *v = read_val(r);
        int rc = v ? json_object_setn_new_nocheck(o, key, kl, v) : -1;
        if (key != kbuf)
            free(key);
        if (rc)
            goto bad;
        skip_ws(r);
        if (r->p < r->e && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->e && *r->p == '}') {
            r->p++;
            return o;
        }
        goto bad;
    }
bad:
    json_decref(o);
    return NULL;
}

static json_t *read_arr(rd *r)
{
    json_t *a = json_array();
    r->p++;
    skip_ws(r);
    if (r->p < r->e && *r->p == ']') {
        r->p++;
        return a;
    }
    while (a && r->p < r->e) {
        skip_ws(r);
        json_t *v = read_val(r);
        if (!v || json_array_append_new(a, v))
            break;
        skip_ws(r);
        if (r->p < r->e && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->e && *r->p == ']') {
            r->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *read_val(rd *r)
{
    if (r->p >= r->e || ++r->depth > 256)
        return NULL;
    json_t *v = NULL;
    const char *s;
    size_t n;
    switch (*r->p) {
    case '{': v = read_obj(r); break;
    case '[': v = read_arr(r); break;
    case '"': v = read_str(r, &s, &n) ? NULL : json_stringn_nocheck(s, n); break;
    case 't': if (r->e - r->p >= 4) { r->p += 4; v = json_true(); } break;
    case 'f': if (r->e - r->p >= 5) { r->p += 5; v = json_false(); } break;
    case 'n': if (r->e - r->p >= 4) { r->p += 4; v = json_null(); } break;
    default: v = read_num(r); break;
    }
    r->depth--;
    return v;
}

int jfast_load_trusted(const char *s, size_t n, json_t **out)
{
    rd r = {s, s + n, 0, {0}};
    bf_buf_init(&r.tmp, 0);
    skip_ws(&r);
    *out = r.p < r.e && *r.p == '{' ? read_obj(&r) : NULL;
    bf_buf_free(&r.tmp);
    return *out ? 0 : -EINVAL;
}

int jfast_load_object(const char *s, size_t n, json_t **out)
{
    bool has;
    *out = NULL;
    if (bf_json_object_check(s, n, &has))
        return -EINVAL;
    return jfast_load_trusted(s, n, out);
}

/* ---------------- dump ---------------- */

static int dump_str(const char *s, size_t n, bf_buf *b)
{
    if (bf_buf_reserve(b, n + 2))
        return -ENOMEM;
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
            i++;
        if (i > st && bf_buf_append(b, s + st, i - st))
            return -ENOMEM;
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i++];
        char esc[8];
        switch (c) {
        case '"': memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\b': memcpy(esc, "\\b", 3); break;
        case '\f': memcpy(esc, "\\f", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", c); break;
        }
        if (bf_buf_puts(b, esc))
            return -ENOMEM;
    }
    return bf_buf_putc(b, '"');
}

static int dump_real(double d, bf_buf *b)
{
    char buf[40];
    if (d != d || d - d != 0)
        return bf_buf_puts(b, "null");   /* NaN/inf have no JSON form */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eE"))
        strcat(buf, ".0");
    return bf_buf_puts(b, buf);
}

static int dump_int(long long v, bf_buf *b)
{
    char buf[24], *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return bf_buf_append(b, p, (size_t)(buf + sizeof buf - p));
}

static int dump_val(const json_t *v, bf_buf *b, int depth)
{
    if (depth > 2048)
        return -EINVAL;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (bf_buf_putc(b, '{'))
            return -ENOMEM;
        const char *k;
        size_t kl;
        json_t *e;
        int first = 1;
        json_object_keylen_foreach((json_t *)v, k, kl, e) {
            if ((!first && bf_buf_putc(b, ',')) || dump_str(k, kl, b) || bf_buf_putc(b, ':') || dump_val(e, b, depth + 1))
                return -ENOMEM;
            first = 0;
        }
        return bf_buf_putc(b, '}');
    }
    case JSON_ARRAY: {
        if (bf_buf_putc(b, '['))
            return -ENOMEM;
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((i && bf_buf_putc(b, ',')) || dump_val(json_array_get(v, i), b, depth + 1))
                return -ENOMEM;
        return bf_buf_putc(b, ']');
    }
    case JSON_STRING: return dump_str(json_string_value(v), json_string_length(v), b);
    case JSON_INTEGER: return dump_int((long long)json_integer_value(v), b);
    case JSON_REAL: return dump_real(json_real_value(v), b);
    case JSON_TRUE: return bf_buf_puts(b, "true");
    case JSON_FALSE: return bf_buf_puts(b, "false");
    default: return bf_buf_puts(b, "null");
    }
}

int jfast_dump(const json_t *v, bf_buf *out)
{
    return dump_val(v, out, 0);
}
