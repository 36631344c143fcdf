/* discover: see discover.h. */
#include "discover.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bf_control.h"
#include "bf_lease.h"
#include "bf_log.h"
#include "bf_util.h"
#include "dns_cache.h"
#include "geoip.h"
#include "worker.h"

#define LEASE_PREFIX "_leases/piper"
#define ATTEMPTS_PREFIX "_attempts/piper"
#define DLQ_PREFIX "_dlq"

typedef struct job { char *key; ds_conf *ds; } job;

typedef enum { LEASE_STORE, LEASE_CONTROL, LEASE_NONE } lease_mode;

struct piper_core {
    const piper_config *cfg;
    bf_metrics *m;
    bf_store *in, *out;
    bf_tenants *tenants;
    bf_control *control;
    pl_env env;
    geoip_mgr *geoip;
    dns_cache *dns;
    char owner[256];
    lease_mode lmode;
    bf_codec codec;
    size_t nworkers;
    pthread_t *threads;
    /* guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_idle;
    job *q;
    size_t qcap, qhead, qlen;
    char **inflight;      /* keys queued or being processed */
    size_t ninflight, capinflight;
    ds_table ds;
    bool stopping;
    size_t busy;
    int64_t last_store_ok_ms, last_store_err_ms;
    uint64_t rotate;
    /* metrics */
    bf_counter *lease_busy, *lease_won, *lease_lost, *dlq, *objects_ok, *objects_failed, *polls;
    bf_gauge *inflight_g, *geoip_gen, *invalid_ds;
    atomic_uint_fast64_t done;
};

/* ---------- small helpers ---------- */

static bf_counter *ds_counter(piper_core *c, const char *name, const char *help, const char *tenant, const char *ds)
{
    char lb[300];
    bf_metrics_labels(lb, sizeof lb, "tenant", tenant, "dataset", ds, NULL);
    return bf_metrics_counter(c->m, name, help, lb);
}

static void lease_name(const char *key, char out[65])
{
    bf_sha256_hex(key, strlen(key), out);
    out[40] = 0;
}

static bool inflight_has(piper_core *c, const char *key)
{
    for (size_t i = 0; i < c->ninflight; i++)
        if (!strcmp(c->inflight[i], key))
            return true;
    return false;
}

static int inflight_add(piper_core *c, const char *key)
{
    if (c->ninflight == c->capinflight) {
        size_t nc = c->capinflight ? c->capinflight * 2 : 64;
        char **n = realloc(c->inflight, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        c->inflight = n;
        c->capinflight = nc;
    }
    if (!(c->inflight[c->ninflight] = strdup(key)))
        return -ENOMEM;
    c->ninflight++;
    return 0;
}

static void inflight_del(piper_core *c, const char *key)
{
    for (size_t i = 0; i < c->ninflight; i++)
        if (!strcmp(c->inflight[i], key)) {
            free(c->inflight[i]);
            c->inflight[i] = c->inflight[--c->ninflight];
            return;
        }
}

static void store_status(piper_core *c, int rc)
{
    pthread_mutex_lock(&c->mu);
    if (rc == 0 || rc == -ENOENT || rc == -EEXIST || rc == -EBUSY)
        c->last_store_ok_ms = bf_now_ms();
    else if (rc == -ETIMEDOUT || rc == -EAGAIN || rc == -EIO || rc == -EACCES)
        c->last_store_err_ms = bf_now_ms();
    pthread_mutex_unlock(&c->mu);
}

/* ---------- claiming ---------- */

typedef struct claim { piper_core *c; const char *key; bf_lease lease; bool held; } claim;

static int claim_take(claim *cl)
{
    piper_core *c = cl->c;
    int rc = 0;
    if (c->lmode == LEASE_STORE) {
        char name[65];
        lease_name(cl->key, name);
        rc = bf_lease_acquire(c->in, LEASE_PREFIX, name, c->owner, c->cfg->lease_ttl_ms, &cl->lease);
        store_status(c, rc);
    } else if (c->lmode == LEASE_CONTROL) {
        rc = bf_control_lock(c->control, cl->key, c->owner, c->cfg->lease_ttl_ms);
    }
    if (rc == -EBUSY)
        bf_counter_add(c->lease_busy, 1);
    else if (rc == 0)
        bf_counter_add(c->lease_won, 1);
    else
        bf_log_kv(BF_LOG_WARN, "lease acquire failed", "key", cl->key, "error", strerror(-rc), "detail",
                  bf_store_errmsg(), NULL);
    cl->held = rc == 0;
    return rc;
}

/* tick from the worker: keep the lease alive during long objects */
static int claim_renew(void *ud)
{
    claim *cl = ud;
    piper_core *c = cl->c;
    int rc = 0;
    if (c->lmode == LEASE_STORE)
        rc = bf_lease_renew(c->in, LEASE_PREFIX, &cl->lease, c->cfg->lease_ttl_ms);
    else if (c->lmode == LEASE_CONTROL)
        rc = bf_control_lock(c->control, cl->key, c->owner, c->cfg->lease_ttl_ms);
    if (rc == -EBUSY) {
        bf_counter_add(c->lease_lost, 1);
        bf_log_kv(BF_LOG_WARN, "lease lost while processing: abandoning the object", "key", cl->key, NULL);
        return 1;
    }
    return 0;   /* a transient renewal error is retried at the next tick */
}

static void claim_release(claim *cl)
{
    if (!cl->held)
        return;
    if (cl->c->lmode == LEASE_STORE)
        bf_lease_release(cl->c->in, LEASE_PREFIX, &cl->lease);
    else if (cl->c->lmode == LEASE_CONTROL)
        bf_control_unlock(cl->c->control, cl->key, cl->c->owner);
    cl->held = false;
}

/* ---------- failures and the DLQ ---------- */

static int read_attempts(piper_core *c, const char *akey)
{
    char *data = NULL;
    size_t len = 0;
    if (bf_store_get_mem(c->in, akey, 65536, &data, &len, NULL))
        return 0;
    json_t *j = json_loadb(data, len, 0, NULL);
    free(data);
    int n = (int)json_integer_value(json_object_get(j, "attempts"));
    json_decref(j);
    return n;
}

static int dlq_copy_sink(void *ud, const void *d, size_t n)
{
    return fwrite(d, 1, n, ud) == n ? 0 : -EIO;
}

/* Move the object to _dlq/<key> (streamed through a temp file) with <key>.error.json beside it. */
static int move_to_dlq(piper_core *c, const char *key, int attempts, const char *err)
{
    char tmp[512], dkey[1200];
    snprintf(tmp, sizeof tmp, "%s/bf-piper-dlq-XXXXXX", c->cfg->tmp_dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -ENOMEM;
    }
    int rc = bf_store_get(c->in, key, dlq_copy_sink, f, NULL);
    if (fclose(f) && !rc)
        rc = -EIO;
    snprintf(dkey, sizeof dkey, "%s/%s", DLQ_PREFIX, key);
    if (!rc)
        rc = bf_store_put_file(c->in, dkey, tmp, NULL, 0);
    unlink(tmp);
    if (rc)
        return rc;
    char at[32];
    bf_rfc3339_s(bf_now_ms() / 1000, at);
    json_t *e = json_pack("{s:s, s:i, s:s, s:s, s:s}", "key", key, "attempts", attempts, "last_error", err,
                          "failed_at", at, "instance", c->owner);
    char *txt = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (!txt)
        return -ENOMEM;
    snprintf(dkey, sizeof dkey, "%s/%s.error.json", DLQ_PREFIX, key);
    rc = bf_store_put(c->in, dkey, txt, strlen(txt), NULL, 0);
    free(txt);
    return rc ? rc : bf_store_delete(c->in, key);
}

static void record_failure(piper_core *c, const ds_conf *ds, const char *key, const char *err)
{
    char name[65], akey[200];
    lease_name(key, name);
    snprintf(akey, sizeof akey, "%s/%s", ATTEMPTS_PREFIX, name);
    int n = read_attempts(c, akey) + 1;
    bf_counter_add(c->objects_failed, 1);
    bf_counter_add(ds_counter(c, "bytefreezer_piper_object_failures_total", "failed processing attempts", ds->tenant, ds->dataset), 1);
    char ns[16];
    snprintf(ns, sizeof ns, "%d", n);
    bf_log_kv(BF_LOG_WARN, "object failed", "key", key, "attempt", ns, "error", err, NULL);
    if (n >= c->cfg->max_attempts) {
        int rc = move_to_dlq(c, key, n, err);
        if (rc == 0) {
            bf_counter_add(c->dlq, 1);
            bf_counter_add(ds_counter(c, "bytefreezer_piper_dlq_objects_total", "objects moved to the DLQ", ds->tenant, ds->dataset), 1);
            bf_store_delete(c->in, akey);
            bf_log_kv(BF_LOG_ERROR, "object moved to the DLQ", "key", key, "attempts", ns, "error", err, NULL);
            return;
        }
        bf_log_kv(BF_LOG_ERROR, "could not move object to the DLQ", "key", key, "error", strerror(-rc), NULL);
    }
    json_t *j = json_pack("{s:s, s:i, s:s}", "key", key, "attempts", n, "last_error", err);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (txt)
        bf_store_put(c->in, akey, txt, strlen(txt), NULL, 0);
    free(txt);
}

/* ---------- one object ---------- */

static void count_stats(piper_core *c, const ds_conf *ds, const wk_stats *st)
{
    static const struct { const char *name, *help; size_t off; } S[] = {
        {"bytefreezer_piper_records_in_total", "records read from intake", offsetof(wk_stats, in)},
        {"bytefreezer_piper_records_out_total", "records written to the piper stage", offsetof(wk_stats, out)},
        {"bytefreezer_piper_records_dropped_total", "records dropped by filters", offsetof(wk_stats, dropped)},
        {"bytefreezer_piper_records_errored_total", "records that failed to parse or hit a filter error", offsetof(wk_stats, errors)},
        {"bytefreezer_piper_lines_truncated_total", "lines cut at max_line_bytes", offsetof(wk_stats, truncated)},
        {"bytefreezer_piper_bytes_in_total", "compressed intake bytes read", offsetof(wk_stats, bytes_in)},
        {"bytefreezer_piper_bytes_out_total", "compressed bytes written", offsetof(wk_stats, bytes_out)},
    };
    for (size_t i = 0; i < sizeof S / sizeof *S; i++)
        bf_counter_add(ds_counter(c, S[i].name, S[i].help, ds->tenant, ds->dataset),
                       *(const uint64_t *)((const char *)st + S[i].off));
    bf_counter_add(ds_counter(c, "bytefreezer_piper_objects_total", "intake objects processed", ds->tenant, ds->dataset), 1);
}

static void process_job(piper_core *c, job *jb, rx_scratch *rx)
{
    claim cl = {.c = c, .key = jb->key};
    int rc = claim_take(&cl);
    if (rc)
        return;   /* held elsewhere (counted) or store error: the next poll tries again */
    wk_job j = {.in = c->in, .out = c->out, .key = jb->key, .tenant = jb->ds->tenant, .dataset = jb->ds->dataset,
                .format = jb->ds->format, .pl = jb->ds->pl, .env = &c->env, .out_codec = c->codec,
                .out_level = (int)c->cfg->output_level, .max_line = (size_t)c->cfg->max_line_bytes,
                .max_object = (uint64_t)c->cfg->max_object_bytes, .tmp_dir = c->cfg->tmp_dir, .rx = rx,
                .tick = c->lmode == LEASE_NONE ? NULL : claim_renew, .tick_ud = &cl,
                /* renew well before expiry: a third of the TTL, at most every 5 s */
                .tick_ms = c->cfg->lease_ttl_ms / 3 < 5000 ? c->cfg->lease_ttl_ms / 3 : 5000};
    wk_stats st;
    int64_t t0 = bf_mono_ms();
    rc = wk_process(&j, &st);
    store_status(c, rc == -EBADMSG || rc == -EFBIG ? 0 : rc);
    if (rc == 0) {
        /* the input goes only after the output is safely in the store */
        int drc = bf_store_delete(c->in, jb->key);
        if (drc)
            bf_log_kv(BF_LOG_WARN, "input delete failed: it will be reprocessed (same output key)", "key", jb->key, NULL);
        char name[65], akey[200];
        lease_name(jb->key, name);
        snprintf(akey, sizeof akey, "%s/%s", ATTEMPTS_PREFIX, name);
        bf_store_delete(c->in, akey);
        count_stats(c, jb->ds, &st);
        bf_counter_add(c->objects_ok, 1);
        atomic_fetch_add(&c->done, 1);
        char ms[24], n[24];
        snprintf(ms, sizeof ms, "%lld", (long long)(bf_mono_ms() - t0));
        snprintf(n, sizeof n, "%llu", (unsigned long long)st.out);
        bf_log_kv(BF_LOG_DEBUG, "object processed", "key", jb->key, "out", st.out_key, "records", n, "ms", ms, NULL);
    } else if (rc != -ENOENT && rc != -ECANCELED) {
        record_failure(c, jb->ds, jb->key, st.err[0] ? st.err : strerror(-rc));
    }
    claim_release(&cl);
}

static void *worker_main(void *arg)
{
    piper_core *c = arg;
    rx_scratch *rx = NULL;
    if (rx_scratch_create(&rx))
        return NULL;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stopping && c->qlen == 0)
            pthread_cond_wait(&c->cv_work, &c->mu);
        if (c->stopping)
            break;
        job jb = c->q[c->qhead];
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        c->busy++;
        pthread_mutex_unlock(&c->mu);
        process_job(c, &jb, rx);
        pthread_mutex_lock(&c->mu);
        inflight_del(c, jb.key);
        c->busy--;
        bf_gauge_set(c->inflight_g, (double)c->ninflight);
        pthread_cond_broadcast(&c->cv_idle);
        pthread_mutex_unlock(&c->mu);
        free(jb.key);
        ds_conf_unref(jb.ds);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    rx_scratch_free(rx);
    return NULL;
}

/* ---------- discovery ---------- */

static bool is_candidate(const char *key)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    /* temp files of the file store and our own markers are never work */
    return *base && *base != '.' && strncmp(base, ".tmp", 4);
}

/* Queue what fits; returns how many were queued. Lag = age of the oldest unclaimed object. */
static int poll_dataset(piper_core *c, ds_conf *ds)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/%s/", ds->tenant, ds->dataset);
    bf_store_list l = {0};
    int rc = bf_store_list_all(c->in, prefix, (size_t)c->cfg->list_limit, &l);
    store_status(c, rc);
    if (rc) {
        bf_log_kv(BF_LOG_WARN, "intake listing failed", "prefix", prefix, "error", bf_store_errmsg(), NULL);
        return 0;
    }
    char lb[300];
    bf_metrics_labels(lb, sizeof lb, "tenant", ds->tenant, "dataset", ds->dataset, NULL);
    int64_t now = bf_now_ms(), oldest = now;
    int queued = 0;
    pthread_mutex_lock(&c->mu);
    /* start at a rotating offset so several pipers spread over the listing instead of colliding */
    size_t start = l.n ? (size_t)(c->rotate++ % l.n) : 0;
    for (size_t k = 0; k < l.n; k++) {
        bf_store_obj *o = &l.items[(start + k) % l.n];
        if (!is_candidate(o->key) || inflight_has(c, o->key))
            continue;
        if (o->mtime_ms > 0 && o->mtime_ms < oldest)
            oldest = o->mtime_ms;
        if (c->qlen == c->qcap || !ds->pl)
            continue;
        if (inflight_add(c, o->key))
            break;
        job *jb = &c->q[(c->qhead + c->qlen) % c->qcap];
        jb->key = strdup(o->key);
        jb->ds = ds_conf_ref(ds);
        if (!jb->key) {
            ds_conf_unref(ds);
            inflight_del(c, o->key);
            break;
        }
        c->qlen++;
        queued++;
    }
    bf_gauge_set(c->inflight_g, (double)c->ninflight);
    if (queued)
        pthread_cond_broadcast(&c->cv_work);
    pthread_mutex_unlock(&c->mu);
    bf_gauge_set(bf_metrics_gauge(c->m, "bytefreezer_piper_lag_seconds", "age of the oldest unclaimed intake object", lb),
                 (double)(now - oldest) / 1000.0);
    bf_gauge_set(bf_metrics_gauge(c->m, "bytefreezer_piper_intake_objects", "objects waiting in the intake prefix", lb),
                 (double)l.n);
    bf_store_list_free(&l);
    return queued;
}

int core_poll(piper_core *c)
{
    pthread_mutex_lock(&c->mu);
    ds_table snap = {0};
    snap.v = c->ds.n ? malloc(c->ds.n * sizeof *snap.v) : NULL;
    for (size_t i = 0; snap.v && i < c->ds.n; i++)
        snap.v[snap.n++] = ds_conf_ref(c->ds.v[i]);
    pthread_mutex_unlock(&c->mu);
    int total = 0, invalid = 0;
    for (size_t i = 0; i < snap.n; i++) {
        invalid += snap.v[i]->pl == NULL;
        total += poll_dataset(c, snap.v[i]);
    }
    bf_gauge_set(c->invalid_ds, invalid);
    bf_counter_add(c->polls, 1);
    ds_table_free(&snap);
    return total;
}

int core_reload(piper_core *c, bool force)
{
    char err[512] = "";
    int rc = force ? bf_tenants_reload(c->tenants, err, sizeof err) : bf_tenants_poll(c->tenants, err, sizeof err);
    if (rc < 0) {
        bf_log_kv(BF_LOG_WARN, "tenant registry reload failed, keeping the last one", "error", err, NULL);
        return rc;
    }
    if (rc == 0 && c->ds.v)
        return 0;
    bf_registry *r = bf_tenants_get(c->tenants);
    ds_table nt;
    pthread_mutex_lock(&c->mu);
    rc = ds_table_build(r, &c->ds, &c->env, c->m, &nt);
    if (rc == 0) {
        ds_table old = c->ds;
        c->ds = nt;
        pthread_mutex_unlock(&c->mu);
        ds_table_free(&old);   /* jobs keep their own references */
    } else {
        pthread_mutex_unlock(&c->mu);
    }
    bf_log_kv(BF_LOG_INFO, "tenant registry loaded", "version", r->version, NULL);
    bf_registry_unref(r);
    return rc;
}

/* ---------- lifecycle ---------- */

/* Staging files of a piper killed mid-object stay behind; an hour is far beyond any live one's age
 * (several pipers may share tmp_dir, so younger files are left alone). */
static void clean_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    time_t limit = time(NULL) - 3600;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "bf-piper-", 9))
            continue;
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < limit && unlink(path) == 0)
            bf_log_kv(BF_LOG_INFO, "removed stale staging file", "path", path, NULL);
    }
    closedir(d);
}

static int open_services(piper_core *c, char *err, size_t errlen)
{
    const piper_config *cfg = c->cfg;
    if (geoip_mgr_create(&c->geoip) || dns_cache_create((size_t)cfg->dns_cache_size, &c->dns))
        return -ENOMEM;
    c->env.dns = c->dns;
    if ((cfg->geoip_city && *cfg->geoip_city) || (cfg->geoip_asn && *cfg->geoip_asn)) {
        int rc = geoip_mgr_load(c->geoip, cfg->geoip_city, cfg->geoip_asn);
        if (rc) {
            snprintf(err, errlen, "geoip: cannot open %s / %s", cfg->geoip_city ? cfg->geoip_city : "",
                     cfg->geoip_asn ? cfg->geoip_asn : "");
            return rc;
        }
        bf_gauge_set(c->geoip_gen, (double)geoip_mgr_generation(c->geoip));
    }
    /* geoip filters compile against the manager even before a synced file arrives */
    c->env.geoip = c->geoip;
    return 0;
}

static void make_metrics(piper_core *c)
{
    c->lease_busy = bf_metrics_counter(c->m, "bytefreezer_piper_lease_contention_total", "claims lost to another instance (lease held)", NULL);
    c->lease_won = bf_metrics_counter(c->m, "bytefreezer_piper_lease_acquired_total", "leases acquired", NULL);
    c->lease_lost = bf_metrics_counter(c->m, "bytefreezer_piper_lease_lost_total", "leases taken over while processing", NULL);
    c->dlq = bf_metrics_counter(c->m, "bytefreezer_piper_dlq_total", "objects moved to the DLQ", NULL);
    c->objects_ok = bf_metrics_counter(c->m, "bytefreezer_piper_objects_done_total", "objects processed", NULL);
    c->objects_failed = bf_metrics_counter(c->m, "bytefreezer_piper_objects_failed_total", "failed attempts", NULL);
    c->polls = bf_metrics_counter(c->m, "bytefreezer_piper_polls_total", "discovery rounds", NULL);
    c->inflight_g = bf_metrics_gauge(c->m, "bytefreezer_piper_inflight_objects", "objects queued or being processed", NULL);
    c->geoip_gen = bf_metrics_gauge(c->m, "bytefreezer_piper_geoip_generation", "GeoIP database loads (swaps) so far", NULL);
    c->invalid_ds = bf_metrics_gauge(c->m, "bytefreezer_piper_invalid_datasets", "datasets whose pipeline does not compile", NULL);
}

int core_create(const piper_config *cfg, bf_metrics *m, piper_core **out, char *err, size_t errlen)
{
    *out = NULL;
    piper_core *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->cfg = cfg;
    c->m = m;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv_work, NULL);
    pthread_cond_init(&c->cv_idle, NULL);
    atomic_init(&c->done, 0);
    make_metrics(c);
    if (cfg->instance_id && *cfg->instance_id)
        snprintf(c->owner, sizeof c->owner, "%s", cfg->instance_id);
    else
        bf_instance_id(c->owner, sizeof c->owner);
    /* distinct owners for several pipers on one host: pid suffix */
    size_t ol = strlen(c->owner);
    snprintf(c->owner + ol, sizeof c->owner - ol, ":%d", (int)getpid());
    c->rotate = (uint64_t)getpid() * 7919u;
    clean_stale_tmp(cfg->tmp_dir);
    c->lmode = !strcmp(cfg->lease_mode, "none") ? LEASE_NONE : !strcmp(cfg->lease_mode, "control") ? LEASE_CONTROL : LEASE_STORE;
    bf_codec_parse(cfg->output_codec, &c->codec);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->nworkers = cfg->workers > 0 ? (size_t)cfg->workers : (size_t)(cores > 0 ? cores : 1);
    c->qcap = c->nworkers * 4;
    c->q = calloc(c->qcap, sizeof *c->q);
    int rc = c->q ? 0 : -ENOMEM;
    if (!rc)
        rc = bf_store_open(cfg->store_intake, &cfg->common.s3, m, &c->in, err, errlen);
    if (!rc)
        rc = bf_store_open(cfg->store_piper, &cfg->common.s3, m, &c->out, err, errlen);
    if (!rc)
        rc = open_services(c, err, errlen);
    if (!rc)
        rc = bf_tenants_create(cfg->common.tenants, &cfg->common, "piper", &c->tenants, err, errlen);
    if (!rc && c->lmode == LEASE_CONTROL) {
        rc = bf_control_create(cfg->common.control_url, cfg->common.control_api_key, cfg->common.account_id,
                               cfg->common.state_dir, &c->control);
        if (rc)
            snprintf(err, errlen, "control client: %s", strerror(-rc));
    }
    if (!rc)
        rc = core_reload(c, false);
    if (rc) {
        core_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

int core_start(piper_core *c)
{
    c->threads = calloc(c->nworkers, sizeof *c->threads);
    if (!c->threads)
        return -ENOMEM;
    for (size_t i = 0; i < c->nworkers; i++)
        if (pthread_create(&c->threads[i], NULL, worker_main, c)) {
            c->nworkers = i;
            return -EAGAIN;
        }
    char n[16];
    snprintf(n, sizeof n, "%zu", c->nworkers);
    bf_log_kv(BF_LOG_INFO, "workers started", "workers", n, "owner", c->owner, "lease", c->cfg->lease_mode, NULL);
    return 0;
}

void core_stop(piper_core *c, int64_t timeout_ms)
{
    if (!c->threads)
        return;
    int64_t end = bf_mono_ms() + timeout_ms;
    pthread_mutex_lock(&c->mu);
    /* drop what is queued but not started; it stays in intake for the next run */
    while (c->qlen) {
        job *jb = &c->q[c->qhead];
        inflight_del(c, jb->key);
        free(jb->key);
        ds_conf_unref(jb->ds);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    while (c->busy && bf_mono_ms() < end) {
        struct timespec ts;
        bf_deadline(CLOCK_REALTIME, 100, &ts);
        pthread_cond_timedwait(&c->cv_idle, &c->mu, &ts);
    }
    c->stopping = true;
    pthread_cond_broadcast(&c->cv_work);
    bool still_busy = c->busy > 0;
    pthread_mutex_unlock(&c->mu);
    if (still_busy) {
        /* an object bigger than the budget: its lease expires and another instance redoes it */
        bf_log_kv(BF_LOG_WARN, "shutdown timeout with objects in flight; leases will expire", NULL);
        for (size_t i = 0; i < c->nworkers; i++)
            pthread_detach(c->threads[i]);
    } else {
        for (size_t i = 0; i < c->nworkers; i++)
            pthread_join(c->threads[i], NULL);
    }
    free(c->threads);
    c->threads = NULL;
}

void core_destroy(piper_core *c)
{
    if (!c)
        return;
    core_stop(c, 0);
    ds_table_free(&c->ds);
    for (size_t i = 0; i < c->ninflight; i++)
        free(c->inflight[i]);
    free(c->inflight);
    free(c->q);
    bf_tenants_destroy(c->tenants);
    bf_control_destroy(c->control);
    bf_store_close(c->in);
    bf_store_close(c->out);
    geoip_mgr_destroy(c->geoip);
    dns_cache_destroy(c->dns);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv_work);
    pthread_cond_destroy(&c->cv_idle);
    free(c);
}

bf_health core_health(void *ud, json_t *detail)
{
    piper_core *c = ud;
    pthread_mutex_lock(&c->mu);
    int64_t ok = c->last_store_ok_ms, bad = c->last_store_err_ms;
    size_t inflight = c->ninflight, nds = c->ds.n, invalid = 0;
    for (size_t i = 0; i < c->ds.n; i++)
        invalid += c->ds.v[i]->pl == NULL;
    pthread_mutex_unlock(&c->mu);
    json_object_set_new(detail, "datasets", json_integer((json_int_t)nds));
    json_object_set_new(detail, "invalid_datasets", json_integer((json_int_t)invalid));
    json_object_set_new(detail, "inflight", json_integer((json_int_t)inflight));
    json_object_set_new(detail, "workers", json_integer((json_int_t)c->nworkers));
    json_object_set_new(detail, "objects_done", json_integer((json_int_t)atomic_load(&c->done)));
    json_object_set_new(detail, "geoip_loaded", json_boolean(geoip_mgr_generation(c->geoip) > 0));
    bool store_down = bad > ok && bad > bf_now_ms() - 60000;
    json_object_set_new(detail, "store", json_string(store_down ? "unreachable" : "ok"));
    if (store_down)
        return BF_UNHEALTHY;
    return invalid ? BF_DEGRADED : BF_HEALTHY;
}

pl_env *core_env(piper_core *c) { return &c->env; }
bf_store *core_intake(piper_core *c) { return c->in; }
uint64_t core_done(piper_core *c) { return atomic_load(&c->done); }

ds_conf *core_dataset(piper_core *c, const char *tenant, const char *dataset)
{
    pthread_mutex_lock(&c->mu);
    ds_conf *d = ds_conf_ref(ds_table_find(&c->ds, tenant, dataset));
    pthread_mutex_unlock(&c->mu);
    return d;
}

void core_note_geoip(piper_core *c, bool ok)
{
    if (ok)
        bf_gauge_set(c->geoip_gen, (double)geoip_mgr_generation(c->geoip));
}

json_t *core_datasets_json(piper_core *c)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; arr && i < c->ds.n; i++) {
        const ds_conf *d = c->ds.v[i];
        json_t *o = json_pack("{s:s, s:s, s:s?}", "tenant", d->tenant, "dataset", d->dataset, "format",
                              d->format ? fmt_name(d->format) : NULL);
        if (d->pl) {
            json_object_set_new(o, "version", json_string(pipeline_version(d->pl)));
            json_object_set_new(o, "filters", json_integer((json_int_t)pipeline_nfilters(d->pl)));
        } else {
            json_object_set_new(o, "error", json_string(d->error));
        }
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&c->mu);
    return arr;
}
