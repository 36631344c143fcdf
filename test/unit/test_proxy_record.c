/* proxy record makers: NDJSON passthrough with textual BfTs insertion (integers exact, key order kept),
 * text wrapping, auto detection per line, trimming, invalid UTF-8 and JSON edge cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../proxy/record.h"

static void expect_line(record_format f, const char *in, const char *want, int want_n)
{
    bf_buf out;
    bf_buf_init(&out, 0);
    int n = record_line(f, in, strlen(in), 1700000000123LL, &out);
    assert_int_equal(n, want_n);
    assert_string_equal(out.len ? out.data : "", want);
    bf_buf_free(&out);
}

static void test_ndjson_insert(void **st)
{
    (void)st;
    expect_line(RECORD_NDJSON, "{\"a\":1,\"big\":12345678901234567890}",
                "{\"BfTs\":1700000000123,\"a\":1,\"big\":12345678901234567890}\n", 1);
    expect_line(RECORD_NDJSON, "  { \"z\" : 1.50e3 , \"a\":[true,false,null]}  ",
                "{\"BfTs\":1700000000123,\"z\" : 1.50e3 , \"a\":[true,false,null]}\n", 1);
    expect_line(RECORD_NDJSON, "{}", "{\"BfTs\":1700000000123}\n", 1);
    expect_line(RECORD_NDJSON, "{ }", "{\"BfTs\":1700000000123}\n", 1);
}

static void test_ndjson_keeps_bfts(void **st)
{
    (void)st;
    expect_line(RECORD_NDJSON, "{\"x\":\"y\",\"BfTs\":42}", "{\"x\":\"y\",\"BfTs\":42}\n", 1);
    /* only a top-level BfTs counts */
    expect_line(RECORD_AUTO, "{\"n\":{\"BfTs\":1}}", "{\"BfTs\":1700000000123,\"n\":{\"BfTs\":1}}\n", 1);
    /* a BfTs inside a string value is not a key */
    expect_line(RECORD_AUTO, "{\"m\":\"BfTs\"}", "{\"BfTs\":1700000000123,\"m\":\"BfTs\"}\n", 1);
}

static void test_text_and_auto(void **st)
{
    (void)st;
    expect_line(RECORD_TEXT, "{\"a\":1}", "{\"BfTs\":1700000000123,\"message\":\"{\\\"a\\\":1}\"}\n", 1);
    expect_line(RECORD_AUTO, "plain \"q\" text", "{\"BfTs\":1700000000123,\"message\":\"plain \\\"q\\\" text\"}\n", 1);
    expect_line(RECORD_AUTO, "{bad json}", "{\"BfTs\":1700000000123,\"message\":\"{bad json}\"}\n", 1);
    expect_line(RECORD_NDJSON, "[1,2]", "{\"BfTs\":1700000000123,\"message\":\"[1,2]\"}\n", 1);
    expect_line(RECORD_AUTO, "{\"a\":1} trailing", "{\"BfTs\":1700000000123,\"message\":\"{\\\"a\\\":1} trailing\"}\n", 1);
    expect_line(RECORD_AUTO, "{\"a\":01}", "{\"BfTs\":1700000000123,\"message\":\"{\\\"a\\\":01}\"}\n", 1);
}

static void test_trim_and_empty(void **st)
{
    (void)st;
    expect_line(RECORD_AUTO, "", "", 0);
    expect_line(RECORD_AUTO, "\r", "", 0);
    expect_line(RECORD_TEXT, "hi\r", "{\"BfTs\":1700000000123,\"message\":\"hi\"}\n", 1);
    bf_buf out;
    bf_buf_init(&out, 0);
    const char nul[] = "\0\0x\0";
    assert_int_equal(record_line(RECORD_TEXT, nul, 4, 1, &out), 1);
    assert_string_equal(out.data, "{\"BfTs\":1,\"message\":\"x\"}\n");
    bf_buf_free(&out);
}

static void test_invalid_utf8(void **st)
{
    (void)st;
    /* a JSON line with invalid UTF-8 in a string is wrapped: the bytes become U+FFFD */
    expect_line(RECORD_AUTO, "{\"x\":\"\xff\"}", "{\"BfTs\":1700000000123,\"message\":\"{\\\"x\\\":\\\"\xef\xbf\xbd\\\"}\"}\n", 1);
    /* valid multi-byte UTF-8 passes */
    expect_line(RECORD_AUTO, "{\"x\":\"\xc3\xa9\xe2\x82\xac\"}", "{\"BfTs\":1700000000123,\"x\":\"\xc3\xa9\xe2\x82\xac\"}\n", 1);
    /* overlong encoding and surrogates are invalid */
    assert_int_equal(record_is_object("{\"x\":\"\xc0\xaf\"}", 9, NULL), 0);
    assert_int_equal(record_is_object("{\"x\":\"\xed\xa0\x80\"}", 10, NULL), 0);
}

static void test_depth_bound(void **st)
{
    (void)st;
    char deep[700];
    size_t n = 0;
    deep[n++] = '{';
    deep[n++] = '"', deep[n++] = 'a', deep[n++] = '"', deep[n++] = ':';
    for (int i = 0; i < 300; i++) deep[n++] = '[';
    for (int i = 0; i < 300; i++) deep[n++] = ']';
    deep[n++] = '}';
    assert_int_equal(record_is_object(deep, n, NULL), 0);   /* too deep: treated as text, no crash */
    int has = -1;
    assert_int_equal(record_is_object("{\"BfTs\":1,\"a\":[[[]]]}", 21, &has), 1);
    assert_int_equal(has, 1);
}

/* found by fuzz_proxy_record: a backslash followed by NUL is not an escape; CR before '{' */
static void test_fuzz_regressions(void **st)
{
    (void)st;
    assert_int_equal(record_is_object("{\"s\":\"\\\0\"}", 10, NULL), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    assert_int_equal(record_line(RECORD_AUTO, "\r\t{}\t", 5, 3, &out), 1);
    assert_string_equal(out.data, "{\"BfTs\":3}\n");
    bf_buf_free(&out);
}

static void test_lines(void **st)
{
    (void)st;
    bf_buf out;
    bf_buf_init(&out, 0);
    const char *in = "{\"a\":1}\n\nhello\r\n{\"b\":2}";
    assert_int_equal(record_lines(RECORD_AUTO, in, strlen(in), 7, &out), 3);
    assert_string_equal(out.data, "{\"BfTs\":7,\"a\":1}\n{\"BfTs\":7,\"message\":\"hello\"}\n{\"BfTs\":7,\"b\":2}\n");
    bf_buf_free(&out);
    record_format f;
    assert_int_equal(record_format_parse("text", &f), 0);
    assert_int_equal(f, RECORD_TEXT);
    assert_int_equal(record_format_parse("xml", &f), -EINVAL);
}

static void test_buffer_cap(void **st)
{
    (void)st;
    bf_buf out;
    bf_buf_init(&out, 16);
    assert_int_equal(record_line(RECORD_TEXT, "a long line that does not fit", 29, 1, &out), -E2BIG);
    bf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_insert), cmocka_unit_test(test_ndjson_keeps_bfts),
        cmocka_unit_test(test_text_and_auto), cmocka_unit_test(test_trim_and_empty),
        cmocka_unit_test(test_invalid_utf8),  cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_lines), cmocka_unit_test(test_fuzz_regressions),         cmocka_unit_test(test_buffer_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
