/* jscan: the streaming NDJSON scanner: members, numbers (exact int64), strings (escapes, surrogates,
 * invalid UTF-8), nested values kept as raw text, and strict rejection of malformed records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../packer/jscan.h"

static js_scanner js;

static int setup(void **s) { (void)s; js_init(&js); return 0; }
static int teardown(void **s) { (void)s; js_free(&js); return 0; }

static int scan_all(const char *line, js_field *out, int max)
{
    int rc = js_begin(&js, line, strlen(line)), n = 0;
    js_field f;
    while (rc == 0 && (rc = js_next(&js, &f)) == 1) {
        if (n < max)
            out[n] = f;
        n++;
        rc = 0;
    }
    return rc < 0 ? rc : n;
}

static void test_members_and_types(void **s)
{
    (void)s;
    js_field f[16];
    const char *line = " { \"a\" : 1 , \"b\":-2.5e3,\"c\":\"x\",\"d\":true,\"e\":false,\"f\":null,"
                       "\"g\":{\"h\":[1,{\"i\":\"]}\"}]},\"j\":[],\"k\":9223372036854775807,"
                       "\"l\":4611686018427387905,\"m\":-9223372036854775808,\"n\":18446744073709551616} \r";
    assert_int_equal(scan_all(line, f, 16), 12);
    assert_int_equal(f[0].type, JS_INT);
    assert_int_equal(f[0].i, 1);
    assert_int_equal(f[1].type, JS_DOUBLE);
    assert_true(f[1].d == -2500.0);
    assert_int_equal(f[2].type, JS_STRING);
    assert_int_equal(f[3].type, JS_TRUE);
    assert_int_equal(f[4].type, JS_FALSE);
    assert_int_equal(f[5].type, JS_NULL);
    assert_int_equal(f[6].type, JS_OBJECT);
    assert_int_equal(f[6].rawlen, strlen("{\"h\":[1,{\"i\":\"]}\"}]}"));
    assert_memory_equal(f[6].raw, "{\"h\":[1,{\"i\":\"]}\"}]}", f[6].rawlen);
    assert_int_equal(f[7].type, JS_ARRAY);
    assert_int_equal(f[8].type, JS_INT);
    assert_true(f[8].i == INT64_MAX);
    assert_true(f[9].i == (1ll << 62) + 1);
    assert_true(f[10].i == INT64_MIN);
    assert_int_equal(f[11].type, JS_BIGINT);
    assert_memory_equal(f[11].key, "n", 1);
}

static void test_strings(void **s)
{
    (void)s;
    js_field f[4];
    const char *out;
    size_t n;
    /* escapes, a surrogate pair (U+1F600), a lone surrogate, an invalid byte, an escaped key */
    const char *line = "{\"t\\u00e9\":\"a\\n\\\"b\\u00fc\\ud83d\\ude00\\ud800z\",\"raw\":\"ok \xff!\",\"u\":\"\xc3\xbc\"}";
    assert_int_equal(scan_all(line, f, 4), 3);
    assert_int_equal(f[0].klen, 3);
    assert_memory_equal(f[0].key, "t\xc3\xa9", 3);
    assert_int_equal(js_string(&js, &f[0], &out, &n), 0);
    const char *want = "a\n\"b\xc3\xbc\xf0\x9f\x98\x80\xef\xbf\xbdz";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    assert_int_equal(js_string(&js, &f[1], &out, &n), 0);
    assert_int_equal(n, strlen("ok \xef\xbf\xbd!"));
    assert_memory_equal(out, "ok \xef\xbf\xbd!", n);
    assert_int_equal(f[2].str_plain, 1);   /* valid UTF-8 without escapes: no copy */
    assert_int_equal(js_raw_utf8(&js, &f[1], &out, &n), 0);
    assert_memory_equal(out, "\"ok \xef\xbf\xbd!\"", n);
}

static void test_rejects(void **s)
{
    (void)s;
    static const char *bad[] = {
        "", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{\"a\":01}", "{\"a\":1.}",
        "{\"a\":-}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}",
        "{\"a\":[1 2]}", "{\"a\":{\"b\" 1}}", "{\"a\":[1,]}", "{a:1}", "{\"a\":1 \"b\":2}", "{\"a\":[}",
        "{\"a\":\"unterminated}",
    };
    js_field f[4];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(scan_all(bad[i], f, 4) < 0);
    /* deep nesting is bounded */
    char deep[2000];
    strcpy(deep, "{\"a\":");
    size_t k = strlen(deep);
    for (int i = 0; i < 600; i++)
        deep[k++] = '[';
    for (int i = 0; i < 600; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = 0;
    assert_true(scan_all(deep, f, 4) < 0);
    assert_int_equal(scan_all("{}", f, 4), 0);
}

/* \u0000 in a key would cut the Parquet column name short for C readers (DuckDB turned "a\u0000b"
 * into "a" and renamed the real "a"): it becomes U+FFFD; in a value it stays. */
static void test_nul_in_key(void **s)
{
    (void)s;
    js_field f[4];
    const char *out;
    size_t n;
    const char *line = "{\"a\\u0000b\":1,\"\\u0000\\u0000\":2,\"a\":\"x\\u0000y\"}";
    assert_int_equal(scan_all(line, f, 4), 3);
    assert_int_equal(js_begin(&js, line, strlen(line)), 0);
    assert_int_equal(js_next(&js, &f[0]), 1);
    assert_int_equal(f[0].klen, 5);
    assert_memory_equal(f[0].key, "a\xef\xbf\xbd" "b", 5);
    assert_int_equal(js_next(&js, &f[1]), 1);
    assert_int_equal(f[1].klen, 6);
    assert_memory_equal(f[1].key, "\xef\xbf\xbd\xef\xbf\xbd", 6);
    assert_int_equal(js_next(&js, &f[2]), 1);
    assert_int_equal(f[2].klen, 1);
    assert_int_equal(js_string(&js, &f[2], &out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "x\0y", 3);
}

static void test_quote(void **s)
{
    (void)s;
    pk_buf b = { 0 };
    assert_int_equal(js_quote(&b, "a\"\\\n\x01\xff\xc3\xa9", 8), 0);
    const char *want = "\"a\\\"\\\\\\u000a\\u0001\xef\xbf\xbd\xc3\xa9\"";
    assert_int_equal(b.n, strlen(want));
    assert_memory_equal(b.p, want, b.n);
    pk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_and_types),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_nul_in_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
