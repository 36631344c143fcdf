/* spool_uploader: ack: spool (DESIGN §6). An accepted body is written to the local spool (temp file +
 * fsync + rename, by bf_spool) before the 200; a background thread uploads entries to the intake store,
 * oldest first, retrying with exponential backoff and full jitter, and removes each entry only after
 * its PUT succeeded. The object key is derived from the body (keys.h), so an upload repeated after a
 * crash overwrites the same object: every acknowledged body ends up in the store exactly once.
 * Spool layout: queue "<tenant>/<dataset>/queue", entry "<recv_ns, 19 digits>-<h16>.<gz|zst>", and the
 * sidecar JSON {"key": "<object key>", "meta": {<object metadata>}}.
 * Ownership: the uploader borrows the spool, store and stats, which must outlive it. */
#ifndef RCV_SPOOL_UPLOADER_H
#define RCV_SPOOL_UPLOADER_H
#include <stddef.h>
#include <stdint.h>
#include "bf_spool.h"
#include "bf_store.h"
#include "stats.h"

/* Write one accepted body: data[0..len), or when data is NULL the first len bytes of fd (a spilled body,
 * copied in chunks). -ENOSPC when the spool quota would be exceeded; other -errno on I/O errors. */
int rcv_spool_put(bf_spool *sp, const char *key, const char *tenant, const char *dataset, int64_t recv_ns,
                  const char *h16, const char *ext, const void *data, int fd, size_t len, const bf_kv *meta,
                  size_t nmeta);

/* bf_spool_validate_fn for bf_spool_open: entries of a ".../queue" queue need a well-formed name, a
 * non-empty body with a gzip or zstd magic, and a sidecar with the key; others are quarantined. */
int rcv_spool_validate(void *ud, const char *queue, const char *name, const char *path);

typedef struct rcv_uploader rcv_uploader;
int rcv_uploader_start(bf_spool *sp, bf_store *st, rcv_stats *stats, int64_t retry_initial_ms,
                       int64_t retry_max_ms, rcv_uploader **out);
/* A new entry was written: upload soon (does not cut short a backoff after a failure). */
void rcv_uploader_kick(rcv_uploader *u);
/* Upload everything now, waiting at most timeout_ms; 0 when the spool queues are empty, else -ETIMEDOUT. */
int rcv_uploader_drain(rcv_uploader *u, int64_t timeout_ms);
/* Stop and join; entries not yet uploaded stay in the spool for the next start. NULL-safe. */
void rcv_uploader_stop(rcv_uploader *u);
#endif
