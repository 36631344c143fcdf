/* formats: see formats.h. */
#include "formats.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_buf.h"
#include "bf_syslog.h"
#include "filter_kv.h"
#include "jfast.h"
#include "bf_json.h"

typedef int (*parse_fn)(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out);

typedef struct fmt_def { const char *name; parse_fn parse; char delim; } fmt_def;

struct fmt {
    const fmt_def *def;
    char delim;
    json_t *columns;     /* array of strings or NULL */
    bool header;         /* first line of each object is a header (csv without columns) */
};

struct fmt_state {
    const fmt *f;
    json_t *cols;        /* learned header */
    bool seen_first;
    bf_buf scratch;
};

static json_t *new_rec(int64_t recv_ms)
{
    json_t *r = json_object();
    if (r && json_object_set_new(r, "BfTs", json_integer(recv_ms))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static int set_str(json_t *o, const char *k, const char *v, size_t n)
{
    json_t *s = json_stringn(v, n);
    return s && !json_object_set_new(o, k, s) ? 0 : -ENOMEM;
}

/* {"BfTs":…, "message": line, "tags": [tag]} */
static int fallback(const char *line, size_t len, int64_t recv_ms, const char *tag, json_t **out)
{
    json_t *r = new_rec(recv_ms);
    if (!r || set_str(r, "message", line, len) || json_object_set_new(r, "tags", json_pack("[s]", tag))) {
        json_decref(r);
        return -ENOMEM;
    }
    *out = r;
    return FMT_FALLBACK;
}

/* ---- ndjson / text / syslog / kv ---- */

static int p_ndjson(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    (void)s;
    json_t *r = NULL;
    int rc = jfast_load_object(line, len, &r);
    if (rc == 0) {
        *out = r;
        return FMT_OK;
    }
    return rc == -ENOMEM ? rc : fallback(line, len, recv_ms, "_jsonparsefailure", out);
}

static int p_text(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    (void)s;
    json_t *r = new_rec(recv_ms);
    if (!r || set_str(r, "message", line, len)) {
        json_decref(r);
        return -ENOMEM;
    }
    *out = r;
    return FMT_OK;
}

static int p_syslog(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    bf_buf_reset(&s->scratch);
    int rc = bf_syslog_parse(line, len, recv_ms, NULL, &s->scratch);
    if (rc)
        return rc == -E2BIG ? fallback(line, len, recv_ms, "_syslogparsefailure", out) : -ENOMEM;
    /* bf_syslog writes valid JSON (UTF-8 repaired): build it without a second validation */
    json_t *r = NULL;
    if (jfast_load_trusted(s->scratch.data, s->scratch.len, &r))
        return fallback(line, len, recv_ms, "_syslogparsefailure", out);
    *out = r;
    return FMT_OK;
}

static int p_kv(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    (void)s;
    json_t *r = new_rec(recv_ms);
    if (!r)
        return -ENOMEM;
    kv_parse_into(line, len, " ", "=", r);
    if (json_object_size(r) == 1) {
        json_decref(r);
        return fallback(line, len, recv_ms, "_kvparsefailure", out);
    }
    *out = r;
    return FMT_OK;
}

static int p_auto(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (i < len && line[i] == '{') {
        json_t *r = NULL;
        if (jfast_load_object(line, len, &r) == 0) {
            *out = r;
            return FMT_OK;
        }
    }
    if (i < len && line[i] == '<') {
        json_t *r = NULL;
        int rc = p_syslog(s, line, len, recv_ms, &r);
        if (rc < 0)
            return rc;
        const char *rfc = json_string_value(json_object_get(r, "rfc"));
        if (rc == FMT_OK && rfc && strcmp(rfc, "raw")) {
            *out = r;
            return FMT_OK;
        }
        json_decref(r);
    }
    return p_text(s, line, len, recv_ms, out);
}

/* ---- csv / tsv ---- */

/* Split one CSV line into an array of strings (RFC 4180: "" inside quotes is a quote). */
static json_t *csv_split(const char *line, size_t len, char delim, bf_buf *b)
{
    json_t *a = json_array();
    size_t i = 0;
    while (a) {
        bf_buf_reset(b);
        if (i < len && line[i] == '"') {
            for (i++; i < len; i++) {
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        bf_buf_putc(b, '"');
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                bf_buf_putc(b, line[i]);
            }
            while (i < len && line[i] != delim)   /* junk after a closing quote is kept */
                bf_buf_putc(b, line[i++]);
        } else {
            while (i < len && line[i] != delim)
                bf_buf_putc(b, line[i++]);
        }
        if (json_array_append_new(a, json_stringn(b->data ? b->data : "", b->len))) {
            json_decref(a);
            return NULL;
        }
        if (i >= len)
            break;
        i++;   /* the delimiter */
    }
    return a;
}

static int p_csv(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    json_t *cells = csv_split(line, len, s->f->delim, &s->scratch);
    if (!cells)
        return -ENOMEM;
    if (!s->cols && s->f->header && !s->seen_first) {
        s->seen_first = true;
        s->cols = cells;
        return FMT_SKIP;
    }
    s->seen_first = true;
    json_t *r = new_rec(recv_ms);
    if (!r) {
        json_decref(cells);
        return -ENOMEM;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cells, i, c) {
        const char *name = json_string_value(json_array_get(s->cols, i));
        char gen[32];
        if (!name || !*name) {
            snprintf(gen, sizeof gen, "column%zu", i + 1);
            name = gen;
        }
        json_object_set(r, name, c);
    }
    json_decref(cells);
    *out = r;
    return FMT_OK;
}

/* ---- CEF ---- */

/* Header field up to an unescaped '|'; unescapes \| and \\. Returns index after the '|' or 0. */
static size_t cef_field(const char *s, size_t len, size_t i, bf_buf *b)
{
    bf_buf_reset(b);
    for (; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '|' || s[i + 1] == '\\')) {
            bf_buf_putc(b, s[++i]);
            continue;
        }
        if (s[i] == '|')
            return i + 1;
        bf_buf_putc(b, s[i]);
    }
    return 0;
}

/* Is there a CEF extension key ("word=") starting at i? Returns the '=' index or 0. */
static size_t ext_key_at(const char *s, size_t len, size_t i)
{
    size_t j = i;
    while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.' || s[j] == '-' || s[j] == '[' || s[j] == ']'))
        j++;
    return j > i && j < len && s[j] == '=' ? j : 0;
}

static void cef_value_unescape(const char *v, size_t n, bf_buf *b)
{
    bf_buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n) {
            char c = v[++i];
            bf_buf_putc(b, c == 'n' ? '\n' : c == 'r' ? '\r' : c);
        } else {
            bf_buf_putc(b, v[i]);
        }
    }
}

/* key=value pairs where values run until the next " key=" (values may contain spaces). */
static int cef_extensions(const char *s, size_t len, json_t *ext, bf_buf *b)
{
    size_t i = 0;
    while (i < len && s[i] == ' ')
        i++;
    while (i < len) {
        size_t eq = ext_key_at(s, len, i);
        if (!eq)
            return -EINVAL;
        size_t vs = eq + 1, ve = vs;
        for (size_t j = vs; j <= len; j++) {
            if (j == len) {
                ve = len;
                break;
            }
            if (s[j] == ' ' && j > vs && s[j - 1] != '\\' && ext_key_at(s, len, j + 1)) {
                ve = j;
                break;
            }
        }
        /* an escaped '=' in a value must not end it: keys are checked at spaces only */
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - i), s + i);
        size_t vend = ve;
        while (vend > vs && s[vend - 1] == ' ')
            vend--;
        cef_value_unescape(s + vs, vend - vs, b);
        if (set_str(ext, key, b->data ? b->data : "", b->len))
            return -ENOMEM;
        i = ve + 1;
        while (i < len && s[i] == ' ')
            i++;
    }
    return 0;
}

static int header_fields(const char *s, size_t len, size_t *pos, const char *const *names, size_t n, json_t *r,
                         bf_buf *b)
{
    for (size_t k = 0; k < n; k++) {
        size_t nx = cef_field(s, len, *pos, b);
        if (!nx)
            return -EINVAL;
        if (set_str(r, names[k], b->data ? b->data : "", b->len))
            return -ENOMEM;
        *pos = nx;
    }
    return 0;
}

static int prefix_field(json_t *r, const char *line, size_t start)
{
    size_t e = start;
    while (e && line[e - 1] == ' ')
        e--;
    return e ? set_str(r, "syslog_header", line, e) : 0;
}

static const char *find_mark(const char *line, size_t len, const char *mark)
{
    size_t ml = strlen(mark);
    for (size_t i = 0; i + ml <= len; i++)
        if (!memcmp(line + i, mark, ml))
            return line + i;
    return NULL;
}

static int p_cef(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    static const char *const names[] = {"device_vendor", "device_product", "device_version", "signature_id",
                                        "name", "severity"};
    const char *m = find_mark(line, len, "CEF:");
    if (!m)
        return fallback(line, len, recv_ms, "_cefparsefailure", out);
    size_t start = (size_t)(m - line), pos = start + 4;
    json_t *r = new_rec(recv_ms), *ext = json_object();
    int rc = r && ext ? prefix_field(r, line, start) : -ENOMEM;
    size_t nx = rc ? 0 : cef_field(line, len, pos, &s->scratch);
    if (!rc && !nx)
        rc = -EINVAL;
    if (!rc) {
        rc = set_str(r, "cef_version", s->scratch.data ? s->scratch.data : "", s->scratch.len);
        pos = nx;
    }
    if (!rc)
        rc = header_fields(line, len, &pos, names, 6, r, &s->scratch);
    if (!rc) {
        /* numeric severity as an integer (CEF allows words like High too) */
        const char *sev = json_string_value(json_object_get(r, "severity"));
        char *end;
        long v = sev ? strtol(sev, &end, 10) : 0;
        if (sev && *sev && !*end)
            json_object_set_new(r, "severity", json_integer(v));
        rc = cef_extensions(line + pos, len - pos, ext, &s->scratch);
    }
    if (!rc)
        rc = json_object_set_new(r, "extensions", ext) ? -ENOMEM : 0;
    else
        json_decref(ext);
    if (rc) {
        json_decref(r);
        return rc == -ENOMEM ? rc : fallback(line, len, recv_ms, "_cefparsefailure", out);
    }
    *out = r;
    return FMT_OK;
}

/* ---- LEEF ---- */

static char leef_delim(const char *spec)
{
    if (!*spec)
        return '\t';
    if ((spec[0] == 'x' || spec[0] == 'X') && isxdigit((unsigned char)spec[1]))
        return (char)strtol(spec + 1, NULL, 16);
    if (spec[0] == '0' && (spec[1] == 'x' || spec[1] == 'X'))
        return (char)strtol(spec + 2, NULL, 16);
    return spec[0];
}

static int leef_attrs(const char *s, size_t len, char delim, json_t *attrs)
{
    size_t i = 0;
    while (i < len) {
        const char *e = memchr(s + i, delim, len - i);
        size_t fe = e ? (size_t)(e - s) : len;
        const char *eq = memchr(s + i, '=', fe - i);
        if (eq && eq > s + i) {
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)(eq - (s + i)), s + i);
            if (set_str(attrs, key, eq + 1, fe - (size_t)(eq + 1 - s)))
                return -ENOMEM;
        }
        i = fe + 1;
    }
    return 0;
}

static int p_leef(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    static const char *const names[] = {"vendor", "product", "version", "event_id"};
    const char *m = find_mark(line, len, "LEEF:");
    if (!m)
        return fallback(line, len, recv_ms, "_leefparsefailure", out);
    size_t start = (size_t)(m - line), pos = start + 5;
    json_t *r = new_rec(recv_ms), *attrs = json_object();
    int rc = r && attrs ? prefix_field(r, line, start) : -ENOMEM;
    size_t nx = rc ? 0 : cef_field(line, len, pos, &s->scratch);
    char ver[16] = "";
    if (!rc && !nx)
        rc = -EINVAL;
    if (!rc) {
        snprintf(ver, sizeof ver, "%.*s", (int)s->scratch.len, s->scratch.data ? s->scratch.data : "");
        rc = set_str(r, "leef_version", ver, strlen(ver));
        pos = nx;
    }
    if (!rc)
        rc = header_fields(line, len, &pos, names, 4, r, &s->scratch);
    char delim = '\t';
    if (!rc && ver[0] == '2') {
        /* LEEF 2.0 declares the attribute delimiter in a fifth header field */
        size_t dn = cef_field(line, len, pos, &s->scratch);
        if (dn) {
            char spec[16];
            snprintf(spec, sizeof spec, "%.*s", (int)s->scratch.len, s->scratch.data ? s->scratch.data : "");
            delim = leef_delim(spec);
            pos = dn;
        }
    }
    if (!rc)
        rc = leef_attrs(line + pos, len - pos, delim, attrs);
    if (!rc)
        rc = json_object_set_new(r, "attributes", attrs) ? -ENOMEM : 0;
    else
        json_decref(attrs);
    if (rc) {
        json_decref(r);
        return rc == -ENOMEM ? rc : fallback(line, len, recv_ms, "_leefparsefailure", out);
    }
    *out = r;
    return FMT_OK;
}

/* ---- CLF / combined ---- */

typedef struct cursor { const char *s; size_t len, i; } cursor;

static bool cur_token(cursor *c, const char **t, size_t *n)   /* up to a space */
{
    while (c->i < c->len && c->s[c->i] == ' ')
        c->i++;
    size_t st = c->i;
    while (c->i < c->len && c->s[c->i] != ' ')
        c->i++;
    *t = c->s + st;
    *n = c->i - st;
    return *n > 0;
}

static bool cur_delim(cursor *c, char open, char close, const char **t, size_t *n)
{
    while (c->i < c->len && c->s[c->i] == ' ')
        c->i++;
    if (c->i >= c->len || c->s[c->i] != open)
        return false;
    size_t st = ++c->i;
    while (c->i < c->len && c->s[c->i] != close) {
        if (close == '"' && c->s[c->i] == '\\' && c->i + 1 < c->len)
            c->i++;
        c->i++;
    }
    if (c->i >= c->len)
        return false;
    *t = c->s + st;
    *n = c->i++ - st;
    return true;
}

static int set_num_or_str(json_t *r, const char *k, const char *v, size_t n)
{
    char buf[24];
    if (n && n < sizeof buf) {
        memcpy(buf, v, n);
        buf[n] = 0;
        char *end;
        long long x = strtoll(buf, &end, 10);
        if (!*end)
            return json_object_set_new(r, k, json_integer(x)) ? -ENOMEM : 0;
    }
    return set_str(r, k, v, n);
}

/* "GET /path HTTP/1.1" -> method, request, http_version (else rawrequest) */
static int set_request(json_t *r, const char *t, size_t n)
{
    const char *sp1 = memchr(t, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - t)) : NULL;
    if (!sp1)
        return set_str(r, "rawrequest", t, n);
    int rc = set_str(r, "method", t, (size_t)(sp1 - t));
    size_t rl = sp2 ? (size_t)(sp2 - sp1 - 1) : n - (size_t)(sp1 + 1 - t);
    if (!rc)
        rc = set_str(r, "request", sp1 + 1, rl);
    if (!rc && sp2 && n - (size_t)(sp2 + 1 - t) > 5 && !memcmp(sp2 + 1, "HTTP/", 5))
        rc = set_str(r, "http_version", sp2 + 6, n - (size_t)(sp2 + 6 - t));
    return rc;
}

static int clf_common(cursor *c, json_t *r)
{
    const char *t;
    size_t n;
    static const char *const first[] = {"client", "ident", "auth"};
    for (int k = 0; k < 3; k++) {
        if (!cur_token(c, &t, &n))
            return -EINVAL;
        if (!(n == 1 && *t == '-') && set_str(r, first[k], t, n))
            return -ENOMEM;
    }
    if (!cur_delim(c, '[', ']', &t, &n) || set_str(r, "timestamp", t, n))
        return -EINVAL;
    if (!cur_delim(c, '"', '"', &t, &n) || set_request(r, t, n))
        return -EINVAL;
    if (!cur_token(c, &t, &n) || set_num_or_str(r, "status", t, n))
        return -EINVAL;
    if (!cur_token(c, &t, &n))
        return -EINVAL;
    return n == 1 && *t == '-' ? (json_object_set_new(r, "bytes", json_integer(0)) ? -ENOMEM : 0)
                               : set_num_or_str(r, "bytes", t, n);
}

static int p_clf_any(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out, bool combined)
{
    (void)s;
    cursor c = {line, len, 0};
    json_t *r = new_rec(recv_ms);
    if (!r)
        return -ENOMEM;
    int rc = clf_common(&c, r);
    const char *t;
    size_t n;
    if (!rc && combined) {
        if (!cur_delim(&c, '"', '"', &t, &n) || set_str(r, "referrer", t, n) ||
            !cur_delim(&c, '"', '"', &t, &n) || set_str(r, "agent", t, n))
            rc = -EINVAL;
        else if (cur_delim(&c, '"', '"', &t, &n))   /* nginx: "$http_x_forwarded_for" */
            rc = set_str(r, "x_forwarded_for", t, n);
    }
    if (rc) {
        json_decref(r);
        return rc == -ENOMEM ? rc : fallback(line, len, recv_ms, "_clfparsefailure", out);
    }
    *out = r;
    return FMT_OK;
}

static int p_clf(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    return p_clf_any(s, line, len, recv_ms, out, false);
}

static int p_combined(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    return p_clf_any(s, line, len, recv_ms, out, true);
}

/* ---- table ---- */

static const fmt_def FORMATS[] = {
    {"ndjson", p_ndjson, 0}, {"json", p_ndjson, 0}, {"syslog", p_syslog, 0}, {"text", p_text, 0},
    {"raw", p_text, 0}, {"csv", p_csv, ','}, {"tsv", p_csv, '\t'}, {"kv", p_kv, 0}, {"logfmt", p_kv, 0},
    {"cef", p_cef, 0}, {"leef", p_leef, 0}, {"clf", p_clf, 0}, {"apache", p_clf, 0},
    {"combined", p_combined, 0}, {"nginx", p_combined, 0}, {"auto", p_auto, 0},
};
#define NFORMATS (sizeof FORMATS / sizeof *FORMATS)

const char *const *fmt_names(void)
{
    static const char *const names[] = {"ndjson", "json", "syslog", "text", "raw", "csv", "tsv", "kv", "logfmt",
                                        "cef", "leef", "clf", "apache", "combined", "nginx", "auto", NULL};
    return names;
}

int fmt_create(const char *name, const json_t *opts, fmt **out, char *err, size_t errlen)
{
    *out = NULL;
    const fmt_def *d = NULL;
    for (size_t i = 0; i < NFORMATS && !d; i++)
        if (!strcmp(FORMATS[i].name, name ? name : "ndjson"))
            d = &FORMATS[i];
    if (!d) {
        snprintf(err, errlen, "unknown format '%s'", name);
        return -EINVAL;
    }
    fmt *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->def = d;
    f->delim = d->delim;
    const char *dl = json_string_value(json_object_get(opts, "delimiter"));
    if (dl && *dl)
        f->delim = !strcmp(dl, "\\t") ? '\t' : dl[0];
    json_t *cols = json_object_get(opts, "columns");
    if (cols && !json_is_array(cols)) {
        snprintf(err, errlen, "columns must be a list");
        free(f);
        return -EINVAL;
    }
    f->columns = json_incref(cols);
    json_t *h = json_object_get(opts, "header");
    f->header = h ? json_is_true(h) : !cols;
    *out = f;
    return 0;
}

void fmt_free(fmt *f)
{
    if (!f)
        return;
    json_decref(f->columns);
    free(f);
}

const char *fmt_name(const fmt *f) { return f->def->name; }
bool fmt_is_ndjson(const fmt *f) { return f->def->parse == p_ndjson; }

int fmt_state_create(const fmt *f, fmt_state **out)
{
    fmt_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->f = f;
    s->cols = json_incref(f->columns);
    bf_buf_init(&s->scratch, 0);
    *out = s;
    return 0;
}

void fmt_state_free(fmt_state *s)
{
    if (!s)
        return;
    json_decref(s->cols);
    bf_buf_free(&s->scratch);
    free(s);
}

int fmt_parse(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out)
{
    *out = NULL;
    if (bf_utf8_valid(line, len) && !memchr(line, 0, len))
        return s->f->def->parse(s, line, len, recv_ms, out);
    char *clean = malloc(len * 3 + 1);
    if (!clean)
        return -ENOMEM;
    size_t n = bf_utf8_sanitize(line, len, clean);
    int rc = s->f->def->parse(s, clean, n, recv_ms, out);
    free(clean);
    return rc;
}
