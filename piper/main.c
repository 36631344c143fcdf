/* bytefreezer-piper: intake objects → parse → filters → NDJSON in store.piper (DESIGN §7).
 * The main thread runs discovery, registry polling and GeoIP sync; worker threads process objects;
 * the admin server (health, metrics, pipeline test) runs on its own thread. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin_api.h"
#include "bf_admin.h"
#include "bf_daemon.h"
#include "bf_log.h"
#include "bf_metrics.h"
#include "bf_util.h"
#include "config.h"
#include "discover.h"
#include "geoip_sync.h"

typedef struct app {
    piper_config *cfg;
    bf_metrics *m;
    piper_core *core;
    bf_admin *admin;
} app;

static int start(void *ap)
{
    app *a = ap;
    char err[512] = "";
    int rc = bf_metrics_create(&a->m);
    if (!rc && (rc = core_create(a->cfg, a->m, &a->core, err, sizeof err)))
        bf_log_kv(BF_LOG_ERROR, "piper start failed", "error", err[0] ? err : strerror(-rc), NULL);
    if (rc)
        return rc;
    if (a->cfg->geoip_uri && *a->cfg->geoip_uri) {
        int g = geoip_sync(a->cfg->geoip_uri, &a->cfg->common.s3, a->cfg->geoip_dir, core_env(a->core)->geoip);
        core_note_geoip(a->core, g > 0);
    }
    char *cfg_json = bf_config_to_json(&piper_schema, a->cfg);
    rc = bf_admin_create(a->cfg->common.admin_listen, a->cfg->common.admin_token, a->m, core_health, a->core,
                         cfg_json ? cfg_json : "{}", 16 << 20, &a->admin);
    free(cfg_json);
    if (!rc)
        rc = admin_api_register(a->admin, a->core);
    if (!rc && (rc = bf_admin_start(a->admin)))
        bf_log_kv(BF_LOG_ERROR, "admin server failed to start", "listen", a->cfg->common.admin_listen, NULL);
    if (!rc)
        rc = core_start(a->core);
    if (!rc) {
        char port[16];
        snprintf(port, sizeof port, "%d", bf_admin_port(a->admin));
        bf_log_kv(BF_LOG_INFO, "piper started", "admin_port", port, "intake", a->cfg->store_intake, "piper",
                  a->cfg->store_piper, NULL);
    }
    return rc;
}

static void stop(void *ap)
{
    app *a = ap;
    if (a->core)
        core_stop(a->core, a->cfg->common.shutdown_timeout_ms);
    bf_admin_destroy(a->admin);
    core_destroy(a->core);
    bf_metrics_destroy(a->m);
}

static void drain(int fd)
{
    char b[64];
    while (read(fd, b, sizeof b) > 0) {
    }
}

static void main_loop(void *ap, bf_signals *sig)
{
    app *a = ap;
    const piper_config *c = a->cfg;
    int64_t now = bf_mono_ms();
    int64_t next_scan = now, next_reg = now + c->common.tenants_poll_ms, next_geo = now + c->geoip_sync_interval_ms;
    while (!sig->term) {
        now = bf_mono_ms();
        int64_t next = next_scan < next_reg ? next_scan : next_reg;
        if (c->geoip_uri && *c->geoip_uri && next_geo < next)
            next = next_geo;
        struct pollfd p = {.fd = sig->wake_fd[0], .events = POLLIN};
        if (next > now && poll(&p, 1, (int)(next - now)) > 0)
            drain(sig->wake_fd[0]);
        if (sig->term)
            break;
        now = bf_mono_ms();
        if (sig->hup) {
            sig->hup = 0;
            bf_sd_notify("RELOADING=1");
            core_reload(a->core, true);
            bf_sd_notify("READY=1");
        }
        if (now >= next_reg) {
            core_reload(a->core, false);
            next_reg = now + c->common.tenants_poll_ms;
        }
        if (c->geoip_uri && *c->geoip_uri && now >= next_geo) {
            int g = geoip_sync(c->geoip_uri, &c->common.s3, c->geoip_dir, core_env(a->core)->geoip);
            core_note_geoip(a->core, g > 0);
            next_geo = now + c->geoip_sync_interval_ms;
        }
        if (now >= next_scan) {
            core_poll(a->core);
            next_scan = bf_mono_ms() + c->poll_interval_ms;
        }
    }
}

static int run(void *vcfg, const char *config_path, bf_signals *sig)
{
    (void)config_path;
    app a = {.cfg = vcfg};
    static const bf_lifecycle steps = {start, main_loop, stop};
    return bf_daemon_lifecycle("piper", &steps, &a, sig);
}

int main(int argc, char **argv)
{
    static const bf_daemon_desc desc = {
        .name = "piper",
        .default_config = "/etc/bytefreezer/piper.yaml",
        .schema = &piper_schema,
        .cfg_size = sizeof(piper_config),
        .common_offset = offsetof(piper_config, common),
        .validate = piper_config_validate,
        .run = run,
    };
    return bf_daemon_main(&desc, argc, argv);
}
