/* forwarder: see forwarder.h. */
#include "forwarder.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bf_log.h"
#include "bf_util.h"
#include "dlq.h"
#include "spoolq.h"

#define MAX_BATCH_FILE ((size_t)1 << 30)
#define MAX_INFLATE ((uint64_t)4 << 30)

typedef struct fentry {
    struct fentry *next;
    char name[SPOOLQ_NAME_MAX];
    spoolq_kind where;                  /* SPOOLQ_QUEUE or SPOOLQ_RETRY */
    int64_t ns, span, lines, orig, created_ms, attempts, comp;
    bf_codec codec;
    char hint[65];
    char *mem;                          /* the file's content, kept from the spool write for the first try */
    size_t mem_len;
} fentry;

typedef struct fds {
    struct fds *next;
    char tenant[65], dataset[65];
    fentry *head;                       /* sorted by ns: the send order */
    size_t n;
    int busy;                           /* an upload or a split is running */
    int64_t next_try_mono;
    bf_counter *c_ok, *c_retry, *c_dlq, *c_split, *c_bytes;
} fds;

typedef enum { ACT_OK, ACT_RETRY, ACT_DLQ, ACT_SPLIT } fwd_action;

typedef struct upload {
    forwarder *f;
    fds *ds;
    fentry *e;
    CURL *h;
    struct curl_slist *hdrs;
    char *body;
    size_t len;
    char errbuf[CURL_ERROR_SIZE];
    char resp[256];
    size_t resp_len;
    int64_t t0;
    /* split work */
    uv_work_t work;
    int split_rc;
    fentry *halves[2];
    int splitting;
    struct upload *prev_active, *next_active;
} upload;

typedef struct sockctx {
    uv_poll_t poll;
    curl_socket_t fd;
    forwarder *f;
} sockctx;

struct forwarder {
    uv_loop_t *loop;
    fwd_opts o;
    char *url;
    bf_spool *spool;
    bf_metrics *m;
    fwd_token_fn token;
    void *token_ud;
    CURLM *multi;
    uv_timer_t curl_timer, sched_timer;
    uv_async_t rescan;
    int closing, closed_handles;
    fds *datasets, *rr;
    upload *active;                     /* uploads on the wire or splitting */
    size_t inflight;
    uint64_t mem_used;                  /* sum of fentry.mem_len, <= o.memory_bytes */
    uint64_t rng;
    atomic_int last_result;
    atomic_size_t backlog, inflight_pub;
    bf_histogram *h_latency;
    bf_counter *c_evicted, *c_reads;
};

static void schedule(forwarder *f);

/* The entry's kept body, handed over (the caller frees it); NULL when it has none. */
static char *take_mem(forwarder *f, fentry *e, size_t *len)
{
    char *m = e->mem;
    *len = e->mem_len;
    f->mem_used -= e->mem_len;
    e->mem = NULL;
    e->mem_len = 0;
    return m;
}

static void free_entry(forwarder *f, fentry *e)
{
    size_t n;
    free(take_mem(f, e, &n));
    free(e);
}

/* ---- index ---- */

static fds *get_ds(forwarder *f, const char *tenant, const char *dataset)
{
    for (fds *d = f->datasets; d; d = d->next)
        if (!strcmp(d->tenant, tenant) && !strcmp(d->dataset, dataset)) return d;
    if (strlen(tenant) > 64 || strlen(dataset) > 64) return NULL;
    fds *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    strcpy(d->tenant, tenant);
    strcpy(d->dataset, dataset);
    char l[200];
    bf_metrics_labels(l, sizeof l, "tenant", tenant, "dataset", dataset, NULL);
    d->c_ok = bf_metrics_counter(f->m, "bytefreezer_proxy_uploads_ok_total", "batches accepted by the receiver", l);
    d->c_retry = bf_metrics_counter(f->m, "bytefreezer_proxy_upload_retries_total", "transient upload failures", l);
    d->c_dlq = bf_metrics_counter(f->m, "bytefreezer_proxy_dlq_moves_total", "batches moved to the DLQ", l);
    d->c_split = bf_metrics_counter(f->m, "bytefreezer_proxy_splits_total", "batches split after 413", l);
    d->c_bytes = bf_metrics_counter(f->m, "bytefreezer_proxy_uploaded_bytes_total", "compressed bytes uploaded", l);
    d->next = f->datasets;
    f->datasets = d;
    return d;
}

/* Insert by name time, unless the name is already indexed. 1 inserted; 0: the entry was freed. */
static int insert(fds *d, fentry *e)
{
    fentry **pp = &d->head;
    for (fentry *x = d->head; x; x = x->next)
        if (!strcmp(x->name, e->name)) {
            free(e);
            return 0;
        }
    while (*pp && (*pp)->ns <= e->ns) pp = &(*pp)->next;
    if (d->busy && pp == &d->head) pp = &d->head->next;   /* never in front of the entry being sent */
    e->next = *pp;
    *pp = e;
    d->n++;
    return 1;
}

static void unlink_entry(fds *d, fentry *e)
{
    for (fentry **pp = &d->head; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            d->n--;
            return;
        }
}

static fentry *new_entry(const char *name, spoolq_kind where)
{
    fentry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    if (snprintf(e->name, sizeof e->name, "%s", name) >= (int)sizeof e->name ||
        spoolq_parse_name(name, &e->ns, e->hint, &e->codec)) {
        free(e);
        return NULL;
    }
    e->where = where;
    e->span = SPOOLQ_SPAN_NS;
    e->lines = e->orig = -1;
    e->created_ms = e->ns / 1000000;
    return e;
}

static void update_backlog(forwarder *f)
{
    size_t n = 0;
    for (fds *d = f->datasets; d; d = d->next) n += d->n;
    atomic_store(&f->backlog, n);
    atomic_store(&f->inflight_pub, f->inflight);
}

void forwarder_add(forwarder *f, const char *tenant, const char *dataset, const char *name, int64_t lines,
                   int64_t orig_bytes, int64_t created_ms, char *body, size_t body_len)
{
    fds *d = get_ds(f, tenant, dataset);
    fentry *e = d ? new_entry(name, SPOOLQ_QUEUE) : NULL;
    if (!e) {
        bf_log_kv(BF_LOG_ERROR, "forwarder: cannot index batch (picked up at next start)", "name", name, NULL);
        free(body);
        return;
    }
    e->lines = lines;
    e->orig = orig_bytes;
    e->created_ms = created_ms;
    if (insert(d, e) && body && f->mem_used + body_len <= f->o.memory_bytes) {
        e->mem = body;
        e->mem_len = body_len;
        f->mem_used += body_len;
        body = NULL;
    }
    free(body);
    update_backlog(f);
    schedule(f);
}

/* "t/d/kind" -> parts; 0 when kind is queue or retry. */
static int split_queue(const char *q, char *t, char *d, spoolq_kind *k)
{
    const char *a = strchr(q, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    if (!b || a - q > 64 || b - a - 1 > 64 || strchr(b + 1, '/')) return -1;
    if (!strcmp(b + 1, "queue")) *k = SPOOLQ_QUEUE;
    else if (!strcmp(b + 1, "retry")) *k = SPOOLQ_RETRY;
    else return -1;
    memcpy(t, q, (size_t)(a - q));
    t[a - q] = '\0';
    memcpy(d, a + 1, (size_t)(b - a - 1));
    d[b - a - 1] = '\0';
    return 0;
}

static int indexed(fds *d, const char *name)
{
    for (fentry *x = d->head; x; x = x->next)
        if (!strcmp(x->name, name)) return 1;
    return 0;
}

static void load_queue(forwarder *f, const char *q, const char *t, const char *dsn, spoolq_kind k)
{
    char **names;
    size_t n;
    fds *d = get_ds(f, t, dsn);
    if (!d || bf_spool_list(f->spool, q, &names, &n)) return;
    for (size_t i = 0; i < n; i++) {
        if (indexed(d, names[i])) {
            /* A crash between "write to retry/" and "remove from queue/" leaves a copy: retry/ wins. */
            if (k == SPOOLQ_QUEUE) continue;
        }
        fentry *e = new_entry(names[i], k);
        if (!e) {
            bf_log_kv(BF_LOG_WARN, "spool: ignoring entry with a foreign name", "queue", q, "name", names[i], NULL);
            continue;
        }
        char *mj;
        if (!bf_spool_read_meta(f->spool, q, names[i], &mj)) {
            spoolq_meta m;
            spoolq_meta_init(&m);
            if (!spoolq_meta_parse(mj, &m)) {
                e->attempts = m.retry_count;
                e->span = m.span_ns;
                e->lines = m.lines;
                e->orig = m.orig_bytes;
                if (m.created_ms > 0) e->created_ms = m.created_ms;
            }
            free(mj);
        }
        insert(d, e);
    }
    bf_spool_names_free(names, n);
}

int forwarder_load(forwarder *f)
{
    char **qs;
    size_t nq;
    int rc = bf_spool_queues(f->spool, &qs, &nq);
    if (rc) return rc;
    /* retry/ first so that a name present in both is taken from retry/ */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nq; i++) {
            char t[65], d[65];
            spoolq_kind k;
            if (split_queue(qs[i], t, d, &k) || (pass == 0) != (k == SPOOLQ_RETRY)) continue;
            load_queue(f, qs[i], t, d, k);
        }
    bf_spool_names_free(qs, nq);
    update_backlog(f);
    schedule(f);
    return 0;
}

void forwarder_each_tail(forwarder *f, void (*cb)(void *ud, const char *tenant, const char *dataset, int64_t end_ns),
                         void *ud)
{
    for (fds *d = f->datasets; d; d = d->next) {
        int64_t end = 0;
        for (fentry *e = d->head; e; e = e->next)
            if (e->ns + e->span > end) end = e->ns + e->span;
        if (end) cb(ud, d->tenant, d->dataset, end);
    }
}

static void rescan_cb(uv_async_t *a) { forwarder_load(a->data); }
void forwarder_rescan(forwarder *f) { uv_async_send(&f->rescan); }
int forwarder_last_result(forwarder *f) { return atomic_load(&f->last_result); }
size_t forwarder_backlog(forwarder *f) { return atomic_load(&f->backlog); }
size_t forwarder_inflight(forwarder *f) { return atomic_load(&f->inflight_pub); }

/* ---- outcomes ---- */

static const struct { long lo, hi; fwd_action act; } status_table[] = {
    {200, 299, ACT_OK}, {413, 413, ACT_SPLIT}, {408, 408, ACT_RETRY}, {429, 429, ACT_RETRY},
    {400, 499, ACT_DLQ}, /* 400 401 403 404 410 422 and every other 4xx: the receiver will never take it */
};

static fwd_action classify(long status)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status >= status_table[i].lo && status <= status_table[i].hi) return status_table[i].act;
    return ACT_RETRY; /* 5xx, 1xx, 3xx, 0 (network) */
}

static void entry_meta(const fentry *e, const char *status, const char *reason, const char *trigger, spoolq_meta *m)
{
    spoolq_meta_init(m);
    m->retry_count = e->attempts;
    m->span_ns = e->span;
    m->lines = e->lines;
    m->orig_bytes = e->orig;
    m->created_ms = e->created_ms;
    m->comp_bytes = e->comp;
    m->last_retry_ms = bf_now_ms();
    snprintf(m->status, sizeof m->status, "%s", status);
    snprintf(m->failure_reason, sizeof m->failure_reason, "%s", reason);
    snprintf(m->trigger_reason, sizeof m->trigger_reason, "%s", trigger);
}

/* Write e's meta beside it, then move it (meta included) to `to` unless it is already there. */
static int relocate(forwarder *f, fds *d, fentry *e, spoolq_kind to, const spoolq_meta *m)
{
    char from_q[160], to_q[160];
    spoolq_queue(d->tenant, d->dataset, e->where, from_q, sizeof from_q);
    spoolq_queue(d->tenant, d->dataset, to, to_q, sizeof to_q);
    char *json = spoolq_meta_json(m, d->tenant, d->dataset, e->name);
    if (!json) return -ENOMEM;
    int rc = bf_spool_write_meta(f->spool, from_q, e->name, json);
    free(json);
    if (!rc && e->where != to) rc = bf_spool_move(f->spool, from_q, e->name, to_q);
    if (!rc) e->where = to;
    return rc;
}

static int64_t backoff_ms(forwarder *f, int64_t attempts)
{
    int64_t d = f->o.retry_initial_ms;
    for (int64_t i = 1; i < attempts && d < f->o.retry_max_ms; i++) d *= 2;
    if (d > f->o.retry_max_ms) d = f->o.retry_max_ms;
    /* jitter in [d/2, d]: spreads datasets that failed together */
    return d / 2 + (int64_t)(bf_rand_next(&f->rng) % (uint64_t)(d / 2 + 1));
}

static void to_dlq(forwarder *f, fds *d, fentry *e, const char *reason)
{
    spoolq_meta m;
    entry_meta(e, "dlq", reason, "permanent_failure", &m);
    int rc = relocate(f, d, e, SPOOLQ_DLQ, &m);
    if (rc) {
        bf_log_kv(BF_LOG_ERROR, "cannot move batch to the dlq (retried later)", "name", e->name, "error",
                  strerror(-rc), NULL);
        d->next_try_mono = bf_mono_ms() + f->o.retry_initial_ms;
        return;
    }
    bf_counter_add(d->c_dlq, 1);
    bf_log_kv(BF_LOG_WARN, "batch moved to the dlq", "tenant", d->tenant, "dataset", d->dataset, "name", e->name,
              "reason", reason, NULL);
    unlink_entry(d, e);
    free_entry(f, e);
    if (f->o.dlq_max_bytes) {
        int ev = dlq_enforce(f->spool, f->o.dlq_max_bytes);
        if (ev > 0) bf_counter_add(f->c_evicted, (uint64_t)ev);
    }
}

static void to_retry(forwarder *f, fds *d, fentry *e, const char *reason, int64_t retry_after_s)
{
    e->attempts++;
    spoolq_meta m;
    entry_meta(e, "retry", reason, "upload_failed", &m);
    int rc = relocate(f, d, e, SPOOLQ_RETRY, &m);
    if (rc)
        bf_log_kv(BF_LOG_ERROR, "cannot record retry state (kept in place)", "name", e->name, "error",
                  strerror(-rc), NULL);
    int64_t delay = backoff_ms(f, e->attempts);
    if (retry_after_s > 0 && retry_after_s * 1000 > delay) delay = retry_after_s * 1000;
    d->next_try_mono = bf_mono_ms() + delay;
    bf_counter_add(d->c_retry, 1);
    char att[24], dl[24];
    snprintf(att, sizeof att, "%" PRId64, e->attempts);
    snprintf(dl, sizeof dl, "%" PRId64, delay);
    bf_log_kv(BF_LOG_WARN, "upload failed, will retry", "tenant", d->tenant, "dataset", d->dataset, "name", e->name,
              "reason", reason, "attempt", att, "delay_ms", dl, NULL);
}

static void succeeded(forwarder *f, fds *d, fentry *e, size_t bytes)
{
    char q[160];
    spoolq_queue(d->tenant, d->dataset, e->where, q, sizeof q);
    int rc = bf_spool_remove(f->spool, q, e->name);
    if (rc && rc != -ENOENT)
        bf_log_kv(BF_LOG_ERROR, "cannot delete an uploaded batch (it may be sent twice)", "name", e->name, NULL);
    bf_counter_add(d->c_ok, 1);
    bf_counter_add(d->c_bytes, bytes);
    d->next_try_mono = 0;
    unlink_entry(d, e);
    free_entry(f, e);
}

/* ---- 413: split in the thread pool ---- */

static void split_work(uv_work_t *w)
{
    upload *u = w->data;
    forwarder *f = u->f;
    fds *d = u->ds;
    fentry *e = u->e;
    spoolq_half h[2];
    u->split_rc = e->span < 4 ? -ERANGE : spoolq_split(e->codec, f->o.level, u->body, u->len, MAX_INFLATE, h);
    if (u->split_rc) return;
    char rq[160];
    spoolq_queue(d->tenant, d->dataset, SPOOLQ_RETRY, rq, sizeof rq);
    /* halves own [ns+1, ns+span/2) and [ns+span/2, ns+span): they sort where the parent was */
    int64_t starts[2] = {e->ns + 1, e->ns + e->span / 2};
    int64_t spans[2] = {e->span / 2 - 1, e->span - e->span / 2};
    for (int i = 0; i < 2 && !u->split_rc; i++) {
        fentry *x = calloc(1, sizeof *x);
        if (!x) { u->split_rc = -ENOMEM; break; }
        *x = *e;
        x->next = NULL;
        x->mem = NULL;   /* halves are read from their files */
        x->mem_len = 0;
        x->ns = starts[i];
        x->span = spans[i];
        x->lines = h[i].lines;
        x->orig = h[i].orig_bytes;
        x->attempts = 0;
        x->where = SPOOLQ_RETRY;
        spoolq_name(d->tenant, d->dataset, x->ns, e->hint, e->codec, x->name, sizeof x->name);
        spoolq_meta m;
        x->comp = (int64_t)h[i].len;
        entry_meta(x, "retry", "split after 413", "split_413", &m);
        char *json = spoolq_meta_json(&m, d->tenant, d->dataset, x->name);
        u->split_rc = json ? bf_spool_write(f->spool, rq, x->name, h[i].data, h[i].len, json) : -ENOMEM;
        free(json);
        u->halves[i] = x;
    }
    free(h[0].data);
    free(h[1].data);
    if (!u->split_rc) {   /* both halves durable: the parent can go */
        char q[160];
        spoolq_queue(d->tenant, d->dataset, e->where, q, sizeof q);
        bf_spool_remove(f->spool, q, e->name);
    }
}

static void active_add(forwarder *f, upload *u)
{
    u->next_active = f->active;
    if (f->active) f->active->prev_active = u;
    f->active = u;
}

static void active_del(forwarder *f, upload *u)
{
    if (u->prev_active) u->prev_active->next_active = u->next_active;
    else f->active = u->next_active;
    if (u->next_active) u->next_active->prev_active = u->prev_active;
    u->prev_active = u->next_active = NULL;
}

static void upload_free(upload *u)
{
    if (u->h) curl_easy_cleanup(u->h);
    curl_slist_free_all(u->hdrs);
    free(u->body);
    free(u);
}

static void split_done(uv_work_t *w, int status)
{
    upload *u = w->data;
    forwarder *f = u->f;
    fds *d = u->ds;
    fentry *e = u->e;
    if (status == UV_ECANCELED) u->split_rc = -ECANCELED;
    active_del(f, u);
    d->busy = 0;
    f->inflight--;
    if (u->split_rc == -ERANGE) {
        to_dlq(f, d, e, "413 from the receiver for a single record");
    } else if (u->split_rc) {
        for (int i = 0; i < 2; i++) free(u->halves[i]);
        to_retry(f, d, e, "split after 413 failed", 0);
    } else {
        bf_counter_add(d->c_split, 1);
        bf_log_kv(BF_LOG_INFO, "batch split after 413", "name", e->name, NULL);
        unlink_entry(d, e);
        free_entry(f, e);
        insert(d, u->halves[0]);
        insert(d, u->halves[1]);
    }
    upload_free(u);
    update_backlog(f);
    schedule(f);
}

/* ---- completion ---- */

static void finish(forwarder *f, upload *u, CURLcode res)
{
    fds *d = u->ds;
    fentry *e = u->e;
    long status = 0;
    curl_off_t retry_after = 0;
    if (res == CURLE_OK) {
        curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(u->h, CURLINFO_RETRY_AFTER, &retry_after);
    }
    bf_histogram_observe(f->h_latency, (double)(bf_mono_ms() - u->t0) / 1000.0);
    atomic_store(&f->last_result, res == CURLE_OK && status < 500 ? 1 : -1);
    fwd_action act = classify(status);
    char reason[200];
    if (res != CURLE_OK)
        snprintf(reason, sizeof reason, "%.150s", u->errbuf[0] ? u->errbuf : curl_easy_strerror(res));
    else
        snprintf(reason, sizeof reason, "HTTP %ld: %.*s", status, (int)u->resp_len, u->resp);
    if (act == ACT_SPLIT) {
        bf_log_kv(BF_LOG_WARN, "receiver answered 413: splitting", "name", e->name, NULL);
        u->work.data = u;
        curl_easy_cleanup(u->h);
        u->h = NULL;
        u->splitting = 1;
        if (!uv_queue_work(f->loop, &u->work, split_work, split_done)) return;   /* still busy */
        u->splitting = 0;
        act = ACT_RETRY;
    }
    active_del(f, u);
    d->busy = 0;
    f->inflight--;
    if (act == ACT_OK) succeeded(f, d, e, u->len);
    else if (act == ACT_DLQ) to_dlq(f, d, e, reason);
    else to_retry(f, d, e, reason, (int64_t)retry_after);
    upload_free(u);
    update_backlog(f);
    schedule(f);
}

static void check_info(forwarder *f)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(f->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        upload *u;
        CURL *h = msg->easy_handle;
        CURLcode res = msg->data.result;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&u);
        curl_multi_remove_handle(f->multi, h);
        finish(f, u, res);
    }
}

/* ---- starting an upload ---- */

static size_t resp_cb(char *p, size_t sz, size_t n, void *ud)
{
    upload *u = ud;
    size_t len = sz * n, room = sizeof u->resp - u->resp_len;
    size_t take = len < room ? len : room;
    for (size_t i = 0; i < take; i++) u->resp[u->resp_len++] = (p[i] == '\n' || p[i] == '"') ? ' ' : p[i];
    return len;
}

static int add_hdr(upload *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_hdr(upload *u, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct curl_slist *n = curl_slist_append(u->hdrs, line);
    if (!n) return -ENOMEM;
    u->hdrs = n;
    return 0;
}

static int build_request(forwarder *f, upload *u, const char *token)
{
    fds *d = u->ds;
    fentry *e = u->e;
    char created[32], batch_id[SPOOLQ_NAME_MAX];
    bf_rfc3339_ms(e->created_ms, created);
    snprintf(batch_id, sizeof batch_id, "%s", e->name);
    char *dot = strrchr(batch_id, '.');
    if (dot) *dot = '\0';
    int rc = add_hdr(u, "Authorization: Bearer %s", token);
    rc |= add_hdr(u, "Content-Encoding: %s", bf_codec_name(e->codec));
    rc |= add_hdr(u, "Content-Type: application/octet-stream");
    rc |= add_hdr(u, "X-Proxy-Filename: %s", e->name);
    rc |= add_hdr(u, "X-Proxy-Batch-ID: %s", batch_id);
    rc |= add_hdr(u, "X-Proxy-Line-Count: %" PRId64, e->lines);
    rc |= add_hdr(u, "X-Proxy-Original-Bytes: %" PRId64, e->orig);
    rc |= add_hdr(u, "X-Proxy-Created-At: %s", created);
    rc |= add_hdr(u, "X-Proxy-Data-Hint: %s", e->hint);
    rc |= add_hdr(u, "Expect:");   /* no 100-continue round trip */
    if (rc) return -ENOMEM;
    char url[1024];
    snprintf(url, sizeof url, "%s/%s/%s", f->url, d->tenant, d->dataset);
    if (!(u->h = curl_easy_init())) return -ENOMEM;
    curl_easy_setopt(u->h, CURLOPT_URL, url);
    curl_easy_setopt(u->h, CURLOPT_POST, 1L);
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, u->body);
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u->len);
    curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, u->hdrs);
    curl_easy_setopt(u->h, CURLOPT_USERAGENT, "bytefreezer-proxy/" BF_VERSION);
    curl_easy_setopt(u->h, CURLOPT_TIMEOUT_MS, (long)f->o.timeout_ms);
    curl_easy_setopt(u->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(u->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(u->h, CURLOPT_PRIVATE, u);
    curl_easy_setopt(u->h, CURLOPT_ERRORBUFFER, u->errbuf);
    curl_easy_setopt(u->h, CURLOPT_WRITEFUNCTION, resp_cb);
    curl_easy_setopt(u->h, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(u->h, CURLOPT_TCP_KEEPALIVE, 1L);
    return curl_multi_add_handle(f->multi, u->h) == CURLM_OK ? 0 : -EIO;
}

/* 0 started; otherwise the dataset waits (backoff set) or the entry was dealt with. */
static void start_upload(forwarder *f, fds *d)
{
    fentry *e = d->head;
    char q[160], token[1024];
    spoolq_queue(d->tenant, d->dataset, e->where, q, sizeof q);
    upload *u = calloc(1, sizeof *u);
    if (!u) return;
    u->f = f;
    u->ds = d;
    u->e = e;
    /* a body kept from the spool write is the file's content: no need to read it back (it goes with
     * this attempt; a retry reads the file) */
    u->body = take_mem(f, e, &u->len);
    int rc = 0;
    if (!u->body) {
        rc = bf_spool_read(f->spool, q, e->name, MAX_BATCH_FILE, &u->body, &u->len);
        bf_counter_add(f->c_reads, 1);
    } else {   /* the file must still be there, as when it is read */
        char path[PATH_MAX];
        rc = bf_spool_path(f->spool, q, e->name, path, sizeof path);
        if (!rc && access(path, F_OK) != 0) rc = -errno;
    }
    if (rc == -ENOENT) {   /* removed behind our back (DLQ tools, operator): forget it */
        unlink_entry(d, e);
        free_entry(f, e);
        upload_free(u);
        return;
    }
    if (!rc) e->comp = (int64_t)u->len;
    if (!rc && (e->lines < 0 || e->orig < 0)) {
        rc = spoolq_count(e->codec, u->body, u->len, MAX_INFLATE, &e->lines, &e->orig);
        if (rc == -EBADMSG || rc == -EFBIG) {
            upload_free(u);
            to_dlq(f, d, e, "corrupt batch in the spool");
            return;
        }
    }
    if (!rc && f->token(f->token_ud, d->tenant, token, sizeof token)) {
        bf_log_kv(BF_LOG_WARN, "no token for tenant (not in the registry?): batch waits", "tenant", d->tenant, NULL);
        d->next_try_mono = bf_mono_ms() + f->o.retry_max_ms / 10 + 1000;
        upload_free(u);
        return;
    }
    if (!rc) rc = build_request(f, u, token);
    if (rc) {
        bf_log_kv(BF_LOG_ERROR, "cannot start an upload", "name", e->name, "error", strerror(-rc), NULL);
        d->next_try_mono = bf_mono_ms() + f->o.retry_initial_ms;
        upload_free(u);
        return;
    }
    u->t0 = bf_mono_ms();
    active_add(f, u);
    d->busy = 1;
    f->inflight++;
}

static void sched_timer_cb(uv_timer_t *t) { schedule(t->data); }

static void schedule(forwarder *f)
{
    if (f->closing) return;
    int64_t now = bf_mono_ms(), wait = -1;
    if (!f->rr) f->rr = f->datasets;
    fds *start = f->rr, *d = start;
    if (d) do {
        if (f->inflight >= (size_t)f->o.concurrency) break;
        if (!d->busy && d->head && d->next_try_mono <= now) start_upload(f, d);
        if (!d->busy && d->head) {   /* waiting for its backoff, or the head was dropped: look again then */
            int64_t w = d->next_try_mono > now ? d->next_try_mono - now : 0;
            if (wait < 0 || w < wait) wait = w;
        }
        d = d->next ? d->next : f->datasets;
    } while (d != start);
    f->rr = d;
    update_backlog(f);
    if (wait >= 0) uv_timer_start(&f->sched_timer, sched_timer_cb, (uint64_t)(wait ? wait : 1), 0);
}

/* ---- curl multi <-> libuv ---- */

static void poll_cb(uv_poll_t *p, int status, int events)
{
    sockctx *c = p->data;
    forwarder *f = c->f;
    int flags = 0, running;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(f->multi, c->fd, flags, &running);
    check_info(f);
}

static void sock_closed(uv_handle_t *h) { free(h->data); }

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    forwarder *f = userp;
    sockctx *c = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (c) {
            uv_poll_stop(&c->poll);
            uv_close((uv_handle_t *)&c->poll, sock_closed);
            curl_multi_assign(f->multi, s, NULL);
        }
        return 0;
    }
    if (!c) {
        if (!(c = calloc(1, sizeof *c))) return -1;
        c->fd = s;
        c->f = f;
        if (uv_poll_init_socket(f->loop, &c->poll, s)) {
            free(c);
            return -1;
        }
        c->poll.data = c;
        curl_multi_assign(f->multi, s, c);
    }
    int ev = 0;
    if (what & CURL_POLL_IN) ev |= UV_READABLE;
    if (what & CURL_POLL_OUT) ev |= UV_WRITABLE;
    uv_poll_start(&c->poll, ev, poll_cb);
    return 0;
}

static void curl_timer_cb(uv_timer_t *t)
{
    forwarder *f = t->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_info(f);
}

static int timer_fn(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    forwarder *f = userp;
    if (timeout_ms < 0) uv_timer_stop(&f->curl_timer);
    else uv_timer_start(&f->curl_timer, curl_timer_cb, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- lifecycle ---- */

int forwarder_create(uv_loop_t *loop, const fwd_opts *o, bf_spool *spool, bf_metrics *m, fwd_token_fn token,
                     void *token_ud, forwarder **out)
{
    forwarder *f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    f->loop = loop;
    f->o = *o;
    f->url = strdup(o->url);
    if (!f->url) {
        free(f);
        return -ENOMEM;
    }
    size_t ul = strlen(f->url);
    while (ul && f->url[ul - 1] == '/') f->url[--ul] = '\0';
    f->spool = spool;
    f->m = m;
    f->token = token;
    f->token_ud = token_ud;
    f->rng = (uint64_t)bf_now_ns() | 1;
    if (!(f->multi = curl_multi_init())) {
        free(f->url);
        free(f);
        return -ENOMEM;
    }
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency);
    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency * 2);
    uv_timer_init(loop, &f->curl_timer);
    uv_timer_init(loop, &f->sched_timer);
    uv_async_init(loop, &f->rescan, rescan_cb);
    f->curl_timer.data = f->sched_timer.data = f->rescan.data = f;
    f->h_latency = bf_metrics_histogram(m, "bytefreezer_proxy_upload_seconds", "upload latency", NULL, NULL, 0);
    f->c_evicted = bf_metrics_counter(m, "bytefreezer_proxy_dlq_evicted_total",
                                      "DLQ entries evicted over dlq.max_bytes", NULL);
    f->c_reads = bf_metrics_counter(m, "bytefreezer_proxy_upload_spool_reads_total",
                                    "upload attempts whose body was read back from the spool (the others were "
                                    "sent from memory, see spool.memory_bytes)", NULL);
    *out = f;
    return 0;
}

static void fwd_closed(uv_handle_t *h) { ((forwarder *)h->data)->closed_handles++; }

void forwarder_destroy(forwarder *f)
{
    if (!f) return;
    f->closing = 1;
    /* uploads on the wire are abandoned (their batches stay in the spool); a split running in the
     * pool owns its upload and must finish first */
    for (;;) {
        upload *u = f->active;
        while (u && u->splitting) u = u->next_active;
        if (u) {
            curl_multi_remove_handle(f->multi, u->h);
            active_del(f, u);
            f->inflight--;
            u->ds->busy = 0;
            upload_free(u);
            continue;
        }
        if (!f->active) break;
        uv_run(f->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&f->curl_timer, fwd_closed);
    uv_close((uv_handle_t *)&f->sched_timer, fwd_closed);
    uv_close((uv_handle_t *)&f->rescan, fwd_closed);
    while (f->closed_handles < 3) uv_run(f->loop, UV_RUN_ONCE);
    curl_multi_cleanup(f->multi);
    uv_run(f->loop, UV_RUN_NOWAIT);
    for (fds *d = f->datasets; d;) {
        fds *n = d->next;
        for (fentry *e = d->head; e;) {
            fentry *en = e->next;
            free_entry(f, e);
            e = en;
        }
        free(d);
        d = n;
    }
    free(f->url);
    free(f);
}
