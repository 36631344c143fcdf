/* thrift: the Thrift compact protocol, just what Parquet metadata needs.
 *
 * Encoder: a writer over a pk_buf with a sticky error (check tc_w.err once at the end) and a stack
 * of "last field id" for the delta-encoded field headers.
 * Decoder: parses one struct into a small tree (tc_val) allocated from an arena owned by tc_doc;
 * bounded depth and element counts so that hostile input fails with -EBADMSG, never crashes.
 * Errors: 0 or -EBADMSG (malformed), -ENOMEM. */
#ifndef PK_THRIFT_H
#define PK_THRIFT_H
#include <stddef.h>
#include <stdint.h>
#include "pkbuf.h"

enum {
    TC_STOP = 0, TC_TRUE = 1, TC_FALSE = 2, TC_BYTE = 3, TC_I16 = 4, TC_I32 = 5, TC_I64 = 6,
    TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9, TC_SET = 10, TC_MAP = 11, TC_STRUCT = 12
};
#define TC_MAXDEPTH 32

typedef struct tc_w {
    pk_buf *b;          /* borrowed */
    int err;
    int depth;
    int16_t last[TC_MAXDEPTH];
} tc_w;

void tc_w_init(tc_w *w, pk_buf *b);
void tc_struct_begin(tc_w *w);             /* a struct as a list element or the top level */
void tc_struct_end(tc_w *w);
void tc_field_i32(tc_w *w, int16_t id, int32_t v);
void tc_field_i64(tc_w *w, int16_t id, int64_t v);
void tc_field_bool(tc_w *w, int16_t id, int v);
void tc_field_i8(tc_w *w, int16_t id, int8_t v);
void tc_field_i16(tc_w *w, int16_t id, int16_t v);
void tc_field_bin(tc_w *w, int16_t id, const void *p, size_t n);
void tc_field_str(tc_w *w, int16_t id, const char *s);
void tc_field_struct(tc_w *w, int16_t id);  /* header + begin; close with tc_struct_end */
void tc_field_list(tc_w *w, int16_t id, int etype, uint32_t n);
void tc_elem_i32(tc_w *w, int32_t v);
void tc_elem_bin(tc_w *w, const void *p, size_t n);
/* Varint helpers (also used for the RLE hybrid headers). */
void tc_uvarint(tc_w *w, uint64_t v);

/* ---- decoder ---- */
typedef struct tc_val tc_val;
struct tc_val {
    uint8_t type;        /* TC_* (TC_TRUE for a bool value; .i holds 0/1) */
    uint8_t etype;       /* list element type */
    int16_t id;          /* field id inside a struct */
    uint32_t n;          /* binary length, list count or struct field count */
    union {
        int64_t i;
        double d;
        const uint8_t *bin;   /* points into the decoded input */
        tc_val *kids;         /* list elements or struct fields */
    } u;
};

typedef struct tc_doc {
    tc_val root;          /* a struct */
    size_t used;          /* bytes consumed from the input */
    void *arena;          /* owned; tc_doc_free */
} tc_doc;

/* Parse one struct from p[0..len). max_nodes bounds the tree size (0 = 1,000,000). */
int tc_parse(const uint8_t *p, size_t len, size_t max_nodes, tc_doc *out);
void tc_doc_free(tc_doc *d);
/* Field lookup in a struct value; NULL when absent. */
const tc_val *tc_get(const tc_val *st, int16_t id);
int64_t tc_get_int(const tc_val *st, int16_t id, int64_t def);
#endif
