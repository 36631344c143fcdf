/* Condition expressions: operators, precedence, quoting, lists, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "../../piper/cond.h"

static const char *REC = "{\"status\":503,\"method\":\"GET\",\"path\":\"/api/v1/health\",\"ms\":12.5,\"ok\":false,"
                         "\"user\":{\"name\":\"Bob\",\"roles\":[\"admin\",\"dev\"]},\"empty\":\"\",\"n\":null,\"code\":\"042\"}";

typedef struct ccase { const char *expr; int want; } ccase;
static const ccase CASES[] = {
    {"status == 503", 1}, {"status = 503", 1}, {"status eq '503'", 1}, {"status != 503", 0}, {"status > 500", 1},
    {"status >= 503", 1}, {"status < 503", 0}, {"status lte 503", 1}, {"ms > 12.4", 1}, {"ms gt 12.5", 0},
    {"method gt 1", 0}, {"method == \"GET\"", 1}, {"method == get", 0}, {"path contains health", 1},
    {"path not_contains health", 0}, {"path starts_with '/api'", 1}, {"path ends_with 'health'", 1},
    {"path matches '^/api/v[0-9]+/'", 1}, {"path =~ 'x$'", 0}, {"path !~ 'x$'", 1},
    {"user.name == Bob", 1}, {"[user][name] == 'Bob'", 1}, {"user.roles.0 == admin", 1},
    {"user.missing exists", 0}, {"user.missing not_exists", 1}, {"user exists", 1},
    {"ok", 0}, {"status", 1}, {"empty", 0}, {"n", 0}, {"n == null", 1}, {"nothing", 0},
    {"not ok", 1}, {"! ok and status > 1", 1}, {"ok or status > 500", 1}, {"ok and status > 500", 0},
    {"ok and status > 500 or method == GET", 1}, {"ok and (status > 500 or method == GET)", 0},
    {"not (ok or empty)", 1}, {"status in [500, 502, 503]", 1}, {"method in ['POST','PUT']", 0},
    {"code == 42", 1}, {"code == '042'", 1}, {"missing != 5", 1}, {"missing > 5", 0},
    {"path contains \"he said \\\"hi\\\"\"", 0}, {"user.roles contains dev", 1},
};

static void test_cases(void **state)
{
    (void)state;
    json_t *rec = json_loads(REC, 0, NULL);
    assert_non_null(rec);
    rx_scratch *rx;
    rx_scratch_create(&rx);
    int failed = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        cond *c;
        char err[200] = "";
        if (cond_compile_str(CASES[i].expr, &c, err, sizeof err)) {
            print_error("'%s': %s\n", CASES[i].expr, err);
            failed++;
            continue;
        }
        if (cond_eval(c, rec, rx) != CASES[i].want) {
            print_error("'%s' expected %d\n", CASES[i].expr, CASES[i].want);
            failed++;
        }
        cond_free(c);
    }
    rx_scratch_free(rx);
    json_decref(rec);
    assert_int_equal(failed, 0);
}

static void test_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "status ==", "(status > 1", "status > 1)", "a and", "'unterminated",
                                      "path matches '('", "x in 5", "a == 1 b == 2", "not", "a # b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cond *c = NULL;
        char err[200] = "";
        int rc = cond_compile_str(bad[i], &c, err, sizeof err);
        if (rc == 0)
            print_error("'%s' should not compile\n", bad[i]);
        assert_int_not_equal(rc, 0);
        assert_null(c);
        assert_true(err[0] != 0);
    }
    /* deep nesting is bounded */
    char deep[400];
    memset(deep, '(', 300);
    strcpy(deep + 300, "a");
    cond *c = NULL;
    char err[200];
    assert_int_not_equal(cond_compile_str(deep, &c, err, sizeof err), 0);
}

static void test_object_form(void **state)
{
    (void)state;
    json_t *spec = json_pack("{s:s, s:s, s:i}", "field", "status", "operator", "gte", "value", 500);
    cond *c;
    char err[200];
    assert_int_equal(cond_compile(spec, &c, err, sizeof err), 0);
    json_t *rec = json_pack("{s:i}", "status", 501);
    assert_true(cond_eval(c, rec, NULL));
    json_decref(rec);
    cond_free(c);
    json_decref(spec);
    json_t *num = json_integer(3);
    assert_int_not_equal(cond_compile(num, &c, err, sizeof err), 0);
    json_decref(num);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_object_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
