/* bytefreezer-receiver: central ingest (DESIGN §6). Wires the modules together:
 *   config.c (schema) -> bf_tenants (registry) -> bf_store (store.intake) -> [bf_spool + spool_uploader.c
 *   for ack: spool] -> ingest.c (data port) -> bf_admin (health, metrics, config) ; stats.c (metrics, health).
 * Signals: SIGHUP reloads the tenant registry without touching the listeners; the registry is also
 * polled every tenants_poll. SIGTERM/SIGINT: stop accepting, let requests in progress finish (bounded by
 * shutdown_timeout), stop the uploader (the spool keeps what is left), exit 0. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bf_admin.h"
#include "bf_daemon.h"
#include "bf_log.h"
#include "bf_metrics.h"
#include "bf_spool.h"
#include "bf_store.h"
#include "bf_tenants.h"
#include "bf_util.h"
#include "config.h"
#include "ingest.h"
#include "spool_uploader.h"
#include "stats.h"

#define STORE_RECHECK_MS 1000

typedef struct app {
    rcv_config *cfg;
    char instance[256];
    bf_metrics *metrics;
    rcv_stats *stats;
    bf_tenants *tenants;
    bf_store *store;
    bf_spool *spool;
    rcv_uploader *uploader;
    rcv_ingest *ingest;
    bf_admin *admin;
} app;

static int fail(const char *what, const char *err, int rc)
{
    bf_log_kv(BF_LOG_ERROR, what, "error", err && *err ? err : strerror(-rc), NULL);
    return rc;
}

static int open_spool(app *a, char *err, size_t errlen)
{
    const rcv_config *cfg = a->cfg;
    int rc = bf_mkdir_p(cfg->spool_dir, 0750);
    if (!rc)
        rc = bf_spool_open(cfg->spool_dir, (uint64_t)cfg->spool_max_bytes, rcv_spool_validate, NULL, &a->spool);
    if (rc) {
        snprintf(err, errlen, "spool %s: %s", cfg->spool_dir, strerror(-rc));
        return rc;
    }
    if (bf_spool_quarantined(a->spool))
        bf_log_kv(BF_LOG_WARN, "invalid spool entries quarantined at start", NULL);
    rcv_stats_spool(a->stats, bf_spool_used(a->spool), bf_spool_max(a->spool));
    rc = rcv_uploader_start(a->spool, a->store, a->stats, cfg->spool_retry_initial_ms, cfg->spool_retry_max_ms,
                            &a->uploader);
    if (rc)
        snprintf(err, errlen, "cannot start the spool uploader: %s", strerror(-rc));
    return rc;
}

static int start_admin(app *a, char *err, size_t errlen)
{
    char *json = bf_config_to_json(&rcv_schema, a->cfg);
    int rc = bf_admin_create(a->cfg->common.admin_listen, a->cfg->common.admin_token, a->metrics,
                             rcv_stats_health, a->stats, json ? json : "{}", 1 << 20, &a->admin);
    free(json);
    if (!rc)
        rc = bf_admin_start(a->admin);
    if (rc)
        snprintf(err, errlen, "admin port %s: %s", a->cfg->common.admin_listen, strerror(-rc));
    return rc;
}

static int start(void *ap)
{
    app *a = ap;
    char err[BF_CFG_ERRLEN] = "";
    rcv_config *cfg = a->cfg;
    int rc;
    if (cfg->instance_id && *cfg->instance_id)
        snprintf(a->instance, sizeof a->instance, "%s", cfg->instance_id);
    else
        bf_instance_id(a->instance, sizeof a->instance);
    if ((rc = bf_metrics_create(&a->metrics)) || (rc = rcv_stats_create(a->metrics, &a->stats)))
        return fail("cannot create metrics", NULL, rc);
    if ((rc = bf_tenants_create(cfg->common.tenants, &cfg->common, "receiver", &a->tenants, err, sizeof err)))
        return fail("cannot load tenants", err, rc);
    if ((rc = bf_store_open(cfg->store_intake, &cfg->common.s3, a->metrics, &a->store, err, sizeof err)))
        return fail("cannot open store.intake", err, rc);
    if (!strcmp(cfg->ack, "spool") && (rc = open_spool(a, err, sizeof err)))
        return fail("cannot open the spool", err, rc);
    rcv_ingest_deps deps = {cfg, a->tenants, a->store, a->spool, a->uploader, a->stats, a->metrics, a->instance};
    if ((rc = rcv_ingest_start(&deps, &a->ingest, err, sizeof err)))
        return fail("cannot start the data port", err, rc);
    if ((rc = start_admin(a, err, sizeof err)))
        return fail("cannot start the admin port", err, rc);
    char port[16];
    snprintf(port, sizeof port, "%d", rcv_ingest_port(a->ingest));
    bf_log_kv(BF_LOG_INFO, "receiver started", "listen", cfg->listen, "port", port, "ack", cfg->ack,
              "store", bf_store_uri(a->store), "instance", a->instance, NULL);
    return 0;
}

static void stop(void *ap)
{
    app *a = ap;
    if (a->ingest) {
        rcv_ingest_quiesce(a->ingest);
        if (rcv_ingest_wait_idle(a->ingest, a->cfg->common.shutdown_timeout_ms))
            bf_log_kv(BF_LOG_WARN, "shutdown_timeout reached with requests in progress", NULL);
        rcv_ingest_stop(a->ingest);
    }
    rcv_uploader_stop(a->uploader);
    bf_admin_destroy(a->admin);
    if (a->spool)
        bf_spool_close(a->spool);
    if (a->store)
        bf_store_close(a->store);
    bf_tenants_destroy(a->tenants);
    rcv_stats_destroy(a->stats);
    bf_metrics_destroy(a->metrics);
}

static void reload_tenants(app *a, int forced)
{
    char err[BF_CFG_ERRLEN] = "";
    if (forced)
        bf_sd_notify("RELOADING=1");
    int rc = forced ? bf_tenants_reload(a->tenants, err, sizeof err) : bf_tenants_poll(a->tenants, err, sizeof err);
    if (rc < 0)
        bf_log_kv(BF_LOG_ERROR, "tenant reload failed, keeping the previous registry", "error", err, NULL);
    else if (rc > 0 || forced)
        bf_log_kv(BF_LOG_INFO, rc > 0 ? "tenant registry reloaded" : "tenant registry unchanged", NULL);
    if (forced)
        bf_sd_notify("READY=1");
}

static void drain_wake(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static void main_loop(void *ap, bf_signals *sig)
{
    app *a = ap;
    int64_t next_poll = bf_mono_ms() + a->cfg->common.tenants_poll_ms;
    int64_t next_check = bf_mono_ms() + a->cfg->store_check_ms;
    while (!sig->term) {
        int64_t now = bf_mono_ms();
        if (rcv_stats_store_failing(a->stats) && next_check > now + STORE_RECHECK_MS)
            next_check = now + STORE_RECHECK_MS;   /* degraded: find out soon when the store is back */
        int64_t wait = (next_poll < next_check ? next_poll : next_check) - now;
        struct pollfd p = {.fd = sig->wake_fd[0], .events = POLLIN};
        /* wake at least every STORE_RECHECK_MS so a failure seen by a request shortens the wait */
        if (wait > STORE_RECHECK_MS)
            wait = STORE_RECHECK_MS;
        if (poll(&p, 1, wait > 0 ? (int)wait : 0) > 0)
            drain_wake(sig->wake_fd[0]);
        if (sig->term)
            break;
        if (sig->hup) {
            sig->hup = 0;
            reload_tenants(a, 1);
        }
        now = bf_mono_ms();
        if (now >= next_poll) {
            reload_tenants(a, 0);
            next_poll = now + a->cfg->common.tenants_poll_ms;
        }
        if (now >= next_check) {
            rcv_stats_store_result(a->stats, bf_store_ping(a->store));
            if (a->spool)
                rcv_stats_spool(a->stats, bf_spool_used(a->spool), bf_spool_max(a->spool));
            next_check = now + a->cfg->store_check_ms;
        }
    }
}

static int run(void *vcfg, const char *config_path, bf_signals *sig)
{
    (void)config_path;
    app a = {.cfg = vcfg};
    static const bf_lifecycle steps = {start, main_loop, stop};
    return bf_daemon_lifecycle("receiver", &steps, &a, sig);
}

int main(int argc, char **argv)
{
    static const bf_daemon_desc desc = {
        .name = "receiver",
        .default_config = "/etc/bytefreezer/receiver.yaml",
        .schema = &rcv_schema,
        .cfg_size = sizeof(rcv_config),
        .common_offset = offsetof(rcv_config, common),
        .validate = rcv_config_validate,
        .run = run,
    };
    return bf_daemon_main(&desc, argc, argv);
}
