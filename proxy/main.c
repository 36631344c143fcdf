/* bytefreezer-proxy: edge collector (DESIGN §5). One libuv loop owns the listeners' lifecycle, the
 * batch age timer, the spool writer hand-off and the uploads; UDP datagrams are read on worker threads,
 * HTTP input and the admin API on libmicrohttpd threads.
 *   inputs (registry table) -> batcher (per dataset) -> spool queue/ (durable) -> forwarder -> receiver
 * SIGHUP reloads the tenant registry (changed listeners replaced, others untouched); SIGTERM stops the
 * inputs, seals and spools every open batch and exits 0 within shutdown_timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <uv.h>
#include "bf_admin.h"
#include "bf_daemon.h"
#include "bf_log.h"
#include "bf_metrics.h"
#include "bf_spool.h"
#include "bf_tenants.h"
#include "bf_util.h"
#include "batcher.h"
#include "config.h"
#include "dlq.h"
#include "forwarder.h"
#include "health.h"
#include "inputs.h"
#include "spoolq.h"

typedef struct proxy {
    proxy_config *cfg;
    const char *config_path;
    bf_signals *sig;
    uv_loop_t loop;
    uv_poll_t sigpoll;
    uv_timer_t tick, drain;
    bf_metrics *m;
    bf_spool *spool;
    bf_tenants *tenants;
    batcher *b;
    forwarder *f;
    inputs *in;
    health *h;
    bf_admin *admin;
    input_env env;
    int stopping, final;
    int64_t stop_deadline, last_poll;
    uv_work_t poll_work;          /* registry poll in the thread pool */
    int polling, poll_rc;
    char poll_err[BF_CFG_ERRLEN];
} proxy;

/* ---- glue ---- */

static void on_spooled(void *ud, batcher_spooled *s)
{
    proxy *p = ud;
    if (!p->f || p->final) return;
    forwarder_add(p->f, s->tenant, s->dataset, s->name, s->lines, s->orig_bytes, s->created_ms, s->body, s->body_len);
    s->body = NULL;   /* the forwarder's now */
}

static int tenant_token(void *ud, const char *tenant, char *buf, size_t cap)
{
    proxy *p = ud;
    bf_registry *r = bf_tenants_get(p->tenants);
    const bf_tenant *t = r ? bf_registry_tenant(r, tenant) : NULL;
    int rc = -ENOENT;
    if (t && t->token && strlen(t->token) < cap) {
        rc = 0;
        for (const char *c = t->token; *c; c++)   /* it goes into a header line: no CR/LF smuggling */
            if ((unsigned char)*c < 0x20 || *c == 0x7f) rc = -EINVAL;
        if (!rc) strcpy(buf, t->token);
    }
    if (r) bf_registry_unref(r);
    return rc;
}

static void floor_stream(void *ud, const char *tenant, const char *dataset, int64_t end_ns)
{
    proxy *p = ud;
    bstream *s = batcher_stream(p->b, tenant, dataset);
    if (s) batcher_floor_ns(s, end_ns);
}

static void apply_registry(proxy *p)
{
    bf_registry *r = bf_tenants_get(p->tenants);
    int errs = inputs_apply(p->in, r);
    bf_log_kv(BF_LOG_INFO, "tenant registry applied", "version", r->version, "errors", errs ? "yes" : "no", NULL);
    bf_registry_unref(r);
}

/* ---- admin routes ---- */

static void json_answer(bf_admin_resp *resp, int status, json_t *body)
{
    resp->status = status;
    resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(body);
}

static void route_dlq_list(void *ud, const bf_admin_req *req, bf_admin_resp *resp)
{
    proxy *p = ud;
    json_t *out = NULL;
    int rc = dlq_list(p->spool, bf_admin_req_arg(req, "tenant"), bf_admin_req_arg(req, "dataset"), 1000, &out);
    if (rc) json_answer(resp, 500, json_pack("{s:s}", "error", strerror(-rc)));
    else json_answer(resp, 200, out);
}

static void route_dlq_replay(void *ud, const bf_admin_req *req, bf_admin_resp *resp)
{
    proxy *p = ud;
    const char *t = bf_admin_req_arg(req, "tenant"), *d = bf_admin_req_arg(req, "dataset");
    json_t *body = req->body_len ? json_loads(req->body, 0, NULL) : NULL;
    if (req->body_len && !json_is_object(body)) {
        json_decref(body);
        json_answer(resp, 400, json_pack("{s:s}", "error", "body must be a JSON object {tenant, dataset}"));
        return;
    }
    if (body) {
        const char *bt = json_string_value(json_object_get(body, "tenant"));
        const char *bd = json_string_value(json_object_get(body, "dataset"));
        if (bt) t = bt;
        if (bd) d = bd;
    }
    size_t moved = 0;
    int rc = dlq_replay(p->spool, t, d, &moved);
    json_decref(body);   /* t/d are not used past this point */
    if (moved) forwarder_rescan(p->f);
    bf_log_kv(BF_LOG_INFO, "dlq replay requested", NULL);
    if (rc) json_answer(resp, 500, json_pack("{s:s, s:I}", "error", strerror(-rc), "replayed", (json_int_t)moved));
    else json_answer(resp, 200, json_pack("{s:I}", "replayed", (json_int_t)moved));
}

/* ---- signals, timers, shutdown ---- */

static void close_cb(uv_handle_t *h) { (void)h; }

static void finish_stop(proxy *p)
{
    if (!batcher_idle(p->b)) bf_logf(BF_LOG_ERROR, "shutdown timeout: %llu bytes not spooled",
                                     (unsigned long long)batcher_pending_bytes(p->b));
    inputs_stop_all(p->in);
    uv_timer_stop(&p->drain);
    uv_stop(&p->loop);
}

static void drain_cb(uv_timer_t *t)
{
    proxy *p = t->data;
    if (batcher_idle(p->b) || bf_mono_ms() >= p->stop_deadline) finish_stop(p);
}

static void begin_stop(proxy *p)
{
    if (p->stopping) return;
    p->stopping = 1;
    bf_sd_notify("STOPPING=1");
    bf_log_kv(BF_LOG_INFO, "stopping: sealing and spooling open batches", NULL);
    /* leave a fifth of the budget for the teardown after the drain */
    p->stop_deadline = bf_mono_ms() + p->cfg->common.shutdown_timeout_ms * 4 / 5;
    inputs_quiesce(p->in);
    batcher_seal_all(p->b);
    uv_timer_start(&p->drain, drain_cb, 0, 20);
}

static void reload(proxy *p)
{
    char err[BF_CFG_ERRLEN];
    bf_sd_notify("RELOADING=1");
    proxy_config fresh;
    memset(&fresh, 0, sizeof fresh);
    if (p->config_path && !bf_config_load(&proxy_schema, &fresh, p->config_path, err, sizeof err)) {
        bf_log_level lvl;
        if (!bf_log_level_parse(fresh.common.log_level, &lvl)) bf_log_set_level(lvl);
        /* only log_level and the registry apply live; say so instead of silently ignoring the rest */
        char *old_level = p->cfg->common.log_level;
        p->cfg->common.log_level = fresh.common.log_level;
        char *a = bf_config_to_json(&proxy_schema, p->cfg), *b = bf_config_to_json(&proxy_schema, &fresh);
        p->cfg->common.log_level = old_level;
        if (a && b && strcmp(a, b))
            bf_log_kv(BF_LOG_WARN, "config file changed in keys that need a restart (applied now: log_level, tenants)",
                      NULL);
        free(a);
        free(b);
        bf_config_free(&proxy_schema, &fresh);
    } else if (p->config_path) {
        bf_log_kv(BF_LOG_ERROR, "config reload failed, keeping the running config", "error", err, NULL);
    }
    int rc = bf_tenants_reload(p->tenants, err, sizeof err);
    if (rc < 0) bf_log_kv(BF_LOG_ERROR, "tenant registry reload failed, keeping the old one", "error", err, NULL);
    apply_registry(p);   /* also retries sources that failed to start before */
    bf_sd_notify("READY=1");
}

static void sig_cb(uv_poll_t *h, int status, int events)
{
    (void)status, (void)events;
    proxy *p = h->data;
    char buf[64];
    while (read(p->sig->wake_fd[0], buf, sizeof buf) > 0) {}
    if (p->sig->term) begin_stop(p);
    else if (p->sig->hup) {
        p->sig->hup = 0;
        reload(p);
    }
}

static void poll_work_cb(uv_work_t *w)
{
    proxy *p = w->data;
    p->poll_rc = bf_tenants_poll(p->tenants, p->poll_err, sizeof p->poll_err);
}

static void poll_done_cb(uv_work_t *w, int status)
{
    proxy *p = w->data;
    p->polling = 0;
    if (status || p->stopping) return;
    if (p->poll_rc == 1) apply_registry(p);
    else if (p->poll_rc < 0) bf_log_kv(BF_LOG_WARN, "tenant registry poll failed", "error", p->poll_err, NULL);
}

static void tick_cb(uv_timer_t *t)
{
    proxy *p = t->data;
    health_tick(p->h);
    int64_t now = bf_mono_ms();
    if (!p->stopping && !p->polling && now - p->last_poll >= p->cfg->common.tenants_poll_ms) {
        p->last_poll = now;
        p->polling = 1;   /* control / S3 answers can be slow: never on the loop thread */
        p->poll_work.data = p;
        if (uv_queue_work(&p->loop, &p->poll_work, poll_work_cb, poll_done_cb)) p->polling = 0;
    }
}

/* ---- start / stop ---- */

static int open_spool(proxy *p)
{
    int rc = bf_mkdir_p(p->cfg->spool_dir, 0750);
    if (!rc) rc = bf_spool_open(p->cfg->spool_dir, (uint64_t)p->cfg->spool_max_bytes, spoolq_validate, NULL, &p->spool);
    if (rc) {
        bf_log_kv(BF_LOG_ERROR, "cannot open the spool", "dir", p->cfg->spool_dir, "error", strerror(-rc), NULL);
        return rc;
    }
    if (bf_spool_quarantined(p->spool))
        bf_logf(BF_LOG_WARN, "spool: %llu corrupt or partial entries moved to quarantine/",
                (unsigned long long)bf_spool_quarantined(p->spool));
    return 0;
}

static int start(proxy *p)
{
    char err[BF_CFG_ERRLEN];
    int rc;
    if ((rc = bf_metrics_create(&p->m)) || (rc = open_spool(p))) return rc;
    if ((rc = bf_tenants_create(p->cfg->common.tenants, &p->cfg->common, "proxy", &p->tenants, err, sizeof err))) {
        bf_log_kv(BF_LOG_ERROR, "cannot load the tenant registry", "error", err, NULL);
        return rc;
    }
    bf_codec codec = BF_CODEC_ZSTD;
    bf_codec_parse(p->cfg->batch_codec, &codec);
    batcher_opts bo = {(size_t)p->cfg->batch_max_bytes, (size_t)p->cfg->batch_max_records, p->cfg->batch_max_age_ms,
                       codec, (int)p->cfg->batch_level, (size_t)p->cfg->batch_max_pending,
                       (size_t)p->cfg->batch_raw_backlog, "ndjson", (int)p->cfg->batch_fast_level};
    if ((rc = batcher_create(&p->loop, &bo, p->spool, p->m, on_spooled, p, &p->b))) return rc;
    fwd_opts fo = {p->cfg->receiver_url, (int)p->cfg->receiver_concurrency, p->cfg->receiver_timeout_ms,
                   p->cfg->retry_initial_ms, p->cfg->retry_max_ms, (uint64_t)p->cfg->dlq_max_bytes,
                   (int)p->cfg->batch_level, (uint64_t)p->cfg->spool_memory_bytes};
    if ((rc = forwarder_create(&p->loop, &fo, p->spool, p->m, tenant_token, p, &p->f))) return rc;
    if ((rc = forwarder_load(p->f))) return rc;
    forwarder_each_tail(p->f, floor_stream, p);   /* batch order survives a clock step back over a restart */
    if (p->cfg->dlq_max_bytes) {   /* the cap may be lower than when the DLQ filled */
        int ev = dlq_enforce(p->spool, (uint64_t)p->cfg->dlq_max_bytes);
        if (ev > 0)
            bf_counter_add(bf_metrics_counter(p->m, "bytefreezer_proxy_dlq_evicted_total",
                                              "DLQ entries evicted over dlq.max_bytes", NULL), (uint64_t)ev);
    }
    p->env.loop = &p->loop;
    p->env.b = p->b;
    p->env.cfg = p->cfg;
    p->env.m = p->m;
    atomic_init(&p->env.http_stoppers, 0);
    if ((rc = inputs_create(&p->env, &p->in)) || (rc = health_create(p->in, p->f, p->b, p->spool, p->m, &p->h)))
        return rc;
    apply_registry(p);
    char *cj = bf_config_to_json(&proxy_schema, p->cfg);
    rc = bf_admin_create(p->cfg->common.admin_listen, p->cfg->common.admin_token, p->m, health_check, p->h,
                         cj ? cj : "{}", 1 << 20, &p->admin);
    free(cj);
    if (rc) return rc;
    bf_admin_route(p->admin, "GET", "/api/v1/dlq", 0, route_dlq_list, p);
    bf_admin_route(p->admin, "POST", "/api/v1/dlq/replay", 0, route_dlq_replay, p);
    if ((rc = bf_admin_start(p->admin))) {
        bf_log_kv(BF_LOG_ERROR, "cannot start the admin API", "listen", p->cfg->common.admin_listen, NULL);
        return rc;
    }
    uv_poll_init(&p->loop, &p->sigpoll, p->sig->wake_fd[0]);
    uv_timer_init(&p->loop, &p->tick);
    uv_timer_init(&p->loop, &p->drain);
    p->sigpoll.data = p->tick.data = p->drain.data = p;
    uv_poll_start(&p->sigpoll, UV_READABLE, sig_cb);
    uv_timer_start(&p->tick, tick_cb, 1000, 1000);
    p->last_poll = bf_mono_ms();
    return 0;
}

static void teardown(proxy *p)
{
    p->stopping = 1;   /* late callbacks (registry poll) must not touch what is freed below */
    if (p->admin) bf_admin_destroy(p->admin);
    if (p->in) inputs_destroy(p->in);
    for (int i = 0; i < 500 && atomic_load(&p->env.http_stoppers); i++) usleep(10000);
    if (uv_is_active((uv_handle_t *)&p->tick) || p->tick.data) {
        uv_close((uv_handle_t *)&p->sigpoll, close_cb);
        uv_close((uv_handle_t *)&p->tick, close_cb);
        uv_close((uv_handle_t *)&p->drain, close_cb);
    }
    while (p->polling) uv_run(&p->loop, UV_RUN_ONCE);   /* a registry poll in the pool uses p->tenants */
    p->final = 1;
    if (p->b) batcher_destroy(p->b);
    if (p->f) forwarder_destroy(p->f);
    uv_run(&p->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&p->loop)) bf_log_kv(BF_LOG_WARN, "event loop closed with handles still open", NULL);
    health_destroy(p->h);
    if (p->tenants) bf_tenants_destroy(p->tenants);
    if (p->spool) bf_spool_close(p->spool);
    if (p->m) bf_metrics_destroy(p->m);
}

static int run(void *vcfg, const char *config_path, bf_signals *sig)
{
    proxy p;
    memset(&p, 0, sizeof p);
    p.cfg = vcfg;
    p.config_path = config_path;
    p.sig = sig;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (uv_loop_init(&p.loop)) return 1;
    int rc = start(&p);
    if (!rc) {
        bf_sd_notify("READY=1");
        bf_log_kv(BF_LOG_INFO, "proxy started", "admin", p.cfg->common.admin_listen, "receiver", p.cfg->receiver_url,
                  "spool", p.cfg->spool_dir, NULL);
        if (sig->term) begin_stop(&p);
        uv_run(&p.loop, UV_RUN_DEFAULT);
    }
    teardown(&p);
    curl_global_cleanup();
    if (!rc) bf_log_kv(BF_LOG_INFO, "proxy stopped", NULL);
    return rc ? 1 : 0;
}

static const bf_daemon_desc desc = {
    "proxy", "/etc/bytefreezer/proxy.yaml", &proxy_schema, sizeof(proxy_config), offsetof(proxy_config, common),
    proxy_config_validate, run, NULL, NULL,
};

int main(int argc, char **argv) { return bf_daemon_main(&desc, argc, argv); }
