/* bf_lease against the file store, moto (S3 with If-None-Match: way 1) and Swift s3api (no conditional
 * PUT: the listing fallback). Same tests for all groups; s->listed says which way the store takes. */
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
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "bf_lease.h"
#include "bf_store.h"
#include "bf_store_s3.h"

typedef struct lsuite { char tmp[512]; char uri[1024]; bf_s3_config s3; int s3mode; int listed; bf_store *st; int round; } lsuite;
static lsuite g;

static const char *tmpdir(void)
{
    const char *t = getenv("BF_TMP");
    return t && *t ? t : "/tmp";
}

static int setup_file(void **state)
{
    *state = &g;
    memset(&g, 0, sizeof g);
    snprintf(g.tmp, sizeof g.tmp, "%s/lease-test-%d", tmpdir(), (int)getpid());
    mkdir(tmpdir(), 0755);
    snprintf(g.uri, sizeof g.uri, "file://%s/store", g.tmp);
    char err[256];
    int rc = bf_store_open(g.uri, NULL, NULL, &g.st, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

static int setup_moto(void **state)
{
    *state = &g;
    memset(&g, 0, sizeof g);
    const char *ep = getenv("BF_TEST_MOTO_ENDPOINT");
    if (!ep || !*ep) {
        fprintf(stderr, "BF_TEST_MOTO_ENDPOINT not set (test/tools/s3-up.sh)\n");
        return -1;
    }
    g.s3mode = 1;
    g.s3 = (bf_s3_config){.endpoint = (char *)ep, .region = "us-east-1", .path_style = true, .access_key = "ak",
                          .secret_key = "sk", .retry_deadline_ms = 10000};
    snprintf(g.tmp, sizeof g.tmp, "%s/lease-test-moto-%d", tmpdir(), (int)getpid());
    snprintf(g.uri, sizeof g.uri, "s3://bf-lease-%d-%ld/x", (int)getpid(), (long)time(NULL));
    char err[256];
    int rc = bf_store_open(g.uri, &g.s3, NULL, &g.st, err, sizeof err);
    if (rc) { fprintf(stderr, "%s\n", err); return rc; }
    rc = bf_store_s3_create_bucket(g.st);
    if (rc) fprintf(stderr, "create bucket: %s\n", bf_store_errmsg());
    return rc;
}

static int setup_swift(void **state)
{
    *state = &g;
    memset(&g, 0, sizeof g);
    const char *ep = getenv("BF_TEST_S3_ENDPOINT"), *ak = getenv("BF_TEST_S3_AK"), *sk = getenv("BF_TEST_S3_SK");
    if (!ep || !*ep || !ak || !sk) {
        fprintf(stderr, "BF_TEST_S3_ENDPOINT/AK/SK not set (test/tools/s3-up.sh)\n");
        return -1;
    }
    g.s3mode = 1;
    g.listed = 1;
    g.s3 = (bf_s3_config){.endpoint = (char *)ep, .region = "us-east-1", .path_style = true, .access_key = (char *)ak,
                          .secret_key = (char *)sk, .retry_deadline_ms = 10000};
    snprintf(g.tmp, sizeof g.tmp, "%s/lease-test-swift-%d", tmpdir(), (int)getpid());
    snprintf(g.uri, sizeof g.uri, "s3://bf-lease-sw-%d-%ld/x", (int)getpid(), (long)time(NULL));
    char err[256];
    int rc = bf_store_open(g.uri, &g.s3, NULL, &g.st, err, sizeof err);
    if (rc) { fprintf(stderr, "%s\n", err); return rc; }
    rc = bf_store_s3_create_bucket(g.st);
    if (rc) fprintf(stderr, "create bucket: %s\n", bf_store_errmsg());
    return rc;
}

static int teardown(void **state)
{
    lsuite *s = *state;
    bf_store_close(s->st);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void t_acquire_busy_release(void **state)
{
    lsuite *s = *state;
    bf_lease a, b;
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item1", "owner-a", 60000, &a), 0);
    assert_int_equal(a.gen, 1);
    assert_string_equal(a.owner, "owner-a");
    assert_true(a.expires_ms > 0);
    assert_int_equal(a.listed, s->listed);
    /* the lease object is where the header says ("<name>.<gen>" or, on the fallback,
     * "<name>.<gen>.<16 hex>"), with the documented body */
    bf_store_list l;
    assert_int_equal(bf_store_list_all(s->st, "_leases/t/item1.0000000001", 100, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(strlen(l.items[0].key), strlen("_leases/t/item1.0000000001") + (s->listed ? 17 : 0));
    char *body;
    size_t n;
    assert_int_equal(bf_store_get_mem(s->st, l.items[0].key, 4096, &body, &n, NULL), 0);
    bf_store_list_free(&l);
    assert_non_null(strstr(body, "\"owner\":\"owner-a\""));
    assert_non_null(strstr(body, "\"gen\":1"));
    free(body);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), 0);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item1", "owner-b", 60000, &b), -EBUSY);
    /* the holder may acquire again (it extends) */
    bf_lease a2;
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item1", "owner-a", 60000, &a2), 0);
    assert_int_equal(a2.gen, 1);
    /* another name is independent */
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item10", "owner-b", 60000, &b), 0);
    assert_int_equal(bf_lease_release(s->st, "_leases/t", &b), 0);
    assert_int_equal(bf_lease_release(s->st, "_leases/t", &a), 0);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), -EBUSY);   /* released: no longer ours */
    assert_int_equal(bf_store_list_all(s->st, "_leases/t/item1.", 100, &l), 0);
    assert_int_equal(l.n, 0);
    bf_store_list_free(&l);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item1", "owner-b", 60000, &b), 0);
    assert_int_equal(bf_lease_release(s->st, "_leases/t", &b), 0);
}

static void t_expiry_takeover_and_renew(void **state)
{
    lsuite *s = *state;
    bf_lease a, b;
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item2", "owner-a", 1, &a), 0);
    sleep_ms(20);   /* let the 1 ms lease lapse */
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item2", "owner-b", 60000, &b), 0);
    assert_int_equal(b.gen, a.gen + 1);
    /* the old owner learns that it lost the lease, by renew and by check */
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), -EBUSY);
    assert_int_equal(bf_lease_renew(s->st, "_leases/t", &a, 60000), -EBUSY);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), -EBUSY);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &b), 0);
    int64_t before = b.expires_ms;
    sleep_ms(5);
    assert_int_equal(bf_lease_renew(s->st, "_leases/t", &b, 120000), 0);
    assert_true(b.expires_ms > before);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item2", "owner-c", 60000, &a), -EBUSY);
    /* old owner's release must not free the new owner's lease */
    bf_lease stale = {.gen = 1};
    snprintf(stale.name, sizeof stale.name, "item2");
    snprintf(stale.owner, sizeof stale.owner, "owner-a");
    assert_int_equal(bf_lease_release(s->st, "_leases/t", &stale), 0);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item2", "owner-c", 60000, &a), -EBUSY);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &b), 0);
    assert_int_equal(bf_lease_release(s->st, "_leases/t", &b), 0);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &b), -EBUSY);
    bf_store_list l;
    assert_int_equal(bf_store_list_all(s->st, "_leases/t/item2.", 100, &l), 0);
    assert_int_equal(l.n, 0);   /* every generation up to ours is gone */
    bf_store_list_free(&l);
}

/* A racer takes part in the takeover, checks while others may still be contending, then (after every
 * racer has finished acquiring) checks again: those late checks must single out exactly one holder. */
enum { CHECKS = 3 };
typedef struct racer {
    bf_store *st; pthread_barrier_t *bar, *done; char owner[32]; const char *name;
    int rc; bf_lease l; int early[2]; int late[CHECKS];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->bar);
    r->rc = bf_lease_acquire(r->st, "_leases/race", r->name, r->owner, 60000, &r->l);
    for (int i = 0; i < 2; i++) r->early[i] = r->rc == 0 ? bf_lease_check(r->st, "_leases/race", &r->l) : -EBUSY;
    pthread_barrier_wait(r->done);
    for (int i = 0; i < CHECKS; i++) r->late[i] = r->rc == 0 ? bf_lease_check(r->st, "_leases/race", &r->l) : -EBUSY;
    return NULL;
}

static void t_takeover_race(void **state)
{
    lsuite *s = *state;
    enum { NT = 4, ROUNDS = 8 };
    for (int round = 0; round < ROUNDS; round++) {
        char name[32], base[64];
        snprintf(name, sizeof name, "r%d", round);
        snprintf(base, sizeof base, "_leases/race/%s.", name);
        bf_lease old;
        assert_int_equal(bf_lease_acquire(s->st, "_leases/race", name, "old-owner", 1, &old), 0);
        sleep_ms(10);   /* expired: every racer sees a takeover opportunity */
        pthread_barrier_t bar, done;
        pthread_barrier_init(&bar, NULL, NT);
        pthread_barrier_init(&done, NULL, NT);
        pthread_t th[NT];
        racer r[NT];
        for (int i = 0; i < NT; i++) {
            r[i] = (racer){.st = s->st, .bar = &bar, .done = &done, .rc = 1, .name = name};
            snprintf(r[i].owner, sizeof r[i].owner, "racer-%d", i);
            assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
        }
        int wins = 0, busy = 0, holders = 0, holder = -1;
        for (int i = 0; i < NT; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&bar);
        pthread_barrier_destroy(&done);
        for (int i = 0; i < NT; i++) {
            if (r[i].rc == 0) {
                wins++;
                assert_int_equal(r[i].l.gen, 2);
                assert_int_equal(r[i].l.listed, s->listed);
            }
            busy += r[i].rc == -EBUSY;
            for (int k = 0; k < 2; k++) assert_true(r[i].early[k] == 0 || r[i].early[k] == -EBUSY);
            int passed = 0;
            for (int k = 0; k < CHECKS; k++) passed += r[i].late[k] == 0;
            /* a racer's late checks agree with each other: it holds throughout or not at all */
            assert_true(passed == 0 || passed == CHECKS);
            if (passed) { holders++; holder = i; }
        }
        /* create-exclusive admits one winner; the fallback may let a displaced one return 0 at first */
        if (!s->listed) assert_int_equal(wins, 1);
        assert_true(wins >= 1);
        assert_int_equal(busy, NT - wins);
        assert_int_equal(holders, 1);
        for (int i = 0; i < NT; i++)
            if (r[i].rc == 0)
                assert_int_equal(bf_lease_renew(s->st, "_leases/race", &r[i].l, 60000), i == holder ? 0 : -EBUSY);
        assert_int_equal(bf_lease_check(s->st, "_leases/race", &r[holder].l), 0);
        assert_int_equal(bf_lease_acquire(s->st, "_leases/race", name, "late-comer", 60000, &old), -EBUSY);
        assert_int_equal(bf_lease_release(s->st, "_leases/race", &r[holder].l), 0);
        bf_store_list l;   /* losers withdrew, the holder's release removed the rest */
        assert_int_equal(bf_store_list_all(s->st, base, 100, &l), 0);
        assert_int_equal(l.n, 0);
        bf_store_list_free(&l);
    }
}

static void t_check_expiry(void **state)
{
    lsuite *s = *state;
    bf_lease a;
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "item3", "owner-a", 1, &a), 0);
    sleep_ms(20);
    /* expired but not taken over: check refuses (unsafe to commit), renew revives it */
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), -EBUSY);
    assert_int_equal(bf_lease_renew(s->st, "_leases/t", &a, 60000), 0);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), 0);
    bf_lease other = a;
    snprintf(other.owner, sizeof other.owner, "owner-x");   /* forged owner: not the holder */
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &other), -EBUSY);
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &a), 0);
    assert_int_equal(bf_lease_release(s->st, "_leases/t", &a), 0);
    bf_lease z = {0};
    assert_int_equal(bf_lease_check(s->st, "_leases/t", &z), -EINVAL);
}

static void t_bad_args(void **state)
{
    lsuite *s = *state;
    bf_lease l;
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "a/b", "o", 1000, &l), -EINVAL);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "", "o", 1000, &l), -EINVAL);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "n", "", 1000, &l), -EINVAL);
    assert_int_equal(bf_lease_acquire(s->st, "_leases/t", "n", "o", 0, &l), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_acquire_busy_release),
        cmocka_unit_test(t_expiry_takeover_and_renew),
        cmocka_unit_test(t_takeover_race),
        cmocka_unit_test(t_check_expiry),
        cmocka_unit_test(t_bad_args),
    };
    int fails = 0;
    fails += _cmocka_run_group_tests("lease_file", tests, sizeof tests / sizeof tests[0], setup_file, teardown);
    fails += _cmocka_run_group_tests("lease_moto", tests, sizeof tests / sizeof tests[0], setup_moto, teardown);
    fails += _cmocka_run_group_tests("lease_swift", tests, sizeof tests / sizeof tests[0], setup_swift, teardown);
    return fails ? 1 : 0;
}
