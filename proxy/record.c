/* record: line -> NDJSON record (see record.h). The JSON check is a small validating scanner: the
 * proxy only needs to know "is this one object, and does it have BfTs", not a DOM. */
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct scan {
    const char *p, *end;
    int depth;
} scan;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void skip_ws(scan *s)
{
    while (s->p < s->end && is_ws(*s->p)) s->p++;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or > U+10FFFF),
 * or -1. */
static int utf8_len(const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t avail = (size_t)(end - p);
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (u[0] >= 0xC2 && u[0] <= 0xDF) n = 2;
    else if (u[0] >= 0xE0 && u[0] <= 0xEF) { n = 3; if (u[0] == 0xE0) lo = 0xA0; if (u[0] == 0xED) hi = 0x9F; }
    else if (u[0] >= 0xF0 && u[0] <= 0xF4) { n = 4; if (u[0] == 0xF0) lo = 0x90; if (u[0] == 0xF4) hi = 0x8F; }
    else return -1;
    if (avail < (size_t)n) return -1;
    if (u[1] < lo || u[1] > hi) return -1;
    for (int i = 2; i < n; i++)
        if (u[i] < 0x80 || u[i] > 0xBF) return -1;
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Scans a string starting at '"'; on success start and slen give the raw content. Invalid UTF-8
 * fails the scan, so such a line is wrapped as text (where it becomes U+FFFD). */
static int scan_string(scan *s, const char **start, size_t *slen)
{
    if (s->p >= s->end || *s->p != '"') return -1;
    const char *b = ++s->p;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            if (start) *start = b;
            if (slen) *slen = (size_t)(s->p - b);
            s->p++;
            return 0;
        }
        if (c < 0x20) return -1;
        if (c >= 0x80) {
            int n = utf8_len(s->p, s->end);
            if (n <= 0) return -1;
            s->p += n;
            continue;
        }
        if (c == '\\') {
            if (++s->p >= s->end) return -1;
            char e = *s->p;
            if (e == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (s->p + i >= s->end || hexval(s->p[i]) < 0) return -1;
                s->p += 4;
            } else if (!e || !strchr("\"\\/bfnrt", e)) {   /* strchr finds the terminator for NUL */
                return -1;
            }
        }
        s->p++;
    }
    return -1;
}

static int scan_number(scan *s)
{
    const char *b = s->p;
    if (s->p < s->end && *s->p == '-') s->p++;
    if (s->p >= s->end) return -1;
    if (*s->p == '0') s->p++;
    else if (*s->p >= '1' && *s->p <= '9') while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
    else return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        const char *d = s->p;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
        if (s->p == d) return -1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
        const char *d = s->p;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
        if (s->p == d) return -1;
    }
    return s->p > b ? 0 : -1;
}

static int scan_value(scan *s, int *has_bfts);

static int scan_word(scan *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n)) return -1;
    s->p += n;
    return 0;
}

static int scan_container(scan *s, char close, int *has_bfts)
{
    if (++s->depth > MAX_DEPTH) return -1;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (close == '}') {
            const char *k;
            size_t kl;
            if (scan_string(s, &k, &kl)) return -1;
            if (has_bfts && s->depth == 1 && kl == 4 && !memcmp(k, "BfTs", 4)) *has_bfts = 1;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') return -1;
            s->p++;
            skip_ws(s);
        }
        if (scan_value(s, has_bfts)) return -1;
        skip_ws(s);
        if (s->p >= s->end) return -1;
        if (*s->p == ',') { s->p++; continue; }
        if (*s->p == close) { s->p++; s->depth--; return 0; }
        return -1;
    }
}

static int scan_value(scan *s, int *has_bfts)
{
    if (s->p >= s->end) return -1;
    switch (*s->p) {
    case '{': return scan_container(s, '}', has_bfts);
    case '[': return scan_container(s, ']', has_bfts);
    case '"': return scan_string(s, NULL, NULL);
    case 't': return scan_word(s, "true");
    case 'f': return scan_word(s, "false");
    case 'n': return scan_word(s, "null");
    default: return scan_number(s);
    }
}

int record_is_object(const char *buf, size_t len, int *has_bfts)
{
    scan s = {buf, buf + len, 0};
    int bf = 0;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{') return 0;
    if (scan_value(&s, &bf)) return 0;
    skip_ws(&s);
    if (s.p != s.end) return 0;
    if (has_bfts) *has_bfts = bf;
    return 1;
}

int record_format_parse(const char *s, record_format *out)
{
    static const struct { const char *name; record_format f; } names[] = {
        {"ndjson", RECORD_NDJSON}, {"json", RECORD_NDJSON}, {"text", RECORD_TEXT}, {"auto", RECORD_AUTO},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (s && !strcmp(s, names[i].name)) { *out = names[i].f; return 0; }
    return -EINVAL;
}

static int put_object(const char *line, size_t len, int has_bfts, int64_t now_ms, bf_buf *out)
{
    /* trim surrounding whitespace so the inserted key lands right after '{' */
    while (len && is_ws(*line)) { line++; len--; }
    while (len && is_ws(line[len - 1])) len--;
    int rc;
    if (has_bfts) {
        rc = bf_buf_append(out, line, len);
    } else {
        const char *rest = line + 1;
        size_t rlen = len - 1;
        while (rlen && is_ws(*rest)) { rest++; rlen--; }
        int empty = rlen && *rest == '}';
        rc = bf_buf_printf(out, "{\"BfTs\":%lld%s", (long long)now_ms, empty ? "" : ",");
        if (!rc) rc = bf_buf_append(out, rest, rlen);
    }
    if (!rc) rc = bf_buf_putc(out, '\n');
    return rc ? rc : 1;
}

static int put_text(const char *line, size_t len, int64_t now_ms, bf_buf *out)
{
    int rc = bf_buf_printf(out, "{\"BfTs\":%lld,\"message\":", (long long)now_ms);
    if (!rc) rc = bf_buf_json_str(out, line, len);
    if (!rc) rc = bf_buf_puts(out, "}\n");
    return rc ? rc : 1;
}

int record_line(record_format f, const char *line, size_t len, int64_t now_ms, bf_buf *out)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\0' || line[len - 1] == '\n')) len--;
    while (len && *line == '\0') { line++; len--; }
    if (!len) return 0;
    if (f != RECORD_TEXT) {
        int has_bfts = 0;
        if (record_is_object(line, len, &has_bfts))
            return put_object(line, len, has_bfts, now_ms, out);
    }
    return put_text(line, len, now_ms, out);
}

int record_lines(record_format f, const char *data, size_t len, int64_t now_ms, bf_buf *out)
{
    int total = 0;
    while (len) {
        const char *nl = memchr(data, '\n', len);
        size_t l = nl ? (size_t)(nl - data) : len;
        int rc = record_line(f, data, l, now_ms, out);
        if (rc < 0) return rc;
        total += rc;
        if (!nl) break;
        data += l + 1;
        len -= l + 1;
    }
    return total;
}
