/* pqread: a small Parquet reader for files this writer produces (flat schemas, OPTIONAL or REQUIRED
 * leaves, data pages v1, PLAIN / RLE_DICTIONARY / PLAIN_DICTIONARY, codecs none/zstd/gzip/snappy).
 * Used by --inspect, the tests and the fuzz target. Hostile files fail with -EBADMSG, never crash:
 * every size is checked against the file and against max_chunk.
 * Ownership: pqr_file owns its fd and metadata; pqr_column owns its arrays (pqr_column_free). */
#ifndef PK_PQREAD_H
#define PK_PQREAD_H
#include <stddef.h>
#include <stdint.h>
#include "parquet.h"
#include "thrift.h"

typedef struct pqr_col {
    char name[256];
    int phys;            /* parquet physical type */
    int repetition;
    int converted;       /* -1 none */
    int logical;         /* LogicalType union field id, 0 none */
    pq_type type;        /* mapped logical type (best effort) */
} pqr_col;

typedef struct pqr_file {
    int fd;
    uint64_t size;
    uint8_t *footer;
    tc_doc meta;
    pqr_col *cols;
    size_t ncols;
    int64_t nrows;
    size_t nrg;
    const tc_val *rgs;      /* list elements (RowGroup structs) */
    const char *created_by; /* not NUL-terminated: created_by_len */
    size_t created_by_len;
    uint64_t max_chunk;
} pqr_file;

typedef struct pqr_column {
    size_t n;               /* rows */
    uint8_t *defined;       /* per row: 1 = value present */
    int64_t *i64;           /* INT64/TIMESTAMP and BOOLEAN (0/1) */
    double *f64;
    uint32_t *off, *len;    /* byte arrays: into bytes */
    uint8_t *bytes;
    size_t nbytes, capbytes;
} pqr_column;

int pqr_open(const char *path, pqr_file **out);
void pqr_close(pqr_file *f);
/* key_value_metadata lookup; returns length or -ENOENT; value not NUL-terminated. */
int pqr_kv(const pqr_file *f, const char *key, const char **val);
int64_t pqr_rg_rows(const pqr_file *f, size_t rg);
/* ColumnMetaData of (rg, col) or NULL */
const tc_val *pqr_chunk_meta(const pqr_file *f, size_t rg, size_t col);
/* Decode one column chunk completely. */
int pqr_read_column(pqr_file *f, size_t rg, size_t col, pqr_column *out);
void pqr_column_free(pqr_column *c);
/* RLE/bit-packed hybrid decoder: n values of width bw from p[0..len). 0 or -EBADMSG. */
int pqr_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n);
#endif
