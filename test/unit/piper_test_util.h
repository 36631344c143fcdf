/* Helpers shared by the piper unit tests: run a pipeline over one record and compare the output. */
#ifndef PIPER_TEST_UTIL_H
#define PIPER_TEST_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "../../piper/pipeline.h"

static int pt_collect(void *ud, json_t *rec)
{
    return json_array_append(ud, rec) ? -1 : 0;
}

/* Run pipeline text over input text; returns the array of output records (caller decrefs) or NULL
 * when the pipeline does not compile (err filled). */
static inline json_t *pt_run(const char *pipe, const char *input, pl_env *env, char *err, size_t errlen)
{
    json_error_t je;
    json_t *spec = json_loads(pipe, 0, &je);
    if (!spec) {
        snprintf(err, errlen, "bad pipeline JSON: %s", je.text);
        return NULL;
    }
    pipeline *p = NULL;
    int rc = pipeline_compile(spec, env, &p, err, errlen);
    json_decref(spec);
    if (rc)
        return NULL;
    json_t *rec = json_loads(input, 0, &je);
    assert_non_null(rec);
    rx_scratch *rx;
    assert_int_equal(rx_scratch_create(&rx), 0);
    pf_ctx ctx = {.tenant = "acme", .dataset = "fw", .now_ms = 1764237600000LL /* 2025-11-27T10:00:00Z */,
                  .line_no = 7, .rx = rx, .env = env, .rng = 42};
    json_t *out = json_array();
    pl_result res = {0};
    assert_int_equal(pipeline_run(p, rec, &ctx, pt_collect, out, NULL, NULL, &res), 0);
    rx_scratch_free(rx);
    pipeline_unref(p);
    return out;
}

/* Compare; on mismatch print both. */
static inline int pt_expect(const char *name, const char *pipe, const char *input, const char *expected, pl_env *env)
{
    char err[256] = "";
    json_t *out = pt_run(pipe, input, env, err, sizeof err);
    if (!out) {
        print_error("case %s: pipeline failed to compile: %s\n", name, err);
        return 1;
    }
    json_t *exp = json_loads(expected, 0, NULL);
    if (!exp) {
        print_error("case %s: bad expected JSON\n", name);
        json_decref(out);
        return 1;
    }
    if (!json_equal(out, exp)) {
        char *a = json_dumps(out, JSON_COMPACT), *b = json_dumps(exp, JSON_COMPACT);
        print_error("case %s:\n  got      %s\n  expected %s\n", name, a, b);
        free(a);
        free(b);
        json_decref(out);
        json_decref(exp);
        return 1;
    }
    json_decref(out);
    json_decref(exp);
    return 0;
}

/* The pipeline must be rejected with an error message containing `needle`. */
static inline void pt_reject(const char *name, const char *pipe, const char *needle)
{
    char err[256] = "";
    json_t *out = pt_run(pipe, "{}", NULL, err, sizeof err);
    if (out || !strstr(err, needle)) {
        print_error("case %s: expected compile error containing '%s', got '%s'\n", name, needle, err);
        json_decref(out);
        fail();
    }
}
#endif
