/* bf_spool: write/read/meta, sorted listing, move/remove with byte accounting, quota (-ENOSPC),
 * temp-file removal and quarantine at reopen, queue enumeration, bad names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>
#include "bf_spool.h"
#include "bf_util.h"

static char root[512];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("BF_TMP");
    snprintf(root, sizeof root, "%s/common_spool.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) return -1;
    return bf_mkdir_p(root, 0755);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void sub(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", root, name);
}

static void write_raw(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_write_list_move_remove(void **state)
{
    (void)state;
    char dir[600];
    sub(dir, sizeof dir, "basic");
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 0, NULL, NULL, &s), 0);
    assert_int_equal(bf_spool_write(s, "acme/fw/queue", "0003.ndjson", "ccc", 3, NULL), 0);
    assert_int_equal(bf_spool_write(s, "acme/fw/queue", "0001.ndjson", "a", 1, "{\"tries\":0}"), 0);
    assert_int_equal(bf_spool_write(s, "acme/fw/queue", "0002.ndjson", "bb", 2, NULL), 0);
    assert_int_equal(bf_spool_used(s), 3 + 1 + 11 + 2);
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "acme/fw/queue", &names, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "0001.ndjson");
    assert_string_equal(names[1], "0002.ndjson");
    assert_string_equal(names[2], "0003.ndjson");
    bf_spool_names_free(names, n);

    char *data;
    size_t len;
    assert_int_equal(bf_spool_read(s, "acme/fw/queue", "0003.ndjson", 100, &data, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "ccc", 3);
    free(data);
    char *meta;
    assert_int_equal(bf_spool_read_meta(s, "acme/fw/queue", "0001.ndjson", &meta), 0);
    assert_string_equal(meta, "{\"tries\":0}");
    free(meta);
    assert_int_equal(bf_spool_read_meta(s, "acme/fw/queue", "0002.ndjson", &meta), -ENOENT);
    assert_int_equal(bf_spool_write_meta(s, "acme/fw/queue", "0001.ndjson", "{\"tries\":12}"), 0);
    assert_int_equal(bf_spool_used(s), 3 + 1 + 12 + 2);

    /* move keeps the name and the sidecar; accounting follows the queues */
    assert_int_equal(bf_spool_move(s, "acme/fw/queue", "0001.ndjson", "acme/fw/retry"), 0);
    assert_int_equal(bf_spool_queue_bytes(s, "acme/fw/retry"), 1 + 12);
    assert_int_equal(bf_spool_queue_bytes(s, "acme/fw/queue"), 5);
    assert_int_equal(bf_spool_queue_bytes(s, "acme/fw"), 18);
    assert_int_equal(bf_spool_queue_bytes(s, "acme/f"), 0);   /* prefix is by path component */
    assert_int_equal(bf_spool_read_meta(s, "acme/fw/retry", "0001.ndjson", &meta), 0);
    free(meta);
    assert_int_equal(bf_spool_move(s, "acme/fw/queue", "nope", "acme/fw/retry"), -ENOENT);

    char **qs;
    size_t nq;
    assert_int_equal(bf_spool_write(s, "beta/x/queue", "0001", "z", 1, NULL), 0);
    assert_int_equal(bf_spool_queues(s, &qs, &nq), 0);
    assert_int_equal(nq, 3);
    assert_string_equal(qs[0], "acme/fw/queue");
    assert_string_equal(qs[1], "acme/fw/retry");
    assert_string_equal(qs[2], "beta/x/queue");
    bf_spool_names_free(qs, nq);

    assert_int_equal(bf_spool_remove(s, "acme/fw/retry", "0001.ndjson"), 0);
    assert_int_equal(bf_spool_remove(s, "acme/fw/retry", "0001.ndjson"), -ENOENT);
    assert_int_equal(bf_spool_used(s), 5 + 1);
    /* overwrite of an existing entry replaces its bytes */
    assert_int_equal(bf_spool_write(s, "acme/fw/queue", "0002.ndjson", "bbbbbb", 6, NULL), 0);
    assert_int_equal(bf_spool_used(s), 3 + 6 + 1);
    char p[1024];
    assert_int_equal(bf_spool_path(s, "acme/fw/queue", "0002.ndjson", p, sizeof p), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s/acme/fw/queue/0002.ndjson", dir);
    assert_string_equal(p, want);
    bf_spool_close(s);

    /* a rescan at open finds the same bytes */
    assert_int_equal(bf_spool_open(dir, 0, NULL, NULL, &s), 0);
    assert_int_equal(bf_spool_used(s), 10);
    assert_int_equal(bf_spool_queue_bytes(s, "acme"), 9);
    bf_spool_close(s);
}

static void test_quota(void **state)
{
    (void)state;
    char dir[600];
    sub(dir, sizeof dir, "quota");
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 100, NULL, NULL, &s), 0);
    assert_int_equal(bf_spool_max(s), 100);
    char buf[60];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(bf_spool_write(s, "t/d/queue", "1", buf, 60, NULL), 0);
    assert_int_equal(bf_spool_write(s, "t/d/queue", "2", buf, 41, NULL), -ENOSPC);
    assert_int_equal(bf_spool_write(s, "t/d/queue", "2", buf, 40, NULL), 0);
    assert_int_equal(bf_spool_used(s), 100);
    assert_int_equal(bf_spool_write(s, "t/d/queue", "3", "y", 1, NULL), -ENOSPC);
    /* the refused write left nothing behind */
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "t/d/queue", &names, &n), 0);
    assert_int_equal(n, 2);
    bf_spool_names_free(names, n);
    /* moving to the DLQ is never refused by the quota */
    assert_int_equal(bf_spool_move(s, "t/d/queue", "1", "t/d/dlq"), 0);
    assert_int_equal(bf_spool_used(s), 100);
    assert_int_equal(bf_spool_remove(s, "t/d/dlq", "1"), 0);
    assert_int_equal(bf_spool_write(s, "t/d/queue", "3", buf, 60, NULL), 0);
    bf_spool_close(s);
}

/* bf_spool_write_fd: an entry copied from a file in chunks (several 256 KiB pieces and a tail), with
 * its meta, under the quota; a source shorter than announced leaves nothing behind. */
static void test_write_fd(void **state)
{
    (void)state;
    char dir[600], srcp[700];
    sub(dir, sizeof dir, "fromfd");
    sub(srcp, sizeof srcp, "fromfd-src");
    size_t len = (3u << 20) + 12345;
    char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++) data[i] = (char)(i * 2654435761u >> 13);
    FILE *f = fopen(srcp, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    int fd = open(srcp, O_RDONLY);
    assert_true(fd >= 0);
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 6u << 20, NULL, NULL, &s), 0);   /* room for one copy, not two */
    assert_int_equal(bf_spool_write_fd(s, "t/d/queue", "big", fd, len, "{\"k\":1}"), 0);
    char *back, *meta;
    size_t blen;
    assert_int_equal(bf_spool_read(s, "t/d/queue", "big", len, &back, &blen), 0);
    assert_int_equal(blen, len);
    assert_memory_equal(back, data, len);
    free(back);
    assert_int_equal(bf_spool_read_meta(s, "t/d/queue", "big", &meta), 0);
    assert_string_equal(meta, "{\"k\":1}");
    free(meta);
    assert_int_equal(bf_spool_used(s), len + 7);
    /* quota applies as for memory writes */
    assert_int_equal(bf_spool_write_fd(s, "t/d/queue", "big2", fd, len, NULL), -ENOSPC);
    /* announced longer than the file: an error, no entry, the reservation given back */
    assert_int_equal(bf_spool_write_fd(s, "t/d/queue", "short", fd, 100, NULL), 0);
    assert_int_equal(bf_spool_write_fd(s, "t/d/queue", "over", fd, len + 1, NULL) < 0, 1);
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "t/d/queue", &names, &n), 0);
    assert_int_equal(n, 2);
    bf_spool_names_free(names, n);
    assert_int_equal(bf_spool_used(s), len + 7 + 100);
    assert_int_equal(bf_spool_write_fd(s, "t/d/queue", "bad", -1, 1, NULL), -EINVAL);
    bf_spool_close(s);
    close(fd);
    free(data);
}

static int validate_cb(void *ud, const char *queue, const char *name, const char *path)
{
    (void)queue; (void)name;
    int *calls = ud;
    (*calls)++;
    char *data;
    size_t len;
    if (bf_read_file(path, 1024, &data, &len) != 0) return -EIO;
    int ok = len > 0 && data[0] == '{';
    free(data);
    return ok ? 0 : -EINVAL;
}

static void test_reopen_quarantine_and_temp(void **state)
{
    (void)state;
    char dir[600];
    sub(dir, sizeof dir, "reopen");
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 0, NULL, NULL, &s), 0);
    assert_int_equal(bf_spool_write(s, "a/b/queue", "0001", "{\"ok\":1}", 8, "{}"), 0);
    assert_int_equal(bf_spool_write(s, "a/b/queue", "0002", "garbage!", 8, "{\"m\":1}"), 0);
    bf_spool_close(s);
    /* a crash mid-write leaves a temp file */
    char tmpf[700], bad[700], badmeta[700];
    snprintf(tmpf, sizeof tmpf, "%s/a/b/queue/.tmp-0003.123.0", dir);
    write_raw(tmpf, "{\"partial\":");

    int calls = 0;
    assert_int_equal(bf_spool_open(dir, 0, validate_cb, &calls, &s), 0);
    assert_int_equal(calls, 2);
    assert_false(exists(tmpf));
    assert_int_equal(bf_spool_quarantined(s), 1);
    snprintf(bad, sizeof bad, "%s/quarantine/a/b/queue/0002", dir);
    snprintf(badmeta, sizeof badmeta, "%s/quarantine/a/b/queue/0002.meta", dir);
    assert_true(exists(bad));
    assert_true(exists(badmeta));
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "a/b/queue", &names, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "0001");
    bf_spool_names_free(names, n);
    assert_int_equal(bf_spool_used(s), 8 + 2);   /* quarantined bytes are not counted */
    char **qs;
    size_t nq;
    assert_int_equal(bf_spool_queues(s, &qs, &nq), 0);
    assert_int_equal(nq, 1);   /* quarantine is not a queue */
    assert_string_equal(qs[0], "a/b/queue");
    bf_spool_names_free(qs, nq);
    bf_spool_close(s);
}

static void test_bad_names(void **state)
{
    (void)state;
    char dir[600];
    sub(dir, sizeof dir, "names");
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 0, NULL, NULL, &s), 0);
    const char *bad_queues[] = {"", "/abs", "a/../b", "a//b", "a/", "quarantine/x", ".tmp-x", ".."};
    for (size_t i = 0; i < sizeof bad_queues / sizeof *bad_queues; i++)
        assert_int_equal(bf_spool_write(s, bad_queues[i], "n", "x", 1, NULL), -EINVAL);
    const char *bad_names[] = {"", "a/b", "..", ".tmp-1", "x.meta"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        assert_int_equal(bf_spool_write(s, "q", bad_names[i], "x", 1, NULL), -EINVAL);
    char **names;
    size_t n;
    assert_int_equal(bf_spool_list(s, "never/written", &names, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(bf_spool_used(s), 0);
    bf_spool_close(s);
}


/* Parallel writers and movers under a quota: the accounting equals what is on disk. */
typedef struct wctx { bf_spool *s; int id; int enospc; } wctx;
static void *writer(void *arg)
{
    wctx *w = arg;
    char q[64], name[64], buf[100];
    memset(buf, 'a' + w->id, sizeof buf);
    snprintf(q, sizeof q, "t%d/d/queue", w->id);
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "%06d", i);
        int rc = bf_spool_write(w->s, q, name, buf, (size_t)(i % 100), i % 3 ? NULL : "{\"n\":1}");
        if (rc == -ENOSPC) { w->enospc++; continue; }
        assert_int_equal(rc, 0);
        if (i % 4 == 0) assert_int_equal(bf_spool_move(w->s, q, name, "shared/dlq"), 0);
        else if (i % 4 == 1) assert_int_equal(bf_spool_remove(w->s, q, name), 0);
    }
    return NULL;
}

static uint64_t du(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "find '%s' -type f -not -path '*/quarantine/*' -printf '%%s\\n' | awk '{s+=$1} END {print s+0}'", dir);
    FILE *p = popen(cmd, "r");
    unsigned long long v = 0;
    assert_int_equal(fscanf(p, "%llu", &v), 1);
    pclose(p);
    return v;
}

static void test_concurrent_accounting(void **state)
{
    (void)state;
    char dir[600];
    sub(dir, sizeof dir, "concurrent");
    bf_spool *s;
    assert_int_equal(bf_spool_open(dir, 20000, NULL, NULL, &s), 0);
    pthread_t t[4];
    wctx w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (wctx){s, i, 0};
        pthread_create(&t[i], NULL, writer, &w[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    uint64_t used = bf_spool_used(s);
    assert_true(used <= 20000);
    assert_true(w[0].enospc + w[1].enospc + w[2].enospc + w[3].enospc > 0);   /* the quota was reached */
    assert_int_equal(used, du(dir));
    assert_int_equal(bf_spool_queue_bytes(s, "shared/dlq") + bf_spool_queue_bytes(s, "t0") +
                         bf_spool_queue_bytes(s, "t1") + bf_spool_queue_bytes(s, "t2") + bf_spool_queue_bytes(s, "t3"),
                     used);
    bf_spool_close(s);
    assert_int_equal(bf_spool_open(dir, 20000, NULL, NULL, &s), 0);
    assert_int_equal(bf_spool_used(s), used);
    bf_spool_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_list_move_remove),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_write_fd),
        cmocka_unit_test(test_reopen_quarantine_and_temp),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_concurrent_accounting),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
