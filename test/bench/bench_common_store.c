/* Store throughput: PUT n objects of size bytes with t threads, then list them all (pages of 1000).
 * usage: bench_common_store URI N SIZE THREADS
 *   s3:// URIs use BF_TEST_S3_ENDPOINT / _AK / _SK (path-style) and create the bucket first.
 * Prints: put_ops_per_s=<x> list_keys_per_s=<y> */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bf_store.h"
#include "bf_store_s3.h"

typedef struct job { bf_store *st; int from, to; size_t size; const char *data; int rc; } job;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    job *j = arg;
    for (int i = j->from; i < j->to && !j->rc; i++) {
        char key[64];
        snprintf(key, sizeof key, "bench/obj-%06d", i);
        j->rc = bf_store_put(j->st, key, j->data, j->size, NULL, 0);
        if (j->rc) fprintf(stderr, "put %s: %s\n", key, bf_store_errmsg());
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s URI N SIZE THREADS\n", argv[0]);
        return 2;
    }
    const char *uri = argv[1];
    int n = atoi(argv[2]), threads = atoi(argv[4]);
    size_t size = (size_t)atol(argv[3]);
    if (n <= 0 || threads <= 0 || threads > 64) return 2;
    bf_s3_config s3 = {.endpoint = getenv("BF_TEST_S3_ENDPOINT"), .region = "us-east-1", .path_style = true,
                       .access_key = getenv("BF_TEST_S3_AK"), .secret_key = getenv("BF_TEST_S3_SK"),
                       .max_connections = threads};
    bf_store *st;
    char err[256];
    if (bf_store_open(uri, &s3, NULL, &st, err, sizeof err)) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    if (!strncmp(uri, "s3://", 5) && bf_store_s3_create_bucket(st)) {
        fprintf(stderr, "bucket: %s\n", bf_store_errmsg());
        return 1;
    }
    char *data = malloc(size ? size : 1);
    if (!data) return 1;
    for (size_t i = 0; i < size; i++) data[i] = (char)('a' + i % 26);
    pthread_t th[64];
    job jobs[64];
    double t0 = now_s();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){st, t * n / threads, (t + 1) * n / threads, size, data, 0};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    int rc = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        rc |= jobs[t].rc;
    }
    double put_s = now_s() - t0;
    if (rc) return 1;
    t0 = now_s();
    bf_store_list l;
    if (bf_store_list_all(st, "bench/", (size_t)n + 10, &l)) {
        fprintf(stderr, "list: %s\n", bf_store_errmsg());
        return 1;
    }
    double list_s = now_s() - t0;
    if (l.n != (size_t)n) {
        fprintf(stderr, "list returned %zu keys, expected %d\n", l.n, n);
        return 1;
    }
    bf_store_list_free(&l);
    printf("put_ops_per_s=%.0f list_keys_per_s=%.0f\n", n / put_s, n / list_s);
    free(data);
    bf_store_close(st);
    return 0;
}
