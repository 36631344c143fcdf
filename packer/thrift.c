/* thrift: Thrift compact protocol encoder and bounded tree decoder (see thrift.h). */
#include "thrift.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- encoder ---------------- */

void tc_w_init(tc_w *w, pk_buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

static void put_u8(tc_w *w, uint8_t v)
{
    if (!w->err && pk_buf_u8(w->b, v) < 0)
        w->err = -ENOMEM;
}

static void put_bytes(tc_w *w, const void *p, size_t n)
{
    if (!w->err && pk_buf_put(w->b, p, n) < 0)
        w->err = -ENOMEM;
}

void tc_uvarint(tc_w *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put_bytes(w, tmp, n);
}

static void zigzag(tc_w *w, int64_t v)
{
    tc_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Field header: the id is delta-encoded against the previous field of the same struct when the
 * delta fits in 4 bits, else written in full as a zigzag varint. */
static void field_header(tc_w *w, int16_t id, int type)
{
    if (w->depth < 0 || w->depth >= TC_MAXDEPTH) {
        w->err = -EINVAL;
        return;
    }
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        put_u8(w, (uint8_t)(delta << 4 | type));
    } else {
        put_u8(w, (uint8_t)type);
        zigzag(w, id);
    }
    w->last[w->depth] = id;
}

void tc_struct_begin(tc_w *w)
{
    if (w->depth + 1 >= TC_MAXDEPTH) {
        w->err = -EINVAL;
        return;
    }
    w->last[++w->depth] = 0;
}

void tc_struct_end(tc_w *w)
{
    put_u8(w, TC_STOP);
    if (w->depth > 0)
        w->depth--;
}

void tc_field_i32(tc_w *w, int16_t id, int32_t v) { field_header(w, id, TC_I32); zigzag(w, v); }
void tc_field_i64(tc_w *w, int16_t id, int64_t v) { field_header(w, id, TC_I64); zigzag(w, v); }
void tc_field_bool(tc_w *w, int16_t id, int v) { field_header(w, id, v ? TC_TRUE : TC_FALSE); }
void tc_field_i16(tc_w *w, int16_t id, int16_t v) { field_header(w, id, TC_I16); zigzag(w, v); }
void tc_field_i8(tc_w *w, int16_t id, int8_t v) { field_header(w, id, TC_BYTE); put_u8(w, (uint8_t)v); }

void tc_field_bin(tc_w *w, int16_t id, const void *p, size_t n)
{
    field_header(w, id, TC_BINARY);
    tc_uvarint(w, n);
    put_bytes(w, p, n);
}

void tc_field_str(tc_w *w, int16_t id, const char *s) { tc_field_bin(w, id, s, strlen(s)); }

void tc_field_struct(tc_w *w, int16_t id)
{
    field_header(w, id, TC_STRUCT);
    tc_struct_begin(w);
}

void tc_field_list(tc_w *w, int16_t id, int etype, uint32_t n)
{
    field_header(w, id, TC_LIST);
    if (n < 15) {
        put_u8(w, (uint8_t)(n << 4 | etype));
    } else {
        put_u8(w, (uint8_t)(0xF0 | etype));
        tc_uvarint(w, n);
    }
}

void tc_elem_i32(tc_w *w, int32_t v) { zigzag(w, v); }

void tc_elem_bin(tc_w *w, const void *p, size_t n)
{
    tc_uvarint(w, n);
    put_bytes(w, p, n);
}

/* ---------------- decoder ---------------- */

typedef struct arena_blk { struct arena_blk *next; } arena_blk;

typedef struct rd {
    const uint8_t *p;
    size_t len, pos;
    size_t nodes, max_nodes;
    arena_blk *blocks;
} rd;

static void *arena_alloc(rd *r, size_t bytes)
{
    arena_blk *b = malloc(sizeof(arena_blk) + bytes);
    if (!b)
        return NULL;
    b->next = r->blocks;
    r->blocks = b;
    return b + 1;
}

static int rd_u8(rd *r, uint8_t *v)
{
    if (r->pos >= r->len)
        return -EBADMSG;
    *v = r->p[r->pos++];
    return 0;
}

static int rd_varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (rd_u8(r, &b) < 0)
            return -EBADMSG;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -EBADMSG;
}

static int rd_zigzag(rd *r, int64_t *v)
{
    uint64_t u;
    if (rd_varint(r, &u) < 0)
        return -EBADMSG;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

static int rd_value(rd *r, tc_val *v, int type, int depth);

static int rd_list(rd *r, tc_val *v, int depth)
{
    uint8_t h;
    if (rd_u8(r, &h) < 0)
        return -EBADMSG;
    uint64_t n = h >> 4;
    if (n == 15 && rd_varint(r, &n) < 0)
        return -EBADMSG;
    /* every element takes at least one byte: a count beyond the input is a lie */
    if (n > r->len - r->pos || n > r->max_nodes - r->nodes)
        return -EBADMSG;
    v->etype = h & 0x0F;
    v->n = (uint32_t)n;
    v->u.kids = NULL;
    if (!n)
        return 0;
    v->u.kids = arena_alloc(r, n * sizeof(tc_val));
    if (!v->u.kids)
        return -ENOMEM;
    r->nodes += n;
    for (uint64_t i = 0; i < n; i++) {
        tc_val *e = &v->u.kids[i];
        memset(e, 0, sizeof(*e));
        int et = v->etype;
        if (et == TC_TRUE || et == TC_FALSE) {   /* bools in lists are one byte each */
            uint8_t b;
            if (rd_u8(r, &b) < 0)
                return -EBADMSG;
            e->type = TC_TRUE;
            e->u.i = b == 1;
            continue;
        }
        int rc = rd_value(r, e, et, depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int rd_struct(rd *r, tc_val *v, int depth)
{
    size_t cap = 8, n = 0;
    tc_val *tmp = malloc(cap * sizeof(tc_val));
    if (!tmp)
        return -ENOMEM;
    int16_t last = 0;
    int rc = 0;
    for (;;) {
        uint8_t h;
        if ((rc = rd_u8(r, &h)) < 0)
            break;
        if (h == TC_STOP)
            break;
        int type = h & 0x0F;
        int16_t id;
        if (h >> 4) {
            id = (int16_t)(last + (h >> 4));
        } else {
            int64_t z;
            if ((rc = rd_zigzag(r, &z)) < 0)
                break;
            id = (int16_t)z;
        }
        last = id;
        if (r->nodes >= r->max_nodes) {
            rc = -EBADMSG;
            break;
        }
        r->nodes++;
        if (n == cap) {
            tc_val *q = realloc(tmp, cap * 2 * sizeof(tc_val));
            if (!q) {
                rc = -ENOMEM;
                break;
            }
            tmp = q;
            cap *= 2;
        }
        tc_val *f = &tmp[n++];
        memset(f, 0, sizeof(*f));
        f->id = id;
        if (type == TC_TRUE || type == TC_FALSE) {
            f->type = TC_TRUE;
            f->u.i = type == TC_TRUE;
            continue;
        }
        if ((rc = rd_value(r, f, type, depth + 1)) < 0)
            break;
    }
    if (rc == 0) {
        v->type = TC_STRUCT;
        v->n = (uint32_t)n;
        v->u.kids = NULL;
        if (n) {
            v->u.kids = arena_alloc(r, n * sizeof(tc_val));
            if (!v->u.kids)
                rc = -ENOMEM;
            else
                memcpy(v->u.kids, tmp, n * sizeof(tc_val));
        }
    }
    free(tmp);
    return rc;
}

static int rd_value(rd *r, tc_val *v, int type, int depth)
{
    if (depth > TC_MAXDEPTH)
        return -EBADMSG;
    v->type = (uint8_t)type;
    switch (type) {
    case TC_BYTE: {
        uint8_t b;
        if (rd_u8(r, &b) < 0)
            return -EBADMSG;
        v->u.i = (int8_t)b;
        return 0;
    }
    case TC_I16:
    case TC_I32:
    case TC_I64:
        return rd_zigzag(r, &v->u.i);
    case TC_DOUBLE:
        if (r->len - r->pos < 8)
            return -EBADMSG;
        memcpy(&v->u.d, r->p + r->pos, 8);
        r->pos += 8;
        return 0;
    case TC_BINARY: {
        uint64_t n;
        if (rd_varint(r, &n) < 0 || n > r->len - r->pos)
            return -EBADMSG;
        v->n = (uint32_t)n;
        v->u.bin = r->p + r->pos;
        r->pos += n;
        return 0;
    }
    case TC_LIST:
    case TC_SET:
        return rd_list(r, v, depth);
    case TC_STRUCT:
        return rd_struct(r, v, depth);
    default:   /* maps never occur in Parquet metadata */
        return -EBADMSG;
    }
}

int tc_parse(const uint8_t *p, size_t len, size_t max_nodes, tc_doc *out)
{
    rd r = { .p = p, .len = len, .max_nodes = max_nodes ? max_nodes : 1000000 };
    memset(out, 0, sizeof(*out));
    int rc = rd_struct(&r, &out->root, 0);
    out->arena = r.blocks;
    out->used = r.pos;
    if (rc < 0) {
        tc_doc_free(out);
        return rc;
    }
    return 0;
}

void tc_doc_free(tc_doc *d)
{
    arena_blk *b = d->arena;
    while (b) {
        arena_blk *n = b->next;
        free(b);
        b = n;
    }
    d->arena = NULL;
}

const tc_val *tc_get(const tc_val *st, int16_t id)
{
    if (!st || st->type != TC_STRUCT)
        return NULL;
    for (uint32_t i = 0; i < st->n; i++)
        if (st->u.kids[i].id == id)
            return &st->u.kids[i];
    return NULL;
}

int64_t tc_get_int(const tc_val *st, int16_t id, int64_t def)
{
    const tc_val *v = tc_get(st, id);
    if (!v || v->type == TC_BINARY || v->type == TC_LIST || v->type == TC_STRUCT || v->type == TC_DOUBLE)
        return def;
    return v->u.i;
}
