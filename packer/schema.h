/* schema: column inference for one output file.
 * Each column has a kind; a file's column kind is the join of its values' kinds:
 *   int -> double -> string widening, bool, time (RFC 3339 strings, or numbers/strings of a designated
 *   time field such as BfTs), json (objects and arrays; numbers and bools join it as JSON text),
 *   string ∨ json = string (objects kept as their JSON text). Only nulls -> string.
 * Columns keep first-seen order; the caller adds BfTs first.
 * Ownership: pk_schema owns its names. Errors: 0 / index, or -ENOMEM, -E2BIG (column cap). */
#ifndef PK_SCHEMA_H
#define PK_SCHEMA_H
#include <stddef.h>
#include <stdint.h>
#include "jscan.h"
#include "parquet.h"

typedef enum { PK_K_NONE = 0, PK_K_BOOL, PK_K_INT, PK_K_DOUBLE, PK_K_TIME, PK_K_STRING, PK_K_JSON, PK_K__N } pk_kind;

pk_kind pk_kind_join(pk_kind a, pk_kind b);
pq_type pk_kind_pqtype(pk_kind k);
const char *pk_kind_name(pk_kind k);

typedef struct pk_scol {
    char *name;
    uint32_t len;
    uint32_t hash;
    pk_kind kind;
    int is_time;        /* designated time field: numbers are epoch (s/ms/µs/ns by magnitude) */
} pk_scol;

typedef struct pk_schema {
    pk_scol *cols;
    uint32_t n, cap;
    uint32_t *slots;    /* open addressing: index + 1 */
    uint32_t mask;
} pk_schema;

uint32_t pk_hash(const char *p, size_t n);
void pk_schema_free(pk_schema *s);
int pk_schema_find(const pk_schema *s, const char *name, size_t len, uint32_t hash);   /* -1 when absent */
int pk_schema_add(pk_schema *s, const char *name, size_t len, uint32_t hash, int is_time);
/* The schema as JSON text [{"name":…,"type":…},…] into out. */
int pk_schema_json(const pk_schema *s, pk_buf *out);

/* Kind of one value for a column currently of kind cur (strings are only parsed as time when
 * that can still matter). */
pk_kind pk_classify(js_scanner *js, const js_field *f, pk_kind cur, int is_time);

/* RFC 3339 date-time -> Unix µs. require_zone: reject strings without Z/offset (else UTC).
 * Accepts 'T', 't' or ' ' as separator and up to 9 fraction digits. 0 or -EINVAL. */
int pk_parse_time(const char *s, size_t n, int require_zone, int64_t *us);
/* Epoch number of unknown unit -> µs: |v| < 1e11 s, < 1e14 ms, < 1e17 µs, else ns. */
int64_t pk_epoch_us(int64_t v);
int pk_epoch_us_double(double v, int64_t *us);   /* -ERANGE when out of range / not finite */
#endif
