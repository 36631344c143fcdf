/* health: see health.h. */
#include "health.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_util.h"
#include "dlq.h"

#define MAX_PORTS 256
#define DROP_WINDOW_MS 60000

struct health {
    inputs *in;
    forwarder *f;
    batcher *b;
    bf_spool *spool;
    bf_metrics *m;
    uint64_t last_kernel[MAX_PORTS];
    int last_port[MAX_PORTS];
    char labels[MAX_PORTS][200];          /* scratch for health_tick (loop thread) */
    atomic_int_fast64_t last_kernel_drop_ms;
    bf_gauge *g_spool, *g_spool_max, *g_dlq, *g_backlog, *g_pending;
};

int health_create(inputs *in, forwarder *f, batcher *b, bf_spool *spool, bf_metrics *m, health **out)
{
    health *h = calloc(1, sizeof *h);
    if (!h) return -ENOMEM;
    h->in = in;
    h->f = f;
    h->b = b;
    h->spool = spool;
    h->m = m;
    h->g_spool = bf_metrics_gauge(m, "bytefreezer_proxy_spool_bytes", "bytes in the spool (queue, retry, dlq)", NULL);
    h->g_spool_max = bf_metrics_gauge(m, "bytefreezer_proxy_spool_max_bytes", "spool quota", NULL);
    h->g_dlq = bf_metrics_gauge(m, "bytefreezer_proxy_dlq_bytes", "bytes in the dead-letter queues", NULL);
    h->g_backlog = bf_metrics_gauge(m, "bytefreezer_proxy_backlog_batches", "batches waiting for upload", NULL);
    h->g_pending = bf_metrics_gauge(m, "bytefreezer_proxy_pending_bytes", "sealed bytes not yet in the spool", NULL);
    *out = h;
    return 0;
}

void health_destroy(health *h) { free(h); }

uint64_t health_parse_udp_drops(const char *text, int port)
{
    uint64_t sum = 0;
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        if (len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            char local[80];
            unsigned lport;
            /* "  sl  local_address ..." header lines fail the first conversion */
            if (sscanf(buf, " %*d: %79s", local) == 1) {
                char *colon = strrchr(local, ':');
                char *last = strrchr(buf, ' ');
                if (colon && last && sscanf(colon + 1, "%x", &lport) == 1 && (int)lport == port)
                    sum += strtoull(last + 1, NULL, 10);
            }
        }
        line = end ? end + 1 : NULL;
    }
    return sum;
}

static uint64_t kernel_drops(int port)
{
    static const char *files[] = {"/proc/net/udp", "/proc/net/udp6"};
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *text;
        size_t len;
        if (bf_read_file(files[i], 64u << 20, &text, &len)) continue;
        sum += health_parse_udp_drops(text, port);
        free(text);
    }
    return sum;
}

void health_tick(health *h)
{
    int ports[MAX_PORTS];
    size_t n = inputs_udp_ports(h->in, ports, h->labels, MAX_PORTS);
    for (size_t i = 0; i < n; i++) {
        uint64_t d = kernel_drops(ports[i]);
        char l[260];
        snprintf(l, sizeof l, "%.199s,port=\"%d\"", h->labels[i], ports[i]);
        bf_gauge_set(bf_metrics_gauge(h->m, "bytefreezer_proxy_udp_kernel_drops", "socket drops from /proc/net/udp", l),
                     (double)d);
        size_t j;
        for (j = 0; j < MAX_PORTS && h->last_port[j] && h->last_port[j] != ports[i]; j++) {}
        if (j == MAX_PORTS) continue;
        if (h->last_port[j] == ports[i] && d > h->last_kernel[j]) atomic_store(&h->last_kernel_drop_ms, bf_now_ms());
        h->last_port[j] = ports[i];
        h->last_kernel[j] = d;
    }
    bf_gauge_set(h->g_spool, (double)bf_spool_used(h->spool));
    bf_gauge_set(h->g_spool_max, (double)bf_spool_max(h->spool));
    bf_gauge_set(h->g_dlq, (double)dlq_bytes(h->spool));
    bf_gauge_set(h->g_backlog, (double)forwarder_backlog(h->f));
    bf_gauge_set(h->g_pending, (double)batcher_pending_bytes(h->b));
}

static void reason(json_t *reasons, bf_health *st, bf_health level, const char *why)
{
    json_array_append_new(reasons, json_string(why));
    if (level > *st) *st = level;
}

bf_health health_check(void *ud, json_t *detail)
{
    health *h = ud;
    bf_health st = BF_HEALTHY;
    json_t *reasons = json_array();
    json_t *listeners = json_object();
    int ls = inputs_status(h->in, listeners);
    json_object_set_new(detail, "listeners", listeners);
    if (ls < 0) reason(reasons, &st, BF_UNHEALTHY, "no listener is up");
    else if (ls == 0) reason(reasons, &st, BF_DEGRADED, "some listeners failed to start");

    int rr = forwarder_last_result(h->f);
    json_object_set_new(detail, "receiver",
                        json_pack("{s:s, s:I, s:I}", "last_upload", rr > 0 ? "ok" : rr < 0 ? "failed" : "none",
                                  "backlog", (json_int_t)forwarder_backlog(h->f), "in_flight",
                                  (json_int_t)forwarder_inflight(h->f)));
    if (rr < 0) reason(reasons, &st, BF_DEGRADED, "receiver unreachable (last upload failed)");

    uint64_t used = bf_spool_used(h->spool), max = bf_spool_max(h->spool);
    double pct = max ? 100.0 * (double)used / (double)max : 0;
    json_object_set_new(detail, "spool", json_pack("{s:I, s:I, s:f, s:I, s:b}", "used_bytes", (json_int_t)used,
                                                   "max_bytes", (json_int_t)max, "percent", pct, "quarantined",
                                                   (json_int_t)bf_spool_quarantined(h->spool), "full",
                                                   batcher_pressure(h->b)));
    if (pct >= 80.0) reason(reasons, &st, BF_DEGRADED, "spool at or above 80 %");

    int64_t now = bf_now_ms(), qd = batcher_last_drop_ms(h->b), kd = atomic_load(&h->last_kernel_drop_ms);
    int recent_q = qd && now - qd < DROP_WINDOW_MS, recent_k = kd && now - kd < DROP_WINDOW_MS;
    json_object_set_new(detail, "udp", json_pack("{s:b, s:b}", "spool_full_drops_last_minute", recent_q,
                                                 "kernel_drops_last_minute", recent_k));
    if (recent_q) reason(reasons, &st, BF_DEGRADED, "UDP data dropped in the last minute (spool full)");
    if (recent_k) reason(reasons, &st, BF_DEGRADED, "UDP socket drops in the last minute (receive buffer)");
    json_object_set_new(detail, "reasons", reasons);
    return st;
}
