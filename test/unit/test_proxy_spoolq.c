/* proxy spool conventions and DLQ over a real bf_spool in a temporary directory: names sort in batch
 * order and parse back (ids containing "--" too), meta round trip, 413 split halves, corrupt entries
 * quarantined at open, DLQ list / replay / eviction of the oldest entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bf_codec.h"
#include "bf_spool.h"
#include "bf_util.h"
#include "../../proxy/dlq.h"
#include "../../proxy/spoolq.h"

static char tmpdir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bf-test-proxy-spoolq-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_names(void **st)
{
    (void)st;
    char a[SPOOLQ_NAME_MAX], b[SPOOLQ_NAME_MAX], hint[65];
    assert_int_equal(spoolq_name("ac--me", "fw", 999, "ndjson", BF_CODEC_ZSTD, a, sizeof a), 0);
    assert_string_equal(a, "ac--me--fw--0000000000000000999--ndjson.zst");
    assert_int_equal(spoolq_name("ac--me", "fw", 1000, "ndjson", BF_CODEC_GZIP, b, sizeof b), 0);
    assert_true(strcmp(a, b) < 0);   /* zero padding: name order is time order */
    int64_t ns;
    bf_codec c;
    assert_int_equal(spoolq_parse_name(b, &ns, hint, &c), 0);
    assert_int_equal(ns, 1000);
    assert_string_equal(hint, "ndjson");
    assert_int_equal(c, BF_CODEC_GZIP);
    assert_int_equal(spoolq_parse_name("t--d--12--ndjson.zst", &ns, hint, &c), -EINVAL);
    assert_int_equal(spoolq_parse_name("t--d--0000000000000000012--ndjson.txt", &ns, hint, &c), -EINVAL);
    assert_int_equal(spoolq_parse_name("garbage", &ns, hint, &c), -EINVAL);
    /* uncompressed batches (written while the writer was behind): ".raw", parsed back as identity */
    assert_int_equal(spoolq_name("t", "d", 12, "ndjson", BF_CODEC_NONE, a, sizeof a), 0);
    assert_string_equal(a, "t--d--0000000000000000012--ndjson.raw");
    c = BF_CODEC_ZSTD;
    assert_int_equal(spoolq_parse_name(a, &ns, hint, &c), 0);
    assert_int_equal(c, BF_CODEC_NONE);
    assert_int_equal(spoolq_parse_name("t--d--0000000000000000012--ndjson.", &ns, hint, &c), -EINVAL);
    assert_int_equal(spoolq_parse_name("t--d--0000000000000000012--ndjson.none", &ns, hint, &c), -EINVAL);
    char q[64];
    assert_int_equal(spoolq_queue("t", "d", SPOOLQ_DLQ, q, sizeof q), 0);
    assert_string_equal(q, "t/d/dlq");
}

static void test_meta(void **st)
{
    (void)st;
    spoolq_meta m, back;
    spoolq_meta_init(&m);
    m.retry_count = 3;
    m.span_ns = 1234;
    m.lines = 10;
    m.orig_bytes = 999;
    m.created_ms = 1700000000000LL;
    snprintf(m.status, sizeof m.status, "retry");
    snprintf(m.failure_reason, sizeof m.failure_reason, "HTTP 503");
    char *j = spoolq_meta_json(&m, "t", "d", "n.zst");
    assert_non_null(j);
    assert_non_null(strstr(j, "\"tenant_id\":\"t\""));
    assert_non_null(strstr(j, "\"created_at\":\"2023-11-14T22:13:20.000Z\""));
    spoolq_meta_init(&back);
    assert_int_equal(spoolq_meta_parse(j, &back), 0);
    assert_int_equal(back.retry_count, 3);
    assert_int_equal(back.span_ns, 1234);
    assert_int_equal(back.lines, 10);
    assert_int_equal(back.orig_bytes, 999);
    assert_int_equal(back.created_ms, 1700000000000LL);
    assert_string_equal(back.failure_reason, "HTTP 503");
    free(j);
    assert_int_equal(spoolq_meta_parse("not json", &back), -EINVAL);
}

static void test_split_and_count(void **st)
{
    (void)st;
    const char *raw = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n";
    char *z;
    size_t zl;
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 0, raw, strlen(raw), &z, &zl), 0);
    int64_t lines, orig;
    assert_int_equal(spoolq_count(BF_CODEC_ZSTD, z, zl, 0, &lines, &orig), 0);
    assert_int_equal(lines, 5);
    assert_int_equal(orig, (int64_t)strlen(raw));
    spoolq_half h[2];
    assert_int_equal(spoolq_split(BF_CODEC_ZSTD, 0, z, zl, 0, h), 0);
    assert_int_equal(h[0].lines, 2);
    assert_int_equal(h[1].lines, 3);
    char *a, *b;
    size_t al, bl;
    assert_int_equal(bf_decompress(BF_CODEC_ZSTD, h[0].data, h[0].len, 0, 0, &a, &al), 0);
    assert_int_equal(bf_decompress(BF_CODEC_ZSTD, h[1].data, h[1].len, 0, 0, &b, &bl), 0);
    assert_int_equal(al + bl, strlen(raw));
    assert_memory_equal(a, raw, al);
    assert_memory_equal(b, raw + al, bl);
    free(a), free(b), free(h[0].data), free(h[1].data);
    /* one record cannot be split */
    char *one;
    size_t ol;
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 0, "{}\n", 3, &one, &ol), 0);
    assert_int_equal(spoolq_split(BF_CODEC_GZIP, 0, one, ol, 0, h), -ERANGE);
    /* corrupt input is reported, not crashed on */
    z[zl / 2] ^= 0x55;
    z[zl - 1] ^= 0x55;
    assert_true(spoolq_count(BF_CODEC_ZSTD, z, zl / 2, 0, &lines, &orig) < 0);
    free(z), free(one);
}

static void put(bf_spool *s, const char *t, const char *d, spoolq_kind k, int64_t ns, size_t pad)
{
    char q[160], name[SPOOLQ_NAME_MAX];
    spoolq_queue(t, d, k, q, sizeof q);
    spoolq_name(t, d, ns, "ndjson", BF_CODEC_ZSTD, name, sizeof name);
    char *raw = malloc(pad + 2);
    memset(raw, 'x', pad);
    raw[pad] = '\n';
    char *z;
    size_t zl;
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 1, raw, pad + 1, &z, &zl), 0);
    assert_int_equal(bf_spool_write(s, q, name, z, zl, k == SPOOLQ_QUEUE ? NULL : "{\"status\":\"dlq\",\"retry_count\":7}"), 0);
    free(z);
    free(raw);
}

static void test_quarantine(void **st)
{
    (void)st;
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/q", tmpdir);
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 1 << 20, spoolq_validate, NULL, &s), 0);
    put(s, "t", "d", SPOOLQ_QUEUE, 100, 10);
    put(s, "t", "d", SPOOLQ_QUEUE, 200, 10);
    char name[SPOOLQ_NAME_MAX];
    spoolq_name("t", "d", 200, "ndjson", BF_CODEC_ZSTD, name, sizeof name);
    assert_int_equal(bf_spool_path(s, "t/d/queue", name, path, sizeof path), 0);
    bf_spool_close(s);
    FILE *f = fopen(path, "r+b");   /* truncate the frame: a partial write from a crash */
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 6), 0);
    fclose(f);
    assert_int_equal(bf_spool_open(dir, 1 << 20, spoolq_validate, NULL, &s), 0);
    assert_int_equal(bf_spool_quarantined(s), 1);
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "t/d/queue", &names, &n), 0);
    assert_int_equal(n, 1);
    bf_spool_names_free(names, n);
    bf_spool_close(s);
}

static void test_dlq(void **st)
{
    (void)st;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/dlq", tmpdir);
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 64 << 20, spoolq_validate, NULL, &s), 0);
    put(s, "a", "x", SPOOLQ_DLQ, 300, 5000);
    put(s, "a", "x", SPOOLQ_DLQ, 100, 5000);
    put(s, "b", "y", SPOOLQ_DLQ, 200, 5000);
    put(s, "b", "y", SPOOLQ_QUEUE, 400, 10);
    json_t *l;
    assert_int_equal(dlq_list(s, NULL, NULL, 10, &l), 0);
    assert_int_equal(json_integer_value(json_object_get(l, "count")), 3);
    json_decref(l);
    assert_int_equal(dlq_list(s, "b", NULL, 10, &l), 0);
    assert_int_equal(json_integer_value(json_object_get(l, "count")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(l, "entries"), 0), "dataset")), "y");
    json_decref(l);
    /* cap below the total: the oldest (ns 100, then 200) go first */
    uint64_t total = dlq_bytes(s);
    assert_true(total > 0);
    assert_int_equal(dlq_enforce(s, total - 1), 1);
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "a/x/dlq", &names, &n), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(names[0], "0000000000000000300"));
    bf_spool_names_free(names, n);
    assert_int_equal(dlq_enforce(s, dlq_bytes(s)), 0);
    /* replay moves b/y back to its queue */
    size_t moved;
    assert_int_equal(dlq_replay(s, "b", "y", &moved), 0);
    assert_int_equal(moved, 1);
    assert_int_equal(bf_spool_list(s, "b/y/queue", &names, &n), 0);
    assert_int_equal(n, 2);
    char *mj;
    assert_int_equal(bf_spool_read_meta(s, "b/y/queue", names[0], &mj), 0);   /* ns 200 sorts first */
    assert_non_null(strstr(mj, "\"retry_count\":0"));
    assert_non_null(strstr(mj, "\"trigger_reason\":\"dlq_replay\""));
    free(mj);
    bf_spool_names_free(names, n);
    assert_int_equal(dlq_replay(s, "*", NULL, &moved), 0);
    assert_int_equal(moved, 1);
    assert_int_equal(dlq_bytes(s), 0);
    bf_spool_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names), cmocka_unit_test(test_meta), cmocka_unit_test(test_split_and_count),
        cmocka_unit_test(test_quarantine), cmocka_unit_test(test_dlq),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
