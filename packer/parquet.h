/* parquet: the packer's Parquet writer (format version 2 footer, data pages v1).
 *
 * Encodings: PLAIN, and RLE_DICTIONARY for string/JSON columns (dictionary page + RLE/bit-packed
 * indices) with a fallback to PLAIN per column chunk when the dictionary stops paying off (high
 * cardinality) or grows past dict_max_bytes. Every column is OPTIONAL (definition levels RLE/bit-packed
 * hybrid). Statistics per column chunk: min_value/max_value (strings as unsigned bytes, truncated to
 * 64 bytes with is_*_exact=false), null_count. Row groups are cut at row_group_bytes of buffered values,
 * pages at page_bytes. Codecs ZSTD, GZIP, SNAPPY (when built with BF_HAVE_SNAPPY), UNCOMPRESSED.
 *
 * Use: create with the columns, then per row call pq_set_* for the non-null fields and pq_end_row;
 * a column not set in a row is null; setting a column twice in one row keeps the first value.
 * pq_writer_finish writes the last row group and the footer.
 * Ownership: the fd is borrowed (written sequentially from offset 0, never closed here); column
 * names and kv strings are copied. Errors: 0 or -EINVAL (bad call), -ENOMEM, -EIO/-errno (write). */
#ifndef PK_PARQUET_H
#define PK_PARQUET_H
#include <stddef.h>
#include <stdint.h>

typedef enum { PQ_BOOL = 0, PQ_INT64, PQ_DOUBLE, PQ_STRING, PQ_JSON, PQ_TIMESTAMP } pq_type;
/* values are the Parquet CompressionCodec numbers */
typedef enum { PQ_CODEC_NONE = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_GZIP = 2, PQ_CODEC_ZSTD = 6 } pq_codec;

/* "zstd" | "gzip" | "snappy" (only when built with it) | "none"/"uncompressed"; -EINVAL otherwise */
int pq_codec_parse(const char *name, pq_codec *out);
const char *pq_codec_name(pq_codec c);
const char *pq_type_name(pq_type t);

typedef struct pq_options {
    pq_codec codec;
    int level;                  /* 0 = codec default (zstd 3, gzip 6) */
    int64_t row_group_bytes;    /* 0 = 64 MiB */
    int64_t page_bytes;         /* 0 = 1 MiB */
    int64_t dict_max_bytes;     /* 0 = 1 MiB */
    int no_dictionary;          /* 1 = PLAIN only */
    const char *created_by;     /* NULL = "bytefreezer-packer" */
} pq_options;

typedef struct pq_coldef { const char *name; pq_type type; } pq_coldef;
typedef struct pq_kv { const char *key; const char *value; } pq_kv;

typedef struct pq_writer pq_writer;

int pq_writer_create(int fd, const pq_options *o, const pq_coldef *cols, size_t ncols, pq_writer **out);
int pq_set_i64(pq_writer *w, size_t col, int64_t v);       /* PQ_INT64, PQ_TIMESTAMP (microseconds) */
int pq_set_double(pq_writer *w, size_t col, double v);
int pq_set_bool(pq_writer *w, size_t col, int v);
int pq_set_bytes(pq_writer *w, size_t col, const void *p, size_t n);   /* PQ_STRING, PQ_JSON */
int pq_end_row(pq_writer *w);
/* Flush and write the footer. kv pairs go to key_value_metadata. *size = file bytes (may be NULL). */
int pq_writer_finish(pq_writer *w, const pq_kv *kv, size_t nkv, uint64_t *size);
void pq_writer_destroy(pq_writer *w);
uint64_t pq_writer_rows(const pq_writer *w);
/* bytes currently buffered for the open row group (for memory accounting) */
uint64_t pq_writer_buffered(const pq_writer *w);

/* RLE/bit-packed hybrid encoding of n values of bit width bw (0..32) appended to out (no length
 * prefix). Exposed for tests and the reader's round-trip checks. */
struct pk_buf;
int pq_rle_encode(struct pk_buf *out, const uint32_t *v, size_t n, int bw);
#endif
