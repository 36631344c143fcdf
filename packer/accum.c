/* accum: dataset accumulation and crash-safe packing (see accum.h). */
#include "accum.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bf_codec.h"
#include "bf_lease.h"
#include "bf_log.h"
#include "bf_util.h"
#include "convert.h"

#define LEASE_PREFIX "_leases/packer"
#define DLQ_PREFIX "_dlq/packer/"
#define LIST_LIMIT 200000

/* ---------------- context ---------------- */

/* Local Parquet files (".pk-<pid>-<n>.parquet") of a packer that died mid-batch: its manifest will
 * redo the work, the file is only litter. Files of a live process (another packer sharing the
 * directory) are left alone. */
static void clean_spill_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        unsigned n;
        if (sscanf(e->d_name, ".pk-%d-%u.parquet", &pid, &n) != 2 || pid <= 0)
            continue;
        if (pid != getpid() && kill(pid, 0) < 0 && errno == ESRCH) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

int pk_ctx_init(pk_ctx *x, const pk_config *cfg, bf_metrics *m, volatile sig_atomic_t *term, char *err, size_t errlen)
{
    memset(x, 0, sizeof(*x));
    x->cfg = cfg;
    x->metrics = m;
    x->term = term;
    bf_instance_id(x->owner, sizeof(x->owner));
    size_t ol = strlen(x->owner);
    snprintf(x->owner + ol, sizeof(x->owner) - ol, "/%d", (int)getpid());
    const char *crash = getenv("BF_PACKER_CRASH_AT");
    snprintf(x->crash_at, sizeof(x->crash_at), "%s", crash ? crash : "");
    int rc = bf_store_open(cfg->store_piper, &cfg->common.s3, m, &x->piper, err, errlen);
    if (rc < 0)
        return rc;
    if (cfg->store_packer && *cfg->store_packer &&
        (rc = bf_store_open(cfg->store_packer, &cfg->common.s3, m, &x->packer, err, errlen)) < 0) {
        pk_ctx_free(x);
        return rc;
    }
    if ((rc = bf_mkdir_p(cfg->spill_dir, 0700)) < 0) {
        snprintf(err, errlen, "spill_dir %s: %s", cfg->spill_dir, strerror(-rc));
        pk_ctx_free(x);
        return rc;
    }
    clean_spill_dir(cfg->spill_dir);
    return 0;
}

void pk_ctx_free(pk_ctx *x)
{
    for (size_t i = 0; i < x->nouts; i++) {
        bf_store_close(x->outs[i].s);
        free(x->outs[i].uri);
    }
    free(x->outs);
    bf_store_close(x->piper);
    bf_store_close(x->packer);
    memset(x, 0, sizeof(*x));
}

static int out_store(pk_ctx *x, const char *uri, bf_store **out)
{
    if (!uri || !*uri) {
        *out = x->packer;
        return x->packer ? 0 : -EINVAL;
    }
    for (size_t i = 0; i < x->nouts; i++)
        if (!strcmp(x->outs[i].uri, uri)) {
            *out = x->outs[i].s;
            return 0;
        }
    pk_out_store *n = realloc(x->outs, (x->nouts + 1) * sizeof(pk_out_store));
    if (!n)
        return -ENOMEM;
    x->outs = n;
    char err[256];
    bf_store *s;
    int rc = bf_store_open(uri, &x->cfg->common.s3, x->metrics, &s, err, sizeof(err));
    if (rc < 0) {
        bf_log_kv(BF_LOG_ERROR, "cannot open dataset output", "uri", uri, "error", err, NULL);
        return rc;
    }
    x->outs[x->nouts].uri = strdup(uri);
    if (!x->outs[x->nouts].uri) {
        bf_store_close(s);
        return -ENOMEM;
    }
    x->outs[x->nouts++].s = s;
    *out = s;
    return 0;
}

int pk_dsopts_from(const pk_config *cfg, const json_t *output, pk_dsopts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    const char *part = cfg->partitioning, *tf = cfg->time_field, *comp = cfg->compression;
    if (json_is_object(output)) {
        const json_t *v;
        if ((v = json_object_get(output, "uri")) && json_is_string(v) && *json_string_value(v))
            o->uri = json_string_value(v);
        if ((v = json_object_get(output, "partitioning")) && json_is_string(v))
            part = json_string_value(v);
        if ((v = json_object_get(output, "time_field")) && json_is_string(v) && *json_string_value(v))
            tf = json_string_value(v);
        if ((v = json_object_get(output, "compression")) && json_is_string(v))
            comp = json_string_value(v);
    }
    if (pk_partitioning_parse(part, &o->part) < 0) {
        snprintf(err, errlen, "output.partitioning: unknown value %s", part);
        return -EINVAL;
    }
    if (pq_codec_parse(comp, &o->codec) < 0) {
        snprintf(err, errlen, "output.compression: %s is not available", comp);
        return -EINVAL;
    }
    snprintf(o->time_field, sizeof(o->time_field), "%s", tf && *tf ? tf : "BfTs");
    return 0;
}

/* ---------------- metrics ---------------- */

static void count(pk_ctx *x, const char *name, const char *help, const char *t, const char *d, uint64_t v)
{
    char labels[300];
    bf_metrics_labels(labels, sizeof(labels), "tenant", t, "dataset", d, NULL);
    bf_counter_add(bf_metrics_counter(x->metrics, name, help, labels), v);
}

static void gauge(pk_ctx *x, const char *name, const char *help, const char *t, const char *d, double v)
{
    char labels[300];
    bf_metrics_labels(labels, sizeof(labels), "tenant", t, "dataset", d, NULL);
    bf_gauge_set(bf_metrics_gauge(x->metrics, name, help, labels), v);
}

static void crash_point(const pk_ctx *x, const char *step)
{
    if (x->crash_at[0] && !strcmp(x->crash_at, step)) {
        bf_log_kv(BF_LOG_WARN, "BF_PACKER_CRASH_AT: exiting", "step", step, NULL);
        _exit(137);
    }
}

/* ---------------- inputs ---------------- */

static bool is_input(const char *key)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    return base[0] != '.' && base[0] != '_' && strstr(base, "ndjson") != NULL;
}

static int cmp_input(const void *a, const void *b)
{
    return strcmp(((const pk_input *)a)->key, ((const pk_input *)b)->key);
}

typedef struct listing { pk_input *in; size_t n; int64_t total, oldest_ms; bf_store_list raw; } listing;

static void listing_free(listing *l)
{
    free(l->in);
    bf_store_list_free(&l->raw);
    memset(l, 0, sizeof(*l));
}

static int list_inputs(pk_ctx *x, const char *t, const char *d, listing *l)
{
    memset(l, 0, sizeof(*l));
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s/%s/", t, d);
    int rc = bf_store_list_all(x->piper, prefix, LIST_LIMIT, &l->raw);
    if (rc < 0) {
        __atomic_add_fetch(&x->store_failures, 1, __ATOMIC_RELAXED);
        return rc;
    }
    __atomic_store_n(&x->store_failures, 0, __ATOMIC_RELAXED);
    l->in = calloc(l->raw.n ? l->raw.n : 1, sizeof(pk_input));
    if (!l->in)
        return -ENOMEM;
    l->oldest_ms = INT64_MAX;
    for (size_t i = 0; i < l->raw.n; i++) {
        bf_store_obj *o = &l->raw.items[i];
        if (!is_input(o->key))
            continue;
        l->in[l->n++] = (pk_input){ .key = o->key, .size = o->size, .mtime_ms = o->mtime_ms };
        l->total += o->size;
        l->oldest_ms = o->mtime_ms < l->oldest_ms ? o->mtime_ms : l->oldest_ms;
    }
    qsort(l->in, l->n, sizeof(pk_input), cmp_input);
    return 0;
}

static bool ready(const pk_ctx *x, const listing *l, size_t from, int64_t now_ms)
{
    int64_t total = 0, oldest = INT64_MAX;
    for (size_t i = from; i < l->n; i++) {
        total += l->in[i].size;
        oldest = l->in[i].mtime_ms < oldest ? l->in[i].mtime_ms : oldest;
    }
    return from < l->n && (total >= x->cfg->target_bytes || now_ms - oldest >= x->cfg->max_wait_ms);
}

/* ---------------- the packing procedure ---------------- */

typedef struct in_ctx {
    pk_conv *conv;
    bf_decoder *dec;
    bool started;
    bf_codec codec;
    uint64_t raw;
} in_ctx;

static int feed_conv(void *ud, const void *d, size_t n)
{
    in_ctx *ic = ud;
    ic->raw += n;
    return pk_conv_feed(ic->conv, d, n);
}

static int get_sink(void *ud, const void *d, size_t n)
{
    in_ctx *ic = ud;
    if (!ic->started) {
        ic->started = true;
        if (ic->codec == BF_CODEC_NONE)
            ic->codec = bf_codec_detect(d, n);
        if (ic->codec != BF_CODEC_NONE) {
            int rc = bf_decoder_create(ic->codec, 0, 0, &ic->dec);
            if (rc < 0)
                return rc;
        }
    }
    if (ic->dec)
        return bf_decoder_update(ic->dec, d, n, feed_conv, ic);
    return feed_conv(ic, d, n);
}

static bf_codec codec_of_key(const char *key)
{
    size_t n = strlen(key);
    if (n > 4 && !strcmp(key + n - 4, ".zst"))
        return BF_CODEC_ZSTD;
    if (n > 3 && !strcmp(key + n - 3, ".gz"))
        return BF_CODEC_GZIP;
    return BF_CODEC_NONE;
}

typedef struct run_ctx {
    pk_ctx *x;
    const pk_manifest *m;
    bf_store *out;
    bf_lease *lease;
    int64_t renewed_ms;
    uint64_t files, rows, bytes;
} run_ctx;

static int keep_lease(run_ctx *r)
{
    int64_t now = bf_mono_ms();
    if (now - r->renewed_ms < r->x->cfg->lease_ttl_ms / 3)
        /* on stores without conditional writes a racing contender is only seen by a check (bf_lease.h) */
        return r->lease->listed ? bf_lease_check(r->x->piper, LEASE_PREFIX, r->lease) : 0;
    int rc = bf_lease_renew(r->x->piper, LEASE_PREFIX, r->lease, r->x->cfg->lease_ttl_ms);
    if (rc == 0)
        r->renewed_ms = now;
    return rc;
}

static int upload_part(void *ud, const pk_part_out *p)
{
    run_ctx *r = ud;
    const pk_manifest *m = r->m;
    char key[1024], rows[32], mn[32], mx[32];
    int rc = pk_output_key(key, sizeof(key), m->tenant, m->dataset, p->partition, m->created_ms, (unsigned)p->index,
                           m->h12);
    if (rc < 0)
        return rc;
    snprintf(rows, sizeof(rows), "%" PRIu64, p->rows);
    bf_rfc3339_ms(p->min_us / 1000, mn);
    bf_rfc3339_ms(p->max_us / 1000, mx);
    bf_kv meta[] = { { "tenant-id", m->tenant }, { "dataset-id", m->dataset }, { "manifest", m->id },
                     { "row-count", rows }, { "min-timestamp", mn }, { "max-timestamp", mx },
                     { "uploaded-by", "bytefreezer-packer" } };
    if ((rc = keep_lease(r)) < 0)
        return rc;
    rc = bf_store_put_file(r->out, key, p->path, meta, sizeof(meta) / sizeof(meta[0]));
    if (rc < 0) {
        bf_log_kv(BF_LOG_ERROR, "parquet upload failed", "key", key, "error", bf_store_errmsg(), NULL);
        return rc;
    }
    bf_log_kv(BF_LOG_INFO, "parquet written", "key", key, "rows", rows, NULL);
    r->files++;
    r->rows += p->rows;
    r->bytes += p->bytes;
    if (p->index == 0)
        crash_point(r->x, "mid_upload");
    return 0;
}

static int sink_fd(void *ud, const void *d, size_t n)
{
    int fd = *(int *)ud;
    const char *p = d;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* A corrupt input (bad gzip/zstd) would fail its batch forever: copy it as stored to
 * _dlq/packer/<key> (through a local file: bounded memory) so the batch can go on; the records
 * decoded before the damage stay in the batch. The copy overwrites on a replay. */
static int quarantine(pk_ctx *x, const char *key)
{
    char path[4200], dlq[1200];
    snprintf(path, sizeof(path), "%s/.pk-%d-dlq.tmp", x->cfg->spill_dir, (int)getpid());
    snprintf(dlq, sizeof(dlq), DLQ_PREFIX "%s", key);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = bf_store_get(x->piper, key, sink_fd, &fd, NULL);
    close(fd);
    if (rc == 0)
        rc = bf_store_put_file(x->piper, dlq, path, NULL, 0);
    unlink(path);
    if (rc == 0)
        bf_log_kv(BF_LOG_ERROR, "corrupt input moved to the dead-letter prefix", "key", key, "dlq", dlq, NULL);
    return rc;
}

static int convert_inputs(run_ctx *r, const pk_dsopts *o, bool *missing, uint64_t *raw, pk_conv_stats *st)
{
    pk_ctx *x = r->x;
    const pk_config *cfg = x->cfg;
    const pk_manifest *m = r->m;
    pq_kv kv[] = { { "bytefreezer.manifest", m->id }, { "bytefreezer.tenant", m->tenant },
                   { "bytefreezer.dataset", m->dataset } };
    pk_conv_opts co = {
        .spill_dir = cfg->spill_dir, .time_field = o->time_field, .partitioning = o->part,
        .pq = { .codec = o->codec, .level = (int)cfg->compression_level, .row_group_bytes = pk_config_row_group_bytes(cfg),
                .page_bytes = cfg->page_bytes, .created_by = "bytefreezer-packer " BF_VERSION },
        .max_line_bytes = cfg->max_line_bytes, .max_columns = (uint32_t)cfg->max_columns, .kv = kv, .nkv = 3,
        .spill_memory = pk_config_spill_memory(cfg),
    };
    pk_conv *conv;
    int rc = pk_conv_create(&co, &conv);
    if (rc < 0)
        return rc;
    *missing = false;
    for (size_t i = 0; i < m->ninputs && rc == 0; i++) {
        if (x->term && *x->term) {
            rc = -EINTR;
            break;
        }
        const pk_input *in = &m->inputs[i];
        pk_conv_set_recv_ms(conv, pk_key_time_ms(in->key, in->mtime_ms));
        in_ctx ic = { .conv = conv, .codec = codec_of_key(in->key) };
        rc = bf_store_get(x->piper, in->key, get_sink, &ic, NULL);
        if (rc == 0 && ic.dec)
            rc = bf_decoder_finish(ic.dec, feed_conv, &ic);
        bf_decoder_destroy(ic.dec);
        *raw += ic.raw;
        if (rc == -ENOENT) {
            /* not uploaded yet but gone: removed by someone else; pack what is left */
            bf_log_kv(BF_LOG_WARN, "input listed in the manifest is gone", "key", in->key, NULL);
            *missing = true;
            rc = 0;
            continue;
        }
        if (rc == -EBADMSG) {
            if ((rc = quarantine(x, in->key)) < 0)
                break;
            count(x, "bytefreezer_packer_corrupt_inputs_total", "corrupt inputs moved to _dlq/packer", m->tenant, m->dataset, 1);
        }
        if (rc == 0)
            rc = pk_conv_end_input(conv);
        if (rc == 0)
            rc = keep_lease(r);
    }
    if (rc == 0)
        rc = pk_conv_finish(conv, upload_part, r);
    pk_conv_get_stats(conv, st);
    pk_conv_destroy(conv);
    return rc;
}

static int put_manifest(pk_ctx *x, const pk_manifest *m, const char *mkey)
{
    char *json = NULL;
    size_t jlen = 0;
    int rc = pk_manifest_to_json(m, &json, &jlen);
    if (rc == 0)
        rc = bf_store_put(x->piper, mkey, json, jlen, NULL, 0);
    free(json);
    return rc;
}

static int run_manifest(pk_ctx *x, pk_manifest *m, const pk_dsopts *o, bf_lease *lease)
{
    char mkey[1024];
    int rc = pk_manifest_key(m, mkey, sizeof(mkey));
    bf_store *out = NULL;
    if (rc == 0)
        rc = out_store(x, o->uri, &out);
    if (rc < 0)
        return rc;
    run_ctx r = { .x = x, .m = m, .out = out, .lease = lease, .renewed_ms = bf_mono_ms() };
    bool missing = false;
    uint64_t raw = 0;
    pk_conv_stats st = { 0 };
    int64_t t0 = bf_mono_ms();
    if (!m->uploaded) {
        rc = convert_inputs(&r, o, &missing, &raw, &st);
        if (rc == 0) {
            /* from here on a replay must only delete: the outputs hold every input */
            m->uploaded = 1;
            rc = put_manifest(x, m, mkey);
        }
        if (rc < 0) {
            bf_log_kv(BF_LOG_ERROR, "batch failed; the manifest stays for a retry", "manifest", m->id, "error",
                      strerror(-rc), NULL);
            return rc;
        }
    } else {
        bf_log_kv(BF_LOG_INFO, "outputs already stored; finishing deletes", "manifest", m->id, NULL);
    }
    crash_point(x, "after_upload");
    int64_t stored = 0;
    for (size_t i = 0; i < m->ninputs; i++) {
        if ((rc = bf_store_delete(x->piper, m->inputs[i].key)) < 0) {
            bf_log_kv(BF_LOG_ERROR, "cannot delete input", "key", m->inputs[i].key, "error", bf_store_errmsg(), NULL);
            return rc;
        }
        stored += m->inputs[i].size;
        if (i == 0)
            crash_point(x, "mid_delete");
    }
    if ((rc = bf_store_delete(x->piper, mkey)) < 0)
        return rc;
    const char *t = m->tenant, *d = m->dataset;
    count(x, "bytefreezer_packer_batches_total", "batches packed", t, d, 1);
    count(x, "bytefreezer_packer_files_total", "Parquet files written", t, d, r.files);
    count(x, "bytefreezer_packer_rows_total", "rows written to Parquet", t, d, r.rows);
    count(x, "bytefreezer_packer_input_objects_total", "input objects consumed", t, d, m->ninputs);
    count(x, "bytefreezer_packer_input_bytes_total", "input bytes as stored (compressed)", t, d, (uint64_t)stored);
    count(x, "bytefreezer_packer_input_raw_bytes_total", "input NDJSON bytes (uncompressed)", t, d, raw);
    count(x, "bytefreezer_packer_output_bytes_total", "Parquet bytes written", t, d, r.bytes);
    count(x, "bytefreezer_packer_invalid_lines_total", "lines kept in _unparsed", t, d, st.invalid);
    if (r.bytes)
        gauge(x, "bytefreezer_packer_compression_ratio", "NDJSON bytes per Parquet byte (last batch)", t, d,
              (double)raw / (double)r.bytes);
    char ms[32], rows[32];
    snprintf(ms, sizeof(ms), "%lld", (long long)(bf_mono_ms() - t0));
    snprintf(rows, sizeof(rows), "%" PRIu64, r.rows);
    bf_log_kv(BF_LOG_INFO, "batch packed", "tenant", t, "dataset", d, "manifest", m->id, "rows", rows, "ms", ms, NULL);
    return 0;
}

/* Manifests a previous owner left for this dataset: finish them first. */
static int replay_dataset(pk_ctx *x, const char *t, const char *d, const pk_dsopts *o, bf_lease *lease)
{
    char prefix[300];
    snprintf(prefix, sizeof(prefix), PK_MANIFEST_PREFIX "%s/%s/", t, d);
    bf_store_list l = { 0 };
    int rc = bf_store_list_all(x->piper, prefix, 10000, &l);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        char *data = NULL;
        size_t len = 0;
        pk_manifest m;
        rc = bf_store_get_mem(x->piper, l.items[i].key, 64 << 20, &data, &len, NULL);
        if (rc == -ENOENT) {
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        if (pk_manifest_parse(data, len, &m) < 0) {
            bf_log_kv(BF_LOG_ERROR, "unreadable manifest left in place", "key", l.items[i].key, NULL);
            free(data);
            continue;
        }
        free(data);
        bf_log_kv(BF_LOG_INFO, "replaying manifest", "manifest", m.id, "owner", m.owner, NULL);
        rc = run_manifest(x, &m, o, lease);
        pk_manifest_free(&m);
    }
    bf_store_list_free(&l);
    return rc;
}

static int pack_locked(pk_ctx *x, const char *t, const char *d, const pk_dsopts *o, bf_lease *lease, int64_t now_ms)
{
    int rc = replay_dataset(x, t, d, o, lease);
    if (rc < 0)
        return rc;
    listing l;
    if ((rc = list_inputs(x, t, d, &l)) < 0)
        return rc;
    size_t from = 0;
    int packed = 0;
    while (rc == 0 && ready(x, &l, from, now_ms) && !(x->term && *x->term)) {
        size_t to = from;
        int64_t bytes = 0;
        while (to < l.n && (to == from || bytes + l.in[to].size <= x->cfg->target_bytes) &&
               to - from < (size_t)x->cfg->max_batch_objects) {
            bytes += l.in[to].size;
            to++;
        }
        pk_manifest m;
        if ((rc = pk_manifest_new(t, d, x->owner, bf_now_ms(), l.in + from, to - from, &m)) < 0)
            break;
        char mkey[1024];
        rc = pk_manifest_key(&m, mkey, sizeof(mkey));
        if (rc == 0)
            rc = put_manifest(x, &m, mkey);
        if (rc == 0) {
            crash_point(x, "after_manifest");
            rc = run_manifest(x, &m, o, lease);
        }
        pk_manifest_free(&m);
        from = to;
        packed = 1;
    }
    listing_free(&l);
    return rc < 0 ? rc : packed;
}

int pk_dataset_poll(pk_ctx *x, const char *t, const char *d, const pk_dsopts *o, int64_t now_ms)
{
    listing l;
    int rc = list_inputs(x, t, d, &l);
    if (rc < 0) {
        bf_log_kv(BF_LOG_WARN, "cannot list inputs", "tenant", t, "dataset", d, "error", bf_store_errmsg(), NULL);
        return rc;
    }
    gauge(x, "bytefreezer_packer_lag_seconds", "age of the oldest input waiting to be packed", t, d,
          l.n ? (double)(now_ms - l.oldest_ms) / 1000.0 : 0.0);
    gauge(x, "bytefreezer_packer_waiting_bytes", "input bytes waiting to be packed", t, d, (double)l.total);
    bool go = ready(x, &l, 0, now_ms);
    listing_free(&l);
    if (!go)
        return 0;
    char name[300];
    snprintf(name, sizeof(name), "%s--%s", t, d);
    bf_lease lease;
    rc = bf_lease_acquire(x->piper, LEASE_PREFIX, name, x->owner, x->cfg->lease_ttl_ms, &lease);
    if (rc == -EBUSY)
        return 0;
    if (rc < 0) {
        bf_log_kv(BF_LOG_WARN, "cannot take dataset lease", "tenant", t, "dataset", d, "error", strerror(-rc), NULL);
        return rc;
    }
    rc = pack_locked(x, t, d, o, &lease, now_ms);
    bf_lease_release(x->piper, LEASE_PREFIX, &lease);
    if (rc < 0) {
        __atomic_store_n(&x->last_error_ms, bf_now_ms(), __ATOMIC_RELAXED);
        count(x, "bytefreezer_packer_errors_total", "failed batches", t, d, 1);
    }
    return rc;
}

int pk_recover_all(pk_ctx *x, const bf_registry *reg)
{
    bf_store_list l = { 0 };
    int rc = bf_store_list_all(x->piper, PK_MANIFEST_PREFIX, 100000, &l);
    if (rc < 0)
        return rc;
    /* one pass per dataset: the dataset procedure replays all of its manifests under its lease */
    char last[240] = "";
    for (size_t i = 0; i < l.n && !(x->term && *x->term); i++) {
        const char *k = l.items[i].key + strlen(PK_MANIFEST_PREFIX);
        const char *s1 = strchr(k, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s2 || (size_t)(s2 - k) >= sizeof(last))
            continue;
        char td[240];
        memcpy(td, k, (size_t)(s2 - k));
        td[s2 - k] = 0;
        if (!strcmp(td, last))
            continue;
        snprintf(last, sizeof(last), "%s", td);
        char *slash = strchr(td, '/');
        *slash = 0;
        const char *t = td, *d = slash + 1;
        const bf_tenant *tn = reg ? bf_registry_tenant(reg, t) : NULL;
        const bf_dataset *ds = tn ? bf_tenant_dataset(tn, d) : NULL;
        pk_dsopts o;
        char err[256];
        if (pk_dsopts_from(x->cfg, ds ? ds->output : NULL, &o, err, sizeof(err)) < 0 &&
            pk_dsopts_from(x->cfg, NULL, &o, err, sizeof(err)) < 0)
            continue;
        char name[300];
        snprintf(name, sizeof(name), "%s--%s", t, d);
        bf_lease lease;
        if (bf_lease_acquire(x->piper, LEASE_PREFIX, name, x->owner, x->cfg->lease_ttl_ms, &lease) < 0)
            continue;   /* someone else is on it */
        int r2 = replay_dataset(x, t, d, &o, &lease);
        bf_lease_release(x->piper, LEASE_PREFIX, &lease);
        if (r2 < 0)
            bf_log_kv(BF_LOG_WARN, "recovery of a dataset failed; will retry", "tenant", t, "dataset", d, NULL);
    }
    bf_store_list_free(&l);
    return 0;
}
