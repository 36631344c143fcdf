/* bf_metrics: a thread-safe registry of counters, gauges and histograms rendered in the Prometheus
 * text format. Series are created on first use and live as long as the registry; the returned
 * pointers stay valid until bf_metrics_destroy. Updates are lock-free atomics.
 * labels: a preformatted label list without braces, e.g. "tenant=\"acme\",dataset=\"fw\"" or NULL;
 * use bf_metrics_labels() to build one with escaping. */
#ifndef BF_METRICS_H
#define BF_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

typedef struct bf_metrics bf_metrics;
typedef struct bf_counter bf_counter;
typedef struct bf_gauge bf_gauge;
typedef struct bf_histogram bf_histogram;

int bf_metrics_create(bf_metrics **out);
void bf_metrics_destroy(bf_metrics *m);

/* Return NULL only on allocation failure; same name+labels returns the same series.
 * A name used with two different types is a programming error and returns NULL. */
bf_counter *bf_metrics_counter(bf_metrics *m, const char *name, const char *help, const char *labels);
bf_gauge *bf_metrics_gauge(bf_metrics *m, const char *name, const char *help, const char *labels);
/* bounds: ascending upper bounds (seconds for latencies); copied. NULL/0 = default latency buckets. */
bf_histogram *bf_metrics_histogram(bf_metrics *m, const char *name, const char *help, const char *labels,
                                   const double *bounds, size_t nbounds);

void bf_counter_add(bf_counter *c, uint64_t v);   /* NULL-safe */
uint64_t bf_counter_get(const bf_counter *c);
void bf_gauge_set(bf_gauge *g, double v);         /* NULL-safe */
void bf_gauge_add(bf_gauge *g, double v);
double bf_gauge_get(const bf_gauge *g);
void bf_histogram_observe(bf_histogram *h, double v);  /* NULL-safe */

/* Build "k1=\"v1\",k2=\"v2\"" from NULL-terminated pairs into out (escaping \ " and newline). */
void bf_metrics_labels(char *out, size_t outlen, ...);
/* Render the whole registry (sorted by name, then labels). 0 or -ENOMEM. */
int bf_metrics_render(bf_metrics *m, bf_buf *out);
#endif
