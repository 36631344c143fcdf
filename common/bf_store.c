/* bf_store front-end: URI dispatch to a backend, key/metadata validation, metrics, error text.
 * Backends: bf_store_file.c (file://), bf_store_s3.c (s3://). */
#include <stdatomic.h>
#include "bf_store.h"
#include "bf_store_file.h"
#include "bf_store_s3.h"
#include "bf_buf.h"
#include "bf_util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ctype.h>

enum { OP_PUT, OP_CREATE, OP_GET, OP_HEAD, OP_DELETE, OP_LIST, OP_COUNT };
static const char *const OP_NAMES[OP_COUNT] = {"put", "create", "get", "head", "delete", "list"};

static const bf_store_ops *const BACKENDS[] = {&bf_store_file_ops, &bf_store_s3_ops};

struct bf_store {
    char *uri;
    const bf_store_ops *ops;
    void *be;
    bf_histogram *lat[OP_COUNT];
    bf_counter *errs[OP_COUNT];
    _Atomic int lacks_cond;     /* set once a create-exclusive answered -ENOTSUP */
};

#define KEY_MAX 1024
#define META_MAX_TOTAL 2048

static _Thread_local char t_errmsg[1024];

const char *bf_store_errmsg(void) { return t_errmsg; }

void bf_store_seterr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_errmsg, sizeof t_errmsg, fmt, ap);
    va_end(ap);
}

void bf_store_info_free(bf_store_info *i)
{
    if (!i) return;
    for (size_t k = 0; k < i->nmeta; k++) {
        free((char *)i->meta[k].key);
        free((char *)i->meta[k].value);
    }
    free(i->meta);
    i->meta = NULL;
    i->nmeta = 0;
}

const char *bf_store_info_meta(const bf_store_info *i, const char *key)
{
    for (size_t k = 0; i && k < i->nmeta; k++)
        if (strcasecmp(i->meta[k].key, key) == 0) return i->meta[k].value;
    return NULL;
}

int bf_store_info_add_meta(bf_store_info *i, const char *k, size_t klen, const char *v, size_t vlen)
{
    bf_kv *m = realloc(i->meta, (i->nmeta + 1) * sizeof *m);
    if (!m) return -ENOMEM;
    i->meta = m;
    char *kk = strndup(k, klen), *vv = strndup(v, vlen);
    if (!kk || !vv) { free(kk); free(vv); return -ENOMEM; }
    for (char *p = kk; *p; p++) *p = (char)tolower((unsigned char)*p);
    m[i->nmeta].key = kk;
    m[i->nmeta].value = vv;
    i->nmeta++;
    return 0;
}

void bf_store_list_free(bf_store_list *l)
{
    if (!l) return;
    for (size_t k = 0; k < l->n; k++) free(l->items[k].key);
    free(l->items);
    free(l->next);
    memset(l, 0, sizeof *l);
}

int bf_store_list_add(bf_store_list *l, size_t *cap, const char *key, size_t klen, int64_t size, int64_t mtime_ms,
                      const char *etag)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        bf_store_obj *it = realloc(l->items, nc * sizeof *it);
        if (!it) return -ENOMEM;
        l->items = it;
        *cap = nc;
    }
    bf_store_obj *o = &l->items[l->n];
    memset(o, 0, sizeof *o);
    o->key = strndup(key, klen);
    if (!o->key) return -ENOMEM;
    o->size = size;
    o->mtime_ms = mtime_ms;
    if (etag) snprintf(o->etag, sizeof o->etag, "%s", etag);
    l->n++;
    return 0;
}

/* ---- validation ---- */

/* Segments must be non-empty and not "." or ".."; control bytes are refused because S3 listings are
 * XML 1.0, which cannot carry most of them. allow_partial_tail: a list prefix may end inside a segment
 * or with '/', and may be empty. */
static int check_path(const char *k, int is_prefix)
{
    size_t n = strlen(k);
    if (n > KEY_MAX) return -EINVAL;
    if (n == 0) return is_prefix ? 0 : -EINVAL;
    if (k[0] == '/') return -EINVAL;
    const char *seg = k;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c && (c < 0x20 || c == 0x7f)) return -EINVAL;
        if (c && c != '/') continue;
        size_t sl = (size_t)(k + i - seg);
        int last = c == 0;
        if (sl == 0 && !(last && is_prefix)) return -EINVAL;
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
            if (!(last && is_prefix)) return -EINVAL;
        }
        seg = k + i + 1;
    }
    return 0;
}

static int check_meta(const bf_kv *meta, size_t nmeta)
{
    size_t total = 0;
    for (size_t i = 0; i < nmeta; i++) {
        const char *k = meta[i].key, *v = meta[i].value;
        if (!k || !*k || !v) return -EINVAL;
        for (const char *p = k; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-') return -EINVAL;   /* '_' headers get dropped by proxies */
        /* header values: printable ASCII; S3 trims surrounding spaces, so refuse them to round-trip exactly */
        size_t vl = strlen(v);
        if (vl && (v[0] == ' ' || v[vl - 1] == ' ')) return -EINVAL;
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) return -EINVAL;
        total += strlen(k) + vl;
    }
    return total > META_MAX_TOTAL ? -EINVAL : 0;
}

/* ---- open/close ---- */

static const bf_store_ops *find_backend(const char *uri, const char **rest)
{
    for (size_t i = 0; i < sizeof BACKENDS / sizeof BACKENDS[0]; i++) {
        size_t n = strlen(BACKENDS[i]->scheme);
        if (strncmp(uri, BACKENDS[i]->scheme, n) == 0 && strncmp(uri + n, "://", 3) == 0) {
            *rest = uri + n + 3;
            return BACKENDS[i];
        }
    }
    return NULL;
}

static void init_metrics(bf_store *s, bf_metrics *m)
{
    if (!m) return;
    for (int i = 0; i < OP_COUNT; i++) {
        char labels[64];
        bf_metrics_labels(labels, sizeof labels, "op", OP_NAMES[i], NULL);
        s->lat[i] = bf_metrics_histogram(m, "bytefreezer_store_request_seconds", "object store operation latency (retries included)",
                                         labels, NULL, 0);
        s->errs[i] = bf_metrics_counter(m, "bytefreezer_store_errors_total",
                                        "object store operations that failed (not-found and lost creates excluded)", labels);
    }
}

int bf_store_open(const char *uri, const bf_s3_config *s3, bf_metrics *metrics, bf_store **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    const char *rest = NULL;
    const bf_store_ops *ops = uri ? find_backend(uri, &rest) : NULL;
    if (!ops) {
        snprintf(err, errlen, "store URI '%s': expected file:///path or s3://bucket/prefix", uri ? uri : "(null)");
        return -EINVAL;
    }
    bf_store *s = calloc(1, sizeof *s);
    if (!s || !(s->uri = strdup(uri))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->ops = ops;
    int rc = ops->open(rest, s3, &s->be, err, errlen);
    if (rc) {
        free(s->uri);
        free(s);
        return rc;
    }
    init_metrics(s, metrics);
    *out = s;
    return 0;
}

void bf_store_close(bf_store *s)
{
    if (!s) return;
    s->ops->close(s->be);
    free(s->uri);
    free(s);
}

const char *bf_store_uri(const bf_store *s) { return s->uri; }

void *bf_store_backend(bf_store *s, const bf_store_ops **ops)
{
    *ops = s->ops;
    return s->be;
}

/* ---- operation wrapper: timing, error accounting, default error text ---- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int finish(bf_store *s, int op, double t0, int rc, const char *key)
{
    bf_histogram_observe(s->lat[op], mono_s() - t0);
    if (rc == 0) return 0;
    int expected = rc == -ENOENT || (rc == -EEXIST && op == OP_CREATE);
    if (!expected) bf_counter_add(s->errs[op], 1);
    if (!t_errmsg[0])
        bf_store_seterr("%s %s: %s", OP_NAMES[op], key ? key : "", strerror(-rc));
    return rc;
}

static int begin(const char *key, int is_prefix)
{
    t_errmsg[0] = 0;
    if (key && check_path(key, is_prefix)) {
        bf_store_seterr("invalid key '%.200s': empty, '.' or '..' segment, control byte or too long", key);
        return -EINVAL;
    }
    return 0;
}

static int put_common(bf_store *s, const char *key, const void *data, size_t len, const bf_kv *meta,
                      size_t nmeta, int exclusive)
{
    int op = exclusive ? OP_CREATE : OP_PUT;
    double t0 = mono_s();
    int rc = begin(key, 0);
    if (!rc && check_meta(meta, nmeta)) {
        bf_store_seterr("invalid metadata: names [A-Za-z0-9-] (no '_': proxies drop such headers), values printable ASCII without surrounding spaces, 2 KiB in total");
        rc = -EINVAL;
    }
    if (!rc && !data && len) rc = -EINVAL;
    if (!rc) rc = s->ops->put(s->be, key, data ? data : "", len, meta, nmeta, exclusive);
    return finish(s, op, t0, rc, key);
}

int bf_store_put(bf_store *s, const char *key, const void *data, size_t len, const bf_kv *meta, size_t nmeta)
{
    return put_common(s, key, data, len, meta, nmeta, 0);
}

int bf_store_create_exclusive(bf_store *s, const char *key, const void *data, size_t len, const bf_kv *meta,
                              size_t nmeta)
{
    int rc = put_common(s, key, data, len, meta, nmeta, 1);
    if (rc == -ENOTSUP) atomic_store(&s->lacks_cond, 1);
    return rc;
}

int bf_store_lacks_cond_put(bf_store *s)
{
    return s && atomic_load(&s->lacks_cond);
}

int bf_store_put_file(bf_store *s, const char *key, const char *path, const bf_kv *meta, size_t nmeta)
{
    double t0 = mono_s();
    int rc = begin(key, 0);
    if (!rc && (check_meta(meta, nmeta) || !path)) {
        bf_store_seterr("invalid metadata or path");
        rc = -EINVAL;
    }
    if (!rc) rc = s->ops->put_file(s->be, key, path, meta, nmeta);
    return finish(s, OP_PUT, t0, rc, key);
}

int bf_store_get(bf_store *s, const char *key, bf_sink_fn sink, void *ud, bf_store_info *info)
{
    double t0 = mono_s();
    if (info) memset(info, 0, sizeof *info);
    int rc = begin(key, 0);
    if (!rc && !sink) rc = -EINVAL;
    if (!rc) rc = s->ops->get(s->be, key, sink, ud, info);
    if (rc && info) bf_store_info_free(info);
    return finish(s, OP_GET, t0, rc, key);
}

typedef struct mem_sink { bf_buf buf; int over; } mem_sink;

static int mem_sink_fn(void *ud, const void *data, size_t len)
{
    mem_sink *m = ud;
    int rc = bf_buf_append(&m->buf, data, len);
    if (rc == -E2BIG) m->over = 1;
    return rc;
}

int bf_store_get_mem(bf_store *s, const char *key, size_t max, char **data, size_t *len, bf_store_info *info)
{
    mem_sink m = {0};
    bf_buf_init(&m.buf, max);
    *data = NULL;
    *len = 0;
    int rc = bf_store_get(s, key, mem_sink_fn, &m, info);
    if (rc && m.over) {
        rc = -EFBIG;
        bf_store_seterr("get %s: object larger than %zu bytes", key, max);
    }
    if (rc) {
        bf_buf_free(&m.buf);
        return rc;
    }
    if (!m.buf.data && bf_buf_reserve(&m.buf, 1)) return -ENOMEM;   /* empty object: return "" not NULL */
    *data = bf_buf_steal(&m.buf, len);
    return 0;
}

int bf_store_head(bf_store *s, const char *key, bf_store_info *info)
{
    double t0 = mono_s();
    bf_store_info tmp;
    bf_store_info *i = info ? info : &tmp;
    memset(i, 0, sizeof *i);
    int rc = begin(key, 0);
    if (!rc) rc = s->ops->head(s->be, key, i);
    if (rc || !info) bf_store_info_free(i);
    return finish(s, OP_HEAD, t0, rc, key);
}

int bf_store_delete(bf_store *s, const char *key)
{
    double t0 = mono_s();
    int rc = begin(key, 0);
    if (!rc) rc = s->ops->del(s->be, key);
    return finish(s, OP_DELETE, t0, rc, key);
}

int bf_store_list_page(bf_store *s, const char *prefix, const char *token, size_t max, bf_store_list *out)
{
    double t0 = mono_s();
    memset(out, 0, sizeof *out);
    if (!prefix) prefix = "";
    int rc = begin(prefix, 1);
    if (!rc && (max < 1 || max > 1000)) {
        bf_store_seterr("list: max must be 1..1000");
        rc = -EINVAL;
    }
    if (!rc) rc = s->ops->list(s->be, prefix, token && *token ? token : NULL, max, out);
    if (rc) bf_store_list_free(out);
    return finish(s, OP_LIST, t0, rc, prefix);
}

int bf_store_list_all(bf_store *s, const char *prefix, size_t limit, bf_store_list *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    char *token = NULL;
    int rc = 0;
    do {
        bf_store_list page;
        rc = bf_store_list_page(s, prefix, token, 1000, &page);
        free(token);
        token = NULL;
        if (rc) break;
        for (size_t i = 0; i < page.n && out->n < limit && !rc; i++) {
            bf_store_obj *o = &page.items[i];
            rc = bf_store_list_add(out, &cap, o->key, strlen(o->key), o->size, o->mtime_ms, o->etag);
        }
        token = page.next;
        page.next = NULL;
        bf_store_list_free(&page);
    } while (!rc && token && out->n < limit);
    free(token);   /* stopped at limit: the result is simply cut (a page token would skip dropped items) */
    if (rc) bf_store_list_free(out);
    return rc;
}

int bf_store_ping(bf_store *s)
{
    bf_store_list l;
    int rc = bf_store_list_page(s, "", NULL, 1, &l);
    bf_store_list_free(&l);
    return rc;
}
