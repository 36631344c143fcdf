/* The object worker on the file store: codecs in and out, fast path, DOM path, truncation, metadata,
 * output key, corrupt input. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "bf_codec.h"
#include "bf_store.h"
#include "bf_util.h"
#include "../../piper/worker.h"

typedef struct fx { char dir[256]; bf_store *in, *out; rx_scratch *rx; } fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    const char *base = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    snprintf(f->dir, sizeof f->dir, "%s/piper-worker-XXXXXX", base);
    assert_non_null(mkdtemp(f->dir));
    char uri[400], err[256];
    snprintf(uri, sizeof uri, "file://%s/intake", f->dir);
    assert_int_equal(bf_store_open(uri, NULL, NULL, &f->in, err, sizeof err), 0);
    snprintf(uri, sizeof uri, "file://%s/piper", f->dir);
    assert_int_equal(bf_store_open(uri, NULL, NULL, &f->out, err, sizeof err), 0);
    assert_int_equal(rx_scratch_create(&f->rx), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    bf_store_close(f->in);
    bf_store_close(f->out);
    rx_scratch_free(f->rx);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd)) {}
    free(f);
    return 0;
}

static void put_obj(fx *f, const char *key, bf_codec c, const char *text)
{
    char *z;
    size_t zl;
    assert_int_equal(bf_compress(c, 0, text, strlen(text), &z, &zl), 0);
    assert_int_equal(bf_store_put(f->in, key, z, zl, NULL, 0), 0);
    free(z);
}

/* Run the job and return the decompressed output text (caller frees). */
static char *run(fx *f, const char *key, const char *format, const char *pipe, bf_codec outc, size_t max_line,
                 wk_stats *st, int *rcout)
{
    char err[256];
    fmt *fm;
    assert_int_equal(fmt_create(format, NULL, &fm, err, sizeof err), 0);
    json_t *spec = json_loads(pipe, 0, NULL);
    pipeline *pl;
    assert_int_equal(pipeline_compile(spec, NULL, &pl, err, sizeof err), 0);
    wk_job j = {.in = f->in, .out = f->out, .key = key, .tenant = "acme", .dataset = "fw", .format = fm, .pl = pl,
                .out_codec = outc, .max_line = max_line, .tmp_dir = f->dir, .rx = f->rx};
    int rc = wk_process(&j, st);
    *rcout = rc;
    char *text = NULL;
    if (rc == 0) {
        char *raw;
        size_t rl, tl;
        bf_store_info info = {0};
        assert_int_equal(bf_store_get_mem(f->out, st->out_key, 1 << 26, &raw, &rl, &info), 0);
        assert_int_equal(bf_codec_detect(raw, rl), outc);
        assert_int_equal(bf_decompress(outc, raw, rl, 0, 0, &text, &tl), 0);
        const char *v = bf_store_info_meta(&info, "pipeline-version");
        assert_non_null(v);
        assert_string_equal(v, pipeline_version(pl));
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)st->out);
        assert_string_equal(bf_store_info_meta(&info, "output-records"), n);
        bf_store_info_free(&info);
        free(raw);
    }
    pipeline_unref(pl);
    json_decref(spec);
    fmt_free(fm);
    return text;
}

static void test_fast_path(void **state)
{
    fx *f = *state;
    const char *key = "acme/fw/acme--fw--1764237600000000000--raw--0123456789abcdef.zst";
    put_obj(f, key, BF_CODEC_ZSTD,
            "{\"a\":1,\"big\":9223372036854775807}\n\n  {\"BfTs\":5,\"x\":\"y\"}\r\n{}\nnot json\n{\"u\":\"\\ud83d\\ude00\"}");
    wk_stats st;
    int rc;
    char *out = run(f, key, "ndjson", "[]", BF_CODEC_ZSTD, 1 << 20, &st, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(st.out_key, "acme/fw/acme--fw--1764237600000000000--raw--0123456789abcdef--ndjson.zst");
    assert_string_equal(out,
                        "{\"BfTs\":1764237600000,\"a\":1,\"big\":9223372036854775807}\n"
                        "{\"BfTs\":5,\"x\":\"y\"}\n"
                        "{\"BfTs\":1764237600000}\n"
                        "{\"BfTs\":1764237600000,\"message\":\"not json\",\"tags\":[\"_jsonparsefailure\"]}\n"
                        "{\"BfTs\":1764237600000,\"u\":\"\\ud83d\\ude00\"}\n");
    assert_int_equal(st.in, 5);
    assert_int_equal(st.out, 5);
    assert_int_equal(st.errors, 1);
    free(out);
}

static void test_dom_gzip_truncate(void **state)
{
    fx *f = *state;
    const char *key = "acme/fw/acme--fw--1764237600000000000--raw--aaaaaaaaaaaaaaaa.gz";
    char big[300];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = 0;
    char text[1024];
    snprintf(text, sizeof text, "{\"n\":\"42\",\"drop\":true}\n{\"n\":\"7\"}\n%s\n", big);
    put_obj(f, key, BF_CODEC_GZIP, text);
    wk_stats st;
    int rc;
    char *out = run(f, key, "text",
                    "[{\"type\":\"json_parse\",\"config\":{\"remove_source\":true}},"
                    "{\"type\":\"drop\",\"config\":{\"if_field\":\"drop\",\"equals\":true}},"
                    "{\"type\":\"mutate\",\"config\":{\"convert\":{\"n\":\"integer\"}}}]",
                    BF_CODEC_GZIP, 100, &st, &rc);
    assert_int_equal(rc, 0);
    json_t *lines = json_array();
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
        json_array_append_new(lines, json_loads(l, 0, NULL));
    assert_int_equal(json_array_size(lines), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lines, 0), "n")), 7);
    json_t *t = json_array_get(lines, 1);
    assert_int_equal(json_string_length(json_object_get(t, "message")), 100);
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "tags"), 0)), "_line_truncated");
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.truncated, 1);
    assert_int_equal(st.out, 2);
    json_decref(lines);
    free(out);
}

static void test_corrupt_and_missing(void **state)
{
    fx *f = *state;
    const char *key = "acme/fw/acme--fw--1--raw--bbbbbbbbbbbbbbbb.zst";
    char bad[64] = "\x28\xb5\x2f\xfd garbage garbage garbage garbage";
    assert_int_equal(bf_store_put(f->in, key, bad, sizeof bad, NULL, 0), 0);
    wk_stats st;
    int rc;
    char *out = run(f, key, "ndjson", "[]", BF_CODEC_ZSTD, 1 << 20, &st, &rc);
    assert_null(out);
    assert_int_equal(rc, -EBADMSG);
    assert_non_null(strstr(st.err, "corrupt"));
    out = run(f, "acme/fw/gone.zst", "ndjson", "[]", BF_CODEC_ZSTD, 1 << 20, &st, &rc);
    assert_null(out);
    assert_int_equal(rc, -ENOENT);
}

/* the DOM path keeps the input's key order and appends new fields; BfTs goes first when absent */
static void test_key_order(void **state)
{
    fx *f = *state;
    const char *key = "acme/fw/acme--fw--1764237600000000000--raw--dddddddddddddddd.zst";
    put_obj(f, key, BF_CODEC_ZSTD, "{\"z\":1,\"a\":{\"y\":2,\"b\":3},\"m\":[1.5,-0.0,1e300],\"big\":-9223372036854775808}\n");
    wk_stats st;
    int rc;
    char *out = run(f, key, "ndjson", "[{\"type\":\"add_field\",\"config\":{\"field\":\"k\",\"value\":\"v\"}}]",
                    BF_CODEC_ZSTD, 1 << 20, &st, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"BfTs\":1764237600000,\"z\":1,\"a\":{\"y\":2,\"b\":3},\"m\":[1.5,-0.0,1e+300],"
                             "\"big\":-9223372036854775808,\"k\":\"v\"}\n");
    free(out);
}

static void test_keys(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(wk_output_key("t/d/t--d--1--raw--ab.gz", BF_CODEC_ZSTD, out, sizeof out), 0);
    assert_string_equal(out, "t/d/t--d--1--raw--ab--ndjson.zst");
    assert_int_equal(wk_output_key("t/d/file.json.gz", BF_CODEC_GZIP, out, sizeof out), 0);
    assert_string_equal(out, "t/d/file--ndjson.gz");
    assert_int_equal(wk_output_key("t/d/x--ndjson.zst", BF_CODEC_ZSTD, out, sizeof out), 0);
    assert_string_equal(out, "t/d/x--ndjson.zst");
    assert_int_equal(wk_key_time_ms("t/d/t--d--1764237600123456789--raw--ab.zst"), 1764237600123LL);
    assert_int_equal(wk_key_time_ms("t/d/other.zst"), -1);
}

static int buf_sink(void *ud, const void *d, size_t n)
{
    return bf_buf_append(ud, d, n);
}

/* an object far larger than any buffer: memory stays bounded (the worker streams) */
static void test_large_object(void **state)
{
    fx *f = *state;
    const char *key = "acme/fw/acme--fw--1764237600000000000--raw--cccccccccccccccc.zst";
    bf_encoder *e;
    assert_int_equal(bf_encoder_create(BF_CODEC_ZSTD, 1, &e), 0);
    bf_buf z;
    bf_buf_init(&z, 0);
    char line[128];
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(line, sizeof line, "{\"i\":%d,\"msg\":\"hello world number %d\"}\n", i, i);
        assert_int_equal(bf_encoder_update(e, line, (size_t)n, buf_sink, &z), 0);
    }
    assert_int_equal(bf_encoder_finish(e, buf_sink, &z), 0);
    bf_encoder_destroy(e);
    assert_int_equal(bf_store_put(f->in, key, z.data, z.len, NULL, 0), 0);
    bf_buf_free(&z);
    wk_stats st;
    int rc;
    char *out = run(f, key, "ndjson", "[{\"type\":\"remove_field\",\"config\":{\"field\":\"msg\"}}]", BF_CODEC_ZSTD,
                    1 << 20, &st, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(st.out, 200000);
    assert_non_null(strstr(out, "{\"BfTs\":1764237600000,\"i\":199999}\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fast_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dom_gzip_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_missing, setup, teardown),
        cmocka_unit_test(test_keys),
        cmocka_unit_test_setup_teardown(test_key_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_object, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
