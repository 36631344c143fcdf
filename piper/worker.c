/* worker: see worker.h. */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bf_util.h"
#include "jfast.h"
#include "bf_json.h"

#define FLUSH_BYTES (256 * 1024)

typedef struct proc {
    const fmt *format;
    const pipeline *pl;
    bool fast;
    fmt_state *fs;
    pf_ctx ctx;
    int64_t recv_ms;
    size_t max_line;
    bf_buf out;           /* serialised records waiting for the encoder */
    bf_buf line;          /* the current line being assembled */
    bool line_cut;
    wk_stats *st;
    pl_trace_fn trace;
    void *trace_ud;
    /* streaming output (NULL in the in-memory variant) */
    bf_encoder *enc;
    FILE *tmp;
    const wk_job *job;
    int64_t last_tick;
    bf_decoder *dec;
    unsigned char head[4];
    size_t nhead;
} proc;

/* ---- output ---- */

/* Serialise rec; BfTs goes first when the record lacks it. */
static int emit_record(void *ud, json_t *rec)
{
    proc *p = ud;
    p->st->out++;
    if (json_object_get(rec, "BfTs")) {
        if (jfast_dump(rec, &p->out))
            return -ENOMEM;
    } else {
        size_t at = p->out.len;
        if (bf_buf_printf(&p->out, "{\"BfTs\":%lld", (long long)p->recv_ms))
            return -ENOMEM;
        size_t body = p->out.len;
        if (jfast_dump(rec, &p->out))
            return -ENOMEM;
        /* the dump starts with '{': turn it into ',' (or drop it for an empty object) */
        if (p->out.len - body == 2) {
            p->out.len = body;
            if (bf_buf_putc(&p->out, '}'))
                return -ENOMEM;
        } else {
            p->out.data[body] = ',';
        }
        (void)at;
    }
    return bf_buf_putc(&p->out, '\n') ? -ENOMEM : 0;
}

static int file_sink(void *ud, const void *data, size_t len)
{
    proc *p = ud;
    if (fwrite(data, 1, len, p->tmp) != len)
        return -EIO;
    p->st->bytes_out += len;
    return 0;
}

static int flush_out(proc *p, bool force)
{
    if (!p->enc || (!force && p->out.len < FLUSH_BYTES))
        return 0;
    int rc = bf_encoder_update(p->enc, p->out.data, p->out.len, file_sink, p);
    bf_buf_reset(&p->out);
    return rc;
}

/* ---- one line ---- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* ndjson + empty pipeline: pass valid object lines through as text. 1 = handled, 0 = use the DOM. */
static int fast_line(proc *p, const char *s, size_t n)
{
    bool has;
    if (bf_json_object_check(s, n, &has))
        return 0;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    int rc;
    if (has) {
        rc = bf_buf_append(&p->out, s, n);
    } else {
        size_t i = 1;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
            i++;
        rc = bf_buf_printf(&p->out, "{\"BfTs\":%lld", (long long)p->recv_ms);
        if (!rc)
            rc = s[i] == '}' ? bf_buf_putc(&p->out, '}') : (bf_buf_putc(&p->out, ',') || bf_buf_append(&p->out, s + 1, n - 1));
    }
    if (rc || bf_buf_putc(&p->out, '\n'))
        return -ENOMEM;
    p->st->out++;
    return 1;
}

static int do_line(proc *p, const char *s, size_t n, bool cut)
{
    if (n && s[n - 1] == '\r')
        n--;
    p->st->lines++;
    if (blank(s, n))
        return 0;
    p->st->in++;
    p->ctx.line_no = p->st->lines;
    if (cut)
        p->st->truncated++;
    if (p->fast && !cut) {
        int r = fast_line(p, s, n);
        if (r)
            return r < 0 ? r : flush_out(p, false);
    }
    json_t *rec = NULL;
    int rc = fmt_parse(p->fs, s, n, p->recv_ms, &rec);
    if (rc < 0)
        return rc;
    if (rc == FMT_SKIP) {
        p->st->in--;
        return 0;
    }
    bool fell_back = rc == FMT_FALLBACK;
    if (cut)
        pf_add_tag(rec, "_line_truncated");
    pl_result res = {0};
    rc = pipeline_run(p->pl, rec, &p->ctx, emit_record, p, p->trace, p->trace_ud, &res);
    p->st->dropped += res.dropped;
    /* a record counts once as an error, whether its line did not parse or a filter failed */
    if (fell_back || res.errors)
        p->st->errors++;
    return rc ? rc : flush_out(p, false);
}

/* Split plain bytes into lines, bounding each at max_line. */
static int plain_sink(void *ud, const void *data, size_t len)
{
    proc *p = ud;
    const char *s = data;
    p->st->bytes_plain += len;
    while (len) {
        const char *nl = memchr(s, '\n', len);
        size_t seg = nl ? (size_t)(nl - s) : len;
        int rc = 0;
        if (!p->line.len && nl && seg <= p->max_line) {
            rc = do_line(p, s, seg, false);   /* whole line inside the chunk: no copy */
        } else {
            size_t room = p->max_line > p->line.len ? p->max_line - p->line.len : 0;
            size_t take = seg < room ? seg : room;
            if (take && bf_buf_append(&p->line, s, take))
                return -ENOMEM;
            if (take < seg)
                p->line_cut = true;
            if (nl) {
                rc = do_line(p, p->line.data ? p->line.data : "", p->line.len, p->line_cut);
                bf_buf_reset(&p->line);
                p->line_cut = false;
            }
        }
        if (rc)
            return rc;
        if (!nl)
            break;
        s = nl + 1;
        len -= seg + 1;
    }
    if (p->job && p->job->tick && bf_mono_ms() - p->last_tick > (p->job->tick_ms > 0 ? p->job->tick_ms : 5000)) {
        p->last_tick = bf_mono_ms();
        if (p->job->tick(p->job->tick_ud))
            return -ECANCELED;
    }
    return 0;
}

static int finish_lines(proc *p)
{
    if (!p->line.len)
        return 0;
    int rc = do_line(p, p->line.data, p->line.len, p->line_cut);
    bf_buf_reset(&p->line);
    return rc;
}

static int proc_init(proc *p, const fmt *format, const pipeline *pl, pl_env *env, rx_scratch *rx, const char *tenant,
                     const char *dataset, size_t max_line, int64_t recv_ms, wk_stats *st)
{
    memset(p, 0, sizeof *p);
    p->format = format;
    p->pl = pl;
    p->fast = fmt_is_ndjson(format) && pipeline_empty(pl);
    p->recv_ms = recv_ms;
    p->max_line = max_line ? max_line : 1 << 20;
    p->st = st;
    p->ctx = (pf_ctx){.tenant = tenant, .dataset = dataset, .now_ms = bf_now_ms(), .rx = rx, .env = env,
                      .rng = (uint64_t)bf_now_ns() | 1};
    bf_buf_init(&p->out, 0);
    bf_buf_init(&p->line, 0);
    return fmt_state_create(format, &p->fs);
}

static void proc_free(proc *p)
{
    fmt_state_free(p->fs);
    bf_buf_free(&p->out);
    bf_buf_free(&p->line);
    bf_encoder_destroy(p->enc);
    bf_decoder_destroy(p->dec);
}

int wk_process_buffer(const wk_mem *m, const char *data, size_t len, bf_buf *out, wk_stats *st)
{
    proc p;
    memset(st, 0, sizeof *st);
    int rc = proc_init(&p, m->format, m->pl, m->env, m->rx, m->tenant, m->dataset, m->max_line, m->recv_ms, st);
    p.trace = m->trace;
    p.trace_ud = m->trace_ud;
    if (!rc)
        rc = plain_sink(&p, data, len);
    if (!rc)
        rc = finish_lines(&p);
    if (!rc)
        rc = bf_buf_append(out, p.out.data ? p.out.data : "", p.out.len);
    proc_free(&p);
    return rc;
}

/* ---- keys ---- */

int wk_output_key(const char *in_key, bf_codec c, char *out, size_t outlen)
{
    static const char *const exts[] = {".gz", ".zst", ".zstd", ".ndjson", ".json", ".log"};
    size_t n = strlen(in_key);
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t el = strlen(exts[i]);
        if (n > el && !memcmp(in_key + n - el, exts[i], el)) {
            n -= el;
            i = (size_t)-1;   /* strip stacked extensions like .json.gz */
        }
    }
    const char *suffix = n >= 8 && !strncmp(in_key + n - 8, "--ndjson", 8) ? "" : "--ndjson";
    int w = snprintf(out, outlen, "%.*s%s.%s", (int)n, in_key, suffix, bf_codec_ext(c));
    return w < 0 || (size_t)w >= outlen ? -ENAMETOOLONG : 0;
}

int64_t wk_key_time_ms(const char *key)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    const char *p = base;
    for (int i = 0; i < 2; i++) {
        p = strstr(p, "--");
        if (!p)
            return -1;
        p += 2;
    }
    char *end;
    long long ns = strtoll(p, &end, 10);
    if (end == p || (*end && strncmp(end, "--", 2) && *end != '.') || ns <= 0)
        return -1;
    /* accept s / ms / ns precision, normalise to ms */
    return ns > 100000000000000000LL ? ns / 1000000 : ns > 100000000000LL ? ns : ns * 1000;
}

/* ---- streaming ---- */

static int body_sink(void *ud, const void *data, size_t len)
{
    proc *p = ud;
    const unsigned char *d = data;
    if (!p->dec) {
        /* the codec is recognised from the first bytes of the object */
        while (p->nhead < 4 && len) {
            p->head[p->nhead++] = *d++;
            len--;
        }
        if (p->nhead < 4)
            return 0;
        int rc = bf_decoder_create(bf_codec_detect(p->head, 4), p->job->max_object, 0, &p->dec);
        if (!rc)
            rc = bf_decoder_update(p->dec, p->head, 4, plain_sink, p);
        if (rc)
            return rc;
    }
    return len ? bf_decoder_update(p->dec, d, len, plain_sink, p) : 0;
}

static int finish_body(proc *p)
{
    if (!p->dec) {   /* under 4 bytes: identity */
        int rc = bf_decoder_create(bf_codec_detect(p->head, p->nhead), p->job->max_object, 0, &p->dec);
        if (!rc && p->nhead)
            rc = bf_decoder_update(p->dec, p->head, p->nhead, plain_sink, p);
        if (rc)
            return rc;
    }
    int rc = bf_decoder_finish(p->dec, plain_sink, p);
    p->st->bytes_in = bf_decoder_total_in(p->dec);
    return rc ? rc : finish_lines(p);
}

static int put_output(const wk_job *j, proc *p, const char *tmppath)
{
    char n_in[24], n_out[24], n_drop[24], n_err[24], at[32];
    snprintf(n_in, sizeof n_in, "%llu", (unsigned long long)p->st->in);
    snprintf(n_out, sizeof n_out, "%llu", (unsigned long long)p->st->out);
    snprintf(n_drop, sizeof n_drop, "%llu", (unsigned long long)p->st->dropped);
    snprintf(n_err, sizeof n_err, "%llu", (unsigned long long)p->st->errors);
    bf_rfc3339_s(bf_now_ms() / 1000, at);
    const char *base = strrchr(j->key, '/');
    bf_kv meta[] = {
        {"tenant-id", j->tenant}, {"dataset-id", j->dataset}, {"format", "ndjson"},
        {"source-format", fmt_name(j->format)}, {"source-key", j->key},
        {"source-original-filename", base ? base + 1 : j->key}, {"input-records", n_in},
        {"output-records", n_out}, {"dropped-records", n_drop}, {"error-records", n_err},
        {"pipeline-version", j->pipeline_version ? j->pipeline_version : pipeline_version(j->pl)},
        {"processed-at", at}, {"processor-type", "bytefreezer-piper"},
    };
    /* last lease renewal right before the commit point: an instance that lost its lease (expired, taken
     * over, or a racing contender on a store without conditional writes) must not write the output */
    if (j->tick && j->tick(j->tick_ud))
        return -EBUSY;
    return bf_store_put_file(j->out, p->st->out_key, tmppath, meta, sizeof meta / sizeof *meta);
}

int wk_process(const wk_job *j, wk_stats *st)
{
    memset(st, 0, sizeof *st);
    int64_t recv = wk_key_time_ms(j->key);
    proc p;
    int rc = proc_init(&p, j->format, j->pl, j->env, j->rx, j->tenant, j->dataset, j->max_line,
                       recv > 0 ? recv : bf_now_ms(), st);
    p.job = j;
    p.last_tick = bf_mono_ms();
    char tmppath[512] = "";
    if (!rc)
        rc = wk_output_key(j->key, j->out_codec, st->out_key, sizeof st->out_key);
    if (!rc) {
        snprintf(tmppath, sizeof tmppath, "%s/bf-piper-XXXXXX", j->tmp_dir ? j->tmp_dir : "/tmp");
        int fd = mkstemp(tmppath);
        if (fd < 0 || !(p.tmp = fdopen(fd, "w+"))) {
            rc = -errno;
            if (fd >= 0)
                close(fd);
            snprintf(st->err, sizeof st->err, "temp file in %s: %s", j->tmp_dir, strerror(-rc));
            tmppath[0] = 0;
        }
    }
    if (!rc)
        rc = bf_encoder_create(j->out_codec, j->out_level, &p.enc);
    if (!rc) {
        rc = bf_store_get(j->in, j->key, body_sink, &p, NULL);
        if (rc && !st->err[0])
            snprintf(st->err, sizeof st->err, "%s: %s", rc == -EBADMSG ? "corrupt input" : "get failed",
                     rc == -EBADMSG ? j->key : (bf_store_errmsg() && *bf_store_errmsg() ? bf_store_errmsg() : strerror(-rc)));
    }
    if (!rc && (rc = finish_body(&p)))
        snprintf(st->err, sizeof st->err, "%s", rc == -EBADMSG ? "corrupt or truncated compressed input" : strerror(-rc));
    if (!rc && !(rc = flush_out(&p, true)))
        rc = bf_encoder_finish(p.enc, file_sink, &p);
    if (!rc && (fflush(p.tmp) || fsync(fileno(p.tmp))))
        rc = -errno;
    if (!rc && (rc = put_output(j, &p, tmppath)))
        snprintf(st->err, sizeof st->err, "put %.200s: %.40s", st->out_key, bf_store_errmsg() ? bf_store_errmsg() : "");
    if (rc && !st->err[0])
        snprintf(st->err, sizeof st->err, "%s", strerror(rc < 0 ? -rc : rc));
    if (p.tmp)
        fclose(p.tmp);
    if (tmppath[0])
        unlink(tmppath);
    proc_free(&p);
    return rc;
}
