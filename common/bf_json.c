/* bf_json: see bf_json.h. */
#include "bf_json.h"

#include <errno.h>
#include <string.h>

size_t bf_utf8_valid_prefix(const void *s, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = bf_utf8_seq(p + i, n - i);
        if (!l)
            return i;
        i += l;
    }
    return n;
}

size_t bf_utf8_sanitize(const char *s, size_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = p[i] < 0x80 ? 1 : bf_utf8_seq(p + i, n - i);
        if (l && !(l == 1 && p[i] == 0)) {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);   /* U+FFFD */
            o += 3;
            i++;
        }
    }
    return o;
}

typedef struct sc { const unsigned char *p, *e; int depth; } sc;

static void ws(sc *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int str(sc *s, const unsigned char **start, size_t *len)
{
    if (s->p >= s->e || *s->p != '"')
        return -EINVAL;
    *start = ++s->p;
    while (s->p < s->e) {
        unsigned char c = *s->p;
        if (c == '"') {
            *len = (size_t)(s->p - *start);
            s->p++;
            return 0;
        }
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\') {
            if (++s->p >= s->e)
                return -EINVAL;
            c = *s->p;
            if (c == 'u') {
                if (s->e - s->p < 5)
                    return -EINVAL;
                for (int i = 1; i <= 4; i++) {
                    unsigned char h = s->p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return -EINVAL;
                }
                s->p += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", c) || !c)
                return -EINVAL;
            s->p++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = bf_utf8_seq(s->p, (size_t)(s->e - s->p));
            if (!l)
                return -EINVAL;
            s->p += l;
            continue;
        }
        s->p++;
    }
    return -EINVAL;
}

/* Skips a run of digits; how many there were. */
static size_t digits(sc *s)
{
    const unsigned char *d = s->p;
    while (s->p < s->e && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return (size_t)(s->p - d);
}

static int num(sc *s)
{
    const unsigned char *st = s->p;
    if (s->p < s->e && *s->p == '-')
        s->p++;
    if (s->p >= s->e)
        return -EINVAL;
    if (*s->p == '0')
        s->p++;
    else if (*s->p >= '1' && *s->p <= '9')
        digits(s);
    else
        return -EINVAL;
    if (s->p < s->e && *s->p == '.') {
        s->p++;
        if (!digits(s))
            return -EINVAL;
    }
    if (s->p < s->e && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return -EINVAL;
    }
    return s->p > st ? 0 : -EINVAL;
}

static int value(sc *s, bool *has_bfts);

static int lit(sc *s, const char *w)
{
    size_t l = strlen(w);
    if ((size_t)(s->e - s->p) < l || memcmp(s->p, w, l))
        return -EINVAL;
    s->p += l;
    return 0;
}

static int container(sc *s, bool obj, bool *has_bfts)
{
    if (++s->depth > BF_JSON_MAX_DEPTH)
        return -EINVAL;
    s->p++;
    ws(s);
    char close = obj ? '}' : ']';
    if (s->p < s->e && *s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        ws(s);
        if (obj) {
            const unsigned char *k;
            size_t kl;
            if (str(s, &k, &kl))
                return -EINVAL;
            if (s->depth == 1 && has_bfts && kl == 4 && !memcmp(k, "BfTs", 4))
                *has_bfts = true;
            ws(s);
            if (s->p >= s->e || *s->p++ != ':')
                return -EINVAL;
            ws(s);
        }
        if (value(s, has_bfts))
            return -EINVAL;
        ws(s);
        if (s->p >= s->e)
            return -EINVAL;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p++ != close)
            return -EINVAL;
        s->depth--;
        return 0;
    }
}

static int value(sc *s, bool *has_bfts)
{
    if (s->p >= s->e)
        return -EINVAL;
    const unsigned char *k;
    size_t kl;
    switch (*s->p) {
    case '{': return container(s, true, has_bfts);
    case '[': return container(s, false, has_bfts);
    case '"': return str(s, &k, &kl);
    case 't': return lit(s, "true");
    case 'f': return lit(s, "false");
    case 'n': return lit(s, "null");
    default: return num(s);
    }
}

int bf_json_object_check(const char *str_, size_t n, bool *has_bfts)
{
    sc s = {(const unsigned char *)str_, (const unsigned char *)str_ + n, 0};
    bool dummy;
    if (!has_bfts)
        has_bfts = &dummy;
    *has_bfts = false;
    ws(&s);
    if (s.p >= s.e || *s.p != '{')
        return -EINVAL;
    if (container(&s, true, has_bfts))
        return -EINVAL;
    ws(&s);
    return s.p == s.e ? 0 : -EINVAL;
}
