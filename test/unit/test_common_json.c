/* bf_json: the object check (proxy record, piper fast path) against a table of cases and against
 * jansson on generated documents, the depth bound, and the UTF-8 helpers (overlongs, surrogates,
 * truncated sequences, NUL replaced by U+FFFD). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bf_json.h"

static void test_object_cases(void **state)
{
    (void)state;
    static const struct { const char *s; int ok; int bfts; } J[] = {
        {"{}", 1, 0}, {" {\"a\":[1,2,{\"BfTs\":1}]} ", 1, 0}, {"{\"BfTs\":17,\"x\":null}", 1, 1},
        {"{\"a\":1e5,\"b\":-0.5,\"c\":true,\"d\":\"\\u00e9\\n\"}", 1, 0}, {"{\"a\":01}", 0, 0}, {"{\"a\":1,}", 0, 0},
        {"[1]", 0, 0}, {"{\"a\":\"\xff\"}", 0, 0}, {"{\"a\":1} x", 0, 0}, {"{\"a\":\"tab\there\"}", 0, 0},
        {"{\"a\":\"\\x\"}", 0, 0}, {"{\"k\":[[[[]]]]}", 1, 0}, {"", 0, 0}, {"{\"a\":tru}", 0, 0},
        {"{\"x\":\"\xc0\xaf\"}", 0, 0},       /* overlong '/' */
        {"{\"x\":\"\xed\xa0\x80\"}", 0, 0},   /* UTF-16 surrogate */
        {"{\"x\":\"\xf4\x90\x80\x80\"}", 0, 0}, /* above U+10FFFF */
        {"{\"x\":\"\xe2\x82\"}", 0, 0},       /* truncated */
        {"{\"x\":\"\xe2\x82\xac\"}", 1, 0},   /* euro sign */
        {"\r\t{}\t", 1, 0}, {"{\"a\":1,\"BfTs\":2}", 1, 1}, {"{\"b\":{\"BfTs\":2}}", 1, 0},
        {"{\"a\":-}", 0, 0}, {"{\"a\":1.}", 0, 0}, {"{\"a\":1e}", 0, 0}, {"{\"a\" 1}", 0, 0}, {"{", 0, 0},
    };
    for (size_t i = 0; i < sizeof J / sizeof *J; i++) {
        bool has = false;
        int rc = bf_json_object_check(J[i].s, strlen(J[i].s), &has);
        if ((rc == 0) != J[i].ok || (J[i].ok && has != (bool)J[i].bfts))
            print_error("case %zu '%s' rc=%d has=%d\n", i, J[i].s, rc, has);
        assert_int_equal(rc == 0, J[i].ok);
        if (J[i].ok)
            assert_int_equal(has, J[i].bfts);
    }
    /* embedded NUL after a backslash is not an escape (found by fuzzing) */
    assert_int_equal(bf_json_object_check("{\"s\":\"\\\0\"}", 10, NULL), -EINVAL);
    assert_int_equal(bf_json_object_check("{\"s\":\"a\0\"}", 9, NULL), -EINVAL);
}

static void test_depth_bound(void **state)
{
    (void)state;
    char deep[2 * BF_JSON_MAX_DEPTH + 64];
    for (int levels = BF_JSON_MAX_DEPTH - 2; levels <= BF_JSON_MAX_DEPTH + 2; levels++) {
        size_t n = 0;
        deep[n++] = '{', deep[n++] = '"', deep[n++] = 'a', deep[n++] = '"', deep[n++] = ':';
        for (int i = 0; i < levels; i++) deep[n++] = '[';
        for (int i = 0; i < levels; i++) deep[n++] = ']';
        deep[n++] = '}';
        /* the object itself is one level */
        assert_int_equal(bf_json_object_check(deep, n, NULL), levels + 1 <= BF_JSON_MAX_DEPTH ? 0 : -EINVAL);
    }
    char open[5000];
    memset(open, '[', sizeof open);
    open[0] = '{';
    assert_int_equal(bf_json_object_check(open, sizeof open, NULL), -EINVAL);
}

/* Random documents from a small grammar (valid ones mostly, then one byte changed): our verdict must
 * match jansson's wherever jansson has no limit of its own (it refuses integers beyond 64 bits). */
static size_t gen(char *o, size_t cap, int depth, unsigned *seed)
{
    static const char *atoms[] = {"1", "-0.5e3", "true", "false", "null", "\"x\"", "\"\\u00e9\\n\"", "\"\xc3\xa9\"", "0", "[]", "{}"};
    size_t n = 0;
    int kind = depth > 4 ? 2 : rand_r(seed) % 3;
    if (kind == 2) {
        const char *a = atoms[rand_r(seed) % (sizeof atoms / sizeof *atoms)];
        size_t l = strlen(a);
        if (l < cap) memcpy(o, a, l), n = l;
        return n;
    }
    int m = rand_r(seed) % 4;
    o[n++] = kind ? '{' : '[';
    for (int i = 0; i < m && n + 64 < cap; i++) {
        if (i) o[n++] = ',';
        if (kind) n += (size_t)snprintf(o + n, cap - n, "\"k%d\":", i);
        n += gen(o + n, cap - n - 2, depth + 1, seed);
    }
    o[n++] = kind ? '}' : ']';
    return n;
}

static void test_against_jansson(void **state)
{
    (void)state;
    unsigned seed = 12345;
    char doc[4096];
    int checked = 0, valid = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n = 0;
        doc[n++] = '{';
        n += (size_t)snprintf(doc + n, sizeof doc - n, "\"%s\":", it % 7 ? "v" : "BfTs");
        n += gen(doc + n, sizeof doc - n - 8, 1, &seed);
        doc[n++] = '}';
        if (it % 2) doc[rand_r(&seed) % n] = (char)(rand_r(&seed) % 256);   /* mutate one byte */
        json_error_t e;
        json_t *j = json_loadb(doc, n, JSON_ALLOW_NUL, &e);
        int ours = bf_json_object_check(doc, n, NULL) == 0;
        int theirs = j && json_is_object(j);
        if (ours != theirs)
            print_error("disagree on '%.*s': ours %d jansson %d (%s)\n", (int)n, doc, ours, theirs, j ? "" : e.text);
        assert_int_equal(ours, theirs);
        valid += ours;
        checked++;
        json_decref(j);
    }
    assert_true(valid > checked / 3);   /* both valid and invalid inputs were exercised */
    assert_true(valid < checked);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(bf_utf8_valid("plain", 5));
    assert_true(bf_utf8_valid("\xe2\x82\xac \xf0\x9f\x98\x80", 8));
    assert_false(bf_utf8_valid("\xc0\xaf", 2));
    assert_false(bf_utf8_valid("\xed\xa0\x80", 3));
    assert_int_equal(bf_utf8_valid_prefix("ab\xe2\x82", 4), 2);
    assert_int_equal(bf_utf8_valid_prefix("ab\xff" "cd", 5), 2);
    char out[64];
    size_t n = bf_utf8_sanitize("a\xff" "b\0c", 5, out);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c", 9);
    n = bf_utf8_sanitize("\xe2\x82\xac", 3, out);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\xe2\x82\xac", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_cases),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_against_jansson),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
