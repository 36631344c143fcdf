/* Unit tests for bf_buf (growable capped buffer, JSON string escaping). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bf_buf.h"

static void test_append_and_nul(void **state)
{
    (void)state;
    bf_buf b;
    bf_buf_init(&b, 0);
    assert_int_equal(bf_buf_puts(&b, "hello"), 0);
    assert_int_equal(bf_buf_putc(&b, ' '), 0);
    assert_int_equal(bf_buf_append(&b, "world!!", 5), 0);
    assert_int_equal(b.len, 11);
    assert_string_equal(b.data, "hello world");
    assert_int_equal(bf_buf_printf(&b, " %d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "hello world 42-x");
    bf_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    bf_buf_free(&b);
    assert_null(b.data);
}

static void test_grow_large(void **state)
{
    (void)state;
    bf_buf b;
    bf_buf_init(&b, 0);
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bf_buf_append(&b, chunk, sizeof chunk), 0);
    assert_int_equal(b.len, 1000000);
    assert_true(b.cap >= b.len);
    assert_int_equal(b.data[999999], 'a');
    assert_int_equal(b.data[1000000], '\0');
    bf_buf_free(&b);
}

static void test_cap_enforced(void **state)
{
    (void)state;
    bf_buf b;
    bf_buf_init(&b, 10);
    assert_int_equal(bf_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(bf_buf_putc(&b, 'x'), -E2BIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_true(b.cap <= 10); /* never allocates beyond the cap */
    assert_int_equal(bf_buf_printf(&b, "%s", "more"), -E2BIG);
    bf_buf_reset(&b);
    assert_int_equal(bf_buf_printf(&b, "%05d", 7), 0);
    assert_string_equal(b.data, "00007");
    bf_buf_free(&b);
}

static void test_steal(void **state)
{
    (void)state;
    bf_buf b;
    bf_buf_init(&b, 0);
    bf_buf_puts(&b, "abc");
    size_t n = 0;
    char *s = bf_buf_steal(&b, &n);
    assert_int_equal(n, 3);
    assert_string_equal(s, "abc");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    /* an empty buffer still gives a string */
    s = bf_buf_steal(&b, &n);
    assert_non_null(s);
    assert_int_equal(n, 0);
    assert_string_equal(s, "");
    free(s);
}

static const struct {
    const char *in;
    size_t len;
    const char *out;
} json_cases[] = {
    {"plain", 5, "\"plain\""},
    {"q\"b\\s", 5, "\"q\\\"b\\\\s\""},
    {"\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\""},
    {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
    {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},                 /* valid 2-byte UTF-8 kept */
    {"\xe2\x82\xac\xf0\x9f\x98\x80", 7, "\"\xe2\x82\xac\xf0\x9f\x98\x80\""}, /* 3 and 4 bytes */
    {"a\xffz", 3, "\"a\xef\xbf\xbdz\""},                   /* invalid byte -> U+FFFD */
    {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},       /* overlong rejected */
    {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate rejected */
    {"\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},       /* truncated sequence */
    {"nul\0x", 5, "\"nul\\u0000x\""},
    {"", 0, "\"\""},
};

static void test_json_str(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
        bf_buf b;
        bf_buf_init(&b, 0);
        assert_int_equal(bf_buf_json_str(&b, json_cases[i].in, json_cases[i].len), 0);
        if (strcmp(b.data, json_cases[i].out) != 0)
            fail_msg("case %zu: got %s want %s", i, b.data, json_cases[i].out);
        bf_buf_free(&b);
    }
}

static void test_json_str_cap(void **state)
{
    (void)state;
    bf_buf b;
    bf_buf_init(&b, 8);
    assert_int_equal(bf_buf_json_str(&b, "0123456789", 10), -E2BIG);
    bf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_nul), cmocka_unit_test(test_grow_large),
        cmocka_unit_test(test_cap_enforced),   cmocka_unit_test(test_steal),
        cmocka_unit_test(test_json_str),       cmocka_unit_test(test_json_str_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
