/* parquet: Parquet writer (see parquet.h). The physical layout follows the Apache Parquet format
 * specification (parquet.thrift); metadata is serialised with the Thrift compact protocol. */
#include "parquet.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#ifdef BF_HAVE_SNAPPY
#include <snappy-c.h>
#endif

#include "pkbuf.h"
#include "thrift.h"

/* parquet.thrift enums */
enum { T_BOOLEAN = 0, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 };
enum { E_PLAIN = 0, E_RLE = 3, E_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICT = 2 };
enum { REP_OPTIONAL = 1 };
#define STAT_TRUNC 64
#define DICT_PROBE_VALUES 8192     /* look at cardinality after this many values */

/* per logical type: physical type, converted type (-1 none), logical type union field (0 none) */
typedef struct type_info { const char *name; int phys; int converted; int logical; int width; } type_info;
static const type_info TYPES[] = {
    [PQ_BOOL] = { "BOOLEAN", T_BOOLEAN, -1, 0, 1 },
    [PQ_INT64] = { "INT64", T_INT64, 18 /* INT_64 */, 10 /* INTEGER */, 8 },
    [PQ_DOUBLE] = { "DOUBLE", T_DOUBLE, -1, 0, 8 },
    [PQ_STRING] = { "STRING", T_BYTE_ARRAY, 0 /* UTF8 */, 1 /* STRING */, 0 },
    [PQ_JSON] = { "JSON", T_BYTE_ARRAY, 19 /* JSON */, 12 /* JSON */, 0 },
    [PQ_TIMESTAMP] = { "TIMESTAMP", T_INT64, 10 /* TIMESTAMP_MICROS */, 8 /* TIMESTAMP */, 8 },
};

typedef struct codec_row { const char *name; pq_codec c; } codec_row;
static const codec_row CODECS[] = {
    { "zstd", PQ_CODEC_ZSTD }, { "gzip", PQ_CODEC_GZIP },
#ifdef BF_HAVE_SNAPPY
    { "snappy", PQ_CODEC_SNAPPY },
#endif
    { "none", PQ_CODEC_NONE }, { "uncompressed", PQ_CODEC_NONE },
};

int pq_codec_parse(const char *name, pq_codec *out)
{
    for (size_t i = 0; i < sizeof(CODECS) / sizeof(CODECS[0]); i++)
        if (name && !strcasecmp(name, CODECS[i].name)) {
            *out = CODECS[i].c;
            return 0;
        }
    return -EINVAL;
}

const char *pq_codec_name(pq_codec c)
{
    for (size_t i = 0; i < sizeof(CODECS) / sizeof(CODECS[0]); i++)
        if (CODECS[i].c == c)
            return CODECS[i].name;
    return "?";
}

const char *pq_type_name(pq_type t) { return (unsigned)t <= PQ_TIMESTAMP ? TYPES[t].name : "?"; }

/* ---------------- dictionary ---------------- */

typedef struct pq_dict {
    pk_buf arena;       /* PLAIN encoded entries: the dictionary page body */
    uint32_t *off;      /* entry -> arena offset */
    uint32_t *hash;     /* entry -> hash */
    uint32_t n, cap;
    uint32_t *slots;    /* open addressing: entry + 1, 0 = empty */
    uint32_t mask;
} pq_dict;

typedef struct pq_col {
    char *name;
    pq_type type;
    uint64_t *bits;      /* definition bitmap of the open row group: bit r set = row r not null */
    size_t nwords;
    size_t nvals;        /* non-null values in the open row group */
    size_t last_row;     /* row of the last set + 1 (0 = none): duplicate detection */
    pk_buf vals;         /* PLAIN values (fixed width, bool bytes, or len-prefixed bytes) */
    uint32_t *idx;       /* dictionary indices */
    size_t idx_cap;
    bool dict_mode;
    pq_dict d;
} pq_col;

struct pq_writer {
    int fd;
    pq_options o;
    pq_col *cols;
    size_t ncols;
    pk_buf out;          /* write buffer */
    uint64_t off;        /* file offset of out.p[0] */
    int err;
    size_t rg_rows;
    uint64_t rg_bytes;
    uint64_t total_rows;
    pk_buf rgmeta;       /* serialised RowGroup structs */
    uint32_t nrg;
    pk_buf page, comp, lvl, hdr;   /* scratch */
    ZSTD_CCtx *zc;
};

/* ---------------- hashing ---------------- */

static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
        h = (h ^ rd64(p)) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t t = 0;
    memcpy(&t, p, n);
    h = (h ^ t) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* ---------------- output ---------------- */

static int flush_out(pq_writer *w)
{
    size_t done = 0;
    while (done < w->out.n) {
        ssize_t k = write(w->fd, w->out.p + done, w->out.n - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)k;
    }
    w->off += w->out.n;
    w->out.n = 0;
    return 0;
}

static int emit(pq_writer *w, const void *p, size_t n)
{
    if (w->out.n + n > (1u << 20) && w->out.n) {
        int rc = flush_out(w);
        if (rc < 0)
            return rc;
    }
    if (n > (1u << 20)) {   /* large blocks go straight through */
        const uint8_t *q = p;
        while (n) {
            ssize_t k = write(w->fd, q, n);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            q += k;
            n -= (size_t)k;
            w->off += (uint64_t)k;
        }
        return 0;
    }
    return pk_buf_put(&w->out, p, n);
}

static uint64_t pos(const pq_writer *w) { return w->off + w->out.n; }

/* ---------------- compression ---------------- */

static int compress_gzip(const uint8_t *in, size_t n, pk_buf *out, int level)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, level ? level : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uLong bound = deflateBound(&z, (uLong)n);
    if (pk_buf_grow(out, bound) < 0) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out->p;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->n = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -EIO;
}

/* Compress in[0..n) into w->comp (or point at the input when uncompressed). */
static int compress_page(pq_writer *w, const uint8_t *in, size_t n, const uint8_t **body, size_t *blen)
{
    w->comp.n = 0;
    switch (w->o.codec) {
    case PQ_CODEC_NONE:
        *body = in;
        *blen = n;
        return 0;
    case PQ_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(n);
        if (pk_buf_grow(&w->comp, bound) < 0)
            return -ENOMEM;
        size_t k = ZSTD_compressCCtx(w->zc, w->comp.p, bound, in, n, w->o.level ? w->o.level : 3);
        if (ZSTD_isError(k))
            return -EIO;
        w->comp.n = k;
        break;
    }
    case PQ_CODEC_GZIP: {
        int rc = compress_gzip(in, n, &w->comp, w->o.level);
        if (rc < 0)
            return rc;
        break;
    }
#ifdef BF_HAVE_SNAPPY
    case PQ_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        if (pk_buf_grow(&w->comp, bound) < 0)
            return -ENOMEM;
        size_t k = bound;
        if (snappy_compress((const char *)in, n, (char *)w->comp.p, &k) != SNAPPY_OK)
            return -EIO;
        w->comp.n = k;
        break;
    }
#endif
    default:
        return -EINVAL;
    }
    *body = w->comp.p;
    *blen = w->comp.n;
    return 0;
}

/* ---------------- RLE / bit-packed hybrid ---------------- */

static int put_uvarint(pk_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    return pk_buf_put(b, tmp, n);
}

/* Bit-pack values v[0..n) (n a multiple of 8, zero padded by the caller) at width bw, LSB first. */
static int bitpack(pk_buf *out, const uint32_t *v, size_t n, int bw)
{
    size_t bytes = n * (size_t)bw / 8;
    if (pk_buf_grow(out, bytes + 8) < 0)
        return -ENOMEM;
    uint8_t *p = out->p + out->n;
    memset(p, 0, bytes + 8);
    uint64_t acc = 0;
    int nb = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint64_t)v[i] << nb;
        nb += bw;
        while (nb >= 8) {
            p[o++] = (uint8_t)acc;
            acc >>= 8;
            nb -= 8;
        }
    }
    out->n += bytes;
    return 0;
}

static int rle_run(pk_buf *out, uint32_t val, size_t count, int bw)
{
    int rc = put_uvarint(out, (uint64_t)count << 1);
    for (int i = 0; rc == 0 && i < (bw + 7) / 8; i++)
        rc = pk_buf_u8(out, (uint8_t)(val >> (8 * i)));
    return rc;
}

static int bp_run(pk_buf *out, const uint32_t *v, size_t n, int bw)
{
    /* n values, padded with zeros to a multiple of 8 (allowed only at the end of the data or
     * when n is already a multiple of 8) */
    size_t groups = (n + 7) / 8;
    int rc = put_uvarint(out, (uint64_t)groups << 1 | 1);
    if (rc < 0 || bw == 0)
        return rc;
    if (n % 8 == 0)
        return bitpack(out, v, n, bw);
    uint32_t tail[8] = { 0 };
    size_t full = n / 8 * 8;
    if (full && (rc = bitpack(out, v, full, bw)) < 0)
        return rc;
    memcpy(tail, v + full, (n - full) * sizeof(uint32_t));
    return bitpack(out, tail, 8, bw);
}

int pq_rle_encode(pk_buf *out, const uint32_t *v, size_t n, int bw)
{
    size_t i = 0, bp_start = 0;   /* pending bit-packed values are v[bp_start..i) */
    int rc = 0;
    while (i < n && rc == 0) {
        size_t r = 1;
        while (i + r < n && v[i + r] == v[i])
            r++;
        if (r < 8) {
            i += r;
            continue;
        }
        /* complete the pending bit-packed group with the first values of the run */
        size_t pend = i - bp_start;
        size_t fill = pend % 8 ? 8 - pend % 8 : 0;
        if (r - fill < 8) {
            i += r;
            continue;
        }
        if (pend + fill)
            rc = bp_run(out, v + bp_start, pend + fill, bw);
        if (rc == 0)
            rc = rle_run(out, v[i], r - fill, bw);
        i += r;
        bp_start = i;
    }
    if (rc == 0 && bp_start < n)
        rc = bp_run(out, v + bp_start, n - bp_start, bw);
    return rc;
}

/* ---------------- column buffering ---------------- */

static int ensure_bits(pq_col *c, size_t row)
{
    size_t need = row / 64 + 1;
    if (need <= c->nwords)
        return 0;
    size_t nw = c->nwords ? c->nwords : 64;
    while (nw < need)
        nw *= 2;
    uint64_t *b = realloc(c->bits, nw * sizeof(uint64_t));
    if (!b)
        return -ENOMEM;
    memset(b + c->nwords, 0, (nw - c->nwords) * sizeof(uint64_t));
    c->bits = b;
    c->nwords = nw;
    return 0;
}

/* Mark the current row non-null; 1 = proceed, 0 = duplicate (ignored), negative = error. */
static int mark(pq_writer *w, size_t col, pq_type want1, pq_type want2)
{
    if (w->err)
        return 0;
    if (col >= w->ncols)
        return -EINVAL;
    pq_col *c = &w->cols[col];
    if (c->type != want1 && c->type != want2)
        return -EINVAL;
    if (c->last_row == w->rg_rows + 1)
        return 0;
    int rc = ensure_bits(c, w->rg_rows);
    if (rc < 0)
        return rc;
    c->bits[w->rg_rows / 64] |= 1ull << (w->rg_rows % 64);
    c->last_row = w->rg_rows + 1;
    c->nvals++;
    return 1;
}

int pq_set_i64(pq_writer *w, size_t col, int64_t v)
{
    int rc = mark(w, col, PQ_INT64, PQ_TIMESTAMP);
    if (rc <= 0)
        return rc;
    w->rg_bytes += 8;
    return pk_buf_put(&w->cols[col].vals, &v, 8);
}

int pq_set_double(pq_writer *w, size_t col, double v)
{
    int rc = mark(w, col, PQ_DOUBLE, PQ_DOUBLE);
    if (rc <= 0)
        return rc;
    w->rg_bytes += 8;
    return pk_buf_put(&w->cols[col].vals, &v, 8);
}

int pq_set_bool(pq_writer *w, size_t col, int v)
{
    int rc = mark(w, col, PQ_BOOL, PQ_BOOL);
    if (rc <= 0)
        return rc;
    w->rg_bytes += 1;
    return pk_buf_u8(&w->cols[col].vals, v ? 1 : 0);
}

static int dict_grow_slots(pq_dict *d)
{
    uint32_t ns = d->mask ? (d->mask + 1) * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof(uint32_t));
    if (!s)
        return -ENOMEM;
    for (uint32_t e = 0; e < d->n; e++) {
        uint32_t k = d->hash[e] & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = e + 1;
    }
    free(d->slots);
    d->slots = s;
    d->mask = ns - 1;
    return 0;
}

static void dict_free(pq_dict *d)
{
    pk_buf_free(&d->arena);
    free(d->off);
    free(d->hash);
    free(d->slots);
    memset(d, 0, sizeof(*d));
}

/* Replay the dictionary indices as PLAIN values and leave dictionary mode for this chunk. */
static int dict_fallback(pq_col *c)
{
    size_t need = c->d.arena.n;   /* lower bound; grows as needed */
    if (pk_buf_grow(&c->vals, need) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < c->nvals; i++) {
        const uint8_t *e = c->d.arena.p + c->d.off[c->idx[i]];
        uint32_t len;
        memcpy(&len, e, 4);
        if (pk_buf_put(&c->vals, e, 4 + (size_t)len) < 0)
            return -ENOMEM;
    }
    dict_free(&c->d);
    free(c->idx);
    c->idx = NULL;
    c->idx_cap = 0;
    c->dict_mode = false;
    return 0;
}

static int dict_add(pq_writer *w, pq_col *c, const uint8_t *p, size_t n, size_t vi)
{
    pq_dict *d = &c->d;
    if (!d->slots && dict_grow_slots(d) < 0)
        return -ENOMEM;
    uint32_t h = hash_bytes(p, n);
    uint32_t k = h & d->mask;
    uint32_t e;
    for (;;) {
        uint32_t s = d->slots[k];
        if (!s) {
            e = UINT32_MAX;
            break;
        }
        s--;
        if (d->hash[s] == h) {
            const uint8_t *q = d->arena.p + d->off[s];
            uint32_t len;
            memcpy(&len, q, 4);
            if (len == n && !memcmp(q + 4, p, n)) {
                e = s;
                break;
            }
        }
        k = (k + 1) & d->mask;
    }
    if (e == UINT32_MAX) {
        if (d->n == d->cap) {
            uint32_t nc = d->cap ? d->cap * 2 : 256;
            uint32_t *o = realloc(d->off, nc * sizeof(uint32_t));
            if (!o)
                return -ENOMEM;
            d->off = o;
            uint32_t *hh = realloc(d->hash, nc * sizeof(uint32_t));
            if (!hh)
                return -ENOMEM;
            d->hash = hh;
            d->cap = nc;
        }
        e = d->n;
        d->off[e] = (uint32_t)d->arena.n;
        d->hash[e] = h;
        if (pk_buf_le32(&d->arena, (uint32_t)n) < 0 || pk_buf_put(&d->arena, p, n) < 0)
            return -ENOMEM;
        d->n++;
        d->slots[k] = e + 1;
        w->rg_bytes += n + 12;
        if ((uint64_t)d->n * 2 > (uint64_t)d->mask + 1 && dict_grow_slots(d) < 0)
            return -ENOMEM;
    }
    if (vi >= c->idx_cap) {
        size_t nc = c->idx_cap ? c->idx_cap * 2 : 1024;
        uint32_t *q = realloc(c->idx, nc * sizeof(uint32_t));
        if (!q)
            return -ENOMEM;
        c->idx = q;
        c->idx_cap = nc;
    }
    c->idx[vi] = e;
    w->rg_bytes += 4;
    return 0;
}

int pq_set_bytes(pq_writer *w, size_t col, const void *p, size_t n)
{
    if (n > UINT32_MAX - 16)
        return -EINVAL;
    int rc = mark(w, col, PQ_STRING, PQ_JSON);
    if (rc <= 0)
        return rc;
    pq_col *c = &w->cols[col];
    if (c->dict_mode) {
        if ((rc = dict_add(w, c, p, n, c->nvals - 1)) < 0)
            return rc;
        /* a dictionary that keeps most values distinct costs time and gains nothing */
        bool high_card = c->nvals >= DICT_PROBE_VALUES && c->nvals % DICT_PROBE_VALUES == 0 &&
                         (uint64_t)c->d.n * 2 > c->nvals;
        if (high_card || (int64_t)c->d.arena.n > w->o.dict_max_bytes || c->d.n >= (1u << 20))
            return dict_fallback(c);
        return 0;
    }
    w->rg_bytes += n + 4;
    if (pk_buf_le32(&c->vals, (uint32_t)n) < 0 || pk_buf_put(&c->vals, p, n) < 0)
        return -ENOMEM;
    return 0;
}

/* ---------------- statistics ---------------- */

typedef struct stats {
    bool has;
    uint8_t min[STAT_TRUNC + 8], max[STAT_TRUNC + 8];
    size_t minlen, maxlen;
    bool min_exact, max_exact;
} stats;

static size_t utf8_cut(const uint8_t *p, size_t n, size_t lim)
{
    if (n <= lim)
        return n;
    size_t k = lim;
    while (k > 0 && (p[k] & 0xC0) == 0x80)
        k--;
    return k;
}

static void stat_min_bytes(stats *s, const uint8_t *p, size_t n)
{
    size_t k = utf8_cut(p, n, STAT_TRUNC);
    memcpy(s->min, p, k);
    s->minlen = k;
    s->min_exact = k == n;
}

/* Upper bound of p[0..n) in at most STAT_TRUNC bytes: truncate, then bump the last ASCII byte. */
static bool stat_max_bytes(stats *s, const uint8_t *p, size_t n)
{
    if (n <= STAT_TRUNC) {
        memcpy(s->max, p, n);
        s->maxlen = n;
        s->max_exact = true;
        return true;
    }
    size_t k = utf8_cut(p, n, STAT_TRUNC);
    while (k > 0) {
        uint8_t b = p[k - 1];
        if (b < 0x7F) {
            memcpy(s->max, p, k);
            s->max[k - 1] = (uint8_t)(b + 1);
            s->maxlen = k;
            s->max_exact = false;
            return true;
        }
        k--;
        while (k > 0 && (p[k] & 0xC0) == 0x80)
            k--;
    }
    return false;
}

static int bcmp_u(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r)
        return r;
    return an < bn ? -1 : an > bn;
}

static void compute_stats(const pq_col *c, stats *s)
{
    memset(s, 0, sizeof(*s));
    if (!c->nvals)
        return;
    s->has = true;
    s->min_exact = s->max_exact = true;
    const uint8_t *v = c->vals.p;
    if (c->type == PQ_INT64 || c->type == PQ_TIMESTAMP) {
        int64_t mn = INT64_MAX, mx = INT64_MIN, x;
        for (size_t i = 0; i < c->nvals; i++) {
            memcpy(&x, v + 8 * i, 8);
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        memcpy(s->min, &mn, 8);
        memcpy(s->max, &mx, 8);
        s->minlen = s->maxlen = 8;
    } else if (c->type == PQ_DOUBLE) {
        double mn = INFINITY, mx = -INFINITY, x;
        bool any = false;
        for (size_t i = 0; i < c->nvals; i++) {
            memcpy(&x, v + 8 * i, 8);
            if (isnan(x))
                continue;
            any = true;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        if (!any) {
            s->has = false;
            return;
        }
        if (mn == 0)   /* the spec's rule for signed zeros */
            mn = -0.0;
        if (mx == 0)
            mx = 0.0;
        memcpy(s->min, &mn, 8);
        memcpy(s->max, &mx, 8);
        s->minlen = s->maxlen = 8;
    } else if (c->type == PQ_BOOL) {
        uint8_t mn = 1, mx = 0;
        for (size_t i = 0; i < c->nvals; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        s->min[0] = mn;
        s->max[0] = mx;
        s->minlen = s->maxlen = 1;
    } else {
        const uint8_t *mnp = NULL, *mxp = NULL;
        uint32_t mnl = 0, mxl = 0;
        const uint8_t *base = c->dict_mode ? c->d.arena.p : c->vals.p;
        size_t count = c->dict_mode ? c->d.n : c->nvals;
        size_t o = 0;
        for (size_t i = 0; i < count; i++) {
            uint32_t len;
            memcpy(&len, base + o, 4);
            const uint8_t *q = base + o + 4;
            o += 4 + (size_t)len;
            if (!mnp || bcmp_u(q, len, mnp, mnl) < 0) {
                mnp = q;
                mnl = len;
            }
            if (!mxp || bcmp_u(q, len, mxp, mxl) > 0) {
                mxp = q;
                mxl = len;
            }
        }
        stat_min_bytes(s, mnp, mnl);
        if (!stat_max_bytes(s, mxp, mxl))
            s->has = false;
    }
}

/* ---------------- pages ---------------- */

static size_t popcount_range(const uint64_t *bits, size_t nwords, size_t r0, size_t r1)
{
    size_t n = 0;
    for (size_t r = r0; r < r1;) {
        size_t wi = r / 64;
        if (wi >= nwords)
            break;
        size_t b0 = r % 64, b1 = (r1 - wi * 64) < 64 ? r1 - wi * 64 : 64;
        uint64_t m = bits[wi] >> b0;
        if (b1 - b0 < 64)
            m &= (1ull << (b1 - b0)) - 1;
        n += (size_t)__builtin_popcountll(m);
        r = wi * 64 + b1;
    }
    return n;
}

static inline bool bit_at(const pq_col *c, size_t r)
{
    return r / 64 < c->nwords && (c->bits[r / 64] >> (r % 64) & 1);
}

/* Definition levels of rows [r0, r1) as 4-byte length + RLE hybrid into w->lvl. */
static int encode_levels(pq_writer *w, const pq_col *c, size_t r0, size_t r1, size_t nv)
{
    w->lvl.n = 0;
    int rc = pk_buf_le32(&w->lvl, 0);
    size_t n = r1 - r0;
    if (rc < 0)
        return rc;
    if (nv == n || nv == 0) {
        rc = rle_run(&w->lvl, nv ? 1 : 0, n, 1);
    } else {
        uint32_t *tmp = malloc(n * sizeof(uint32_t));
        if (!tmp)
            return -ENOMEM;
        for (size_t r = r0; r < r1; r++)
            tmp[r - r0] = bit_at(c, r);
        rc = pq_rle_encode(&w->lvl, tmp, n, 1);
        free(tmp);
    }
    uint32_t len = (uint32_t)(w->lvl.n - 4);
    memcpy(w->lvl.p, &len, 4);
    return rc;
}

static int write_page(pq_writer *w, int ptype, const uint8_t *raw, size_t rawn, int32_t nvalues, int enc,
                      uint64_t *usz, uint64_t *csz)
{
    const uint8_t *body;
    size_t blen;
    int rc = compress_page(w, raw, rawn, &body, &blen);
    if (rc < 0)
        return rc;
    if (rawn > INT32_MAX || blen > INT32_MAX)
        return -E2BIG;
    w->hdr.n = 0;
    tc_w t;
    tc_w_init(&t, &w->hdr);
    tc_struct_begin(&t);
    tc_field_i32(&t, 1, ptype);
    tc_field_i32(&t, 2, (int32_t)rawn);
    tc_field_i32(&t, 3, (int32_t)blen);
    if (ptype == PAGE_DATA) {
        tc_field_struct(&t, 5);
        tc_field_i32(&t, 1, nvalues);
        tc_field_i32(&t, 2, enc);
        tc_field_i32(&t, 3, E_RLE);
        tc_field_i32(&t, 4, E_RLE);
        tc_struct_end(&t);
    } else {
        tc_field_struct(&t, 7);
        tc_field_i32(&t, 1, nvalues);
        tc_field_i32(&t, 2, E_PLAIN);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    if (t.err)
        return t.err;
    if ((rc = emit(w, w->hdr.p, w->hdr.n)) < 0 || (rc = emit(w, body, blen)) < 0)
        return rc;
    *usz += w->hdr.n + rawn;
    *csz += w->hdr.n + blen;
    return 0;
}

static int bit_width(uint32_t maxv)
{
    int bw = 1;
    while (bw < 32 && (maxv >> bw))
        bw++;
    return bw;
}

static int append_values(pq_writer *w, const pq_col *c, size_t v0, size_t v1, size_t *boff, int bw)
{
    pk_buf *pg = &w->page;
    int width = TYPES[c->type].width;
    if (c->dict_mode) {
        if (pk_buf_u8(pg, (uint8_t)bw) < 0)
            return -ENOMEM;
        return pq_rle_encode(pg, c->idx + v0, v1 - v0, bw);
    }
    if (v1 == v0)   /* an all-null page: nothing to add (and vals may be unallocated) */
        return 0;
    if (c->type == PQ_BOOL) {
        size_t n = v1 - v0, bytes = (n + 7) / 8;
        if (pk_buf_grow(pg, bytes) < 0)
            return -ENOMEM;
        memset(pg->p + pg->n, 0, bytes);
        for (size_t i = 0; i < n; i++)
            pg->p[pg->n + i / 8] |= (uint8_t)(c->vals.p[v0 + i] << (i % 8));
        pg->n += bytes;
        return 0;
    }
    if (width)
        return pk_buf_put(pg, c->vals.p + v0 * (size_t)width, (v1 - v0) * (size_t)width);
    /* PLAIN byte arrays: the buffer is already in PLAIN form; walk to find the slice */
    size_t o = *boff;
    for (size_t i = v0; i < v1; i++) {
        uint32_t len;
        memcpy(&len, c->vals.p + o, 4);
        o += 4 + (size_t)len;
    }
    int rc = pk_buf_put(pg, c->vals.p + *boff, o - *boff);
    *boff = o;
    return rc;
}

/* End row of the page that starts at r0 (values from v0 / byte offset boff). */
static size_t page_end(const pq_writer *w, const pq_col *c, size_t r0, size_t boff, int bw)
{
    size_t rows = w->rg_rows;
    int64_t pb = w->o.page_bytes;
    if (c->dict_mode || TYPES[c->type].width) {
        size_t per = c->dict_mode ? (size_t)(pb * 8 / bw) : (size_t)(pb / TYPES[c->type].width);
        per = per < 1024 ? 1024 : per;
        return r0 + per < rows ? r0 + per : rows;
    }
    size_t o = boff, r = r0;
    while (r < rows) {
        if (bit_at(c, r)) {
            uint32_t len;
            memcpy(&len, c->vals.p + o, 4);
            o += 4 + (size_t)len;
        }
        r++;
        if ((int64_t)(o - boff) >= pb)
            break;
    }
    return r;
}

static void put_stats(tc_w *t, const stats *s, size_t nulls)
{
    tc_field_struct(t, 12);
    tc_field_i64(t, 3, (int64_t)nulls);
    if (s->has) {
        tc_field_bin(t, 5, s->max, s->maxlen);
        tc_field_bin(t, 6, s->min, s->minlen);
        tc_field_bool(t, 7, s->max_exact);
        tc_field_bool(t, 8, s->min_exact);
    }
    tc_struct_end(t);
}

/* Write one column chunk and append its ColumnChunk metadata to t. */
static int write_chunk(pq_writer *w, pq_col *c, tc_w *t, uint64_t *rg_usz, uint64_t *rg_csz)
{
    uint64_t usz = 0, csz = 0;
    int64_t dict_off = -1;
    int bw = 0;
    int rc;
    if (c->dict_mode && c->nvals) {
        dict_off = (int64_t)pos(w);
        bw = bit_width(c->d.n ? c->d.n - 1 : 0);
        rc = write_page(w, PAGE_DICT, c->d.arena.p, c->d.arena.n, (int32_t)c->d.n, E_PLAIN, &usz, &csz);
        if (rc < 0)
            return rc;
    } else if (c->dict_mode) {
        c->dict_mode = false;   /* all nulls: nothing to look up */
    }
    int64_t data_off = (int64_t)pos(w);
    size_t r0 = 0, v0 = 0, boff = 0;
    while (r0 < w->rg_rows) {
        size_t r1 = page_end(w, c, r0, boff, bw ? bw : 1);
        size_t nv = popcount_range(c->bits, c->nwords, r0, r1);
        w->page.n = 0;
        if ((rc = encode_levels(w, c, r0, r1, nv)) < 0 || (rc = pk_buf_put(&w->page, w->lvl.p, w->lvl.n)) < 0)
            return rc;
        if ((rc = append_values(w, c, v0, v0 + nv, &boff, bw)) < 0)
            return rc;
        rc = write_page(w, PAGE_DATA, w->page.p, w->page.n, (int32_t)(r1 - r0),
                        c->dict_mode ? E_RLE_DICTIONARY : E_PLAIN, &usz, &csz);
        if (rc < 0)
            return rc;
        r0 = r1;
        v0 += nv;
    }
    stats s;
    compute_stats(c, &s);
    const type_info *ti = &TYPES[c->type];
    int64_t start = dict_off >= 0 ? dict_off : data_off;
    tc_struct_begin(t);                       /* ColumnChunk */
    tc_field_i64(t, 2, start);
    tc_field_struct(t, 3);                    /* ColumnMetaData */
    tc_field_i32(t, 1, ti->phys);
    if (c->dict_mode) {
        tc_field_list(t, 2, TC_I32, 3);
        tc_elem_i32(t, E_PLAIN);
        tc_elem_i32(t, E_RLE);
        tc_elem_i32(t, E_RLE_DICTIONARY);
    } else {
        tc_field_list(t, 2, TC_I32, 2);
        tc_elem_i32(t, E_PLAIN);
        tc_elem_i32(t, E_RLE);
    }
    tc_field_list(t, 3, TC_BINARY, 1);
    tc_elem_bin(t, c->name, strlen(c->name));
    tc_field_i32(t, 4, w->o.codec);
    tc_field_i64(t, 5, (int64_t)w->rg_rows);
    tc_field_i64(t, 6, (int64_t)usz);
    tc_field_i64(t, 7, (int64_t)csz);
    tc_field_i64(t, 9, data_off);
    if (dict_off >= 0)
        tc_field_i64(t, 11, dict_off);
    put_stats(t, &s, w->rg_rows - c->nvals);
    tc_struct_end(t);
    tc_struct_end(t);
    *rg_usz += usz;
    *rg_csz += csz;
    return t->err;
}

static void reset_col(pq_writer *w, pq_col *c)
{
    if (c->nwords)
        memset(c->bits, 0, c->nwords * sizeof(uint64_t));
    c->nvals = 0;
    c->last_row = 0;
    c->vals.n = 0;
    dict_free(&c->d);
    c->dict_mode = !w->o.no_dictionary && (c->type == PQ_STRING || c->type == PQ_JSON);
}

static int flush_row_group(pq_writer *w)
{
    if (!w->rg_rows)
        return 0;
    uint64_t start = pos(w), usz = 0, csz = 0;
    pk_buf cc = { 0 };
    tc_w t;
    tc_w_init(&t, &cc);
    int rc = 0;
    for (size_t i = 0; i < w->ncols && rc == 0; i++)
        rc = write_chunk(w, &w->cols[i], &t, &usz, &csz);
    if (rc == 0) {
        tc_w r;
        tc_w_init(&r, &w->rgmeta);
        tc_struct_begin(&r);                  /* RowGroup */
        tc_field_list(&r, 1, TC_STRUCT, (uint32_t)w->ncols);
        if (!r.err && pk_buf_put(&w->rgmeta, cc.p, cc.n) < 0)
            r.err = -ENOMEM;
        tc_field_i64(&r, 2, (int64_t)usz);
        tc_field_i64(&r, 3, (int64_t)w->rg_rows);
        tc_field_i64(&r, 5, (int64_t)start);
        tc_field_i64(&r, 6, (int64_t)csz);
        tc_field_i16(&r, 7, (int16_t)(w->nrg & 0x7FFF));
        tc_struct_end(&r);
        rc = r.err;
    }
    pk_buf_free(&cc);
    if (rc < 0)
        return rc;
    w->nrg++;
    w->total_rows += w->rg_rows;
    w->rg_rows = 0;
    w->rg_bytes = 0;
    for (size_t i = 0; i < w->ncols; i++)
        reset_col(w, &w->cols[i]);
    return 0;
}

int pq_end_row(pq_writer *w)
{
    if (w->err)
        return w->err;
    w->rg_rows++;
    w->rg_bytes += (w->ncols + 7) / 8;
    if ((int64_t)w->rg_bytes >= w->o.row_group_bytes || w->rg_rows >= (1u << 30)) {
        int rc = flush_row_group(w);
        if (rc < 0)
            w->err = rc;
        return rc;
    }
    return 0;
}

/* ---------------- lifecycle ---------------- */

int pq_writer_create(int fd, const pq_options *o, const pq_coldef *cols, size_t ncols, pq_writer **out)
{
    *out = NULL;
    if (!ncols || ncols > 100000)
        return -EINVAL;
    for (size_t i = 0; i < ncols; i++)
        if ((unsigned)cols[i].type > PQ_TIMESTAMP || !cols[i].name)
            return -EINVAL;
    pq_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fd = fd;
    if (o)
        w->o = *o;
    if (w->o.row_group_bytes <= 0)
        w->o.row_group_bytes = 64ll << 20;
    if (w->o.page_bytes <= 0)
        w->o.page_bytes = 1ll << 20;
    if (w->o.dict_max_bytes <= 0)
        w->o.dict_max_bytes = 1ll << 20;
    w->o.created_by = NULL;
    const char *cb = o && o->created_by ? o->created_by : "bytefreezer-packer";
    w->cols = calloc(ncols, sizeof(pq_col));
    char *cbcopy = strdup(cb);
    w->zc = ZSTD_createCCtx();
    if (!w->cols || !cbcopy || !w->zc) {
        free(cbcopy);
        pq_writer_destroy(w);
        return -ENOMEM;
    }
    w->o.created_by = cbcopy;
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        w->cols[i].type = cols[i].type;
        w->cols[i].name = strdup(cols[i].name);
        if (!w->cols[i].name) {
            pq_writer_destroy(w);
            return -ENOMEM;
        }
        reset_col(w, &w->cols[i]);
    }
    int rc = emit(w, "PAR1", 4);
    if (rc < 0) {
        pq_writer_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

static void put_schema(pq_writer *w, tc_w *t)
{
    tc_field_list(t, 2, TC_STRUCT, (uint32_t)w->ncols + 1);
    tc_struct_begin(t);
    tc_field_str(t, 4, "schema");
    tc_field_i32(t, 5, (int32_t)w->ncols);
    tc_struct_end(t);
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_col *c = &w->cols[i];
        const type_info *ti = &TYPES[c->type];
        tc_struct_begin(t);
        tc_field_i32(t, 1, ti->phys);
        tc_field_i32(t, 3, REP_OPTIONAL);
        tc_field_str(t, 4, c->name);
        if (ti->converted >= 0)
            tc_field_i32(t, 6, ti->converted);
        if (ti->logical) {
            tc_field_struct(t, 10);          /* LogicalType union */
            tc_field_struct(t, (int16_t)ti->logical);
            if (c->type == PQ_TIMESTAMP) {
                tc_field_bool(t, 1, 1);      /* isAdjustedToUTC */
                tc_field_struct(t, 2);       /* TimeUnit */
                tc_field_struct(t, 2);       /* MICROS */
                tc_struct_end(t);
                tc_struct_end(t);
            } else if (c->type == PQ_INT64) {
                tc_field_i8(t, 1, 64);       /* bitWidth */
                tc_field_bool(t, 2, 1);      /* isSigned */
            }
            tc_struct_end(t);
            tc_struct_end(t);
        }
        tc_struct_end(t);
    }
}

int pq_writer_finish(pq_writer *w, const pq_kv *kv, size_t nkv, uint64_t *size)
{
    if (w->err)
        return w->err;
    int rc = flush_row_group(w);
    if (rc < 0)
        return w->err = rc;
    pk_buf m = { 0 };
    tc_w t;
    tc_w_init(&t, &m);
    tc_struct_begin(&t);
    tc_field_i32(&t, 1, 2);
    put_schema(w, &t);
    tc_field_i64(&t, 3, (int64_t)w->total_rows);
    tc_field_list(&t, 4, TC_STRUCT, w->nrg);
    if (!t.err && pk_buf_put(&m, w->rgmeta.p, w->rgmeta.n) < 0)
        t.err = -ENOMEM;
    if (nkv) {
        tc_field_list(&t, 5, TC_STRUCT, (uint32_t)nkv);
        for (size_t i = 0; i < nkv; i++) {
            tc_struct_begin(&t);
            tc_field_str(&t, 1, kv[i].key);
            tc_field_str(&t, 2, kv[i].value);
            tc_struct_end(&t);
        }
    }
    tc_field_str(&t, 6, w->o.created_by);
    tc_field_list(&t, 7, TC_STRUCT, (uint32_t)w->ncols);   /* column_orders: TYPE_ORDER */
    for (size_t i = 0; i < w->ncols; i++) {
        tc_struct_begin(&t);
        tc_field_struct(&t, 1);
        tc_struct_end(&t);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    rc = t.err;
    if (rc == 0)
        rc = emit(w, m.p, m.n);
    if (rc == 0) {
        uint8_t tail[8] = { (uint8_t)m.n, (uint8_t)(m.n >> 8), (uint8_t)(m.n >> 16), (uint8_t)(m.n >> 24),
                            'P', 'A', 'R', '1' };
        rc = emit(w, tail, 8);
    }
    if (rc == 0)
        rc = flush_out(w);
    pk_buf_free(&m);
    if (rc < 0)
        return w->err = rc;
    if (size)
        *size = w->off;
    return 0;
}

uint64_t pq_writer_rows(const pq_writer *w) { return w->total_rows + w->rg_rows; }
uint64_t pq_writer_buffered(const pq_writer *w) { return w->rg_bytes; }

void pq_writer_destroy(pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->cols && i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        free(c->name);
        free(c->bits);
        pk_buf_free(&c->vals);
        free(c->idx);
        dict_free(&c->d);
    }
    free(w->cols);
    pk_buf_free(&w->out);
    pk_buf_free(&w->rgmeta);
    pk_buf_free(&w->page);
    pk_buf_free(&w->comp);
    pk_buf_free(&w->lvl);
    pk_buf_free(&w->hdr);
    ZSTD_freeCCtx(w->zc);
    free((char *)w->o.created_by);
    free(w);
}
