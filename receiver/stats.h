/* stats: the receiver's metrics (per tenant/dataset, DESIGN §9) and the state its health is computed from.
 * Metric names:
 *   bytefreezer_receiver_requests_total{tenant,dataset,status}   requests answered, by HTTP status
 *   bytefreezer_receiver_bytes_total{tenant,dataset}              body bytes received on the wire (accepted)
 *   bytefreezer_receiver_inflated_bytes_total{tenant,dataset}     decompressed bytes of accepted bodies
 *   bytefreezer_receiver_lines_total{tenant,dataset}              lines of accepted bodies
 *   bytefreezer_receiver_store_seconds{tenant,dataset}            latency of the durable write (store or spool)
 *   bytefreezer_receiver_spool_bytes / _spool_max_bytes           spool use (ack: spool)
 *   bytefreezer_receiver_spool_dataset_bytes{tenant,dataset}      spool bytes waiting per dataset
 *   bytefreezer_receiver_spool_uploads_total{result}              background uploads (ok / error)
 *   bytefreezer_receiver_inflight_requests                        requests being received or stored
 * Unknown tenants and datasets are counted under "_unknown" so that a scan cannot create unbounded series.
 * Ownership: borrows the bf_metrics registry, which must outlive it. Thread-safe. */
#ifndef RCV_STATS_H
#define RCV_STATS_H
#include <stdint.h>
#include <jansson.h>
#include "bf_admin.h"
#include "bf_metrics.h"

typedef struct rcv_stats rcv_stats;
int rcv_stats_create(bf_metrics *m, rcv_stats **out);
void rcv_stats_destroy(rcv_stats *s);

void rcv_stats_request(rcv_stats *s, const char *tenant, const char *dataset, int status);
void rcv_stats_accepted(rcv_stats *s, const char *tenant, const char *dataset, uint64_t wire_bytes,
                        uint64_t inflated_bytes, uint64_t lines, double store_seconds);
void rcv_stats_inflight(rcv_stats *s, int delta);
/* Outcome of a store operation (request path, background upload or health ping); rc 0 = success. */
void rcv_stats_store_result(rcv_stats *s, int rc);
/* Is the last store operation a failure? (the main loop then re-checks the store sooner) */
int rcv_stats_store_failing(rcv_stats *s);
void rcv_stats_upload(rcv_stats *s, int rc);
void rcv_stats_spool(rcv_stats *s, uint64_t used, uint64_t max);
/* Spool bytes waiting for one tenant/dataset (bytefreezer_receiver_spool_dataset_bytes). */
void rcv_stats_spool_dataset(rcv_stats *s, const char *tenant, const char *dataset, uint64_t bytes);
/* Set once the data listener runs (health reports unhealthy before). */
void rcv_stats_listening(rcv_stats *s, int up);

/* Health from real state: unhealthy when the data port is not listening; degraded when the last store
 * operation failed or the spool is over 80 % full; else healthy. Adds reasons to detail. */
bf_health rcv_stats_health(void *s, json_t *detail);
#endif
