/* pqread: minimal Parquet reader (see pqread.h). */
#include "pqread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#ifdef BF_HAVE_SNAPPY
#include <snappy-c.h>
#endif

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EBADMSG;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static pq_type map_type(const pqr_col *c)
{
    if (c->phys == 0)
        return PQ_BOOL;
    if (c->phys == 5)
        return PQ_DOUBLE;
    if (c->phys == 2)
        return c->converted == 10 || c->converted == 9 || c->logical == 8 ? PQ_TIMESTAMP : PQ_INT64;
    if (c->phys == 6)
        return c->converted == 19 || c->logical == 12 ? PQ_JSON : PQ_STRING;
    return PQ_STRING;
}

static int load_schema(pqr_file *f)
{
    const tc_val *schema = tc_get(&f->meta.root, 2);
    if (!schema || schema->type != TC_LIST || schema->n < 2)
        return -EBADMSG;
    f->ncols = schema->n - 1;
    f->cols = calloc(f->ncols, sizeof(pqr_col));
    if (!f->cols)
        return -ENOMEM;
    for (size_t i = 0; i < f->ncols; i++) {
        const tc_val *se = &schema->u.kids[i + 1];
        pqr_col *c = &f->cols[i];
        const tc_val *nm = tc_get(se, 4);
        if (!nm || nm->type != TC_BINARY || tc_get(se, 5))
            return -EBADMSG;   /* nested schemas are not ours */
        size_t n = nm->n < sizeof(c->name) - 1 ? nm->n : sizeof(c->name) - 1;
        memcpy(c->name, nm->u.bin, n);
        c->phys = (int)tc_get_int(se, 1, -1);
        c->repetition = (int)tc_get_int(se, 3, 0);
        c->converted = (int)tc_get_int(se, 6, -1);
        const tc_val *lt = tc_get(se, 10);
        if (lt && lt->type == TC_STRUCT && lt->n)
            c->logical = lt->u.kids[0].id;
        if (c->phys != 0 && c->phys != 1 && c->phys != 2 && c->phys != 5 && c->phys != 6)
            return -EBADMSG;
        c->type = map_type(c);
    }
    return 0;
}

int pqr_open(const char *path, pqr_file **out)
{
    *out = NULL;
    pqr_file *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->max_chunk = 1ull << 31;
    int rc = 0;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t tail[8];
    if (f->fd < 0) {
        rc = -errno;
        goto fail;
    }
    if (fstat(f->fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    f->size = (uint64_t)st.st_size;
    if (f->size < 12 || (rc = pread_all(f->fd, tail, 8, f->size - 8)) < 0 || memcmp(tail + 4, "PAR1", 4)) {
        rc = rc ? rc : -EBADMSG;
        goto fail;
    }
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
    if ((uint64_t)flen + 12 > f->size) {
        rc = -EBADMSG;
        goto fail;
    }
    f->footer = malloc(flen ? flen : 1);
    if (!f->footer) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = pread_all(f->fd, f->footer, flen, f->size - 8 - flen)) < 0)
        goto fail;
    if ((rc = tc_parse(f->footer, flen, 0, &f->meta)) < 0)
        goto fail;
    if ((rc = load_schema(f)) < 0)
        goto fail;
    f->nrows = tc_get_int(&f->meta.root, 3, 0);
    const tc_val *rgs = tc_get(&f->meta.root, 4);
    if (rgs && rgs->type == TC_LIST) {
        f->nrg = rgs->n;
        f->rgs = rgs->u.kids;
    }
    const tc_val *cb = tc_get(&f->meta.root, 6);
    if (cb && cb->type == TC_BINARY) {
        f->created_by = (const char *)cb->u.bin;
        f->created_by_len = cb->n;
    }
    *out = f;
    return 0;
fail:
    pqr_close(f);
    return rc;
}

void pqr_close(pqr_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    tc_doc_free(&f->meta);
    free(f->footer);
    free(f->cols);
    free(f);
}

int pqr_kv(const pqr_file *f, const char *key, const char **val)
{
    const tc_val *kv = tc_get(&f->meta.root, 5);
    if (!kv || kv->type != TC_LIST)
        return -ENOENT;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < kv->n; i++) {
        const tc_val *k = tc_get(&kv->u.kids[i], 1), *v = tc_get(&kv->u.kids[i], 2);
        if (k && k->type == TC_BINARY && k->n == kl && !memcmp(k->u.bin, key, kl) && v && v->type == TC_BINARY) {
            *val = (const char *)v->u.bin;
            return (int)v->n;
        }
    }
    return -ENOENT;
}

int64_t pqr_rg_rows(const pqr_file *f, size_t rg)
{
    return rg < f->nrg ? tc_get_int(&f->rgs[rg], 3, 0) : 0;
}

const tc_val *pqr_chunk_meta(const pqr_file *f, size_t rg, size_t col)
{
    if (rg >= f->nrg)
        return NULL;
    const tc_val *cols = tc_get(&f->rgs[rg], 1);
    if (!cols || cols->type != TC_LIST || col >= cols->n)
        return NULL;
    const tc_val *md = tc_get(&cols->u.kids[col], 3);
    return md && md->type == TC_STRUCT ? md : NULL;
}

/* ---------------- decoding ---------------- */

static int read_uvarint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 64 && *pos < len; s += 7) {
        uint8_t b = p[(*pos)++];
        x |= (uint64_t)(b & 0x7F) << s;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -EBADMSG;
}

int pqr_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
    size_t pos = 0, o = 0;
    if (bw < 0 || bw > 32)
        return -EBADMSG;
    size_t vb = (size_t)(bw + 7) / 8;
    while (o < n) {
        uint64_t h;
        if (read_uvarint(p, len, &pos, &h) < 0)
            return -EBADMSG;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups > (len - pos) + 1 || groups > (SIZE_MAX / 8))
                return -EBADMSG;
            size_t cnt = (size_t)groups * 8, bytes = (size_t)groups * (size_t)bw;
            if (bytes > len - pos)
                return -EBADMSG;
            uint64_t acc = 0;
            int nb = 0;
            size_t bp = pos;
            for (size_t i = 0; i < cnt; i++) {
                while (nb < bw) {
                    acc |= (uint64_t)p[bp++] << nb;
                    nb += 8;
                }
                uint32_t v = bw ? (uint32_t)(acc & ((bw == 32) ? 0xFFFFFFFFull : ((1ull << bw) - 1))) : 0;
                acc >>= bw;
                nb -= bw;
                if (o < n)
                    out[o++] = v;
            }
            pos += bytes;
        } else {
            uint64_t cnt = h >> 1;
            if (vb > len - pos)
                return -EBADMSG;
            uint32_t v = 0;
            for (size_t i = 0; i < vb; i++)
                v |= (uint32_t)p[pos + i] << (8 * i);
            pos += vb;
            if (cnt == 0)
                return -EBADMSG;
            for (uint64_t i = 0; i < cnt && o < n; i++)
                out[o++] = v;
        }
    }
    return 0;
}

static int decompress(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
    switch (codec) {
    case 0:
        if (n != outlen)
            return -EBADMSG;
        memcpy(out, in, n);
        return 0;
    case 6: {
        size_t k = ZSTD_decompress(out, outlen, in, n);
        return !ZSTD_isError(k) && k == outlen ? 0 : -EBADMSG;
    }
    case 2: {
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 15 + 32) != Z_OK)
            return -ENOMEM;
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)n;
        z.next_out = out;
        z.avail_out = (uInt)outlen;
        int rc = inflate(&z, Z_FINISH);
        size_t got = z.total_out;
        inflateEnd(&z);
        return rc == Z_STREAM_END && got == outlen ? 0 : -EBADMSG;
    }
#ifdef BF_HAVE_SNAPPY
    case 1: {
        size_t k = outlen;
        return snappy_uncompress((const char *)in, n, (char *)out, &k) == SNAPPY_OK && k == outlen ? 0 : -EBADMSG;
    }
#endif
    default:
        return -ENOTSUP;
    }
}

typedef struct dict {
    size_t n;
    int64_t *i64;
    double *f64;
    uint32_t *off, *len;
    const uint8_t *base;
    uint8_t *own;
} dict;

static int col_reserve(pqr_column *c, size_t rows)
{
    c->defined = calloc(rows ? rows : 1, 1);
    c->i64 = calloc(rows ? rows : 1, sizeof(int64_t));
    c->f64 = calloc(rows ? rows : 1, sizeof(double));
    c->off = calloc(rows ? rows : 1, sizeof(uint32_t));
    c->len = calloc(rows ? rows : 1, sizeof(uint32_t));
    c->bytes = malloc(64);   /* never NULL: empty strings point into it */
    c->capbytes = 64;
    return c->defined && c->i64 && c->f64 && c->off && c->len && c->bytes ? 0 : -ENOMEM;
}

static int put_bytes(pqr_column *c, size_t row, const uint8_t *p, uint32_t n)
{
    if (c->nbytes + n > c->capbytes) {
        size_t nc = c->capbytes ? c->capbytes : 4096;
        while (nc < c->nbytes + n)
            nc *= 2;
        uint8_t *q = realloc(c->bytes, nc);
        if (!q)
            return -ENOMEM;
        c->bytes = q;
        c->capbytes = nc;
    }
    if (c->nbytes > UINT32_MAX)
        return -EFBIG;
    memcpy(c->bytes + c->nbytes, p, n);
    c->off[row] = (uint32_t)c->nbytes;
    c->len[row] = n;
    c->nbytes += n;
    return 0;
}

/* PLAIN value i of the page: fills column row r, advances *pos */
static int plain_value(const pqr_col *cd, const uint8_t *p, size_t len, size_t *pos, size_t bitidx, pqr_column *c,
                       size_t r)
{
    switch (cd->phys) {
    case 0:
        if (bitidx / 8 >= len)
            return -EBADMSG;
        c->i64[r] = p[bitidx / 8] >> (bitidx % 8) & 1;
        return 0;
    case 1: {
        if (len - *pos < 4)
            return -EBADMSG;
        int32_t v;
        memcpy(&v, p + *pos, 4);
        *pos += 4;
        c->i64[r] = v;
        return 0;
    }
    case 2:
    case 5:
        if (len - *pos < 8)
            return -EBADMSG;
        if (cd->phys == 2)
            memcpy(&c->i64[r], p + *pos, 8);
        else
            memcpy(&c->f64[r], p + *pos, 8);
        *pos += 8;
        return 0;
    default: {
        if (len - *pos < 4)
            return -EBADMSG;
        uint32_t n;
        memcpy(&n, p + *pos, 4);
        *pos += 4;
        if (n > len - *pos)
            return -EBADMSG;
        int rc = put_bytes(c, r, p + *pos, n);
        *pos += n;
        return rc;
    }
    }
}

static int load_dict(const pqr_col *cd, const uint8_t *p, size_t len, size_t n, dict *d)
{
    if (n > len * 8 + 8)
        return -EBADMSG;
    d->n = n;
    d->i64 = calloc(n ? n : 1, sizeof(int64_t));
    d->f64 = calloc(n ? n : 1, sizeof(double));
    d->off = calloc(n ? n : 1, sizeof(uint32_t));
    d->len = calloc(n ? n : 1, sizeof(uint32_t));
    d->own = malloc(len ? len : 1);
    if (!d->i64 || !d->f64 || !d->off || !d->len || !d->own)
        return -ENOMEM;
    memcpy(d->own, p, len);
    d->base = d->own;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (cd->phys == 6) {
            uint32_t l;
            if (len - pos < 4)
                return -EBADMSG;
            memcpy(&l, p + pos, 4);
            if (l > len - pos - 4)
                return -EBADMSG;
            d->off[i] = (uint32_t)(pos + 4);
            d->len[i] = l;
            pos += 4 + l;
        } else if (cd->phys == 2 || cd->phys == 5) {
            if (len - pos < 8)
                return -EBADMSG;
            memcpy(cd->phys == 2 ? (void *)&d->i64[i] : (void *)&d->f64[i], p + pos, 8);
            pos += 8;
        } else {
            return -EBADMSG;
        }
    }
    return 0;
}

static void dict_free(dict *d)
{
    free(d->i64);
    free(d->f64);
    free(d->off);
    free(d->len);
    free(d->own);
    memset(d, 0, sizeof(*d));
}

static int data_page(const pqr_col *cd, const tc_val *dph, const uint8_t *p, size_t len, dict *d, pqr_column *c,
                     size_t *row)
{
    int64_t nv = tc_get_int(dph, 1, -1), enc = tc_get_int(dph, 2, -1);
    if (nv < 0 || (uint64_t)nv > c->n - *row)
        return -EBADMSG;
    size_t pos = 0, n = (size_t)nv;
    uint32_t *lv = calloc(n ? n : 1, sizeof(uint32_t));
    if (!lv)
        return -ENOMEM;
    int rc = 0;
    if (cd->repetition == 1) {
        uint32_t l;
        if (len < 4) {
            free(lv);
            return -EBADMSG;
        }
        memcpy(&l, p, 4);
        if (l > len - 4 || (rc = pqr_rle_decode(p + 4, l, 1, lv, n)) < 0) {
            free(lv);
            return rc ? rc : -EBADMSG;
        }
        pos = 4 + l;
    } else {
        for (size_t i = 0; i < n; i++)
            lv[i] = 1;
    }
    size_t nvals = 0;
    for (size_t i = 0; i < n; i++)
        nvals += lv[i] ? 1 : 0;
    uint32_t *idx = NULL;
    if (enc == 8 || enc == 2) {
        if (pos >= len && nvals) {
            free(lv);
            return -EBADMSG;
        }
        idx = calloc(nvals ? nvals : 1, sizeof(uint32_t));
        if (!idx) {
            free(lv);
            return -ENOMEM;
        }
        if (nvals && (rc = pqr_rle_decode(p + pos + 1, len - pos - 1, p[pos], idx, nvals)) < 0) {
            free(lv);
            free(idx);
            return rc;
        }
    } else if (enc != 0) {
        free(lv);
        return -ENOTSUP;
    }
    size_t vi = 0, bitbase = pos * 8;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t r = (*row)++;
        if (!lv[i])
            continue;
        c->defined[r] = 1;
        if (idx) {
            uint32_t k = idx[vi++];
            if (k >= d->n) {
                rc = -EBADMSG;
                break;
            }
            c->i64[r] = d->i64[k];
            c->f64[r] = d->f64[k];
            if (cd->phys == 6)
                rc = put_bytes(c, r, d->base + d->off[k], d->len[k]);
        } else {
            rc = plain_value(cd, p + (cd->phys == 0 ? 0 : 0), len, &pos, bitbase + vi, c, r);
            vi++;
        }
    }
    free(lv);
    free(idx);
    return rc;
}

int pqr_read_column(pqr_file *f, size_t rg, size_t col, pqr_column *out)
{
    memset(out, 0, sizeof(*out));
    const tc_val *md = pqr_chunk_meta(f, rg, col);
    if (!md || col >= f->ncols)
        return -EBADMSG;
    const pqr_col *cd = &f->cols[col];
    int64_t rows = pqr_rg_rows(f, rg), codec = tc_get_int(md, 4, 0), csz = tc_get_int(md, 7, -1);
    int64_t start = tc_get_int(md, 9, -1), doff = tc_get_int(md, 11, -1);
    if (doff >= 0 && doff < start)
        start = doff;
    if (rows < 0 || rows > (1ll << 32) || csz < 0 || (uint64_t)csz > f->max_chunk || start < 4 ||
        (uint64_t)start + (uint64_t)csz > f->size)
        return -EBADMSG;
    out->n = (size_t)rows;
    int rc = col_reserve(out, out->n);
    uint8_t *chunk = malloc((size_t)csz + 1), *page = NULL;
    dict d = { 0 };
    if (rc == 0 && !chunk)
        rc = -ENOMEM;
    if (rc == 0)
        rc = pread_all(f->fd, chunk, (size_t)csz, (uint64_t)start);
    size_t pos = 0, row = 0;
    while (rc == 0 && pos < (size_t)csz && row < out->n) {
        tc_doc h;
        if ((rc = tc_parse(chunk + pos, (size_t)csz - pos, 10000, &h)) < 0)
            break;
        pos += h.used;
        int64_t type = tc_get_int(&h.root, 1, -1), usz = tc_get_int(&h.root, 2, -1), pcs = tc_get_int(&h.root, 3, -1);
        if (usz < 0 || pcs < 0 || (uint64_t)pcs > (size_t)csz - pos || usz > (1ll << 30)) {
            tc_doc_free(&h);
            rc = -EBADMSG;
            break;
        }
        free(page);
        page = malloc((size_t)usz + 1);
        if (!page) {
            tc_doc_free(&h);
            rc = -ENOMEM;
            break;
        }
        rc = decompress((int)codec, chunk + pos, (size_t)pcs, page, (size_t)usz);
        pos += (size_t)pcs;
        if (rc == 0 && type == 2) {
            const tc_val *dh = tc_get(&h.root, 7);
            int64_t dn = tc_get_int(dh, 1, -1);
            dict_free(&d);
            rc = dn < 0 ? -EBADMSG : load_dict(cd, page, (size_t)usz, (size_t)dn, &d);
        } else if (rc == 0 && type == 0) {
            const tc_val *dph = tc_get(&h.root, 5);
            rc = dph ? data_page(cd, dph, page, (size_t)usz, &d, out, &row) : -EBADMSG;
        } else if (rc == 0) {
            rc = -ENOTSUP;
        }
        tc_doc_free(&h);
    }
    if (rc == 0 && row != out->n)
        rc = -EBADMSG;
    free(page);
    free(chunk);
    dict_free(&d);
    if (rc < 0)
        pqr_column_free(out);
    return rc;
}

void pqr_column_free(pqr_column *c)
{
    free(c->defined);
    free(c->i64);
    free(c->f64);
    free(c->off);
    free(c->len);
    free(c->bytes);
    memset(c, 0, sizeof(*c));
}
