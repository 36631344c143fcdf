/* pkbuf: the packer's growable byte buffer for hot paths (no NUL upkeep, inline appends).
 * Ownership: the caller owns the struct; pk_buf_free releases the data. Appends return 0 or -ENOMEM. */
#ifndef PK_BUF_H
#define PK_BUF_H
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pk_buf {
    uint8_t *p;
    size_t n, cap;
} pk_buf;

static inline void pk_buf_free(pk_buf *b) { free(b->p); b->p = NULL; b->n = b->cap = 0; }

static inline int pk_buf_grow(pk_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->n)
        return -ENOMEM;
    size_t need = b->n + extra;
    if (need <= b->cap)
        return 0;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need)
        nc *= 2;
    uint8_t *q = realloc(b->p, nc);
    if (!q)
        return -ENOMEM;
    b->p = q;
    b->cap = nc;
    return 0;
}

static inline int pk_buf_put(pk_buf *b, const void *d, size_t n)
{
    if (b->cap - b->n < n && pk_buf_grow(b, n) < 0)
        return -ENOMEM;
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
    return 0;
}

static inline int pk_buf_u8(pk_buf *b, uint8_t v)
{
    if (b->n == b->cap && pk_buf_grow(b, 1) < 0)
        return -ENOMEM;
    b->p[b->n++] = v;
    return 0;
}

static inline int pk_buf_le32(pk_buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    return pk_buf_put(b, x, 4);
}
#endif
