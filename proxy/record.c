/* record: line -> NDJSON record (see record.h). The JSON check (bf_json) validates without building
 * anything: the proxy only needs to know "is this one object, and does it have BfTs", not a DOM. */
#include "record.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "bf_json.h"

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int record_is_object(const char *buf, size_t len, int *has_bfts)
{
    bool bf = false;
    if (bf_json_object_check(buf, len, &bf)) return 0;
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
