/* forwarder: uploads spooled batches to the receiver (DESIGN §5.2, original-proxy §4 wire contract):
 *   POST <url>/<tenant>/<dataset>, Authorization: Bearer <tenant token>, Content-Encoding gzip|zstd,
 *   Content-Type application/octet-stream, X-Proxy-Filename, X-Proxy-Batch-ID, X-Proxy-Line-Count,
 *   X-Proxy-Original-Bytes (uncompressed), X-Proxy-Created-At (RFC 3339 seal time), X-Proxy-Data-Hint.
 * 2xx -> delete; 413 -> split in halves (written to retry/, sent first); other 4xx except 408/429 -> dlq;
 * 408/429/5xx/network -> retry/ with exponential backoff + jitter (Retry-After honoured), never dropped.
 * Per dataset the oldest entry (queue/ and retry/ merged by name time) is sent first and only one
 * upload is in flight, so batch order is kept; datasets upload concurrently up to `concurrency`, over
 * keep-alive connections (one curl multi handle driven by uv_poll/uv_timer on the loop).
 * Threads: everything on the loop thread except forwarder_rescan and forwarder_last_result.
 * Ownership: borrows loop, spool, metrics; the token callback's result is copied. */
#ifndef PROXY_FORWARDER_H
#define PROXY_FORWARDER_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "bf_codec.h"
#include "bf_metrics.h"
#include "bf_spool.h"

typedef struct forwarder forwarder;

/* Copy the tenant's upload token into buf; 0, or -ENOENT when the tenant has none / is unknown. */
typedef int (*fwd_token_fn)(void *ud, const char *tenant, char *buf, size_t cap);

typedef struct fwd_opts {
    const char *url;
    int concurrency;
    int64_t timeout_ms;
    int64_t retry_initial_ms, retry_max_ms;
    uint64_t dlq_max_bytes;
    int level;                 /* for re-compressing split halves */
    uint64_t memory_bytes;     /* bodies of just-spooled batches kept for their first upload, total */
} fwd_opts;

int forwarder_create(uv_loop_t *loop, const fwd_opts *o, bf_spool *spool, bf_metrics *m, fwd_token_fn token,
                     void *token_ud, forwarder **out);
/* Cancels uploads in flight (their batches stay spooled), closes handles, frees. */
void forwarder_destroy(forwarder *f);
/* Index every queue/ and retry/ entry in the spool (start, and after a DLQ replay). */
int forwarder_load(forwarder *f);
/* A batch just became durable in <tenant>/<dataset>/queue. body (may be NULL) is the file's content:
 * the forwarder takes it (malloc'd) and sends it on the first attempt instead of reading the file back,
 * while the kept bodies total at most memory_bytes (otherwise it is freed at once). */
void forwarder_add(forwarder *f, const char *tenant, const char *dataset, const char *name, int64_t lines,
                   int64_t orig_bytes, int64_t created_ms, char *body, size_t body_len);
/* For each indexed dataset: the end of the name-time interval of its newest entry (so that new batches,
 * even after the wall clock stepped back, are named after everything already queued). */
void forwarder_each_tail(forwarder *f, void (*cb)(void *ud, const char *tenant, const char *dataset, int64_t end_ns),
                         void *ud);
/* Any thread: re-index the spool on the loop soon (after a DLQ replay). */
void forwarder_rescan(forwarder *f);
/* Any thread: 1 last upload reached the receiver (any HTTP answer but 5xx), -1 it failed, 0 none yet. */
int forwarder_last_result(forwarder *f);
/* Entries waiting (queue + retry) and uploads in flight. */
size_t forwarder_backlog(forwarder *f);
size_t forwarder_inflight(forwarder *f);
#endif
