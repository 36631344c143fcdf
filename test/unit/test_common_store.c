/* One store test suite run against every backend: the file store, Swift s3api (verifies SigV4) and
 * moto (conditional writes). Each group opens its own store (S3: a fresh bucket). The S3 servers come
 * from BF_TEST_S3_ENDPOINT/_AK/_SK and BF_TEST_MOTO_ENDPOINT (test/tools/s3-up.sh); a missing server is
 * a failure, not a skip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "bf_store.h"
#include "bf_store_s3.h"
#include "bf_metrics.h"
#include "bf_buf.h"
#include <microhttpd.h>

typedef enum { BK_FILE, BK_SWIFT, BK_MOTO } backend;

typedef struct suite {
    backend kind;
    char uri[1024];
    bf_s3_config s3;
    char tmp[512];
    bf_store *st;
} suite;

static suite g_suite;

static const char *tmpdir(void)
{
    const char *t = getenv("BF_TMP");
    return t && *t ? t : "/tmp";
}

/* BF_TEST_QUICK=1 (set by the valgrind run) shrinks the big multipart object; see t_multipart_100mib */
static int quick_mode(void)
{
    const char *q = getenv("BF_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

static int open_store(suite *s, bf_metrics *m, bf_store **out)
{
    char err[512] = "";
    int rc = bf_store_open(s->uri, s->kind == BK_FILE ? NULL : &s->s3, m, out, err, sizeof err);
    if (rc) fprintf(stderr, "open %s: %s\n", s->uri, err);
    return rc;
}

static int setup_common(backend kind)
{
    suite *s = &g_suite;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    snprintf(s->tmp, sizeof s->tmp, "%s/store-test-%d-%d", tmpdir(), (int)getpid(), (int)kind);
    mkdir(tmpdir(), 0755);
    if (mkdir(s->tmp, 0755) != 0 && errno != EEXIST) return -1;
    if (kind == BK_FILE) {
        snprintf(s->uri, sizeof s->uri, "file://%s/store/root", s->tmp);
        return open_store(s, NULL, &s->st);
    }
    const char *ep = getenv(kind == BK_SWIFT ? "BF_TEST_S3_ENDPOINT" : "BF_TEST_MOTO_ENDPOINT");
    if (!ep || !*ep) {
        fprintf(stderr, "S3 test server not configured (source test/tools/s3-up.sh env)\n");
        return -1;
    }
    s->s3.endpoint = (char *)ep;
    s->s3.region = "us-east-1";
    s->s3.path_style = true;
    s->s3.access_key = kind == BK_SWIFT ? getenv("BF_TEST_S3_AK") : "moto-ak";
    s->s3.secret_key = kind == BK_SWIFT ? getenv("BF_TEST_S3_SK") : "moto-sk";
    s->s3.retry_deadline_ms = 20000;
    if (quick_mode()) s->s3.multipart_threshold = s->s3.part_size = 5 << 20;
    snprintf(s->uri, sizeof s->uri, "s3://bf-store-%d-%ld-%d/pre/fix", (int)getpid(), (long)time(NULL), (int)kind);
    if (open_store(s, NULL, &s->st)) return -1;
    int rc = bf_store_s3_create_bucket(s->st);
    if (rc) fprintf(stderr, "create bucket: %s\n", bf_store_errmsg());
    return rc;
}

static int setup_file(void **state) { *state = &g_suite; return setup_common(BK_FILE); }
static int setup_swift(void **state) { *state = &g_suite; return setup_common(BK_SWIFT); }
static int setup_moto(void **state) { *state = &g_suite; return setup_common(BK_MOTO); }

static int teardown(void **state)
{
    suite *s = *state;
    bf_store_close(s->st);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

static void put_str(bf_store *st, const char *key, const char *v)
{
    int rc = bf_store_put(st, key, v, strlen(v), NULL, 0);
    if (rc) fprintf(stderr, "put %s: %s\n", key, bf_store_errmsg());
    assert_int_equal(rc, 0);
}

static void expect_content(bf_store *st, const char *key, const char *v)
{
    char *d;
    size_t n;
    int rc = bf_store_get_mem(st, key, 1 << 20, &d, &n, NULL);
    if (rc) fprintf(stderr, "get %s: %s\n", key, bf_store_errmsg());
    assert_int_equal(rc, 0);
    assert_int_equal(n, strlen(v));
    assert_memory_equal(d, v, n);
    free(d);
}

static void expect_meta(const bf_store_info *i, const char *k, const char *v)
{
    const char *got = bf_store_info_meta(i, k);
    if (!got) fprintf(stderr, "metadata %s missing\n", k);
    assert_non_null(got);
    assert_string_equal(got, v);
}

/* ---- tests ---- */

static void t_put_get_head_delete(void **state)
{
    suite *s = *state;
    put_str(s->st, "basic/one.txt", "hello store");
    bf_store_info info;
    assert_int_equal(bf_store_head(s->st, "basic/one.txt", &info), 0);
    assert_int_equal(info.size, 11);
    assert_true(info.etag[0] != 0);
    assert_true(info.mtime_ms > 1700000000000LL);
    bf_store_info_free(&info);
    expect_content(s->st, "basic/one.txt", "hello store");
    put_str(s->st, "basic/one.txt", "second version");      /* overwrite */
    expect_content(s->st, "basic/one.txt", "second version");
    assert_int_equal(bf_store_delete(s->st, "basic/one.txt"), 0);
    assert_int_equal(bf_store_head(s->st, "basic/one.txt", NULL), -ENOENT);
    char *d;
    size_t n;
    assert_int_equal(bf_store_get_mem(s->st, "basic/one.txt", 100, &d, &n, NULL), -ENOENT);
    assert_int_equal(bf_store_delete(s->st, "basic/one.txt"), 0);   /* missing key: still 0 */
    assert_int_equal(bf_store_ping(s->st), 0);
}

static void t_empty_and_limits(void **state)
{
    suite *s = *state;
    assert_int_equal(bf_store_put(s->st, "empty/zero", NULL, 0, NULL, 0), 0);
    char *d;
    size_t n = 99;
    assert_int_equal(bf_store_get_mem(s->st, "empty/zero", 10, &d, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(d);
    put_str(s->st, "empty/big", "0123456789abcdef");
    assert_int_equal(bf_store_get_mem(s->st, "empty/big", 8, &d, &n, NULL), -EFBIG);
}

static void t_metadata(void **state)
{
    suite *s = *state;
    bf_kv meta[] = {{"tenant", "acme"}, {"Line-Count", "42"}, {"batch-id", "b-1=2+3"}};
    assert_int_equal(bf_store_put(s->st, "meta/obj", "x", 1, meta, 3), 0);
    bf_store_info info;
    assert_int_equal(bf_store_head(s->st, "meta/obj", &info), 0);
    expect_meta(&info, "tenant", "acme");
    expect_meta(&info, "line-count", "42");
    expect_meta(&info, "batch-id", "b-1=2+3");
    assert_null(bf_store_info_meta(&info, "absent"));
    bf_store_info_free(&info);
    char *d;
    size_t n;
    assert_int_equal(bf_store_get_mem(s->st, "meta/obj", 10, &d, &n, &info), 0);
    free(d);
    expect_meta(&info, "Tenant", "acme");
    bf_store_info_free(&info);
    /* a put without metadata replaces the object's metadata too */
    assert_int_equal(bf_store_put(s->st, "meta/obj", "y", 1, NULL, 0), 0);
    assert_int_equal(bf_store_head(s->st, "meta/obj", &info), 0);
    assert_null(bf_store_info_meta(&info, "tenant"));
    bf_store_info_free(&info);
    bf_kv bad[] = {{"bad name", "v"}};
    assert_int_equal(bf_store_put(s->st, "meta/bad", "x", 1, bad, 1), -EINVAL);
    bf_kv under[] = {{"batch_id", "v"}};     /* underscores: dropped by many HTTP servers, so refused */
    assert_int_equal(bf_store_put(s->st, "meta/bad", "x", 1, under, 1), -EINVAL);
    bf_kv badv[] = {{"k", "line\nbreak"}};
    assert_int_equal(bf_store_put(s->st, "meta/bad", "x", 1, badv, 1), -EINVAL);
}

/* listing: 1,050 keys at mixed depths so that the file walk must agree with S3's byte order */
#define NLIST 1050
typedef struct put_job { bf_store *st; char **keys; size_t from, to; int rc; } put_job;

static void *put_worker(void *arg)
{
    put_job *j = arg;
    for (size_t i = j->from; i < j->to && !j->rc; i++) {
        j->rc = bf_store_put(j->st, j->keys[i], "v", 1, NULL, 0);
        if (j->rc) fprintf(stderr, "put %s: %s\n", j->keys[i], bf_store_errmsg());
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char **make_list_keys(void)
{
    char **k = calloc(NLIST, sizeof *k);
    for (int i = 0; i < NLIST; i++) {
        char buf[64];
        if (i < 1000) snprintf(buf, sizeof buf, "list/%04d", i);
        else if (i < 1020) snprintf(buf, sizeof buf, "list/0500/sub-%02d", i - 1000);   /* dir beside a file */
        else if (i < 1035) snprintf(buf, sizeof buf, "list/0500-%02d", i - 1020);      /* '-' sorts before '/' */
        else snprintf(buf, sizeof buf, "list/zz/%02d/deep", i - 1035);
        k[i] = strdup(buf);
    }
    /* "list/0500" is both a file and a directory: impossible in a file tree, so rename the file */
    free(k[500]);
    k[500] = strdup("list/0500.a");
    return k;
}

static void list_pages(suite *s, char **sorted, size_t page, size_t expect_pages)
{
    char *token = NULL;
    size_t got = 0, pages = 0;
    do {
        bf_store_list l;
        int rc = bf_store_list_page(s->st, "list/", token, page, &l);
        if (rc) fprintf(stderr, "list: %s\n", bf_store_errmsg());
        assert_int_equal(rc, 0);
        free(token);
        token = l.next ? strdup(l.next) : NULL;
        pages++;
        assert_true(l.n <= page);
        if (token) assert_int_equal(l.n, page);
        for (size_t i = 0; i < l.n; i++) {
            assert_true(got < NLIST);
            assert_string_equal(l.items[i].key, sorted[got]);
            assert_int_equal(l.items[i].size, 1);
            got++;
        }
        bf_store_list_free(&l);
    } while (token);
    assert_int_equal(got, NLIST);
    assert_int_equal(pages, expect_pages);
}

static void t_list_pagination(void **state)
{
    suite *s = *state;
    char **keys = make_list_keys();
    enum { NT = 8 };
    pthread_t th[NT];
    put_job jobs[NT];
    for (int t = 0; t < NT; t++) {
        jobs[t] = (put_job){s->st, keys, (size_t)t * NLIST / NT, (size_t)(t + 1) * NLIST / NT, 0};
        pthread_create(&th[t], NULL, put_worker, &jobs[t]);
    }
    for (int t = 0; t < NT; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(jobs[t].rc, 0);
    }
    put_str(s->st, "listx", "outside the prefix");
    qsort(keys, NLIST, sizeof *keys, cmp_str);
    list_pages(s, keys, 1000, 2);
    list_pages(s, keys, 100, 11);
    /* a prefix that ends inside a name */
    bf_store_list l;
    assert_int_equal(bf_store_list_all(s->st, "list/00", 100000, &l), 0);
    assert_int_equal(l.n, 100);
    assert_string_equal(l.items[0].key, "list/0000");
    assert_string_equal(l.items[99].key, "list/0099");
    bf_store_list_free(&l);
    assert_int_equal(bf_store_list_all(s->st, "list/0500", 100000, &l), 0);
    assert_int_equal(l.n, 1 + 20 + 15);
    bf_store_list_free(&l);
    assert_int_equal(bf_store_list_all(s->st, "nothing-here/", 10, &l), 0);
    assert_int_equal(l.n, 0);
    assert_null(l.next);
    bf_store_list_free(&l);
    assert_int_equal(bf_store_list_page(s->st, "list/", NULL, 0, &l), -EINVAL);
    assert_int_equal(bf_store_list_page(s->st, "list/", NULL, 1001, &l), -EINVAL);
    for (int i = 0; i < NLIST; i++) free(keys[i]);
    free(keys);
}

static void t_special_keys(void **state)
{
    suite *s = *state;
    static const char *const keys[] = {
        "odd/with space.txt", "odd/unicode-\xc3\xbc\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.log", "odd/k=v/year=2026",
        "odd/a+b", "odd/100%", "odd/amp&lt;<tag>\"q'", "odd/tilde~star*paren()", "odd/%2F-literal",
    };
    size_t n = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < n; i++) put_str(s->st, keys[i], keys[i]);
    for (size_t i = 0; i < n; i++) expect_content(s->st, keys[i], keys[i]);
    bf_store_list l;
    assert_int_equal(bf_store_list_all(s->st, "odd/", 1000, &l), 0);
    assert_int_equal(l.n, n);
    const char *sorted[sizeof keys / sizeof keys[0]];
    memcpy(sorted, keys, sizeof sorted);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    for (size_t i = 0; i < n; i++) assert_string_equal(l.items[i].key, sorted[i]);
    bf_store_list_free(&l);
    for (size_t i = 0; i < n; i++) assert_int_equal(bf_store_delete(s->st, keys[i]), 0);
    assert_int_equal(bf_store_list_all(s->st, "odd/", 1000, &l), 0);
    assert_int_equal(l.n, 0);
    bf_store_list_free(&l);
}

/* puts and deletes racing in shared directories (the file store prunes empty directories on delete) */
typedef struct churn { bf_store *st; int id; int errors; } churn;
static void *churn_worker(void *arg)
{
    churn *c = arg;
    for (int i = 0; i < 40; i++) {
        char key[64];
        snprintf(key, sizeof key, "churn/d%d/k%d-%d", i % 3, c->id, i);
        if (bf_store_put(c->st, key, "v", 1, NULL, 0) != 0) c->errors++;
        if (bf_store_delete(c->st, key) != 0) c->errors++;
    }
    return NULL;
}

static void t_concurrent_put_delete(void **state)
{
    suite *s = *state;
    enum { NT = 4 };
    pthread_t th[NT];
    churn c[NT];
    for (int i = 0; i < NT; i++) {
        c[i] = (churn){s->st, i, 0};
        pthread_create(&th[i], NULL, churn_worker, &c[i]);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].errors, 0);
    }
    bf_store_list l;
    assert_int_equal(bf_store_list_all(s->st, "churn/", 1000, &l), 0);
    assert_int_equal(l.n, 0);
    bf_store_list_free(&l);
}

static void t_bad_keys(void **state)
{
    suite *s = *state;
    static const char *const bad[] = {"", "/abs", "a//b", "a/../b", "..", "a/.", "./a", "dir/", "ctl\x01x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(bf_store_put(s->st, bad[i], "x", 1, NULL, 0), -EINVAL);
        assert_true(strstr(bf_store_errmsg(), "invalid key") != NULL);
        assert_int_equal(bf_store_head(s->st, bad[i], NULL), -EINVAL);
    }
    char longkey[1100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    assert_int_equal(bf_store_put(s->st, longkey, "x", 1, NULL, 0), -EINVAL);
    if (s->kind == BK_FILE) {
        longkey[300] = 0;   /* a 300-byte segment: fine for S3, over NAME_MAX for a file system */
        assert_int_equal(bf_store_put(s->st, longkey, "x", 1, NULL, 0), -EINVAL);
        assert_non_null(strstr(bf_store_errmsg(), "too long"));
    }
    bf_store_list l;
    assert_int_equal(bf_store_list_page(s->st, "../", NULL, 10, &l), -EINVAL);
}

static void t_conditional_create(void **state)
{
    suite *s = *state;
    int rc = bf_store_create_exclusive(s->st, "cond/lease", "first", 5, NULL, 0);
    if (s->kind == BK_SWIFT && rc == -ENOTSUP) {
        /* Swift 2.30's s3api answers 501 NotImplemented to If-None-Match: *: reported, not retried */
        assert_non_null(strstr(bf_store_errmsg(), "NotImplemented"));
        printf("NOTE: Swift s3api does not support conditional PUT (If-None-Match: *): %s\n", bf_store_errmsg());
        return;
    }
    assert_int_equal(rc, 0);
    rc = bf_store_create_exclusive(s->st, "cond/lease", "second", 6, NULL, 0);
    if (s->kind == BK_SWIFT && rc == 0) {
        printf("NOTE: Swift s3api ignores If-None-Match: * (second create overwrote)\n");
        return;
    }
    assert_int_equal(rc, -EEXIST);
    expect_content(s->st, "cond/lease", "first");
}

typedef struct cc_job { bf_store *st; int rc; pthread_barrier_t *bar; } cc_job;
static void *cc_worker(void *arg)
{
    cc_job *j = arg;
    pthread_barrier_wait(j->bar);
    j->rc = bf_store_create_exclusive(j->st, "cond/race", "x", 1, NULL, 0);
    return NULL;
}

static void t_conditional_race(void **state)
{
    suite *s = *state;
    if (s->kind == BK_SWIFT) skip();   /* see t_conditional_create */
    enum { NT = 6 };
    pthread_t th[NT];
    cc_job j[NT];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, NT);
    for (int i = 0; i < NT; i++) {
        j[i] = (cc_job){s->st, 1, &bar};
        pthread_create(&th[i], NULL, cc_worker, &j[i]);
    }
    int wins = 0, lost = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        wins += j[i].rc == 0;
        lost += j[i].rc == -EEXIST;
    }
    pthread_barrier_destroy(&bar);
    assert_int_equal(wins, 1);
    assert_int_equal(lost, NT - 1);
}

/* 100 MiB from a file: multipart on S3 (8 MiB parts), read back byte-identical (SHA-256).
 * BF_TEST_QUICK=1 (the valgrind run) shrinks it to 12 MiB in 5 MiB parts: still three parts, one short. */
typedef struct sha_sink { EVP_MD_CTX *ctx; int64_t n; } sha_sink;
static int sha_sink_fn(void *ud, const void *d, size_t n)
{
    sha_sink *s = ud;
    s->n += (int64_t)n;
    return EVP_DigestUpdate(s->ctx, d, n) == 1 ? 0 : -EIO;
}

static void t_multipart_100mib(void **state)
{
    suite *s = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/big.bin", s->tmp);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    size_t chunk = 1 << 20;
    uint64_t *buf = malloc(chunk);
    const int mib = quick_mode() ? 12 : 100;
    const int64_t part = quick_mode() ? 5 << 20 : 8 << 20;
    for (int i = 0; i < mib; i++) {
        for (size_t k = 0; k < chunk / 8; k++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; buf[k] = x; }
        assert_int_equal(fwrite(buf, 1, chunk, f), chunk);
        EVP_DigestUpdate(ctx, buf, chunk);
    }
    free(buf);
    assert_int_equal(fclose(f), 0);
    unsigned char want[32], got[32];
    EVP_DigestFinal_ex(ctx, want, NULL);
    bf_kv meta[] = {{"kind", "big"}};
    int rc = bf_store_put_file(s->st, "big/100mib.bin", path, meta, 1);
    if (rc) fprintf(stderr, "put_file: %s\n", bf_store_errmsg());
    assert_int_equal(rc, 0);
    unlink(path);
    bf_store_info info;
    assert_int_equal(bf_store_head(s->st, "big/100mib.bin", &info), 0);
    assert_int_equal(info.size, (int64_t)mib << 20);
    expect_meta(&info, "kind", "big");
    if (s->kind != BK_FILE) {
        /* a multipart object's ETag is "<md5 of part md5s>-<parts>": 100 MiB / 8 MiB = 13 parts */
        char want_parts[16];
        snprintf(want_parts, sizeof want_parts, "-%d", (int)((((int64_t)mib << 20) + part - 1) / part));
        if (!strstr(info.etag, want_parts)) fprintf(stderr, "etag %s, want %s parts\n", info.etag, want_parts);
        assert_non_null(strstr(info.etag, want_parts));
    }
    bf_store_info_free(&info);
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    sha_sink ss = {ctx, 0};
    rc = bf_store_get(s->st, "big/100mib.bin", sha_sink_fn, &ss, NULL);
    if (rc) fprintf(stderr, "get: %s\n", bf_store_errmsg());
    assert_int_equal(rc, 0);
    assert_int_equal(ss.n, (int64_t)mib << 20);
    EVP_DigestFinal_ex(ctx, got, NULL);
    EVP_MD_CTX_free(ctx);
    assert_memory_equal(want, got, 32);
    assert_int_equal(bf_store_delete(s->st, "big/100mib.bin"), 0);
}

static int abort_sink(void *ud, const void *d, size_t n) { (void)ud; (void)d; (void)n; return -ECANCELED; }

static void t_sink_abort(void **state)
{
    suite *s = *state;
    put_str(s->st, "abort/obj", "some bytes");
    assert_int_equal(bf_store_get(s->st, "abort/obj", abort_sink, NULL, NULL), -ECANCELED);
    /* the store stays usable after an aborted transfer */
    expect_content(s->st, "abort/obj", "some bytes");
}

static void t_put_file_small(void **state)
{
    suite *s = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/small.txt", s->tmp);
    FILE *f = fopen(path, "w");
    fputs("from a file", f);
    fclose(f);
    assert_int_equal(bf_store_put_file(s->st, "pf/small", path, NULL, 0), 0);
    expect_content(s->st, "pf/small", "from a file");
    assert_int_equal(bf_store_put_file(s->st, "pf/none", "/nonexistent/x", NULL, 0), -ENOENT);
}

static void t_metrics(void **state)
{
    suite *s = *state;
    bf_metrics *m;
    assert_int_equal(bf_metrics_create(&m), 0);
    bf_store *st;
    assert_int_equal(open_store(s, m, &st), 0);
    put_str(st, "metrics/a", "1");
    assert_int_equal(bf_store_head(st, "metrics/missing", NULL), -ENOENT);
    assert_int_equal(bf_store_put(st, "bad//key", "x", 1, NULL, 0), -EINVAL);
    bf_buf out;
    bf_buf_init(&out, 0);
    assert_int_equal(bf_metrics_render(m, &out), 0);
    assert_non_null(strstr(out.data, "bytefreezer_store_request_seconds_count{op=\"put\"} 2"));
    assert_non_null(strstr(out.data, "bytefreezer_store_request_seconds_count{op=\"head\"} 1"));
    assert_non_null(strstr(out.data, "bytefreezer_store_errors_total{op=\"put\"} 1"));
    assert_non_null(strstr(out.data, "bytefreezer_store_errors_total{op=\"head\"} 0"));   /* not-found is no error */
    bf_buf_free(&out);
    bf_store_close(st);
    bf_metrics_destroy(m);
}

/* S3 only: wrong secret -> SignatureDoesNotMatch (Swift verifies signatures; moto does not) */
static void t_wrong_secret(void **state)
{
    suite *s = *state;
    if (s->kind != BK_SWIFT) skip();
    suite bad = *s;
    bad.s3.secret_key = "not-the-secret";
    bad.s3.retry_deadline_ms = 2000;
    bf_store *st;
    assert_int_equal(open_store(&bad, NULL, &st), 0);
    int rc = bf_store_put(st, "denied/x", "x", 1, NULL, 0);
    assert_int_equal(rc, -EACCES);
    printf("wrong secret: %s\n", bf_store_errmsg());
    assert_non_null(strstr(bf_store_errmsg(), "SignatureDoesNotMatch"));
    bf_store_list l;
    assert_int_equal(bf_store_list_page(st, "", NULL, 10, &l), -EACCES);
    assert_non_null(strstr(bf_store_errmsg(), "SignatureDoesNotMatch"));
    bf_store_close(st);
}

/* S3 only: nothing listens -> retried until the deadline, then a store-unavailable error */
static void t_unreachable(void **state)
{
    suite *s = *state;
    if (s->kind == BK_FILE) skip();
    suite dead = *s;
    dead.s3.endpoint = "http://127.0.0.1:24999";
    dead.s3.retry_deadline_ms = 800;
    dead.s3.timeout_ms = 500;
    bf_store *st;
    assert_int_equal(open_store(&dead, NULL, &st), 0);
    int rc = bf_store_put(st, "x", "x", 1, NULL, 0);
    assert_true(rc == -EAGAIN || rc == -ETIMEDOUT);
    assert_non_null(strstr(bf_store_errmsg(), "onnect"));
    bf_store_close(st);
}

static void t_open_errors(void **state)
{
    (void)state;
    bf_store *st;
    char err[256];
    assert_int_equal(bf_store_open("ftp://x", NULL, NULL, &st, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "file:///"));
    assert_int_equal(bf_store_open("file://relative", NULL, NULL, &st, err, sizeof err), -EINVAL);
    assert_int_equal(bf_store_open("s3://", NULL, NULL, &st, err, sizeof err), -EINVAL);
    bf_s3_config c = {.endpoint = "gopher://x"};
    assert_int_equal(bf_store_open("s3://b", &c, NULL, &st, err, sizeof err), -EINVAL);
}


/* ---- retry behaviour against a loopback server that injects faults (ports 24350-24399) ---- */

typedef struct fault_srv {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    int count[8];
    char range[64], ifmatch[96];
    int connections;   /* TCP connections accepted */
    int mp_parts, mp_aborts, mp_completes;
    char complete_body[2048];
    char vhost[128];
} fault_srv;
static fault_srv F;
static const char *const FAULT_PATHS[] = {"/bkt/slow", "/bkt/bad", "/bkt/always500", "/bkt/throttle", "/bkt/resume",
                                          "/bkt/resume200"};
static char RESUME_BODY[1000];
static char RESUME_BODY_STR[1001];

static enum MHD_Result f_reply(struct MHD_Connection *c, unsigned code, const char *body, const char *etag)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (etag) MHD_add_response_header(r, "ETag", etag);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static ssize_t half_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= 500) return MHD_CONTENT_READER_END_WITH_ERROR;   /* drop the connection mid-body */
    size_t n = 500 - (size_t)pos < max ? 500 - (size_t)pos : max;
    memcpy(buf, RESUME_BODY + pos, n);
    return (ssize_t)n;
}

/* multipart paths: /bkt/mp (part 2 rejected), /bkt/mp2 (Complete answers 200 with an <Error>) */
static enum MHD_Result f_multipart(struct MHD_Connection *c, const char *url, const char *method, bf_buf *body)
{
    int two = !strcmp(url, "/bkt/mp2");
    const char *upload_id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "uploadId");
    const char *part = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "partNumber");
    pthread_mutex_lock(&F.mu);
    if (!strcmp(method, "DELETE")) F.mp_aborts++;
    if (!strcmp(method, "POST") && upload_id) {
        F.mp_completes++;
        snprintf(F.complete_body, sizeof F.complete_body, "%s", body->data ? body->data : "");
    }
    if (part) F.mp_parts++;
    pthread_mutex_unlock(&F.mu);
    if (!strcmp(method, "POST") && !upload_id)
        return f_reply(c, 200, "<InitiateMultipartUploadResult><UploadId>U&amp;1</UploadId></InitiateMultipartUploadResult>", NULL);
    if (!strcmp(method, "DELETE")) return f_reply(c, 204, "", NULL);
    if (part && upload_id && strcmp(upload_id, "U&1") != 0) return f_reply(c, 404, "<Error><Code>NoSuchUpload</Code></Error>", NULL);
    if (part && !two && !strcmp(part, "2")) return f_reply(c, 400, "<Error><Code>InvalidPart</Code></Error>", NULL);
    if (part) return f_reply(c, 200, "", !strcmp(part, "1") ? "\"p1\"" : "\"p2\"");
    return f_reply(c, 200, "<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>", NULL);
}

typedef struct f_req { bf_buf body; } f_req;

static void f_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)c; (void)toe;
    f_req *r = *con_cls;
    if (r) { bf_buf_free(&r->body); free(r); }
    *con_cls = NULL;
}

static enum MHD_Result f_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)version;
    if (!*con_cls) {
        f_req *r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        bf_buf_init(&r->body, 1 << 20);
        *con_cls = r;
        return MHD_YES;
    }
    f_req *req = *con_cls;
    if (*upload_size) {
        if (!strcmp(method, "POST")) bf_buf_append(&req->body, upload, *upload_size);   /* small XML bodies */
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strncmp(url, "/bkt/mp", 7)) return f_multipart(c, url, method, &req->body);
    if (!strcmp(url, "/vh")) {
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        pthread_mutex_lock(&F.mu);
        snprintf(F.vhost, sizeof F.vhost, "%s", host ? host : "");
        pthread_mutex_unlock(&F.mu);
        return f_reply(c, 200, "", "\"vh\"");
    }
    int idx = -1;
    for (int i = 0; i < 6; i++) if (!strcmp(url, FAULT_PATHS[i])) idx = i;
    if (idx < 0) return f_reply(c, 404, "<Error><Code>NoSuchKey</Code></Error>", NULL);
    pthread_mutex_lock(&F.mu);
    int n = ++F.count[idx];
    if (idx == 4 && n == 2) {
        const char *r = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
        const char *m = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Match");
        snprintf(F.range, sizeof F.range, "%s", r ? r : "");
        snprintf(F.ifmatch, sizeof F.ifmatch, "%s", m ? m : "");
    }
    pthread_mutex_unlock(&F.mu);
    switch (idx) {
    case 0: return n <= 2 ? f_reply(c, 503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>", NULL)
                          : f_reply(c, 200, "", "\"e1\"");
    case 1: return f_reply(c, 400, "<Error><Code>InvalidArgument</Code><Message>nope</Message></Error>", NULL);
    case 2: return f_reply(c, 500, "<Error><Code>InternalError</Code></Error>", NULL);
    case 3: return n == 1 ? f_reply(c, 429, "", NULL) : f_reply(c, 200, "", "\"e3\"");
    default: break;
    }
    if (n == 1) {
        struct MHD_Response *r = MHD_create_response_from_callback(1000, 4096, half_body, NULL, NULL);
        MHD_add_response_header(r, "ETag", "\"resume-etag\"");
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (idx == 5) return f_reply(c, 200, RESUME_BODY_STR, "\"resume-etag\"");   /* ignores Range: whole body */
    struct MHD_Response *r = MHD_create_response_from_buffer(500, RESUME_BODY + 500, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "ETag", "\"resume-etag\"");
    MHD_add_response_header(r, "Content-Range", "bytes 500-999/1000");
    enum MHD_Result ret = MHD_queue_response(c, 206, r);
    MHD_destroy_response(r);
    return ret;
}

static void f_notify(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code)
{
    (void)cls; (void)c; (void)socket_ctx;
    if (code != MHD_CONNECTION_NOTIFY_STARTED) return;
    pthread_mutex_lock(&F.mu);
    F.connections++;
    pthread_mutex_unlock(&F.mu);
}

static int setup_faults(void **state)
{
    *state = &g_suite;
    memset(&g_suite, 0, sizeof g_suite);
    memset(&F, 0, sizeof F);
    pthread_mutex_init(&F.mu, NULL);
    for (size_t i = 0; i < sizeof RESUME_BODY; i++) RESUME_BODY[i] = RESUME_BODY_STR[i] = (char)('a' + i % 26);
    for (int p = 24350; p < 24400 && !F.d; p++) {
        F.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)p, NULL, NULL,
                               f_handler, NULL, MHD_OPTION_NOTIFY_CONNECTION, f_notify, NULL,
                               MHD_OPTION_NOTIFY_COMPLETED, f_completed, NULL, MHD_OPTION_END);
        if (F.d) F.port = p;
    }
    if (!F.d) return -1;
    static char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", F.port);
    suite *s = &g_suite;
    s->kind = BK_SWIFT;
    s->s3 = (bf_s3_config){.endpoint = ep, .region = "us-east-1", .path_style = true, .access_key = "a",
                           .secret_key = "b", .retry_deadline_ms = 30000, .timeout_ms = 5000};
    snprintf(s->uri, sizeof s->uri, "s3://bkt");
    snprintf(s->tmp, sizeof s->tmp, "%s/store-faults-%d", tmpdir(), (int)getpid());
    mkdir(s->tmp, 0755);
    return open_store(s, NULL, &s->st);
}

static int teardown_faults(void **state)
{
    MHD_stop_daemon(F.d);
    return teardown(state);
}

static int fcount(int i)
{
    pthread_mutex_lock(&F.mu);
    int n = F.count[i];
    pthread_mutex_unlock(&F.mu);
    return n;
}

static void t_retry_slowdown(void **state)
{
    suite *s = *state;
    assert_int_equal(bf_store_put(s->st, "slow", "x", 1, NULL, 0), 0);
    assert_int_equal(fcount(0), 3);     /* two 503 SlowDown, then success */
    assert_int_equal(bf_store_put(s->st, "throttle", "x", 1, NULL, 0), 0);
    assert_int_equal(fcount(3), 2);     /* 429 is retried too */
}

static void t_keepalive_reuse(void **state)
{
    suite *s = *state;
    assert_int_equal(bf_store_put(s->st, "throttle", "x", 1, NULL, 0), 0);
    pthread_mutex_lock(&F.mu);
    int before = F.connections;
    pthread_mutex_unlock(&F.mu);
    for (int i = 0; i < 20; i++) assert_int_equal(bf_store_put(s->st, "throttle", "x", 1, NULL, 0), 0);
    pthread_mutex_lock(&F.mu);
    int after = F.connections;
    pthread_mutex_unlock(&F.mu);
    assert_int_equal(after, before);   /* 20 sequential requests over the pooled keep-alive connection */
}

static void make_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++) fputc((int)(i % 251), f);
    assert_int_equal(fclose(f), 0);
}

static void t_multipart_abort(void **state)
{
    suite *s = *state;
    suite m = *s;
    m.s3.multipart_threshold = 5 << 20;
    m.s3.part_size = 5 << 20;
    bf_store *st;
    assert_int_equal(open_store(&m, NULL, &st), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/six.bin", s->tmp);
    make_file(path, 6 << 20);     /* two parts: 5 MiB + 1 MiB */
    /* part 2 rejected: the upload is aborted and the part's error is what the caller sees */
    assert_int_equal(bf_store_put_file(st, "mp", path, NULL, 0), -EINVAL);
    assert_non_null(strstr(bf_store_errmsg(), "InvalidPart"));
    assert_int_equal(F.mp_parts, 2);
    assert_int_equal(F.mp_aborts, 1);
    assert_int_equal(F.mp_completes, 0);
    /* Complete answered 200 with an <Error> document: a failure, aborted too */
    assert_int_equal(bf_store_put_file(st, "mp2", path, NULL, 0), -EIO);
    assert_non_null(strstr(bf_store_errmsg(), "InternalError"));
    assert_int_equal(F.mp_parts, 4);
    assert_int_equal(F.mp_completes, 1);
    assert_int_equal(F.mp_aborts, 2);
    assert_non_null(strstr(F.complete_body, "<Part><PartNumber>1</PartNumber><ETag>\"p1\"</ETag></Part>"
                                            "<Part><PartNumber>2</PartNumber><ETag>\"p2\"</ETag></Part>"));
    unlink(path);
    bf_store_close(st);
}

static void t_virtual_host(void **state)
{
    suite *s = *state;
    suite v = *s;
    char ep[64], want[96];
    snprintf(ep, sizeof ep, "http://localhost:%d", F.port);   /* curl resolves *.localhost to loopback */
    v.s3.endpoint = ep;
    v.s3.path_style = false;
    bf_store *st;
    assert_int_equal(open_store(&v, NULL, &st), 0);
    assert_int_equal(bf_store_put(st, "vh", "x", 1, NULL, 0), 0);
    snprintf(want, sizeof want, "bkt.localhost:%d", F.port);
    assert_string_equal(F.vhost, want);
    bf_store_close(st);
}

static void t_client_error_not_retried(void **state)
{
    suite *s = *state;
    assert_int_equal(bf_store_put(s->st, "bad", "x", 1, NULL, 0), -EINVAL);
    assert_int_equal(fcount(1), 1);
    assert_non_null(strstr(bf_store_errmsg(), "InvalidArgument"));
}

static void t_deadline(void **state)
{
    suite *s = *state;
    suite d = *s;
    d.s3.retry_deadline_ms = 700;
    bf_store *st;
    assert_int_equal(open_store(&d, NULL, &st), 0);
    assert_int_equal(bf_store_put(st, "always500", "x", 1, NULL, 0), -EAGAIN);
    assert_true(fcount(2) >= 2);        /* retried, then gave up at the deadline */
    assert_non_null(strstr(bf_store_errmsg(), "InternalError"));
    bf_store_close(st);
}

static void t_get_resumes_with_range(void **state)
{
    suite *s = *state;
    char *d;
    size_t n;
    int rc = bf_store_get_mem(s->st, "resume", 4096, &d, &n, NULL);
    if (rc) fprintf(stderr, "get: %s\n", bf_store_errmsg());
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1000);
    assert_memory_equal(d, RESUME_BODY, 1000);
    free(d);
    assert_int_equal(fcount(4), 2);
    assert_string_equal(F.range, "bytes=500-");
    assert_string_equal(F.ifmatch, "\"resume-etag\"");
    /* a server that ignores Range answers 200 with the whole body: the bytes already delivered are skipped */
    assert_int_equal(bf_store_get_mem(s->st, "resume200", 4096, &d, &n, NULL), 0);
    assert_int_equal(n, 1000);
    assert_memory_equal(d, RESUME_BODY, 1000);
    free(d);
    assert_int_equal(fcount(5), 2);
}

/* the ListObjectsV2 parser alone: entities, numeric references, prefix stripping, the continuation token */
static void t_parse_list_xml(void **state)
{
    (void)state;
    static const char xml[] =
        "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><Prefix>pre/</Prefix><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok+/=&amp;</NextContinuationToken>"
        "<Contents><Key>pre/a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x65E5;&#0;&bogus;</Key>"
        "<LastModified>2026-11-27T10:00:00.123Z</LastModified><ETag>&quot;9dd4&quot;</ETag><Size>11</Size></Contents>"
        "<Contents><Key>other/x</Key><Size>1</Size></Contents>"
        "<Contents><Key>pre/x y</Key><LastModified>bad</LastModified><ETag>\"e-3\"</ETag><Size>100</Size></Contents>"
        "</ListBucketResult>";
    bf_store_list l = {0};
    assert_int_equal(bf_store_s3_parse_list(xml, sizeof xml - 1, "pre/", &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].key, "a&b<c>\"'\xc3\xa9\xe6\x97\xa5&#0;&bogus;");
    assert_int_equal(l.items[0].size, 11);
    assert_int_equal(l.items[0].mtime_ms, 1795773600123LL);
    assert_string_equal(l.items[0].etag, "9dd4");
    assert_string_equal(l.items[1].key, "x y");
    assert_int_equal(l.items[1].mtime_ms, 0);
    assert_string_equal(l.items[1].etag, "e-3");
    assert_string_equal(l.next, "tok+/=&");
    bf_store_list_free(&l);
    static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    assert_int_equal(bf_store_s3_parse_list(last, sizeof last - 1, "", &l), 0);
    assert_int_equal(l.n, 0);
    assert_null(l.next);
    bf_store_list_free(&l);
}

#define SUITE_TESTS                                                   \
    cmocka_unit_test(t_put_get_head_delete),                          \
    cmocka_unit_test(t_empty_and_limits),                             \
    cmocka_unit_test(t_metadata),                                     \
    cmocka_unit_test(t_special_keys),                                 \
    cmocka_unit_test(t_bad_keys),                                     \
    cmocka_unit_test(t_concurrent_put_delete),                        \
    cmocka_unit_test(t_conditional_create),                           \
    cmocka_unit_test(t_conditional_race),                             \
    cmocka_unit_test(t_sink_abort),                                   \
    cmocka_unit_test(t_put_file_small),                               \
    cmocka_unit_test(t_metrics),                                      \
    cmocka_unit_test(t_wrong_secret),                                 \
    cmocka_unit_test(t_unreachable),                                  \
    cmocka_unit_test(t_open_errors),                                  \
    cmocka_unit_test(t_list_pagination),                              \
    cmocka_unit_test(t_multipart_100mib)

int main(void)
{
    const struct CMUnitTest tests[] = {SUITE_TESTS};
    int fails = 0;
    fails += _cmocka_run_group_tests("store_file", tests, sizeof tests / sizeof tests[0], setup_file, teardown);
    fails += _cmocka_run_group_tests("store_swift", tests, sizeof tests / sizeof tests[0], setup_swift, teardown);
    fails += _cmocka_run_group_tests("store_moto", tests, sizeof tests / sizeof tests[0], setup_moto, teardown);
    const struct CMUnitTest faults[] = {
        cmocka_unit_test(t_retry_slowdown),
        cmocka_unit_test(t_parse_list_xml),
        cmocka_unit_test(t_keepalive_reuse),
        cmocka_unit_test(t_multipart_abort),
        cmocka_unit_test(t_virtual_host),
        cmocka_unit_test(t_client_error_not_retried),
        cmocka_unit_test(t_deadline),
        cmocka_unit_test(t_get_resumes_with_range),
    };
    fails += _cmocka_run_group_tests("store_retry", faults, sizeof faults / sizeof faults[0], setup_faults, teardown_faults);
    return fails ? 1 : 0;
}
