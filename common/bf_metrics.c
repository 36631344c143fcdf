/* bf_metrics: see bf_metrics.h. Families (one per metric name) hold series (one per label set).
 * Creation takes the registry mutex; updates are relaxed atomics on the series, so the hot path
 * never locks. Series are allocated one by one so their addresses stay stable. */
#include "bf_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { BF_MT_COUNTER = 0, BF_MT_GAUGE, BF_MT_HISTOGRAM } bf_mtype;
static const char *const type_names[] = {"counter", "gauge", "histogram"};

static const double default_bounds[] = {.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

struct bf_counter { _Atomic uint64_t v; };
struct bf_gauge { _Atomic uint64_t bits; };   /* a double's bit pattern */
struct bf_histogram {
    size_t nbounds;
    const double *bounds;        /* the family's bounds */
    _Atomic uint64_t *buckets;   /* nbounds + 1 (last = +Inf), non-cumulative */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_bits;
};

typedef struct series {
    char *labels;                /* "" when none */
    union { struct bf_counter c; struct bf_gauge g; struct bf_histogram h; } u;
} series;

typedef struct family {
    char *name, *help;
    bf_mtype type;
    double *bounds;              /* histograms only */
    size_t nbounds;
    series **s;
    size_t ns, caps;
} family;

struct bf_metrics {
    pthread_mutex_t mu;
    family **f;
    size_t nf, capf;
};

static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }
static double bitsd(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }

int bf_metrics_create(bf_metrics **out)
{
    bf_metrics *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    int rc = pthread_mutex_init(&m->mu, NULL);
    if (rc) { free(m); return -rc; }
    *out = m;
    return 0;
}

static void series_free(series *s, bf_mtype t)
{
    if (!s) return;
    if (t == BF_MT_HISTOGRAM) free((void *)s->u.h.buckets);
    free(s->labels);
    free(s);
}

static void family_free(family *f)
{
    for (size_t i = 0; i < f->ns; i++) series_free(f->s[i], f->type);
    free(f->s);
    free(f->name);
    free(f->help);
    free(f->bounds);
    free(f);
}

void bf_metrics_destroy(bf_metrics *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nf; i++) family_free(m->f[i]);
    free(m->f);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p) return -ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* Under the mutex: find or create the family; NULL on type clash or ENOMEM. */
static family *family_get(bf_metrics *m, const char *name, const char *help, bf_mtype type,
                          const double *bounds, size_t nbounds)
{
    for (size_t i = 0; i < m->nf; i++)
        if (strcmp(m->f[i]->name, name) == 0) return m->f[i]->type == type ? m->f[i] : NULL;
    if (grow((void **)&m->f, &m->capf, m->nf + 1, sizeof *m->f)) return NULL;
    family *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    if (type == BF_MT_HISTOGRAM) {
        if (!bounds || nbounds == 0) { bounds = default_bounds; nbounds = sizeof default_bounds / sizeof *default_bounds; }
        f->bounds = malloc(nbounds * sizeof *f->bounds);
        if (f->bounds) memcpy(f->bounds, bounds, nbounds * sizeof *f->bounds);
        f->nbounds = nbounds;
    }
    if (!f->name || !f->help || (type == BF_MT_HISTOGRAM && !f->bounds)) { family_free(f); return NULL; }
    m->f[m->nf++] = f;
    return f;
}

static series *series_get(bf_metrics *m, const char *name, const char *help, bf_mtype type, const char *labels,
                          const double *bounds, size_t nbounds)
{
    if (!m || !name) return NULL;
    if (!labels) labels = "";
    series *res = NULL;
    pthread_mutex_lock(&m->mu);
    family *f = family_get(m, name, help, type, bounds, nbounds);
    if (!f) goto out;
    for (size_t i = 0; i < f->ns; i++)
        if (strcmp(f->s[i]->labels, labels) == 0) { res = f->s[i]; goto out; }
    if (grow((void **)&f->s, &f->caps, f->ns + 1, sizeof *f->s)) goto out;
    series *s = calloc(1, sizeof *s);
    if (!s) goto out;
    s->labels = strdup(labels);
    if (type == BF_MT_HISTOGRAM) {
        s->u.h.nbounds = f->nbounds;
        s->u.h.bounds = f->bounds;
        s->u.h.buckets = calloc(f->nbounds + 1, sizeof *s->u.h.buckets);
    }
    if (!s->labels || (type == BF_MT_HISTOGRAM && !s->u.h.buckets)) { series_free(s, type); goto out; }
    f->s[f->ns++] = s;
    res = s;
out:
    pthread_mutex_unlock(&m->mu);
    return res;
}

bf_counter *bf_metrics_counter(bf_metrics *m, const char *name, const char *help, const char *labels)
{
    series *s = series_get(m, name, help, BF_MT_COUNTER, labels, NULL, 0);
    return s ? &s->u.c : NULL;
}

bf_gauge *bf_metrics_gauge(bf_metrics *m, const char *name, const char *help, const char *labels)
{
    series *s = series_get(m, name, help, BF_MT_GAUGE, labels, NULL, 0);
    return s ? &s->u.g : NULL;
}

bf_histogram *bf_metrics_histogram(bf_metrics *m, const char *name, const char *help, const char *labels,
                                   const double *bounds, size_t nbounds)
{
    series *s = series_get(m, name, help, BF_MT_HISTOGRAM, labels, bounds, nbounds);
    return s ? &s->u.h : NULL;
}

void bf_counter_add(bf_counter *c, uint64_t v)
{
    if (c) atomic_fetch_add_explicit(&c->v, v, memory_order_relaxed);
}

uint64_t bf_counter_get(const bf_counter *c)
{
    return c ? atomic_load_explicit((_Atomic uint64_t *)&c->v, memory_order_relaxed) : 0;
}

void bf_gauge_set(bf_gauge *g, double v)
{
    if (g) atomic_store_explicit(&g->bits, dbits(v), memory_order_relaxed);
}

/* A double has no atomic add: compare-and-swap on its bit pattern. */
static void atomic_add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(bits, &old, dbits(bitsd(old) + v), memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

void bf_gauge_add(bf_gauge *g, double v)
{
    if (g) atomic_add_double(&g->bits, v);
}

double bf_gauge_get(const bf_gauge *g)
{
    return g ? bitsd(atomic_load_explicit((_Atomic uint64_t *)&g->bits, memory_order_relaxed)) : 0;
}

void bf_histogram_observe(bf_histogram *h, double v)
{
    if (!h) return;
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i]) i++;   /* le semantics: v <= bound */
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_add_double(&h->sum_bits, v);
}

/* Appends an escaped label value; returns chars needed (excluding NUL) or -1 if it does not fit. */
static int put_escaped(char *out, size_t outlen, size_t pos, const char *v)
{
    for (; *v; v++) {
        const char *rep = NULL;
        char one[2] = {*v, 0};
        if (*v == '\\') rep = "\\\\";
        else if (*v == '"') rep = "\\\"";
        else if (*v == '\n') rep = "\\n";
        else rep = one;
        size_t n = strlen(rep);
        if (pos + n >= outlen) return -1;
        memcpy(out + pos, rep, n);
        pos += n;
    }
    return (int)pos;
}

void bf_metrics_labels(char *out, size_t outlen, ...)
{
    if (!out || outlen == 0) return;
    out[0] = 0;
    size_t pos = 0;
    va_list ap;
    va_start(ap, outlen);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        if (!v) v = "";
        size_t start = pos;
        /* a pair that does not fit is dropped whole, so the list stays well-formed */
        int n = snprintf(out + pos, outlen - pos, "%s%s=\"", pos ? "," : "", k);
        if (n < 0 || (size_t)n >= outlen - pos) { out[start] = 0; break; }
        int p = put_escaped(out, outlen, pos + (size_t)n, v);
        if (p < 0 || (size_t)p + 1 >= outlen) { out[start] = 0; break; }
        pos = (size_t)p;
        out[pos++] = '"';
        out[pos] = 0;
    }
    va_end(ap);
}

/* Shortest text that reads back as the same double; Prometheus spellings for the specials. */
static void fmt_double(double d, char out[40])
{
    if (isnan(d)) { strcpy(out, "NaN"); return; }
    if (isinf(d)) { strcpy(out, d > 0 ? "+Inf" : "-Inf"); return; }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, d);
        if (strtod(out, NULL) == d) return;
    }
}

static int put_help(bf_buf *b, const family *f)
{
    int rc = bf_buf_printf(b, "# HELP %s ", f->name);
    for (const char *p = f->help; !rc && *p; p++) {
        if (*p == '\\') rc = bf_buf_puts(b, "\\\\");
        else if (*p == '\n') rc = bf_buf_puts(b, "\\n");
        else rc = bf_buf_putc(b, *p);
    }
    if (!rc) rc = bf_buf_printf(b, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
    return rc;
}

/* name{labels[,extra]} */
static int put_series_name(bf_buf *b, const char *name, const char *suffix, const char *labels, const char *extra)
{
    int has_l = labels && *labels, has_e = extra && *extra;
    if (!has_l && !has_e) return bf_buf_printf(b, "%s%s ", name, suffix);
    return bf_buf_printf(b, "%s%s{%s%s%s} ", name, suffix, has_l ? labels : "", has_l && has_e ? "," : "",
                         has_e ? extra : "");
}

static int render_hist(bf_buf *b, const family *f, const series *s)
{
    const struct bf_histogram *h = &s->u.h;
    uint64_t cum = 0;
    int rc = 0;
    char num[40], le[64];
    for (size_t i = 0; !rc && i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->nbounds) fmt_double(h->bounds[i], num);
        else strcpy(num, "+Inf");
        snprintf(le, sizeof le, "le=\"%s\"", num);
        rc = put_series_name(b, f->name, "_bucket", s->labels, le);
        if (!rc) rc = bf_buf_printf(b, "%" PRIu64 "\n", cum);
    }
    fmt_double(bitsd(atomic_load_explicit(&h->sum_bits, memory_order_relaxed)), num);
    if (!rc) rc = put_series_name(b, f->name, "_sum", s->labels, NULL);
    if (!rc) rc = bf_buf_printf(b, "%s\n", num);
    if (!rc) rc = put_series_name(b, f->name, "_count", s->labels, NULL);
    /* _count is read after the buckets; a concurrent observe can make it one ahead, which scrapers tolerate */
    if (!rc) rc = bf_buf_printf(b, "%" PRIu64 "\n", atomic_load_explicit(&h->count, memory_order_relaxed));
    return rc;
}

static int render_series(bf_buf *b, const family *f, const series *s)
{
    char num[40];
    int rc;
    switch (f->type) {
    case BF_MT_COUNTER:
        rc = put_series_name(b, f->name, "", s->labels, NULL);
        return rc ? rc : bf_buf_printf(b, "%" PRIu64 "\n", atomic_load_explicit(&s->u.c.v, memory_order_relaxed));
    case BF_MT_GAUGE:
        fmt_double(bitsd(atomic_load_explicit(&s->u.g.bits, memory_order_relaxed)), num);
        rc = put_series_name(b, f->name, "", s->labels, NULL);
        return rc ? rc : bf_buf_printf(b, "%s\n", num);
    default:
        return render_hist(b, f, s);
    }
}

static int cmp_family(const void *a, const void *b)
{
    return strcmp((*(family *const *)a)->name, (*(family *const *)b)->name);
}

static int cmp_series(const void *a, const void *b)
{
    return strcmp((*(series *const *)a)->labels, (*(series *const *)b)->labels);
}

int bf_metrics_render(bf_metrics *m, bf_buf *out)
{
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    /* Sorting in place under the mutex is harmless: series pointers, not positions, are handed out. */
    if (m->nf > 1) qsort(m->f, m->nf, sizeof *m->f, cmp_family);
    for (size_t i = 0; !rc && i < m->nf; i++) {
        family *f = m->f[i];
        if (f->ns > 1) qsort(f->s, f->ns, sizeof *f->s, cmp_series);
        rc = put_help(out, f);
        for (size_t j = 0; !rc && j < f->ns; j++) rc = render_series(out, f, f->s[j]);
    }
    pthread_mutex_unlock(&m->mu);
    return rc ? -ENOMEM : 0;
}
