/* spoolq: spool naming, meta and batch helpers (see spoolq.h). */
#include "spoolq.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bf_util.h"

static const char *kind_names[] = {"queue", "retry", "dlq"};

const char *spoolq_kind_name(spoolq_kind k) { return kind_names[k]; }

int spoolq_queue(const char *tenant, const char *dataset, spoolq_kind k, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s/%s", tenant, dataset, kind_names[k]);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Uncompressed batches (written when the writer fell behind) end in ".raw". */
static const char *ext_of(bf_codec c) { return c == BF_CODEC_NONE ? "raw" : bf_codec_ext(c); }

int spoolq_name(const char *tenant, const char *dataset, int64_t ns, const char *hint, bf_codec c, char *out,
                size_t outlen)
{
    int n = snprintf(out, outlen, "%s--%s--%019" PRId64 "--%s.%s", tenant, dataset, ns, hint, ext_of(c));
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Parsed from the right: ids may themselves contain "--", the time and hint never do. */
int spoolq_parse_name(const char *name, int64_t *ns, char *hint, bf_codec *c)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return -EINVAL;
    const char *h = NULL;
    for (const char *p = dot - 1; p > name; p--)
        if (p[0] == '-' && p[-1] == '-') { h = p + 1; break; }
    if (!h || h == dot || dot - h > 64 || h - name < 2 + 19 + 2) return -EINVAL;
    const char *t = h - 2 - 19;
    if (t[-1] != '-' || t[-2] != '-') return -EINVAL;
    int64_t v = 0;
    for (int i = 0; i < 19; i++) {
        if (t[i] < '0' || t[i] > '9') return -EINVAL;
        v = v * 10 + (t[i] - '0');
    }
    if (ns) *ns = v;
    if (hint) {
        memcpy(hint, h, (size_t)(dot - h));
        hint[dot - h] = '\0';
    }
    bf_codec codec = BF_CODEC_NONE;
    if (strcmp(dot + 1, "raw") && (bf_codec_parse(dot + 1, &codec) || codec == BF_CODEC_NONE)) return -EINVAL;
    if (c) *c = codec;
    return 0;
}

void spoolq_meta_init(spoolq_meta *m)
{
    memset(m, 0, sizeof *m);
    m->span_ns = SPOOLQ_SPAN_NS;
    m->lines = m->orig_bytes = -1;
}

char *spoolq_meta_json(const spoolq_meta *m, const char *tenant, const char *dataset, const char *name)
{
    char created[32], last[32];
    bf_rfc3339_ms(m->created_ms, created);
    bf_rfc3339_ms(m->last_retry_ms, last);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:I}",
                          "id", name, "tenant_id", tenant, "dataset_id", dataset, "filename", name,
                          "compressed_size", (json_int_t)m->comp_bytes, "uncompressed_size",
                          (json_int_t)m->orig_bytes, "line_count", (json_int_t)m->lines, "created_at", created,
                          "created_ms", (json_int_t)m->created_ms, "last_retry", last, "retry_count",
                          (json_int_t)m->retry_count, "status", m->status, "failure_reason", m->failure_reason,
                          "trigger_reason", m->trigger_reason, "span_ns", (json_int_t)m->span_ns);
    if (!o) return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void get_i64(json_t *o, const char *k, int64_t *dst)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) *dst = json_integer_value(v);
}

static void get_str(json_t *o, const char *k, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v)) snprintf(dst, cap, "%s", json_string_value(v));
}

int spoolq_meta_parse(const char *json, spoolq_meta *m)
{
    json_t *o = json_loads(json, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return -EINVAL;
    }
    get_i64(o, "retry_count", &m->retry_count);
    get_i64(o, "span_ns", &m->span_ns);
    get_i64(o, "line_count", &m->lines);
    get_i64(o, "uncompressed_size", &m->orig_bytes);
    get_i64(o, "compressed_size", &m->comp_bytes);
    get_i64(o, "created_ms", &m->created_ms);
    get_str(o, "status", m->status, sizeof m->status);
    get_str(o, "failure_reason", m->failure_reason, sizeof m->failure_reason);
    get_str(o, "trigger_reason", m->trigger_reason, sizeof m->trigger_reason);
    json_decref(o);
    if (m->span_ns < 1) m->span_ns = 1;
    return 0;
}

typedef struct counter {
    int64_t lines, bytes;
} counter;

static int count_sink(void *ud, const void *data, size_t len)
{
    counter *c = ud;
    const char *p = data, *end = p + len;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        c->lines++;
        p++;
    }
    c->bytes += (int64_t)len;
    return 0;
}

int spoolq_count(bf_codec c, const void *data, size_t len, uint64_t max_out, int64_t *lines, int64_t *orig)
{
    bf_decoder *d;
    int rc = bf_decoder_create(c, max_out, 0, &d);
    if (rc) return rc;
    counter cnt = {0, 0};
    rc = bf_decoder_update(d, data, len, count_sink, &cnt);
    if (!rc) rc = bf_decoder_finish(d, count_sink, &cnt);
    bf_decoder_destroy(d);
    if (rc) return rc;
    if (lines) *lines = cnt.lines;
    if (orig) *orig = cnt.bytes;
    return 0;
}

int spoolq_split(bf_codec c, int level, const void *data, size_t len, uint64_t max_out, spoolq_half out[2])
{
    char *raw;
    size_t rlen;
    memset(out, 0, 2 * sizeof *out);
    int rc = bf_decompress(c, data, len, max_out, 0, &raw, &rlen);
    if (rc) return rc;
    int64_t lines = 0;
    for (size_t i = 0; i < rlen; i++) lines += raw[i] == '\n';
    if (rlen && raw[rlen - 1] != '\n') lines++;
    if (lines < 2) {
        free(raw);
        return -ERANGE;
    }
    int64_t want = lines / 2, seen = 0;
    size_t cut = 0;
    while (cut < rlen && seen < want) {
        if (raw[cut] == '\n') seen++;
        cut++;
    }
    size_t bounds[3] = {0, cut, rlen};
    for (int h = 0; h < 2 && !rc; h++) {
        rc = bf_compress(c, level, raw + bounds[h], bounds[h + 1] - bounds[h], &out[h].data, &out[h].len);
        out[h].orig_bytes = (int64_t)(bounds[h + 1] - bounds[h]);
        out[h].lines = h == 0 ? want : lines - want;
    }
    free(raw);
    if (rc) {
        free(out[0].data);
        free(out[1].data);
        memset(out, 0, 2 * sizeof *out);
    }
    return rc;
}

int spoolq_validate(void *ud, const char *queue, const char *name, const char *path)
{
    (void)ud;
    (void)queue;
    bf_codec c;
    if (spoolq_parse_name(name, NULL, NULL, &c)) return -EINVAL;
    char *data;
    size_t len;
    int rc = bf_read_file(path, (size_t)1 << 30, &data, &len);
    if (rc) return rc;
    rc = spoolq_count(c, data, len, (uint64_t)4 << 30, NULL, NULL);
    free(data);
    return rc;
}
