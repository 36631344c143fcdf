/* worker: processes one intake object as a stream, with memory bounded whatever the object size:
 *   store GET (chunks) → decode (gzip/zstd/identity by magic) → split lines (cut at max_line, tagged
 *   _line_truncated) → parse (dataset format) → pipeline → serialise (NDJSON, BfTs added when absent)
 *   → encode (output codec) into a temp file → PUT to store.piper with metadata.
 * ndjson with an empty pipeline takes a fast path that validates each line with a scanner and passes
 * it through textually (no DOM). The output key derives from the input key, so reprocessing after a
 * crash overwrites instead of duplicating. The caller deletes the input after success.
 * Thread-safe for distinct jobs; each thread passes its own rx_scratch. */
#ifndef PIPER_WORKER_H
#define PIPER_WORKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"
#include "bf_codec.h"
#include "bf_store.h"
#include "formats.h"
#include "pipeline.h"

typedef struct wk_job {
    bf_store *in, *out;
    const char *key;              /* intake key: tenant/dataset/name */
    const char *tenant, *dataset;
    const fmt *format;
    const pipeline *pl;           /* compiled pipeline (may be empty) */
    const char *pipeline_version;
    pl_env *env;
    bf_codec out_codec;
    int out_level;
    size_t max_line;
    uint64_t max_object;          /* decompressed bytes limit */
    const char *tmp_dir;
    rx_scratch *rx;
    int (*tick)(void *ud);        /* called every tick_ms while working (lease renewal); non-zero aborts */
    int64_t tick_ms;              /* 0 = 5 s */
    void *tick_ud;
} wk_job;

typedef struct wk_stats {
    uint64_t lines, in, out, dropped, errors, truncated;
    uint64_t bytes_in, bytes_plain, bytes_out;
    char out_key[1024];
    char err[256];
} wk_stats;

/* 0 on success (output written), -ENOENT when the input vanished (someone else finished it),
 * other negative errno on failure with st->err set. */
int wk_process(const wk_job *j, wk_stats *st);

/* "t/d/t--d--<ns>--<hint>--<h>.zst" → "t/d/t--d--<ns>--<hint>--<h>--ndjson.<ext of c>". */
int wk_output_key(const char *in_key, bf_codec c, char *out, size_t outlen);
/* Receive time from the key's <unix_ns> part (ms), or -1. */
int64_t wk_key_time_ms(const char *key);

/* In-memory variant used by the test API and the benchmark: lines in, NDJSON appended to out. */
typedef struct wk_mem {
    const fmt *format;
    const pipeline *pl;
    pl_env *env;
    rx_scratch *rx;
    const char *tenant, *dataset;
    size_t max_line;
    int64_t recv_ms;
    pl_trace_fn trace;
    void *trace_ud;
} wk_mem;
int wk_process_buffer(const wk_mem *m, const char *data, size_t len, bf_buf *out, wk_stats *st);
#endif
