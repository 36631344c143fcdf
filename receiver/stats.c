/* stats: receiver metrics and health state (see stats.h). */
#include "stats.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rcv_stats {
    bf_metrics *m;
    bf_gauge *spool_bytes, *spool_max, *inflight;
    bf_counter *uploads_ok, *uploads_err;
    atomic_int store_failures;     /* consecutive failed store operations */
    atomic_int listening;
    _Atomic uint64_t spool_used, spool_cap;
    atomic_llong last_store_error;  /* negative errno of the last failure */
};

int rcv_stats_create(bf_metrics *m, rcv_stats **out)
{
    rcv_stats *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->m = m;
    s->spool_bytes = bf_metrics_gauge(m, "bytefreezer_receiver_spool_bytes", "bytes held in the ack spool", NULL);
    s->spool_max = bf_metrics_gauge(m, "bytefreezer_receiver_spool_max_bytes", "ack spool quota", NULL);
    s->inflight = bf_metrics_gauge(m, "bytefreezer_receiver_inflight_requests", "requests in progress", NULL);
    s->uploads_ok = bf_metrics_counter(m, "bytefreezer_receiver_spool_uploads_total",
                                       "background uploads from the spool", "result=\"ok\"");
    s->uploads_err = bf_metrics_counter(m, "bytefreezer_receiver_spool_uploads_total",
                                        "background uploads from the spool", "result=\"error\"");
    if (!s->spool_bytes || !s->spool_max || !s->inflight || !s->uploads_ok || !s->uploads_err) {
        free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void rcv_stats_destroy(rcv_stats *s)
{
    free(s);
}

static const char *or_unknown(const char *s)
{
    return s && *s ? s : "_unknown";
}

void rcv_stats_request(rcv_stats *s, const char *tenant, const char *dataset, int status)
{
    char labels[256], code[16];
    snprintf(code, sizeof code, "%d", status);
    bf_metrics_labels(labels, sizeof labels, "tenant", or_unknown(tenant), "dataset", or_unknown(dataset),
                      "status", code, NULL);
    bf_counter_add(bf_metrics_counter(s->m, "bytefreezer_receiver_requests_total",
                                      "requests answered on the data port, by status", labels), 1);
}

void rcv_stats_accepted(rcv_stats *s, const char *tenant, const char *dataset, uint64_t wire_bytes,
                        uint64_t inflated_bytes, uint64_t lines, double store_seconds)
{
    char labels[256];
    bf_metrics_labels(labels, sizeof labels, "tenant", or_unknown(tenant), "dataset", or_unknown(dataset), NULL);
    bf_counter_add(bf_metrics_counter(s->m, "bytefreezer_receiver_bytes_total",
                                      "accepted body bytes on the wire", labels), wire_bytes);
    bf_counter_add(bf_metrics_counter(s->m, "bytefreezer_receiver_inflated_bytes_total",
                                      "accepted body bytes after decompression", labels), inflated_bytes);
    bf_counter_add(bf_metrics_counter(s->m, "bytefreezer_receiver_lines_total", "accepted lines", labels), lines);
    bf_histogram_observe(bf_metrics_histogram(s->m, "bytefreezer_receiver_store_seconds",
                                              "latency of the durable write (store or spool)", labels, NULL, 0),
                         store_seconds);
}

void rcv_stats_inflight(rcv_stats *s, int delta)
{
    bf_gauge_add(s->inflight, delta);
}

void rcv_stats_store_result(rcv_stats *s, int rc)
{
    if (rc == 0) {
        atomic_store(&s->store_failures, 0);
        return;
    }
    atomic_fetch_add(&s->store_failures, 1);
    atomic_store(&s->last_store_error, rc);
}

int rcv_stats_store_failing(rcv_stats *s)
{
    return atomic_load(&s->store_failures) > 0;
}

void rcv_stats_upload(rcv_stats *s, int rc)
{
    bf_counter_add(rc ? s->uploads_err : s->uploads_ok, 1);
    rcv_stats_store_result(s, rc);
}

void rcv_stats_spool(rcv_stats *s, uint64_t used, uint64_t max)
{
    atomic_store(&s->spool_used, used);
    atomic_store(&s->spool_cap, max);
    bf_gauge_set(s->spool_bytes, (double)used);
    bf_gauge_set(s->spool_max, (double)max);
}

void rcv_stats_spool_dataset(rcv_stats *s, const char *tenant, const char *dataset, uint64_t bytes)
{
    char labels[256];
    bf_metrics_labels(labels, sizeof labels, "tenant", or_unknown(tenant), "dataset", or_unknown(dataset), NULL);
    bf_gauge_set(bf_metrics_gauge(s->m, "bytefreezer_receiver_spool_dataset_bytes",
                                  "spool bytes waiting for upload, per dataset", labels), (double)bytes);
}

void rcv_stats_listening(rcv_stats *s, int up)
{
    atomic_store(&s->listening, up);
}

bf_health rcv_stats_health(void *ud, json_t *detail)
{
    rcv_stats *s = ud;
    bf_health h = BF_HEALTHY;
    json_t *reasons = json_array();
    int fails = atomic_load(&s->store_failures);
    uint64_t used = atomic_load(&s->spool_used), cap = atomic_load(&s->spool_cap);
    json_object_set_new(detail, "listening", json_boolean(atomic_load(&s->listening)));
    json_object_set_new(detail, "store_consecutive_failures", json_integer(fails));
    if (cap) {
        json_object_set_new(detail, "spool_bytes", json_integer((json_int_t)used));
        json_object_set_new(detail, "spool_max_bytes", json_integer((json_int_t)cap));
    }
    if (fails > 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "last store operation failed (%s)", strerror((int)-atomic_load(&s->last_store_error)));
        json_array_append_new(reasons, json_string(msg));
        h = BF_DEGRADED;
    }
    if (cap && used * 10 > cap * 8) {
        json_array_append_new(reasons, json_string("spool over 80% full"));
        h = BF_DEGRADED;
    }
    if (!atomic_load(&s->listening)) {
        json_array_append_new(reasons, json_string("data port not listening"));
        h = BF_UNHEALTHY;
    }
    json_object_set_new(detail, "reasons", reasons);
    return h;
}
