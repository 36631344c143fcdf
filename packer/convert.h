/* convert: NDJSON -> Parquet files, one per event-time partition, in bounded memory.
 *
 * Pass 1 (pk_conv_feed): lines are validated with jscan, routed by event time (time_field, else BfTs,
 * else the input's receive time) to their partition's spill: memory while spill_memory lasts, then an
 * anonymous file in spill_dir (O_TMPFILE, never left behind); and merged into that partition's schema. Records without BfTs get
 * BfTs = receive time (ms) injected as their first member. Lines that are not JSON objects (or longer
 * than max_line_bytes) are kept as {"BfTs":…, "_unparsed":"<line>"} and counted, never dropped.
 * A key repeated within one record keeps its first non-null value.
 * Beyond max_columns distinct keys, further keys go into one JSON column "_overflow".
 * Pass 2 (pk_conv_finish): each partition's spill is re-read and written as Parquet with the final
 * schema, row group by row group; the callback receives the local file (deleted after it returns).
 * Memory: spill_memory + row_group_bytes + dictionaries + 8 MiB buffers + 256 KiB per spilled partition.
 * Ownership: pk_conv owns its files and buffers; strings in opts are copied where kept.
 * Errors: 0 or -errno (-EIO write failures, -ENOMEM); a callback's negative return aborts finish. */
#ifndef PK_CONVERT_H
#define PK_CONVERT_H
#include <stddef.h>
#include <stdint.h>
#include "parquet.h"
#include "partition.h"

typedef struct pk_conv_opts {
    const char *spill_dir;
    const char *time_field;      /* NULL/"" = BfTs */
    pk_partitioning partitioning;
    pq_options pq;
    int64_t max_line_bytes;      /* 0 = 16 MiB */
    uint32_t max_columns;        /* 0 = 2000 */
    uint32_t max_partitions;     /* 0 = 256; later partitions' records join the first partition */
    uint64_t spill_memory;       /* pass-1 lines kept in memory (all partitions) before spilling to disk */
    const pq_kv *kv;             /* extra key_value_metadata (copied at create) */
    size_t nkv;
} pk_conv_opts;

typedef struct pk_part_out {
    const char *partition;       /* "year=2026/month=11/day=27" or "" */
    const char *path;            /* local Parquet file */
    uint64_t rows, bytes;
    int64_t min_us, max_us;      /* event-time range */
    size_t index, count;         /* position in partition order (sorted by path) */
} pk_part_out;
typedef int (*pk_part_cb)(void *ud, const pk_part_out *p);

typedef struct pk_conv_stats {
    uint64_t lines, invalid, bytes_in, overflow_fields, partitions;
} pk_conv_stats;

typedef struct pk_conv pk_conv;

int pk_conv_create(const pk_conv_opts *o, pk_conv **out);
/* Receive time (Unix ms) for the lines of the input that follows. */
void pk_conv_set_recv_ms(pk_conv *c, int64_t ms);
int pk_conv_feed(pk_conv *c, const void *data, size_t len);
/* End of one input object: a last line without '\n' is completed. */
int pk_conv_end_input(pk_conv *c);
int pk_conv_finish(pk_conv *c, pk_part_cb cb, void *ud);
void pk_conv_get_stats(const pk_conv *c, pk_conv_stats *st);
void pk_conv_destroy(pk_conv *c);
#endif
