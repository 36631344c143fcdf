/* convert: two-pass NDJSON -> Parquet (see convert.h). */
#include "convert.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jscan.h"
#include "pkbuf.h"
#include "schema.h"

#define SPILL_BUF (256u << 10)
#define READ_BUF (8u << 20)
#define BFTS "BfTs"
#define OVERFLOW_COL "_overflow"
#define UNPARSED_COL "_unparsed"

typedef struct part {
    char path[64];
    int64_t bucket;
    int fd;               /* spill file, opened when the memory budget is used up (-1 until then) */
    pk_buf wbuf;          /* write buffer of the spill file */
    pk_buf mem;           /* the first lines of the partition, kept in memory */
    pk_schema schema;
    int overflow_col;     /* -1 until needed */
    int32_t pred[64];     /* column of the k-th member of the previous record (pass 1) */
    uint64_t rows;
    int64_t min_us, max_us;
} part;

typedef struct lfield {   /* a member of the line being scanned in pass 1 */
    size_t koff, klen;
    uint32_t hash;
    pk_kind kind;
} lfield;

struct pk_conv {
    pk_conv_opts o;
    char *spill_dir, *time_field;
    pq_kv *kv;
    size_t nkv;
    int64_t recv_ms;
    js_scanner js;
    pk_buf carry;          /* partial line across feed() calls */
    bool carry_over;       /* current line exceeded max_line_bytes */
    pk_buf keys, wrap;     /* pass-1 scratch */
    lfield *lf;
    size_t nlf, caplf;
    part *parts;
    size_t nparts, capparts;
    size_t last_part;
    pk_conv_stats st;
    unsigned file_seq;
    uint64_t mem_used;     /* bytes of all partitions' in-memory spill */
};

/* ---------------- lifecycle ---------------- */

int pk_conv_create(const pk_conv_opts *o, pk_conv **out)
{
    *out = NULL;
    if (!o || !o->spill_dir || !*o->spill_dir)
        return -EINVAL;
    pk_conv *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->o = *o;
    if (c->o.max_line_bytes <= 0)
        c->o.max_line_bytes = 16 << 20;
    if (!c->o.max_columns)
        c->o.max_columns = 2000;
    if (!c->o.max_partitions)
        c->o.max_partitions = 256;
    c->spill_dir = strdup(o->spill_dir);
    c->time_field = strdup(o->time_field && *o->time_field ? o->time_field : BFTS);
    c->kv = calloc(o->nkv + 1, sizeof(pq_kv));
    if (!c->spill_dir || !c->time_field || !c->kv)
        goto nomem;
    for (size_t i = 0; i < o->nkv; i++) {
        c->kv[i].key = strdup(o->kv[i].key);
        c->kv[i].value = strdup(o->kv[i].value);
        c->nkv++;
        if (!c->kv[i].key || !c->kv[i].value)
            goto nomem;
    }
    c->o.spill_dir = c->spill_dir;
    c->o.time_field = c->time_field;
    c->o.kv = NULL;
    js_init(&c->js);
    c->recv_ms = 0;
    *out = c;
    return 0;
nomem:
    pk_conv_destroy(c);
    return -ENOMEM;
}

static void part_free(part *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    pk_buf_free(&p->wbuf);
    pk_buf_free(&p->mem);
    pk_schema_free(&p->schema);
}

void pk_conv_destroy(pk_conv *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nparts; i++)
        part_free(&c->parts[i]);
    free(c->parts);
    for (size_t i = 0; i < c->nkv; i++) {
        free((char *)c->kv[i].key);
        free((char *)c->kv[i].value);
    }
    free(c->kv);
    free(c->spill_dir);
    free(c->time_field);
    js_free(&c->js);
    pk_buf_free(&c->carry);
    pk_buf_free(&c->keys);
    pk_buf_free(&c->wrap);
    free(c->lf);
    free(c);
}

void pk_conv_set_recv_ms(pk_conv *c, int64_t ms) { c->recv_ms = ms; }

void pk_conv_get_stats(const pk_conv *c, pk_conv_stats *st)
{
    *st = c->st;
    st->partitions = c->nparts;
}

/* ---------------- spill files ---------------- */

static int open_spill(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* filesystems without O_TMPFILE: create and unlink at once */
    char path[4096];
    snprintf(path, sizeof(path), "%s/.pk-spill-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unlink(path);
    return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n) {
        ssize_t k = write(fd, q, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

static int spill_put(part *p, const void *d, size_t n)
{
    if (p->wbuf.n + n > SPILL_BUF && p->wbuf.n) {
        int rc = write_all(p->fd, p->wbuf.p, p->wbuf.n);
        if (rc < 0)
            return rc;
        p->wbuf.n = 0;
    }
    if (n > SPILL_BUF)
        return write_all(p->fd, d, n);
    return pk_buf_put(&p->wbuf, d, n);
}

/* One line made of up to three pieces (+ '\n'): into memory while the budget lasts, else to the
 * partition's spill file. A partition never goes back to memory, so its line order is kept. */
static int spill_line(pk_conv *c, part *p, const char *a, size_t an, const char *b, size_t bn, const char *d,
                      size_t dn)
{
    size_t n = an + bn + dn + 1;
    int rc = 0;
    if (p->fd < 0 && c->mem_used + n <= c->o.spill_memory) {
        if (pk_buf_grow(&p->mem, n) < 0)
            return -ENOMEM;
        pk_buf_put(&p->mem, a, an);
        pk_buf_put(&p->mem, b, bn);
        pk_buf_put(&p->mem, d, dn);
        pk_buf_put(&p->mem, "\n", 1);
        c->mem_used += n;
        return 0;
    }
    if (p->fd < 0 && (p->fd = open_spill(c->spill_dir)) < 0) {
        rc = p->fd;
        p->fd = -1;
        return rc;
    }
    if ((rc = spill_put(p, a, an)) < 0 || (rc = spill_put(p, b, bn)) < 0 || (rc = spill_put(p, d, dn)) < 0)
        return rc;
    return spill_put(p, "\n", 1);
}

static int get_part(pk_conv *c, int64_t us, size_t *idx)
{
    int64_t b = pk_partition_bucket(c->o.partitioning, us);
    if (c->nparts && c->parts[c->last_part].bucket == b) {
        *idx = c->last_part;
        return 0;
    }
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].bucket == b) {
            *idx = c->last_part = i;
            return 0;
        }
    if (c->nparts >= c->o.max_partitions) {
        *idx = 0;
        return 0;
    }
    if (c->nparts == c->capparts) {
        size_t nc = c->capparts ? c->capparts * 2 : 4;
        part *np = realloc(c->parts, nc * sizeof(part));
        if (!np)
            return -ENOMEM;
        c->parts = np;
        c->capparts = nc;
    }
    part *p = &c->parts[c->nparts];
    memset(p, 0, sizeof(*p));
    p->fd = -1;
    p->bucket = b;
    p->overflow_col = -1;
    for (size_t k = 0; k < 64; k++)
        p->pred[k] = -1;
    p->min_us = INT64_MAX;
    p->max_us = INT64_MIN;
    pk_partition_path(c->o.partitioning, us, p->path, sizeof(p->path));
    /* BfTs is always the first column */
    int rc = pk_schema_add(&p->schema, BFTS, 4, pk_hash(BFTS, 4), 1);
    if (rc < 0) {
        part_free(p);
        return rc;
    }
    *idx = c->last_part = c->nparts++;
    return 0;
}

/* ---------------- pass 1 ---------------- */

static int time_of(js_scanner *js, const js_field *f, int64_t *us)
{
    const char *s;
    size_t n;
    switch (f->type) {
    case JS_INT:
        *us = pk_epoch_us(f->i);
        return 0;
    case JS_DOUBLE:
    case JS_BIGINT:
        return pk_epoch_us_double(f->d, us);
    case JS_STRING:
        if (js_string(js, f, &s, &n) < 0)
            return -ENOMEM;
        return pk_parse_time(s, n, 0, us);
    default:
        return -EINVAL;
    }
}

static int push_field(pk_conv *c, const js_field *f, pk_kind kind)
{
    if (c->nlf == c->caplf) {
        size_t nc = c->caplf ? c->caplf * 2 : 64;
        lfield *q = realloc(c->lf, nc * sizeof(lfield));
        if (!q)
            return -ENOMEM;
        c->lf = q;
        c->caplf = nc;
    }
    lfield *l = &c->lf[c->nlf++];
    l->koff = c->keys.n;
    l->klen = f->klen;
    l->hash = 0;          /* computed only when the column prediction misses */
    l->kind = kind;
    return pk_buf_put(&c->keys, f->key, f->klen);
}

static int merge_schema(pk_conv *c, part *p)
{
    for (size_t i = 0; i < c->nlf; i++) {
        lfield *l = &c->lf[i];
        const char *k = (const char *)c->keys.p + l->koff;
        int ci = -1;
        if (i < 64 && p->pred[i] >= 0) {
            const pk_scol *pc = &p->schema.cols[p->pred[i]];
            if (pc->len == l->klen && !memcmp(pc->name, k, l->klen))
                ci = p->pred[i];
        }
        if (ci < 0) {
            l->hash = pk_hash(k, l->klen);
            ci = pk_schema_find(&p->schema, k, l->klen, l->hash);
            if (i < 64 && ci >= 0)
                p->pred[i] = ci;
        }
        bool system = l->klen == strlen(UNPARSED_COL) && !memcmp(k, UNPARSED_COL, l->klen);
        if (ci < 0 && p->schema.n >= c->o.max_columns && !system) {
            if (p->overflow_col < 0) {
                ci = pk_schema_find(&p->schema, OVERFLOW_COL, strlen(OVERFLOW_COL), pk_hash(OVERFLOW_COL, strlen(OVERFLOW_COL)));
                if (ci < 0)
                    ci = pk_schema_add(&p->schema, OVERFLOW_COL, strlen(OVERFLOW_COL),
                                       pk_hash(OVERFLOW_COL, strlen(OVERFLOW_COL)), 0);
                if (ci < 0)
                    return ci;
                p->overflow_col = ci;
            }
            p->schema.cols[p->overflow_col].kind = pk_kind_join(p->schema.cols[p->overflow_col].kind, PK_K_JSON);
            c->st.overflow_fields++;
            continue;
        }
        if (ci < 0) {
            int is_time = (l->klen == 4 && !memcmp(k, BFTS, 4)) ||
                          (l->klen == strlen(c->time_field) && !memcmp(k, c->time_field, l->klen));
            ci = pk_schema_add(&p->schema, k, l->klen, l->hash, is_time);
            if (ci < 0)
                return ci;
            if (i < 64)
                p->pred[i] = ci;
        }
        pk_scol *col = &p->schema.cols[ci];
        col->kind = pk_kind_join(col->kind, l->kind);
    }
    return 0;
}

static int process_line(pk_conv *c, const char *line, size_t len, bool wrapped);

/* Keep what is not a JSON object as a record of its own: nothing is dropped. */
static int wrap_invalid(pk_conv *c, const char *line, size_t len)
{
    c->st.invalid++;
    c->wrap.n = 0;
    char head[64];
    int n = snprintf(head, sizeof(head), "{\"" BFTS "\":%" PRId64 ",\"" UNPARSED_COL "\":", c->recv_ms);
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    int rc = pk_buf_put(&c->wrap, head, (size_t)n);
    if (rc == 0)
        rc = js_quote(&c->wrap, line, len);
    if (rc == 0)
        rc = pk_buf_u8(&c->wrap, '}');
    if (rc < 0)
        return rc;
    /* process_line may reuse wrap? no: it only reads the line and writes keys/lf */
    return process_line(c, (const char *)c->wrap.p, c->wrap.n, true);
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

static int process_line(pk_conv *c, const char *line, size_t len, bool wrapped)
{
    if (blank(line, len))
        return 0;
    c->nlf = 0;
    c->keys.n = 0;
    js_field f;
    int rc = js_begin(&c->js, line, len);
    bool has_bfts = false, has_tf = false, has_bt = false;
    int64_t tf_us = 0, bfts_us = 0;
    bool tf_is_bfts = !strcmp(c->time_field, BFTS);
    size_t tflen = strlen(c->time_field);
    while (rc == 0 && (rc = js_next(&c->js, &f)) == 1) {
        bool is_bfts = f.klen == 4 && !memcmp(f.key, BFTS, 4);
        bool is_tf = f.klen == tflen && !memcmp(f.key, c->time_field, tflen);
        int64_t us;
        if (is_bfts) {
            has_bfts = true;
            if (!has_bt && time_of(&c->js, &f, &us) == 0) {
                bfts_us = us;
                has_bt = true;
            }
        }
        if (is_tf && !tf_is_bfts && !has_tf && time_of(&c->js, &f, &us) == 0) {
            tf_us = us;
            has_tf = true;
        }
        pk_kind k = pk_classify(&c->js, &f, PK_K_NONE, is_bfts || is_tf);
        rc = push_field(c, &f, k);
    }
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        if (wrapped)   /* cannot happen: the wrapper is valid JSON */
            return -EINVAL;
        return wrap_invalid(c, line, len);
    }
    int64_t ev = has_tf ? tf_us : has_bt ? bfts_us : c->recv_ms * 1000;
    size_t pi;
    if ((rc = get_part(c, ev, &pi)) < 0)
        return rc;
    part *p = &c->parts[pi];
    if ((rc = merge_schema(c, p)) < 0)
        return rc;
    if (!has_bfts) {
        /* inject BfTs = receive time as the first member */
        p->schema.cols[0].kind = pk_kind_join(p->schema.cols[0].kind, PK_K_TIME);
        char head[40];
        int n = snprintf(head, sizeof(head), "{\"" BFTS "\":%" PRId64 "%s", c->recv_ms, c->nlf ? "," : "");
        const char *body = memchr(line, '{', len) + 1;
        if (c->nlf)
            rc = spill_line(c, p, head, (size_t)n, body, len - (size_t)(body - line), NULL, 0);
        else
            rc = spill_line(c, p, head, (size_t)n, "}", 1, NULL, 0);
    } else {
        rc = spill_line(c, p, line, len, NULL, 0, NULL, 0);
    }
    if (rc < 0)
        return rc;
    p->rows++;
    p->min_us = ev < p->min_us ? ev : p->min_us;
    p->max_us = ev > p->max_us ? ev : p->max_us;
    c->st.lines++;
    return 0;
}

static int finish_line(pk_conv *c, const char *line, size_t len)
{
    if (c->carry_over) {
        c->carry_over = false;
        return wrap_invalid(c, line, len);
    }
    return process_line(c, line, len, false);
}

int pk_conv_feed(pk_conv *c, const void *data, size_t len)
{
    const char *p = data, *end = p + len;
    c->st.bytes_in += len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = (size_t)((nl ? nl : end) - p);
        int rc = 0;
        if (!c->carry.n && nl && !c->carry_over) {
            if ((int64_t)seg > c->o.max_line_bytes) {
                c->carry_over = true;
                seg = (size_t)c->o.max_line_bytes;
            }
            rc = finish_line(c, p, seg);
        } else {
            size_t room = (size_t)c->o.max_line_bytes - c->carry.n;
            size_t take = seg < room ? seg : room;
            if (take < seg)
                c->carry_over = true;
            if (pk_buf_put(&c->carry, p, take) < 0)
                return -ENOMEM;
            if (nl) {
                rc = finish_line(c, (const char *)c->carry.p, c->carry.n);
                c->carry.n = 0;
            }
        }
        if (rc < 0)
            return rc;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int pk_conv_end_input(pk_conv *c)
{
    int rc = 0;
    if (c->carry.n || c->carry_over)
        rc = finish_line(c, (const char *)c->carry.p, c->carry.n);
    c->carry.n = 0;
    c->carry_over = false;
    return rc;
}

/* ---------------- pass 2 ---------------- */

typedef struct p2 {
    pk_conv *c;
    part *p;
    pq_writer *w;
    int32_t *pred;       /* column of the k-th member in the previous record */
    size_t npred;
    pk_buf ovf;
} p2;

static int set_value(p2 *x, int ci, const js_field *f)
{
    pk_scol *col = &x->p->schema.cols[ci];
    js_scanner *js = &x->c->js;
    pq_writer *w = x->w;
    const char *s;
    size_t n;
    int64_t us;
    int rc;
    if (f->type == JS_NULL)
        return 0;
    switch (col->kind) {
    case PK_K_BOOL:
        return pq_set_bool(w, (size_t)ci, f->type == JS_TRUE);
    case PK_K_INT:
        return f->type == JS_INT ? pq_set_i64(w, (size_t)ci, f->i) : 0;
    case PK_K_DOUBLE:
        return pq_set_double(w, (size_t)ci, f->type == JS_INT ? (double)f->i : f->d);
    case PK_K_TIME:
        if (f->type == JS_STRING) {
            if ((rc = js_string(js, f, &s, &n)) < 0)
                return rc;
            if (pk_parse_time(s, n, !col->is_time, &us) < 0)
                return 0;
        } else if (f->type == JS_INT) {
            us = pk_epoch_us(f->i);
        } else if (pk_epoch_us_double(f->d, &us) < 0) {
            return 0;
        }
        return pq_set_i64(w, (size_t)ci, us);
    case PK_K_STRING:
        if (f->type == JS_STRING) {
            if ((rc = js_string(js, f, &s, &n)) < 0)
                return rc;
            return pq_set_bytes(w, (size_t)ci, s, n);
        }
        /* other values as their JSON text */
        __attribute__((fallthrough));
    default:
        if ((rc = js_raw_utf8(js, f, &s, &n)) < 0)
            return rc;
        return pq_set_bytes(w, (size_t)ci, s, n);
    }
}

static int overflow_add(p2 *x, const js_field *f)
{
    const char *s;
    size_t n;
    int rc = pk_buf_u8(&x->ovf, x->ovf.n ? ',' : '{');
    if (rc == 0)
        rc = js_quote(&x->ovf, f->key, f->klen);
    if (rc == 0)
        rc = pk_buf_u8(&x->ovf, ':');
    if (rc == 0)
        rc = js_raw_utf8(&x->c->js, f, &s, &n);
    if (rc == 0)
        rc = pk_buf_put(&x->ovf, s, n);
    return rc;
}

static int pass2_line(p2 *x, const char *line, size_t len)
{
    if (blank(line, len))
        return 0;
    js_scanner *js = &x->c->js;
    pk_schema *sc = &x->p->schema;
    js_field f;
    int rc = js_begin(js, line, len);
    size_t k = 0;
    x->ovf.n = 0;
    while (rc == 0 && (rc = js_next(js, &f)) == 1) {
        int ci = -1;
        if (k < x->npred && x->pred[k] >= 0) {
            const pk_scol *pc = &sc->cols[x->pred[k]];
            if (pc->len == f.klen && !memcmp(pc->name, f.key, f.klen))
                ci = x->pred[k];
        }
        if (ci < 0) {
            ci = pk_schema_find(sc, f.key, f.klen, pk_hash(f.key, f.klen));
            if (k < x->npred)
                x->pred[k] = ci;
        }
        k++;
        if (ci < 0) {
            rc = overflow_add(x, &f);
            continue;
        }
        rc = set_value(x, ci, &f);
    }
    if (rc < 0)
        return rc == -EBADMSG ? -EIO : rc;   /* the spill held a line pass 1 accepted */
    if (x->ovf.n && x->p->overflow_col >= 0) {
        if ((rc = pk_buf_u8(&x->ovf, '}')) < 0 ||
            (rc = pq_set_bytes(x->w, (size_t)x->p->overflow_col, x->ovf.p, x->ovf.n)) < 0)
            return rc;
    }
    return pq_end_row(x->w);
}

static int read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = read(fd, p + done, n - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            break;
        done += (size_t)k;
    }
    *got = done;
    return 0;
}

static int pass2_memory(p2 *x)
{
    part *p = x->p;
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && off < p->mem.n) {
        uint8_t *nl = memchr(p->mem.p + off, '\n', p->mem.n - off);
        size_t end = nl ? (size_t)(nl - p->mem.p) : p->mem.n;
        rc = pass2_line(x, (const char *)p->mem.p + off, end - off);
        off = end + 1;
    }
    x->c->mem_used -= p->mem.n;
    pk_buf_free(&p->mem);
    return rc;
}

static int pass2_stream(p2 *x)
{
    part *p = x->p;
    size_t cap = READ_BUF;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    size_t have = 0;
    int rc = 0;
    for (;;) {
        size_t got = 0;
        if ((rc = read_full(p->fd, buf + have, cap - have, &got)) < 0)
            break;
        have += got;
        size_t off = 0;
        while (off < have) {
            uint8_t *nl = memchr(buf + off, '\n', have - off);
            if (!nl)
                break;
            if ((rc = pass2_line(x, (const char *)buf + off, (size_t)(nl - buf) - off)) < 0)
                break;
            off = (size_t)(nl - buf) + 1;
        }
        if (rc < 0)
            break;
        memmove(buf, buf + off, have - off);
        have -= off;
        if (got == 0) {
            if (have)
                rc = pass2_line(x, (const char *)buf, have);
            break;
        }
        if (have == cap) {   /* one line longer than the buffer: grow (bounded by max_line + wrapping) */
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    free(buf);
    return rc;
}

static int write_part(pk_conv *c, part *p, const char *path, uint64_t *bytes)
{
    int rc;
    if (p->fd >= 0) {
        if (p->wbuf.n && (rc = write_all(p->fd, p->wbuf.p, p->wbuf.n)) < 0)
            return rc;
        p->wbuf.n = 0;
        pk_buf_free(&p->wbuf);
        if (lseek(p->fd, 0, SEEK_SET) < 0)
            return -errno;
    }
    pq_coldef *defs = calloc(p->schema.n, sizeof(pq_coldef));
    p2 x = { .c = c, .p = p };
    x.npred = p->schema.n < 4096 ? p->schema.n : 4096;
    x.pred = malloc(x.npred * sizeof(int32_t) + 1);
    pk_buf sj = { 0 };
    pq_kv *kv = calloc(c->nkv + 1, sizeof(pq_kv));
    int ofd = -1;
    rc = -ENOMEM;
    if (!defs || !x.pred || !kv)
        goto out;
    for (size_t i = 0; i < x.npred; i++)
        x.pred[i] = -1;
    for (uint32_t i = 0; i < p->schema.n; i++) {
        defs[i].name = p->schema.cols[i].name;
        defs[i].type = pk_kind_pqtype(p->schema.cols[i].kind);
    }
    ofd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ofd < 0) {
        rc = -errno;
        goto out;
    }
    if ((rc = pq_writer_create(ofd, &c->o.pq, defs, p->schema.n, &x.w)) < 0)
        goto out;
    if ((rc = pass2_memory(&x)) < 0 || (p->fd >= 0 && (rc = pass2_stream(&x)) < 0))
        goto out;
    if ((rc = pk_schema_json(&p->schema, &sj)) < 0 || (rc = pk_buf_u8(&sj, 0)) < 0)
        goto out;
    kv[0].key = "bytefreezer.schema";
    kv[0].value = (const char *)sj.p;
    for (size_t i = 0; i < c->nkv; i++)
        kv[i + 1] = c->kv[i];
    /* no fsync: the local file is uploaded then deleted; after a crash the manifest redoes it */
    rc = pq_writer_finish(x.w, kv, c->nkv + 1, bytes);
out:
    pq_writer_destroy(x.w);
    if (ofd >= 0 && close(ofd) < 0 && rc == 0)
        rc = -errno;
    free(defs);
    free(x.pred);
    free(kv);
    pk_buf_free(&sj);
    pk_buf_free(&x.ovf);
    return rc;
}

static int cmp_part(const void *a, const void *b)
{
    return strcmp(((const part *)a)->path, ((const part *)b)->path);
}

int pk_conv_finish(pk_conv *c, pk_part_cb cb, void *ud)
{
    int rc = pk_conv_end_input(c);
    if (rc < 0)
        return rc;
    if (c->nparts > 1)
        qsort(c->parts, c->nparts, sizeof(part), cmp_part);
    c->last_part = 0;
    for (size_t i = 0; i < c->nparts; i++) {
        part *p = &c->parts[i];
        char path[4200];
        snprintf(path, sizeof(path), "%s/.pk-%d-%u.parquet", c->spill_dir, (int)getpid(), c->file_seq++);
        uint64_t bytes = 0;
        rc = write_part(c, p, path, &bytes);
        if (rc == 0 && cb) {
            pk_part_out po = { .partition = p->path, .path = path, .rows = p->rows, .bytes = bytes,
                               .min_us = p->min_us, .max_us = p->max_us, .index = i, .count = c->nparts };
            rc = cb(ud, &po);
        }
        unlink(path);
        /* the spill is not needed any more: give its disk space back now */
        part_free(p);
        if (rc < 0)
            return rc;
    }
    return 0;
}
