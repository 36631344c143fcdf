/* bytefreezer-packer: piper NDJSON -> Parquet (DESIGN §8). Wires the modules together:
 *   config.c (schema) -> bf_tenants (registry) -> accum.c (per-dataset accumulation, lease, manifest,
 *   convert.c two-pass conversion with jscan/schema/parquet, upload) ; bf_admin (health, metrics).
 * `--inspect FILE.parquet [--rows N]` prints a Parquet file (inspect.c) and exits.
 * Signals: SIGHUP reloads the tenant registry; SIGTERM/SIGINT stop between inputs (a batch in progress
 * is abandoned, its manifest replayed on the next start) and exit 0. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accum.h"
#include "bf_admin.h"
#include "bf_daemon.h"
#include "bf_log.h"
#include "bf_metrics.h"
#include "bf_tenants.h"
#include "bf_util.h"
#include "config.h"
#include "inspect.h"

typedef struct app {
    pk_config *cfg;
    bf_metrics *metrics;
    bf_tenants *tenants;
    bf_admin *admin;
    pk_ctx ctx;
    int64_t started_ms;
} app;

static bf_health health(void *ud, json_t *detail)
{
    app *a = ud;
    int64_t fails = __atomic_load_n(&a->ctx.store_failures, __ATOMIC_RELAXED);
    int64_t last_err = __atomic_load_n(&a->ctx.last_error_ms, __ATOMIC_RELAXED);
    json_object_set_new(detail, "store_piper", json_string(fails >= 3 ? "unreachable" : "ok"));
    json_object_set_new(detail, "instance", json_string(a->ctx.owner));
    if (fails >= 3) {
        json_object_set_new(detail, "reason", json_string("store.piper listing failed repeatedly"));
        return BF_UNHEALTHY;
    }
    if (last_err && bf_now_ms() - last_err < 60000) {
        json_object_set_new(detail, "reason", json_string("a batch failed in the last minute"));
        return BF_DEGRADED;
    }
    return BF_HEALTHY;
}

static void drain(int fd)
{
    char b[64];
    while (read(fd, b, sizeof(b)) > 0) {
    }
}

static void poll_all(app *a, int64_t now)
{
    bf_registry *reg = bf_tenants_get(a->tenants);
    for (size_t i = 0; i < reg->ntenants && !a->ctx.term[0]; i++) {
        const bf_tenant *t = &reg->tenants[i];
        if (!t->active)
            continue;
        for (size_t j = 0; j < t->ndatasets && !a->ctx.term[0]; j++) {
            const bf_dataset *d = &t->datasets[j];
            if (!d->active)
                continue;
            pk_dsopts o;
            char err[256];
            if (pk_dsopts_from(a->cfg, d->output, &o, err, sizeof(err)) < 0) {
                bf_log_kv(BF_LOG_ERROR, "dataset output is invalid; skipped", "tenant", t->id, "dataset", d->id,
                          "error", err, NULL);
                continue;
            }
            pk_dataset_poll(&a->ctx, t->id, d->id, &o, now);
        }
    }
    bf_registry_unref(reg);
}

static int run(void *cfgp, const char *config_path, bf_signals *sig)
{
    (void)config_path;
    app a = { .cfg = cfgp, .started_ms = bf_now_ms() };
    char err[512] = "";
    int rc = bf_metrics_create(&a.metrics);
    if (rc == 0)
        rc = pk_ctx_init(&a.ctx, a.cfg, a.metrics, &sig->term, err, sizeof(err));
    if (rc == 0)
        rc = bf_tenants_create(a.cfg->common.tenants, &a.cfg->common, "packer", &a.tenants, err, sizeof(err));
    if (rc == 0) {
        char *json = bf_config_to_json(pk_config_schema(), a.cfg);
        rc = bf_admin_create(a.cfg->common.admin_listen, a.cfg->common.admin_token, a.metrics, health, &a,
                             json ? json : "{}", 1 << 16, &a.admin);
        free(json);
        if (rc == 0)
            rc = bf_admin_start(a.admin);
        if (rc < 0 && !err[0])
            snprintf(err, sizeof(err), "admin %s: %s", a.cfg->common.admin_listen, strerror(-rc));
    }
    if (rc < 0) {
        bf_log_kv(BF_LOG_ERROR, "cannot start", "error", err[0] ? err : strerror(-rc), NULL);
        goto out;
    }
    bf_log_kv(BF_LOG_INFO, "packer ready", "admin", a.cfg->common.admin_listen, "piper", a.cfg->store_piper,
              "packer", a.cfg->store_packer, "instance", a.ctx.owner, NULL);
    bf_sd_notify("READY=1");
    bf_registry *reg = bf_tenants_get(a.tenants);
    pk_recover_all(&a.ctx, reg);
    bf_registry_unref(reg);
    int64_t next_tenants = bf_mono_ms() + a.cfg->common.tenants_poll_ms;
    while (!sig->term) {
        if (sig->hup) {
            sig->hup = 0;
            if (bf_tenants_reload(a.tenants, err, sizeof(err)) < 0)
                bf_log_kv(BF_LOG_WARN, "tenant reload failed; keeping the previous registry", "error", err, NULL);
        }
        if (bf_mono_ms() >= next_tenants) {
            if (bf_tenants_poll(a.tenants, err, sizeof(err)) < 0)
                bf_log_kv(BF_LOG_WARN, "tenant registry poll failed", "error", err, NULL);
            next_tenants = bf_mono_ms() + a.cfg->common.tenants_poll_ms;
        }
        int64_t t0 = bf_mono_ms();
        poll_all(&a, bf_now_ms());
        int64_t wait = a.cfg->poll_interval_ms - (bf_mono_ms() - t0);
        struct pollfd p = { .fd = sig->wake_fd[0], .events = POLLIN };
        if (!sig->term && poll(&p, 1, wait > 0 ? (int)wait : 0) > 0)
            drain(sig->wake_fd[0]);
    }
    bf_sd_notify("STOPPING=1");
    bf_log_kv(BF_LOG_INFO, "stopping", NULL);
out:
    bf_admin_destroy(a.admin);
    bf_tenants_destroy(a.tenants);
    if (a.ctx.piper)
        pk_ctx_free(&a.ctx);
    bf_metrics_destroy(a.metrics);
    return rc < 0 ? 1 : 0;
}

/* --inspect FILE [--rows N] */
static int extra_flag(int argc, char **argv, int i, int *exit_code)
{
    if (strcmp(argv[i], "--inspect") != 0)
        return 0;
    if (i + 1 >= argc) {
        fprintf(stderr, "bytefreezer-packer: --inspect needs a file\n");
        return -1;
    }
    size_t rows = 10;
    if (i + 3 < argc + 0 && !strcmp(argv[i + 2], "--rows"))
        rows = (size_t)strtoull(argv[i + 3], NULL, 10);
    *exit_code = pk_inspect(argv[i + 1], rows, stdout, stderr) == 0 ? 0 : 1;
    fflush(stdout);
    return -2;
}

int main(int argc, char **argv)
{
    bf_daemon_desc d = {
        .name = "packer",
        .default_config = "/etc/bytefreezer/packer.yaml",
        .schema = pk_config_schema(),
        .cfg_size = sizeof(pk_config),
        .common_offset = offsetof(pk_config, common),
        .validate = pk_config_validate,
        .run = run,
        .extra_flag = extra_flag,
        .extra_usage = "  --inspect FILE [--rows N]  print a Parquet file's schema, row groups, statistics and first rows\n",
    };
    return bf_daemon_main(&d, argc, argv);
}
