/* batcher: per (tenant, dataset) open batches of NDJSON records, sealed at max_bytes / max_records /
 * max_age, compressed and written to the spool queue in the libuv thread pool, strictly in seal order
 * per dataset (one write in flight per dataset), before anything is uploaded.
 *
 * Threads: batcher_append/flush/wait/pressure/note_drop may be called from any thread (UDP receive
 * threads, HTTP input threads); everything else runs on the loop thread. A sealed batch whose spool
 * write fails (quota -ENOSPC, disk error) stays in memory and is retried in order; while sealed data
 * waits, batcher_pressure() is true so inputs hold back (TCP stops reading, HTTP 503, UDP drops).
 * Ownership: streams live as long as the batcher; the batcher borrows loop, spool and metrics. */
#ifndef PROXY_BATCHER_H
#define PROXY_BATCHER_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "bf_codec.h"
#include "bf_metrics.h"
#include "bf_spool.h"

typedef struct batcher batcher;
typedef struct bstream bstream;

typedef struct batcher_opts {
    size_t max_bytes;
    size_t max_records;
    int64_t max_age_ms;
    bf_codec codec;
    int level;
    size_t max_pending;      /* sealed-but-unwritten bytes before pressure */
    size_t raw_backlog;      /* other sealed bytes waiting at which a batch is spooled uncompressed; 0 never */
    const char *hint;        /* data hint in names, "ndjson" */
    int fast_level;          /* zstd level from raw_backlog / 4 of backlog; 0 never */
} batcher_opts;

/* Called on the loop thread after a batch is durable in <tenant>/<dataset>/queue. body holds the bytes
 * written (body_len = comp_bytes); the callback may take it (malloc'd: set body to NULL), otherwise the
 * batcher frees it when the callback returns. */
typedef struct batcher_spooled {
    const char *tenant, *dataset, *name;
    int64_t lines, orig_bytes, comp_bytes, created_ms;
    char *body;
    size_t body_len;
} batcher_spooled;
typedef void (*batcher_spooled_fn)(void *ud, batcher_spooled *b);

int batcher_create(uv_loop_t *loop, const batcher_opts *o, bf_spool *spool, bf_metrics *m,
                   batcher_spooled_fn cb, void *ud, batcher **out);
/* Closes the loop handles and frees everything (runs the loop until the handles are closed).
 * Data still unwritten is lost: call batcher_seal_all and wait for batcher_idle first. */
void batcher_destroy(batcher *b);

/* Get or create the stream of a dataset. NULL on allocation failure. */
bstream *batcher_stream(batcher *b, const char *tenant, const char *dataset);
/* Append complete records ('\n'-terminated NDJSON). *seq (optional) receives the sequence number of
 * the batch that holds them, for batcher_wait. 0 or -ENOMEM. */
int batcher_append(bstream *s, const char *data, size_t len, size_t records, uint64_t *seq);
void batcher_flush(bstream *s);                   /* seal the open batch now (if any) */
/* New batches of this stream get names after ns (entries already spooled, whatever the clock says). */
void batcher_floor_ns(bstream *s, int64_t ns);
/* Wait until batch seq is in the spool: 0, or -ETIMEDOUT. */
int batcher_wait(bstream *s, uint64_t seq, int64_t timeout_ms);
/* Count records dropped by a UDP input because of pressure (metrics + health). */
void batcher_note_drop(bstream *s, uint64_t n);

int batcher_pressure(batcher *b);                 /* 1 when inputs must hold back */
int64_t batcher_last_drop_ms(batcher *b);         /* wall time of the last counted drop, 0 = never */
uint64_t batcher_pending_bytes(batcher *b);
void batcher_seal_all(batcher *b);                /* loop thread (SIGTERM) */
int batcher_idle(batcher *b);                     /* 1 when nothing is open, sealed or being written */
#endif
