/* jscan: streaming NDJSON record scanner (see jscan.h). Strict JSON grammar (RFC 8259) for the
 * record and every nested value, so what is stored as a JSON column is valid JSON. */
#include "jscan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "bf_json.h"

/* byte classes inside a string: 0 plain, 1 quote, 2 backslash, 3 control, 4 non-ASCII */
static const uint8_t STRCLS[256] = {
    3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
};

void js_init(js_scanner *s)
{
    memset(s, 0, sizeof(*s));
    s->max_depth = 512;
}

void js_free(js_scanner *s)
{
    pk_buf_free(&s->kbuf);
    pk_buf_free(&s->sbuf);
    pk_buf_free(&s->rbuf);
}

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static inline int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 8 bytes at a time: does any byte need attention (quote, backslash, <0x20, >=0x80)? */
static inline bool word_plain(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    uint64_t has_q = (q - ones) & ~q & highs;
    uint64_t has_b = (b - ones) & ~b & highs;
    uint64_t has_ctl = (v - ones * 0x20) & ~v & highs;
    uint64_t has_hi = v & highs;
    return !(has_q | has_b | has_ctl | has_hi);
}

/* p at the opening quote. Returns the position after the closing quote or NULL. */
static const char *scan_string(const char *p, const char *end, bool *esc, bool *high)
{
    p++;
    for (;;) {
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            if (!word_plain(v))
                break;
            p += 8;
        }
        while (p < end && STRCLS[(uint8_t)*p] == 0)
            p++;
        if (p >= end)
            return NULL;
        switch (STRCLS[(uint8_t)*p]) {
        case 1:
            return p + 1;
        case 2:
            *esc = true;
            if (end - p < 2)
                return NULL;
            if (p[1] == 'u') {
                if (end - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 || hexval(p[5]) < 0)
                    return NULL;
                p += 6;
            } else if (strchr("\"\\/bfnrt", p[1]) && p[1]) {
                p += 2;
            } else {
                return NULL;
            }
            break;
        case 3:
            return NULL;
        default:
            *high = true;
            p++;
        }
    }
}

/* Number grammar; sets type and value. Returns the position after the number or NULL. */
static const char *scan_number(const char *p, const char *end, js_field *f)
{
    const char *start = p;
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    uint64_t acc = 0;
    bool over = false;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (acc > (UINT64_MAX - d) / 10)
                over = true;
            else
                acc = acc * 10 + d;
            p++;
        }
    }
    bool isint = true;
    if (p < end && *p == '.') {
        isint = false;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        isint = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (isint && !over && (neg ? acc <= (uint64_t)INT64_MAX + 1 : acc <= (uint64_t)INT64_MAX)) {
        f->type = JS_INT;
        f->i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
        return p;
    }
    /* strtod needs a terminated copy: the number may sit at the very end of the buffer */
    char tmp[64];
    size_t n = (size_t)(p - start);
    f->type = isint ? JS_BIGINT : JS_DOUBLE;
    if (n < sizeof(tmp)) {
        memcpy(tmp, start, n);
        tmp[n] = 0;
        f->d = strtod(tmp, NULL);
    } else {
        char *big = malloc(n + 1);
        if (!big)
            return NULL;
        memcpy(big, start, n);
        big[n] = 0;
        f->d = strtod(big, NULL);
        free(big);
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end, const char *lit, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, lit, n))
        return NULL;
    return p + n;
}

static const char *skip_value(const char *p, const char *end, int depth, int max_depth, bool *high);

static const char *skip_container(const char *p, const char *end, int depth, int max_depth, bool *high)
{
    char close = *p == '{' ? '}' : ']';
    bool obj = *p == '{';
    if (depth >= max_depth)
        return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (obj) {
            bool esc = false;
            if (p >= end || *p != '"' || !(p = scan_string(p, end, &esc, high)))
                return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p = skip_ws(p + 1, end);
        }
        if (!(p = skip_value(p, end, depth + 1, max_depth, high)))
            return NULL;
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

static const char *skip_value(const char *p, const char *end, int depth, int max_depth, bool *high)
{
    if (p >= end)
        return NULL;
    js_field tmp;
    bool esc = false;
    switch (*p) {
    case '"': return scan_string(p, end, &esc, high);
    case '{':
    case '[': return skip_container(p, end, depth, max_depth, high);
    case 't': return scan_literal(p, end, "true", 4);
    case 'f': return scan_literal(p, end, "false", 5);
    case 'n': return scan_literal(p, end, "null", 4);
    default: return scan_number(p, end, &tmp);
    }
}

int js_begin(js_scanner *s, const char *line, size_t len)
{
    const char *end = line + len;
    const char *p = skip_ws(line, end);
    if (p >= end || *p != '{')
        return -EBADMSG;
    s->p = p + 1;
    s->end = end;
    s->started = 0;
    return 0;
}

static int decode_string(pk_buf *out, const char *raw, size_t rawlen);

/* A decoded key holding NUL (from \u0000) would end the column name early for C readers: DuckDB then
 * names "a\u0000b" "a" and renames the real "a" "a_1"; hyparquet merges the two. Each NUL becomes
 * U+FFFD, like the other bytes that cannot be represented, in place of the key in kbuf. */
static int key_without_nul(pk_buf *k)
{
    size_t nul = 0;
    for (size_t i = 0; i < k->n; i++) nul += k->p[i] == 0;
    if (!nul) return 0;
    if (pk_buf_grow(k, 2 * nul) < 0) return -ENOMEM;
    size_t o = k->n + 2 * nul;
    for (size_t i = k->n; i-- > 0;) {   /* back to front: the bytes move right */
        if (k->p[i]) {
            k->p[--o] = k->p[i];
        } else {
            k->p[--o] = 0xBD;
            k->p[--o] = 0xBF;
            k->p[--o] = 0xEF;
        }
    }
    k->n += 2 * nul;
    return 0;
}

int js_next(js_scanner *s, js_field *f)
{
    const char *p = skip_ws(s->p, s->end), *end = s->end;
    if (p >= end)
        return -EBADMSG;
    if (*p == '}') {
        if (skip_ws(p + 1, end) != end)
            return -EBADMSG;
        s->p = end;
        return 0;
    }
    if (s->started) {
        if (*p != ',')
            return -EBADMSG;
        p = skip_ws(p + 1, end);
    }
    s->started = 1;
    if (p >= end || *p != '"')
        return -EBADMSG;
    bool esc = false, high = false;
    const char *kend = scan_string(p, end, &esc, &high);
    if (!kend)
        return -EBADMSG;
    if (esc || (high && bf_utf8_valid_prefix((const uint8_t *)p + 1, (size_t)(kend - p - 2)) != (size_t)(kend - p - 2))) {
        s->kbuf.n = 0;
        if (decode_string(&s->kbuf, p, (size_t)(kend - p)) < 0 || key_without_nul(&s->kbuf) < 0)
            return -ENOMEM;
        f->key = (const char *)s->kbuf.p;
        f->klen = s->kbuf.n;
    } else {
        f->key = p + 1;
        f->klen = (size_t)(kend - p - 2);
    }
    p = skip_ws(kend, end);
    if (p >= end || *p != ':')
        return -EBADMSG;
    p = skip_ws(p + 1, end);
    if (p >= end)
        return -EBADMSG;
    const char *v = p;
    esc = high = false;
    f->str_plain = 0;
    switch (*p) {
    case '"':
        f->type = JS_STRING;
        p = scan_string(p, end, &esc, &high);
        if (p && !esc)
            f->str_plain = !high || bf_utf8_valid_prefix((const uint8_t *)v + 1, (size_t)(p - v - 2)) == (size_t)(p - v - 2);
        break;
    case '{':
        f->type = JS_OBJECT;
        p = skip_container(p, end, 0, s->max_depth, &high);
        break;
    case '[':
        f->type = JS_ARRAY;
        p = skip_container(p, end, 0, s->max_depth, &high);
        break;
    case 't':
        f->type = JS_TRUE;
        p = scan_literal(p, end, "true", 4);
        break;
    case 'f':
        f->type = JS_FALSE;
        p = scan_literal(p, end, "false", 5);
        break;
    case 'n':
        f->type = JS_NULL;
        p = scan_literal(p, end, "null", 4);
        break;
    default:
        p = scan_number(p, end, f);
    }
    if (!p)
        return -EBADMSG;
    f->raw = v;
    f->rawlen = (size_t)(p - v);
    f->raw_ascii = !high;
    s->p = p;
    return 1;
}

/* ---------------- UTF-8 ---------------- */

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid (RFC 3629: no overlongs,
 * no surrogates, max U+10FFFF). */
static const uint8_t REPL[3] = { 0xEF, 0xBF, 0xBD };

int js_utf8_sanitize(pk_buf *out, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t ok = bf_utf8_valid_prefix(p + i, n - i);
        if (pk_buf_put(out, p + i, ok) < 0)
            return -ENOMEM;
        i += ok;
        if (i < n) {
            if (pk_buf_put(out, REPL, 3) < 0)
                return -ENOMEM;
            i++;
        }
    }
    return 0;
}

static int put_cp(pk_buf *b, uint32_t cp)
{
    uint8_t t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (uint8_t)(0xC0 | cp >> 6);
        t[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (uint8_t)(0xE0 | cp >> 12);
        t[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        t[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (uint8_t)(0xF0 | cp >> 18);
        t[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        t[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        t[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return pk_buf_put(b, t, n);
}

static uint32_t hex4(const char *p)
{
    return (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

/* raw includes both quotes and was validated by scan_string. */
static int decode_string(pk_buf *out, const char *raw, size_t rawlen)
{
    const char *p = raw + 1, *end = raw + rawlen - 1;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '\\')
            q++;
        if (js_utf8_sanitize(out, (const uint8_t *)p, (size_t)(q - p)) < 0)
            return -ENOMEM;
        if (q >= end)
            break;
        int rc = 0;
        switch (q[1]) {
        case 'b': rc = pk_buf_u8(out, '\b'); break;
        case 'f': rc = pk_buf_u8(out, '\f'); break;
        case 'n': rc = pk_buf_u8(out, '\n'); break;
        case 'r': rc = pk_buf_u8(out, '\r'); break;
        case 't': rc = pk_buf_u8(out, '\t'); break;
        case 'u': {
            uint32_t cp = hex4(q + 2);
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && end - q >= 8 && q[2] == '\\' && q[3] == 'u') {
                uint32_t lo = hex4(q + 4);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    q += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)   /* lone surrogate */
                cp = 0xFFFD;
            rc = put_cp(out, cp);
            break;
        }
        default: rc = pk_buf_u8(out, (uint8_t)q[1]);
        }
        if (rc < 0)
            return -ENOMEM;
        p = q + 2;
    }
    return 0;
}

int js_string(js_scanner *s, const js_field *f, const char **out, size_t *outlen)
{
    if (f->type != JS_STRING)
        return -EINVAL;
    if (f->str_plain) {
        *out = f->raw + 1;
        *outlen = f->rawlen - 2;
        return 0;
    }
    s->sbuf.n = 0;
    if (decode_string(&s->sbuf, f->raw, f->rawlen) < 0)
        return -ENOMEM;
    *out = (const char *)s->sbuf.p;
    *outlen = s->sbuf.n;
    return 0;
}

int js_raw_utf8(js_scanner *s, const js_field *f, const char **out, size_t *outlen)
{
    if (f->raw_ascii ||
        bf_utf8_valid_prefix((const uint8_t *)f->raw, f->rawlen) == f->rawlen) {
        *out = f->raw;
        *outlen = f->rawlen;
        return 0;
    }
    s->rbuf.n = 0;
    if (js_utf8_sanitize(&s->rbuf, (const uint8_t *)f->raw, f->rawlen) < 0)
        return -ENOMEM;
    *out = (const char *)s->rbuf.p;
    *outlen = s->rbuf.n;
    return 0;
}

int js_quote(pk_buf *out, const char *s, size_t n)
{
    static const char HEX[] = "0123456789abcdef";
    if (pk_buf_u8(out, '"') < 0)
        return -ENOMEM;
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        int rc = 0;
        if (c == '"' || c == '\\') {
            uint8_t e[2] = { '\\', c };
            rc = pk_buf_put(out, e, 2);
            i++;
        } else if (c < 0x20) {
            uint8_t e[6] = { '\\', 'u', '0', '0', (uint8_t)HEX[c >> 4], (uint8_t)HEX[c & 15] };
            rc = pk_buf_put(out, e, 6);
            i++;
        } else if (c < 0x80) {
            rc = pk_buf_u8(out, c);
            i++;
        } else {
            size_t k = bf_utf8_seq(s + i, n - i);
            if (k) {
                rc = pk_buf_put(out, s + i, k);
                i += k;
            } else {
                rc = pk_buf_put(out, REPL, 3);
                i++;
            }
        }
        if (rc < 0)
            return -ENOMEM;
    }
    return pk_buf_u8(out, '"');
}
