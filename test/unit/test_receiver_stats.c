/* Unit tests of receiver/stats.c: health from real state, and the metric series it maintains. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "bf_buf.h"
#include "../../receiver/stats.h"

static bf_health health(rcv_stats *s, json_t **detail)
{
    *detail = json_object();
    return rcv_stats_health(s, *detail);
}

static void test_health(void **st)
{
    (void)st;
    bf_metrics *m = NULL;
    rcv_stats *s = NULL;
    json_t *d;
    assert_int_equal(bf_metrics_create(&m), 0);
    assert_int_equal(rcv_stats_create(m, &s), 0);
    assert_int_equal(health(s, &d), BF_UNHEALTHY);          /* not listening yet */
    json_decref(d);
    rcv_stats_listening(s, 1);
    assert_int_equal(health(s, &d), BF_HEALTHY);
    json_decref(d);
    rcv_stats_store_result(s, -ETIMEDOUT);
    assert_int_equal(health(s, &d), BF_DEGRADED);
    assert_int_equal(json_integer_value(json_object_get(d, "store_consecutive_failures")), 1);
    assert_true(json_array_size(json_object_get(d, "reasons")) == 1);
    json_decref(d);
    assert_true(rcv_stats_store_failing(s));
    rcv_stats_store_result(s, 0);
    assert_false(rcv_stats_store_failing(s));
    assert_int_equal(health(s, &d), BF_HEALTHY);
    json_decref(d);
    rcv_stats_spool(s, 800, 1000);                            /* exactly 80 %: still fine */
    assert_int_equal(health(s, &d), BF_HEALTHY);
    json_decref(d);
    rcv_stats_spool(s, 801, 1000);
    assert_int_equal(health(s, &d), BF_DEGRADED);
    json_decref(d);
    rcv_stats_destroy(s);
    bf_metrics_destroy(m);
}

static void test_metrics(void **st)
{
    (void)st;
    bf_metrics *m = NULL;
    rcv_stats *s = NULL;
    bf_buf out;
    assert_int_equal(bf_metrics_create(&m), 0);
    assert_int_equal(rcv_stats_create(m, &s), 0);
    rcv_stats_request(s, "acme", "fw", 200);
    rcv_stats_request(s, "acme", "fw", 200);
    rcv_stats_request(s, NULL, NULL, 410);
    rcv_stats_accepted(s, "acme", "fw", 1000, 5000, 42, 0.01);
    rcv_stats_spool_dataset(s, "acme", "fw", 77);
    bf_buf_init(&out, 0);
    assert_int_equal(bf_metrics_render(m, &out), 0);
    assert_non_null(strstr(out.data, "bytefreezer_receiver_requests_total{tenant=\"acme\",dataset=\"fw\",status=\"200\"} 2"));
    assert_non_null(strstr(out.data, "bytefreezer_receiver_requests_total{tenant=\"_unknown\",dataset=\"_unknown\",status=\"410\"} 1"));
    assert_non_null(strstr(out.data, "bytefreezer_receiver_lines_total{tenant=\"acme\",dataset=\"fw\"} 42"));
    assert_non_null(strstr(out.data, "bytefreezer_receiver_bytes_total{tenant=\"acme\",dataset=\"fw\"} 1000"));
    assert_non_null(strstr(out.data, "bytefreezer_receiver_spool_dataset_bytes{tenant=\"acme\",dataset=\"fw\"} 77"));
    assert_non_null(strstr(out.data, "bytefreezer_receiver_store_seconds_count{tenant=\"acme\",dataset=\"fw\"} 1"));
    bf_buf_free(&out);
    rcv_stats_destroy(s);
    bf_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_health), cmocka_unit_test(test_metrics)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
