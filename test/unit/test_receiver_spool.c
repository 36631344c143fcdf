/* Unit tests of receiver/spool_uploader.c with the real bf_spool and the file store: entries written by
 * rcv_spool_put are uploaded to their keys with their metadata and removed; a full spool refuses with
 * -ENOSPC; invalid entries found at open are quarantined, valid ones survive a restart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bf_codec.h"
#include "bf_metrics.h"
#include "bf_spool.h"
#include "bf_store.h"
#include "bf_util.h"
#include "../../receiver/spool_uploader.h"

typedef struct fx {
    char dir[256], spool_dir[300], uri[320];
    bf_metrics *m;
    rcv_stats *stats;
    bf_store *store;
} fx;

static int setup(void **st)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_receiver_spool.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->spool_dir, sizeof f->spool_dir, "%s/spool", f->dir);
    snprintf(f->uri, sizeof f->uri, "file://%s/store", f->dir);
    char err[256];
    assert_int_equal(bf_metrics_create(&f->m), 0);
    assert_int_equal(rcv_stats_create(f->m, &f->stats), 0);
    assert_int_equal(bf_store_open(f->uri, NULL, NULL, &f->store, err, sizeof err), 0);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fx *f = *st;
    char cmd[300];
    bf_store_close(f->store);
    rcv_stats_destroy(f->stats);
    bf_metrics_destroy(f->m);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void gz(const char *text, char **out, size_t *len)
{
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 1, text, strlen(text), out, len), 0);
}

static void put(bf_spool *sp, const char *key, int64_t ns, const char *h16, const char *text, const char *lines)
{
    char *z;
    size_t zn;
    gz(text, &z, &zn);
    bf_kv meta[] = {{"tenant", "acme"}, {"dataset", "fw"}, {"lines", lines}};
    assert_int_equal(rcv_spool_put(sp, key, "acme", "fw", ns, h16, "gz", z, -1, zn, meta, 3), 0);
    free(z);
}

static void test_upload(void **st)
{
    fx *f = *st;
    bf_spool *sp = NULL;
    rcv_uploader *u = NULL;
    assert_int_equal(bf_spool_open(f->spool_dir, 1 << 20, rcv_spool_validate, NULL, &sp), 0);
    put(sp, "acme/fw/k2.gz", 2000, "2222222222222222", "b\n", "1");
    put(sp, "acme/fw/k1.gz", 1000, "1111111111111111", "a\nb\n", "2");
    assert_true(bf_spool_used(sp) > 0);
    assert_int_equal(rcv_uploader_start(sp, f->store, f->stats, 10, 100, &u), 0);
    assert_int_equal(rcv_uploader_drain(u, 20000), 0);
    rcv_uploader_stop(u);
    assert_int_equal(bf_spool_used(sp), 0);

    char *data = NULL, *plain = NULL;
    size_t len = 0, plen = 0;
    bf_store_info info = {0};
    assert_int_equal(bf_store_get_mem(f->store, "acme/fw/k1.gz", 1 << 20, &data, &len, &info), 0);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, data, len, 0, 0, &plain, &plen), 0);
    assert_int_equal(plen, 4);
    assert_memory_equal(plain, "a\nb\n", 4);
    assert_string_equal(bf_store_info_meta(&info, "lines"), "2");
    assert_string_equal(bf_store_info_meta(&info, "tenant"), "acme");
    bf_store_info_free(&info);
    free(data);
    free(plain);
    assert_int_equal(bf_store_head(f->store, "acme/fw/k2.gz", NULL), 0);
    bf_spool_close(sp);
}

static void test_full(void **st)
{
    fx *f = *st;
    bf_spool *sp = NULL;
    assert_int_equal(bf_spool_open(f->spool_dir, 1 << 20, rcv_spool_validate, NULL, &sp), 0);
    size_t n = 1 << 20;
    char *big = malloc(n);
    memset(big, 0x1f, n);
    big[1] = (char)0x8b;
    bf_kv meta[] = {{"tenant", "acme"}};
    assert_int_equal(rcv_spool_put(sp, "acme/fw/big.gz", "acme", "fw", 5, "5555555555555555", "gz", big, -1, n, meta, 1), -ENOSPC);
    free(big);
    bf_spool_close(sp);
}

static void test_restart_and_quarantine(void **st)
{
    fx *f = *st;
    bf_spool *sp = NULL;
    char path[512];
    assert_int_equal(bf_spool_open(f->spool_dir, 1 << 20, rcv_spool_validate, NULL, &sp), 0);
    put(sp, "acme/fw/keep.gz", 3000, "3333333333333333", "keep\n", "1");
    bf_spool_close(sp);
    /* a foreign file and an entry without its sidecar */
    snprintf(path, sizeof path, "%s/acme/fw/queue/garbage.txt", f->spool_dir);
    assert_int_equal(bf_write_file_atomic(path, "x", 1), 0);
    snprintf(path, sizeof path, "%s/acme/fw/queue/0000000000000004000-4444444444444444.gz", f->spool_dir);
    assert_int_equal(bf_write_file_atomic(path, "\x1f\x8b\x08\x00", 4), 0);

    assert_int_equal(bf_spool_open(f->spool_dir, 1 << 20, rcv_spool_validate, NULL, &sp), 0);
    assert_int_equal(bf_spool_quarantined(sp), 2);
    char **names = NULL;
    size_t nn = 0;
    assert_int_equal(bf_spool_list(sp, "acme/fw/queue", &names, &nn), 0);
    assert_int_equal(nn, 1);
    assert_string_equal(names[0], "0000000000000003000-3333333333333333.gz");
    bf_spool_names_free(names, nn);
    rcv_uploader *u = NULL;
    assert_int_equal(rcv_uploader_start(sp, f->store, f->stats, 10, 100, &u), 0);
    assert_int_equal(rcv_uploader_drain(u, 20000), 0);
    rcv_uploader_stop(u);
    assert_int_equal(bf_store_head(f->store, "acme/fw/keep.gz", NULL), 0);
    bf_spool_close(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_and_quarantine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
