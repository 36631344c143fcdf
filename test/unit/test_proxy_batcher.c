/* proxy batcher with a real libuv loop and a real spool: seal by records / bytes / age, spool writes in
 * seal order with the right names and content, batcher_wait for durability (the HTTP input's 200),
 * pressure when the spool quota cannot take another batch, and seal_all at shutdown. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bf_buf.h"
#include "bf_metrics.h"
#include "bf_spool.h"
#include "bf_util.h"
#include "../../proxy/batcher.h"
#include "../../proxy/spoolq.h"

typedef struct fx {
    char dir[256];
    uv_loop_t loop;
    bf_spool *spool;
    bf_metrics *m;
    batcher *b;
    char names[64][SPOOLQ_NAME_MAX];
    int64_t lines[64];
    int n;
} fx;

static void on_spooled(void *ud, batcher_spooled *s)
{
    fx *f = ud;
    assert_true(f->n < 64);
    snprintf(f->names[f->n], SPOOLQ_NAME_MAX, "%s", s->name);
    f->lines[f->n++] = s->lines;
}

static void make_raw(fx *f, size_t max_bytes, size_t max_records, int64_t max_age, uint64_t quota, size_t raw_backlog,
                     int fast_level)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/bf-test-proxy-batcher-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(bf_spool_open(f->dir, quota, NULL, NULL, &f->spool), 0);
    assert_int_equal(bf_metrics_create(&f->m), 0);
    batcher_opts o = {max_bytes, max_records, max_age, BF_CODEC_ZSTD, 1, 1 << 20, raw_backlog, "ndjson", fast_level};
    assert_int_equal(batcher_create(&f->loop, &o, f->spool, f->m, on_spooled, f, &f->b), 0);
}

static void make(fx *f, size_t max_bytes, size_t max_records, int64_t max_age, uint64_t quota)
{
    make_raw(f, max_bytes, max_records, max_age, quota, 0, 0);
}

static void run_until(fx *f, int want)
{
    for (int i = 0; i < 2000 && f->n < want; i++) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(f->n, want);
}

static void destroy(fx *f)
{
    batcher_destroy(f->b);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    bf_spool_close(f->spool);
    bf_metrics_destroy(f->m);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

static char *read_entry(fx *f, const char *name)
{
    char *z, *raw;
    size_t zl, rl;
    assert_int_equal(bf_spool_read(f->spool, "acme/fw/queue", name, 1 << 20, &z, &zl), 0);
    assert_int_equal(bf_decompress(BF_CODEC_ZSTD, z, zl, 0, 0, &raw, &rl), 0);
    free(z);
    return raw;
}

static void test_seal_by_records_in_order(void **st)
{
    (void)st;
    fx f;
    make(&f, 1 << 20, 3, 60000, 64 << 20);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    assert_ptr_equal(s, batcher_stream(f.b, "acme", "fw"));
    for (int i = 0; i < 7; i++) {
        char rec[32];
        int n = snprintf(rec, sizeof rec, "{\"i\":%d}\n", i);
        assert_int_equal(batcher_append(s, rec, (size_t)n, 1, NULL), 0);
    }
    run_until(&f, 2);   /* 3 + 3 sealed, the 7th waits for age */
    assert_true(strcmp(f.names[0], f.names[1]) < 0);
    char *a = read_entry(&f, f.names[0]);
    assert_string_equal(a, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
    free(a);
    a = read_entry(&f, f.names[1]);
    assert_string_equal(a, "{\"i\":3}\n{\"i\":4}\n{\"i\":5}\n");
    free(a);
    assert_int_equal(f.lines[0], 3);
    assert_false(batcher_idle(f.b));
    batcher_seal_all(f.b);
    run_until(&f, 3);
    a = read_entry(&f, f.names[2]);
    assert_string_equal(a, "{\"i\":6}\n");
    free(a);
    assert_true(batcher_idle(f.b));
    /* a floor far in the future (entries spooled before a clock step back) names later batches after it */
    batcher_floor_ns(s, 4000000000000000000LL);
    assert_int_equal(batcher_append(s, "{}\n", 3, 1, NULL), 0);
    batcher_flush(s);
    run_until(&f, 4);
    int64_t ns;
    assert_int_equal(spoolq_parse_name(f.names[3], &ns, NULL, NULL), 0);
    assert_true(ns >= 4000000000000000000LL + SPOOLQ_SPAN_NS);
    destroy(&f);
}

/* A writer that falls behind (other sealed batches waiting >= raw_backlog) spools batches uncompressed,
 * named .raw; once it has caught up, batches are compressed again. Content and order are unchanged. */
static void test_uncompressed_when_behind(void **st)
{
    (void)st;
    fx f;
    make_raw(&f, 1 << 20, 1, 60000, 64 << 20, 1, -5);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    for (int i = 0; i < 4; i++) {   /* four batches sealed before the loop runs: three wait behind the first */
        char rec[32];
        int n = snprintf(rec, sizeof rec, "{\"i\":%d}\n", i);
        assert_int_equal(batcher_append(s, rec, (size_t)n, 1, NULL), 0);
    }
    run_until(&f, 4);
    for (int i = 0; i < 4; i++) {
        bf_codec c = BF_CODEC_GZIP;
        assert_int_equal(spoolq_parse_name(f.names[i], NULL, NULL, &c), 0);
        assert_int_equal(c, i < 3 ? BF_CODEC_NONE : BF_CODEC_ZSTD);   /* the last had nothing behind it */
        if (i) assert_true(strcmp(f.names[i - 1], f.names[i]) < 0);
        char *data, want[32];
        size_t len;
        snprintf(want, sizeof want, "{\"i\":%d}\n", i);
        if (c == BF_CODEC_NONE) {
            assert_int_equal(bf_spool_read(f.spool, "acme/fw/queue", f.names[i], 1 << 20, &data, &len), 0);
            assert_int_equal(len, strlen(want));
            assert_memory_equal(data, want, len);
            free(data);
        } else {
            data = read_entry(&f, f.names[i]);
            assert_string_equal(data, want);
            free(data);
        }
    }
    bf_buf text;
    bf_buf_init(&text, 0);
    assert_int_equal(bf_metrics_render(f.m, &text), 0);
    assert_int_equal(bf_buf_putc(&text, '\0'), 0);
    assert_non_null(strstr(text.data, "bytefreezer_proxy_uncompressed_batches_total{tenant=\"acme\",dataset=\"fw\"} 3"));
    bf_buf_free(&text);
    destroy(&f);
}

static int64_t metric(fx *f, const char *name)
{
    bf_buf text;
    bf_buf_init(&text, 0);
    assert_int_equal(bf_metrics_render(f->m, &text), 0);
    assert_int_equal(bf_buf_putc(&text, '\0'), 0);
    char key[200];
    snprintf(key, sizeof key, "%s{tenant=\"acme\",dataset=\"fw\"} ", name);
    const char *p = strstr(text.data, key);
    int64_t v = p ? strtoll(p + strlen(key), NULL, 10) : -1;
    bf_buf_free(&text);
    return v;
}

/* Eight 8-byte batches sealed at once, raw_backlog 40: the first three have >= 40 bytes behind them
 * (uncompressed), the next three >= 10 (a quarter: zstd at fast_level), the last two compress as
 * configured. Every batch holds its record, in order. */
static void test_fast_level_when_behind(void **st)
{
    (void)st;
    fx f;
    make_raw(&f, 1 << 20, 1, 60000, 64 << 20, 40, -5);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    for (int i = 0; i < 8; i++) {
        char rec[32];
        int n = snprintf(rec, sizeof rec, "{\"i\":%d}\n", i);
        assert_int_equal(n, 8);
        assert_int_equal(batcher_append(s, rec, (size_t)n, 1, NULL), 0);
    }
    run_until(&f, 8);
    for (int i = 0; i < 8; i++) {
        bf_codec c = BF_CODEC_GZIP;
        assert_int_equal(spoolq_parse_name(f.names[i], NULL, NULL, &c), 0);
        assert_int_equal(c, i < 3 ? BF_CODEC_NONE : BF_CODEC_ZSTD);
        char want[32];
        snprintf(want, sizeof want, "{\"i\":%d}\n", i);
        char *data;
        size_t len;
        if (c == BF_CODEC_NONE) {
            assert_int_equal(bf_spool_read(f.spool, "acme/fw/queue", f.names[i], 1 << 20, &data, &len), 0);
            assert_int_equal(len, strlen(want));
            assert_memory_equal(data, want, len);
        } else {
            data = read_entry(&f, f.names[i]);
            assert_string_equal(data, want);
        }
        free(data);
    }
    assert_int_equal(metric(&f, "bytefreezer_proxy_uncompressed_batches_total"), 3);
    assert_int_equal(metric(&f, "bytefreezer_proxy_fast_batches_total"), 3);
    destroy(&f);
    /* fast_level 0: never */
    make_raw(&f, 1 << 20, 1, 60000, 64 << 20, 40, 0);
    s = batcher_stream(f.b, "acme", "fw");
    for (int i = 0; i < 8; i++) assert_int_equal(batcher_append(s, "{\"i\":0}\n", 8, 1, NULL), 0);
    run_until(&f, 8);
    assert_int_equal(metric(&f, "bytefreezer_proxy_uncompressed_batches_total"), 3);
    assert_int_equal(metric(&f, "bytefreezer_proxy_fast_batches_total"), 0);
    destroy(&f);
}

static void test_seal_by_bytes_and_age(void **st)
{
    (void)st;
    fx f;
    make(&f, 64, 1000, 50, 64 << 20);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    const char *rec = "{\"pad\":\"0123456789012345678901234567890123456789\"}\n";   /* 50 bytes */
    assert_int_equal(batcher_append(s, rec, strlen(rec), 1, NULL), 0);
    assert_int_equal(batcher_append(s, rec, strlen(rec), 1, NULL), 0);   /* would exceed 64: first is sealed */
    run_until(&f, 1);
    run_until(&f, 2);   /* the second one by age (50 ms) */
    assert_int_equal(f.lines[0], 1);
    assert_int_equal(f.lines[1], 1);
    destroy(&f);
}

/* one append carrying many records (a TCP read, an HTTP body) is cut at record boundaries */
static void test_split_large_append(void **st)
{
    (void)st;
    fx f;
    make(&f, 40, 3, 60000, 64 << 20);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    const char *recs = "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n{\"i\":5}\n{\"i\":6}\n";   /* 8 bytes each */
    uint64_t seq = 0;
    assert_int_equal(batcher_append(s, recs, strlen(recs), 7, &seq), 0);
    assert_int_equal(seq, 3);   /* the tail is in the third (still open) batch */
    run_until(&f, 2);
    char *a = read_entry(&f, f.names[0]);
    assert_string_equal(a, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
    free(a);
    batcher_flush(s);
    run_until(&f, 3);
    a = read_entry(&f, f.names[2]);
    assert_string_equal(a, "{\"i\":6}\n");
    free(a);
    /* byte limit: 40 bytes hold five 8-byte records at most; a 50-byte record is a batch of its own */
    const char *big = "{\"pad\":\"0123456789012345678901234567890123456\"}\n{\"i\":7}\n";
    assert_int_equal(batcher_append(s, big, strlen(big), 2, &seq), 0);
    assert_int_equal(seq, 5);
    batcher_flush(s);
    run_until(&f, 5);
    assert_int_equal(f.lines[3], 1);
    assert_int_equal(f.lines[4], 1);
    destroy(&f);
}

typedef struct waiter {
    bstream *s;
    uint64_t seq;
    int rc;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->rc = batcher_wait(w->s, w->seq, 10000);
    return NULL;
}

static void test_wait_durable(void **st)
{
    (void)st;
    fx f;
    make(&f, 1 << 20, 1000, 60000, 64 << 20);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    waiter w = {s, 0, -1};
    assert_int_equal(batcher_append(s, "{}\n", 3, 1, &w.seq), 0);
    assert_int_equal(w.seq, 1);
    assert_int_equal(batcher_wait(s, w.seq, 10), -ETIMEDOUT);   /* not sealed yet */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    batcher_flush(s);
    run_until(&f, 1);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    destroy(&f);
}

static void test_pressure_when_full(void **st)
{
    (void)st;
    fx f;
    /* quota 1 MiB, batches up to 512 KiB: with 600 KiB used the next batch may not fit */
    make(&f, 512 << 10, 100000, 60000, 1 << 20);
    assert_int_equal(batcher_pressure(f.b), 0);
    char *junk = malloc(600 << 10);
    for (size_t i = 0; i < (600u << 10); i++) junk[i] = (char)(i * 7919 % 251);   /* incompressible-ish */
    assert_int_equal(bf_spool_write(f.spool, "other/ds/queue", "x--y--0000000000000000001--ndjson.zst", junk,
                                    600 << 10, NULL), 0);
    free(junk);
    bstream *s = batcher_stream(f.b, "acme", "fw");
    assert_int_equal(batcher_append(s, "{}\n", 3, 1, NULL), 0);
    batcher_flush(s);
    run_until(&f, 1);   /* a small batch still fits */
    assert_int_equal(batcher_pressure(f.b), 1);
    destroy(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_by_records_in_order), cmocka_unit_test(test_seal_by_bytes_and_age),
        cmocka_unit_test(test_uncompressed_when_behind), cmocka_unit_test(test_fast_level_when_behind),
        cmocka_unit_test(test_wait_durable), cmocka_unit_test(test_split_large_append), cmocka_unit_test(test_pressure_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
