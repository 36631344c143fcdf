/* bf_metrics: exact Prometheus text for a known registry, histogram buckets, label escaping,
 * type clashes and concurrent updates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "bf_metrics.h"

static char *render(bf_metrics *m)
{
    bf_buf b;
    bf_buf_init(&b, 0);
    assert_int_equal(bf_metrics_render(m, &b), 0);
    size_t n;
    char *s = bf_buf_steal(&b, &n);
    return s ? s : strdup("");
}

static void test_render_exact(void **state)
{
    (void)state;
    bf_metrics *m;
    assert_int_equal(bf_metrics_create(&m), 0);
    char l1[128], l2[128];
    bf_metrics_labels(l1, sizeof l1, "tenant", "acme", "dataset", "fw", NULL);
    bf_metrics_labels(l2, sizeof l2, "tenant", "beta", "dataset", "fw", NULL);
    bf_counter *c2 = bf_metrics_counter(m, "bf_records_total", "Records accepted.", l2);
    bf_counter *c1 = bf_metrics_counter(m, "bf_records_total", "Records accepted.", l1);
    bf_gauge *g = bf_metrics_gauge(m, "bf_spool_bytes", "Bytes in the spool.", NULL);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_non_null(g);
    assert_ptr_equal(c1, bf_metrics_counter(m, "bf_records_total", "Records accepted.", l1));
    bf_counter_add(c1, 5);
    bf_counter_add(c1, 2);
    bf_counter_add(c2, 1);
    bf_gauge_set(g, 1.5);
    bf_gauge_add(g, 2.25);
    assert_true(bf_gauge_get(g) == 3.75);
    assert_int_equal(bf_counter_get(c1), 7);
    char *s = render(m);
    const char *want =
        "# HELP bf_records_total Records accepted.\n"
        "# TYPE bf_records_total counter\n"
        "bf_records_total{tenant=\"acme\",dataset=\"fw\"} 7\n"
        "bf_records_total{tenant=\"beta\",dataset=\"fw\"} 1\n"
        "# HELP bf_spool_bytes Bytes in the spool.\n"
        "# TYPE bf_spool_bytes gauge\n"
        "bf_spool_bytes 3.75\n";
    assert_string_equal(s, want);
    free(s);
    bf_metrics_destroy(m);
}

static void test_histogram(void **state)
{
    (void)state;
    bf_metrics *m;
    assert_int_equal(bf_metrics_create(&m), 0);
    const double bounds[] = {0.1, 1, 10};
    bf_histogram *h = bf_metrics_histogram(m, "bf_req_seconds", "Latency.", "op=\"put\"", bounds, 3);
    assert_non_null(h);
    bf_histogram_observe(h, 0.05);
    bf_histogram_observe(h, 0.1);   /* le is inclusive */
    bf_histogram_observe(h, 0.5);
    bf_histogram_observe(h, 20);
    char *s = render(m);
    const char *want =
        "# HELP bf_req_seconds Latency.\n"
        "# TYPE bf_req_seconds histogram\n"
        "bf_req_seconds_bucket{op=\"put\",le=\"0.1\"} 2\n"
        "bf_req_seconds_bucket{op=\"put\",le=\"1\"} 3\n"
        "bf_req_seconds_bucket{op=\"put\",le=\"10\"} 3\n"
        "bf_req_seconds_bucket{op=\"put\",le=\"+Inf\"} 4\n"
        "bf_req_seconds_sum{op=\"put\"} 20.65\n"
        "bf_req_seconds_count{op=\"put\"} 4\n";
    assert_string_equal(s, want);
    free(s);
    bf_metrics_destroy(m);
}

static void test_default_buckets(void **state)
{
    (void)state;
    bf_metrics *m;
    assert_int_equal(bf_metrics_create(&m), 0);
    bf_histogram *h = bf_metrics_histogram(m, "lat", "l", NULL, NULL, 0);
    bf_histogram_observe(h, 0.003);
    char *s = render(m);
    const char *les[] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};
    for (size_t i = 0; i < 13; i++) {
        char line[64];
        snprintf(line, sizeof line, "lat_bucket{le=\"%s\"} %d\n", les[i], i == 0 ? 0 : 1);
        assert_non_null(strstr(s, line));
    }
    assert_non_null(strstr(s, "lat_count 1\n"));
    free(s);
    bf_metrics_destroy(m);
}

static void test_labels_escaping_and_types(void **state)
{
    (void)state;
    char l[128];
    bf_metrics_labels(l, sizeof l, "path", "a\\b\"c\nd", NULL);
    assert_string_equal(l, "path=\"a\\\\b\\\"c\\nd\"");
    /* a pair that does not fit is dropped whole */
    char small[16];
    bf_metrics_labels(small, sizeof small, "a", "1", "bbbbbb", "2222222", NULL);
    assert_string_equal(small, "a=\"1\"");
    bf_metrics *m;
    assert_int_equal(bf_metrics_create(&m), 0);
    assert_non_null(bf_metrics_counter(m, "x", "h", NULL));
    assert_null(bf_metrics_gauge(m, "x", "h", NULL));
    bf_counter_add(NULL, 1);
    bf_gauge_set(NULL, 1);
    bf_histogram_observe(NULL, 1);
    /* HELP text escaping */
    bf_metrics_gauge(m, "y", "line1\nline2 \\", NULL);
    char *s = render(m);
    assert_non_null(strstr(s, "# HELP y line1\\nline2 \\\\\n"));
    assert_non_null(strstr(s, "# HELP x h\n# TYPE x counter\nx 0\n"));
    free(s);
    bf_metrics_destroy(m);
}

typedef struct { bf_counter *c; bf_gauge *g; bf_histogram *h; } workset;
static void *worker(void *arg)
{
    workset *w = arg;
    for (int i = 0; i < 100000; i++) {
        bf_counter_add(w->c, 1);
        bf_gauge_add(w->g, 1);
        bf_histogram_observe(w->h, 0.5);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    bf_metrics *m;
    assert_int_equal(bf_metrics_create(&m), 0);
    workset w = {bf_metrics_counter(m, "c", "c", NULL), bf_metrics_gauge(m, "g", "g", NULL),
                 bf_metrics_histogram(m, "h", "h", NULL, NULL, 0)};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, &w);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_int_equal(bf_counter_get(w.c), 400000);
    assert_true(bf_gauge_get(w.g) == 400000.0);
    char *s = render(m);
    assert_non_null(strstr(s, "h_count 400000\n"));
    assert_non_null(strstr(s, "h_sum 200000\n"));
    assert_non_null(strstr(s, "h_bucket{le=\"0.25\"} 0\n"));
    assert_non_null(strstr(s, "h_bucket{le=\"0.5\"} 400000\n"));
    free(s);
    bf_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_default_buckets),
        cmocka_unit_test(test_labels_escaping_and_types),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
