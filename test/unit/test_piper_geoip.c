/* GeoIP manager and filter with test databases built by test/tools/make-test-mmdb.pl: lookups of
 * every field name, the filter's outputs, and swaps racing lookups on four threads (each answer must
 * come whole from one generation; the old generation is freed only after its last reader). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "../../piper/geoip.h"
#include "piper_test_util.h"

static char dir[256], v1[300], v2[300];

static int build_dbs(void **state)
{
    (void)state;
    char cwd[512];
    const char *root = getenv("BF_ROOT") ? getenv("BF_ROOT") : getcwd(cwd, sizeof cwd);
    if (!root)
        return -1;
    snprintf(dir, sizeof dir, "%s/piper-geoip-XXXXXX", getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && perl '%s/test/tools/make-test-mmdb.pl' && mv test.mmdb v1.mmdb && "
             "sed -e \"s/'Loopback'/'Loopback2'/\" -e s/64512/64999/ '%s/test/tools/make-test-mmdb.pl' > v2.pl && "
             "perl v2.pl && mv test.mmdb v2.mmdb",
             dir, root, root);
    if (system(cmd))
        return -1;
    snprintf(v1, sizeof v1, "%s/v1.mmdb", dir);
    snprintf(v2, sizeof v2, "%s/v2.mmdb", dir);
    return 0;
}

static int cleanup(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) ? -1 : 0;
}

static void test_lookup(void **state)
{
    (void)state;
    geoip_mgr *m;
    assert_int_equal(geoip_mgr_create(&m), 0);
    assert_null(geoip_acquire(m));
    assert_int_equal(geoip_mgr_load(m, "/nonexistent.mmdb", NULL), -2);
    assert_int_equal(geoip_mgr_load(m, v1, NULL), 0);
    geoip_db *d = geoip_acquire(m);
    const char *f[] = {"city", "country_code", "asn", "country", "latitude"};
    json_t *o = json_object();
    assert_int_equal(geoip_lookup(d, "192.0.2.77", f, 5, o), 1);
    json_t *want = json_pack("{s:s, s:s, s:i}", "city", "TestNet", "country_code", "XA", "asn", 64513);
    assert_true(json_equal(o, want));
    json_decref(want);
    json_object_clear(o);
    assert_int_equal(geoip_lookup(d, "8.8.8.8", f, 5, o), 0);
    assert_int_equal(geoip_lookup(d, "::1", f, 5, o), 0);
    assert_int_equal(geoip_lookup(d, "nope", f, 5, o), -22);
    json_decref(o);
    geoip_release(d);
    assert_string_equal(geoip_field_canonical("city_name"), "city");
    assert_string_equal(geoip_field_canonical("country_iso_code"), "country_code");
    assert_null(geoip_field_canonical("shoe_size"));
    geoip_mgr_destroy(m);
}

static void test_filter(void **state)
{
    (void)state;
    geoip_mgr *m;
    geoip_mgr_create(&m);
    assert_int_equal(geoip_mgr_load(m, v1, NULL), 0);
    pl_env env = {.geoip = m};
    int failed = 0;
    failed += pt_expect("geoip default target", "[{\"type\":\"geoip\",\"config\":{\"fields\":[\"city_name\",\"asn\"]}}]",
                        "{\"ip_address\":\"127.0.0.9\"}", "[{\"ip_address\":\"127.0.0.9\",\"geoip\":{\"city\":\"Loopback\",\"asn\":64512}}]", &env);
    failed += pt_expect("geoip nested source", "[{\"type\":\"geoip\",\"config\":{\"source_field\":\"src.ip\",\"target_field\":\"src.geo\",\"fields\":[\"country_code\"]}}]",
                        "{\"src\":{\"ip\":\"192.0.2.1\"}}", "[{\"src\":{\"ip\":\"192.0.2.1\",\"geo\":{\"country_code\":\"XA\"}}}]", &env);
    failed += pt_expect("geoip not found", "[{\"type\":\"geoip\",\"config\":{}}]", "{\"ip_address\":\"10.1.1.1\"}",
                        "[{\"ip_address\":\"10.1.1.1\",\"tags\":[\"_geoip_lookup_failure\"]}]", &env);
    failed += pt_expect("geoip non-string", "[{\"type\":\"geoip\",\"config\":{}}]", "{\"ip_address\":5}", "[{\"ip_address\":5}]", &env);
    char pipe[600];
    snprintf(pipe, sizeof pipe, "[{\"type\":\"geoip\",\"config\":{\"database\":\"%s\",\"fields\":[\"city\"]}}]", v2);
    failed += pt_expect("geoip private database", pipe, "{\"ip_address\":\"127.0.0.1\"}",
                        "[{\"ip_address\":\"127.0.0.1\",\"geoip\":{\"city\":\"Loopback2\"}}]", NULL);
    assert_int_equal(failed, 0);
    pt_reject("geoip bad field", "[{\"type\":\"geoip\",\"config\":{\"database\":\"/x\",\"fields\":[\"shoe\"]}}]", "unknown geoip field");
    geoip_mgr_destroy(m);
}

typedef struct racer { geoip_mgr *m; atomic_int *stop; atomic_long *done; long lookups, bad; } racer;

static void *race(void *arg)
{
    racer *r = arg;
    const char *f[] = {"city", "asn"};
    while (!atomic_load(r->stop)) {
        geoip_db *d = geoip_acquire(r->m);
        json_t *o = json_object();
        geoip_lookup(d, "127.0.0.1", f, 2, o);
        const char *city = json_string_value(json_object_get(o, "city"));
        json_int_t asn = json_integer_value(json_object_get(o, "asn"));
        /* one generation answers the whole lookup */
        if (!city || !((!strcmp(city, "Loopback") && asn == 64512) || (!strcmp(city, "Loopback2") && asn == 64999)))
            r->bad++;
        json_decref(o);
        geoip_release(d);
        r->lookups++;
        atomic_fetch_add(r->done, 1);
    }
    return NULL;
}

static void test_swap_race(void **state)
{
    (void)state;
    geoip_mgr *m;
    geoip_mgr_create(&m);
    assert_int_equal(geoip_mgr_load(m, v1, NULL), 0);
    atomic_int stop;
    atomic_init(&stop, 0);
    atomic_long done;
    atomic_init(&done, 0);
    racer r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){m, &stop, &done, 0, 0};
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    /* keep swapping until the readers have really overlapped with the swaps */
    long swaps = 0;
    while (swaps < 200 || atomic_load(&done) < 20000) {
        assert_int_equal(geoip_mgr_load(m, swaps % 2 ? v1 : v2, NULL), 0);
        swaps++;
    }
    atomic_store(&stop, 1);
    long total = 0, bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += r[i].lookups;
        bad += r[i].bad;
    }
    assert_int_equal(bad, 0);
    assert_true(total > 0);
    assert_int_equal(geoip_mgr_generation(m), (uint64_t)swaps + 1);
    geoip_mgr_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_swap_race),
    };
    return cmocka_run_group_tests(tests, build_dbs, cleanup);
}
