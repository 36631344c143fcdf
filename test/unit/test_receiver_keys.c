/* Unit tests of receiver/keys.c: X-Proxy-Filename parsing, key building, metadata sanitizing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "../../receiver/keys.h"

static void test_filename_valid(void **st)
{
    (void)st;
    int64_t ns = 0;
    char hint[RCV_HINT_MAX + 1];
    assert_int_equal(rcv_filename_parse("acme--logs--1736938245123456789--ndjson.gz", "acme", "logs", &ns, hint, sizeof hint), 0);
    assert_true(ns == 1736938245123456789LL);
    assert_string_equal(hint, "ndjson");
    assert_int_equal(rcv_filename_parse("acme--logs--17--file.json.zst", "acme", "logs", &ns, hint, sizeof hint), 0);
    assert_true(ns == 17);
    assert_string_equal(hint, "file.json");
    /* tenants and datasets may contain '-' and '_': matched as whole known ids */
    assert_int_equal(rcv_filename_parse("a-b--c_d--5--raw.gz", "a-b", "c_d", &ns, hint, sizeof hint), 0);
    assert_string_equal(hint, "raw");
    /* an uncompressed batch of our proxy keeps its name time (a retry lands on the same key) */
    assert_int_equal(rcv_filename_parse("acme--logs--1736938245123456790--ndjson.raw", "acme", "logs", &ns, hint, sizeof hint), 0);
    assert_true(ns == 1736938245123456790LL);
    assert_string_equal(hint, "ndjson");
    assert_int_equal(rcv_filename_parse("acme--logs--17--ndjson.rawx", "acme", "logs", &ns, hint, sizeof hint), -EINVAL);
}

static void test_filename_invalid(void **st)
{
    (void)st;
    int64_t ns = 0;
    char hint[RCV_HINT_MAX + 1];
    static const char *bad[] = {
        "other--logs--1736938245123456789--ndjson.gz",      /* other tenant */
        "acme--other--1736938245123456789--ndjson.gz",      /* other dataset */
        "acme--logs--17369382451234567890--ndjson.gz",      /* 20 digits */
        "acme--logs--99999999999999999999--ndjson.gz",
        "acme--logs--0--ndjson.gz",                          /* zero time */
        "acme--logs--12a--ndjson.gz",
        "acme--logs----ndjson.gz",
        "acme--logs--1736938245123456789--ndjson",          /* no extension */
        "acme--logs--1736938245123456789--ndjson.txt",
        "acme--logs--1736938245123456789--.gz",             /* empty hint */
        "acme--logs--1736938245123456789--nd--json.gz",     /* "--" in hint */
        "acme--logs--1736938245123456789--../x.gz",
        "acme--logs--1736938245123456789--a/b.gz",
        "acme--logs--1736938245123456789--a..b.gz",
        "acme--logs--1736938245123456789--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.gz",   /* 33 chars */
        "batch_123.ndjson.gz",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ns = -1;
        assert_int_equal(rcv_filename_parse(bad[i], "acme", "logs", &ns, hint, sizeof hint), -EINVAL);
        assert_true(ns == -1);
    }
    assert_int_equal(rcv_filename_parse(NULL, "acme", "logs", &ns, hint, sizeof hint), -EINVAL);
    /* hint buffer too small */
    assert_int_equal(rcv_filename_parse("acme--logs--1--ndjson.gz", "acme", "logs", &ns, hint, 4), -EINVAL);
}

static void test_key(void **st)
{
    (void)st;
    char key[RCV_KEY_MAX];
    assert_int_equal(rcv_object_key("acme", "fw", 1736938245123456789LL, "ndjson", "0123456789abcdef", "gz", key, sizeof key), 0);
    assert_string_equal(key, "acme/fw/acme--fw--1736938245123456789--ndjson--0123456789abcdef.gz");
    assert_int_equal(rcv_object_key("acme", "fw", 5, "raw", "0123456789abcdef", "zst", key, 20), -ENAMETOOLONG);
    assert_int_equal(rcv_object_key("acme", "fw", 5, "raw", "0123", "zst", key, sizeof key), -EINVAL);
    assert_int_equal(rcv_object_key("acme", "fw", 0, "raw", "0123456789abcdef", "zst", key, sizeof key), -EINVAL);
}

static void test_sanitize(void **st)
{
    (void)st;
    char out[16];
    rcv_meta_sanitize("acme--fw--1--ndjson", out, sizeof out);
    assert_string_equal(out, "acme--fw--1--nd");          /* cut to the buffer */
    rcv_meta_sanitize("a b\r\nc\"d", out, sizeof out);
    assert_string_equal(out, "a_b__c_d");
    rcv_meta_sanitize(NULL, out, sizeof out);
    assert_string_equal(out, "unknown");
    rcv_meta_sanitize("", out, sizeof out);
    assert_string_equal(out, "unknown");
}

static void test_hint(void **st)
{
    (void)st;
    assert_true(rcv_hint_valid("ndjson", 6));
    assert_true(rcv_hint_valid("a.b-c_d", 7));
    assert_false(rcv_hint_valid("-a", 2));
    assert_false(rcv_hint_valid("a-", 2));
    assert_false(rcv_hint_valid("", 0));
    assert_false(rcv_hint_valid("a b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filename_valid), cmocka_unit_test(test_filename_invalid),
        cmocka_unit_test(test_key), cmocka_unit_test(test_sanitize), cmocka_unit_test(test_hint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
