/* ingest: the receiver's data port (DESIGN §6) on libmicrohttpd, one thread per connection:
 *   POST /<tenant>/<dataset>, POST /webhook/<tenant>/<dataset>  -> verify (body.h) and make durable
 *   GET  /health                                                -> {"status":"ok","service":"webhook"}
 * Checks in this order: tenant unknown/inactive 410 -> token missing/wrong 401 (constant time; token
 * characters are never logged) -> dataset unknown/inactive 400 -> Content-Length over max_body_bytes 413;
 * then while streaming: body over max_body_bytes 413, inflated size/ratio 413, corrupt/truncated 400,
 * empty 400; then the durable write: ack store = PUT to store.intake, ack spool = fsync'd spool entry;
 * failure or full spool -> 503 with Retry-After; success -> 200 {"status":"ok","key":…,"lines":N}.
 * Slow clients: a watchdog cuts any connection whose request (headers + body) has not fully arrived
 * within read_timeout (libmicrohttpd's own timeout only catches idle connections, not trickles).
 * Ownership: borrows everything in rcv_ingest_deps, which must outlive the server. */
#ifndef RCV_INGEST_H
#define RCV_INGEST_H
#include <stddef.h>
#include <stdint.h>
#include "bf_spool.h"
#include "bf_store.h"
#include "bf_tenants.h"
#include "config.h"
#include "spool_uploader.h"
#include "stats.h"

typedef struct rcv_ingest_deps {
    const rcv_config *cfg;
    bf_tenants *tenants;
    bf_store *store;              /* the intake store (ack: store writes here) */
    bf_spool *spool;              /* ack: spool only, else NULL */
    rcv_uploader *uploader;       /* ack: spool only, else NULL */
    rcv_stats *stats;
    bf_metrics *metrics;
    const char *instance;         /* receiver-instance metadata */
} rcv_ingest_deps;

typedef struct rcv_ingest rcv_ingest;
/* Bind cfg->listen and start serving. -EADDRINUSE etc. with a message in err. */
int rcv_ingest_start(const rcv_ingest_deps *deps, rcv_ingest **out, char *err, size_t errlen);
int rcv_ingest_port(const rcv_ingest *g);
/* Stop accepting new connections; requests in progress continue. */
void rcv_ingest_quiesce(rcv_ingest *g);
/* Wait until no request is in progress: 0, or -ETIMEDOUT after timeout_ms. */
int rcv_ingest_wait_idle(rcv_ingest *g, int64_t timeout_ms);
/* Close every connection and free. NULL-safe. */
void rcv_ingest_stop(rcv_ingest *g);
#endif
