/* Codec benchmark driver (used by test/bench/codec.sh).
 *   bench_common_codec gen FILE MB                  write MB of realistic log NDJSON to FILE
 *   bench_common_codec compress gzip|zstd LEVEL FILE    compress FILE, 3 runs
 *   bench_common_codec decompress gzip|zstd FILE        decompress FILE (any producer), 3 runs
 * Each run streams the file in 128 KiB reads and writes the output to /dev/null, like the tools.
 * Prints "mbps=<uncompressed MB per CPU-second, median of 3> out=<output bytes>".
 * CPU time (CLOCK_PROCESS_CPUTIME_ID) rather than wall time: the figure is per core. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "bf_buf.h"
#include "bf_codec.h"
#include "bf_util.h"

#define RUNS 3

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One NDJSON access-log record with the variety real logs have (times, IPs, paths, agents). */
static int gen_line(bf_buf *b, uint64_t *rng, int64_t ts_ms)
{
    static const char *methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
    static const char *paths[] = {"/api/v1/items", "/api/v1/users/", "/static/app.js", "/login",
                                  "/api/v1/orders/", "/healthz", "/metrics", "/search?q="};
    static const char *agents[] = {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0",
                                   "curl/8.5.0", "Go-http-client/1.1", "python-requests/2.31.0",
                                   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1"};
    static const int statuses[] = {200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 404, 500, 503};
    static const char *levels[] = {"info", "info", "info", "warn", "error"};
    uint64_t r1 = bf_rand_next(rng), r2 = bf_rand_next(rng), r3 = bf_rand_next(rng);
    char ts[32];
    bf_rfc3339_ms(ts_ms, ts);
    return bf_buf_printf(b,
        "{\"timestamp\":\"%s\",\"level\":\"%s\",\"host\":\"web-%02u\",\"client_ip\":\"10.%u.%u.%u\","
        "\"method\":\"%s\",\"path\":\"%s%u\",\"status\":%d,\"bytes\":%u,\"duration_ms\":%u.%03u,"
        "\"user_agent\":\"%s\",\"request_id\":\"%016llx\",\"user\":\"user%u\"}\n",
        ts, levels[r1 % 5], (unsigned)(r1 >> 8) % 24, (unsigned)(r1 >> 16) % 256, (unsigned)(r1 >> 24) % 256,
        (unsigned)(r1 >> 32) % 256, methods[(r1 >> 40) % 6], paths[(r1 >> 44) % 8], (unsigned)(r2 % 100000),
        statuses[(r2 >> 20) % 13], (unsigned)(r2 >> 28) % 65536, (unsigned)(r3 % 2000), (unsigned)(r3 >> 12) % 1000,
        agents[(r3 >> 24) % 5], (unsigned long long)bf_rand_next(rng), (unsigned)(r3 >> 40) % 5000);
}

static int gen(const char *path, long mb)
{
    bf_buf b;
    bf_buf_init(&b, 0);
    uint64_t rng = 20261127;
    int64_t ts = 1795773600000LL;
    size_t want = (size_t)mb << 20;
    int rc = bf_buf_reserve(&b, want + 1024);
    while (!rc && b.len < want) {
        ts += (int64_t)(bf_rand_next(&rng) % 50);
        rc = gen_line(&b, &rng, ts);
    }
    if (!rc)
        rc = bf_write_file_atomic(path, b.data, b.len);
    bf_buf_free(&b);
    if (rc)
        fprintf(stderr, "gen: %s\n", strerror(-rc));
    return rc ? 1 : 0;
}

/* Output goes to /dev/null with write(2), as the tools' output does, and is counted. */
typedef struct {
    int fd;
    uint64_t n;
} out_sink;

static int null_sink(void *ud, const void *p, size_t n)
{
    out_sink *o = ud;
    o->n += n;
    return write(o->fd, p, n) == (ssize_t)n ? 0 : -EIO;
}

/* One timed pass: read FILE in 128 KiB blocks (as the tools do), code it, write the output.
 * Returns CPU seconds or -1; *in_bytes and *out_bytes get the sizes. */
static double run_once(bool comp, bf_codec c, int level, const char *path, uint64_t *in_bytes, uint64_t *out_bytes)
{
    static char block[128 * 1024];
    bf_encoder *e = NULL;
    bf_decoder *d = NULL;
    if (comp ? bf_encoder_create(c, level, &e) : bf_decoder_create(c, 0, 0, &d))
        return -1;
    out_sink o = {open("/dev/null", O_WRONLY | O_CLOEXEC), 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 || o.fd < 0 ? -errno : 0;
    *in_bytes = 0;
    double t0 = cpu_seconds();
    while (!rc) {
        ssize_t r = read(fd, block, sizeof block);
        if (r <= 0) {
            rc = r < 0 ? -errno : 0;
            break;
        }
        *in_bytes += (uint64_t)r;
        rc = comp ? bf_encoder_update(e, block, (size_t)r, null_sink, &o)
                  : bf_decoder_update(d, block, (size_t)r, null_sink, &o);
    }
    if (!rc)
        rc = comp ? bf_encoder_finish(e, null_sink, &o) : bf_decoder_finish(d, null_sink, &o);
    double t = cpu_seconds() - t0;
    if (fd >= 0)
        close(fd);
    if (o.fd >= 0)
        close(o.fd);
    bf_encoder_destroy(e);
    bf_decoder_destroy(d);
    *out_bytes = o.n;
    return rc ? -1 : t;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], atol(argv[3]));
    bool comp = argc == 5 && strcmp(argv[1], "compress") == 0;
    bool decomp = argc == 4 && strcmp(argv[1], "decompress") == 0;
    bf_codec c;
    if ((!comp && !decomp) || bf_codec_parse(argv[2], &c) != 0) {
        fprintf(stderr, "usage: %s gen FILE MB | compress gzip|zstd LEVEL FILE | decompress gzip|zstd FILE\n",
                argv[0]);
        return 2;
    }
    double secs[RUNS];
    uint64_t in = 0, out = 0;
    for (int i = 0; i < RUNS; i++) {
        secs[i] = run_once(comp, c, comp ? atoi(argv[3]) : 0, argv[comp ? 4 : 3], &in, &out);
        if (secs[i] <= 0) {
            fprintf(stderr, "codec failed\n");
            return 1;
        }
    }
    qsort(secs, RUNS, sizeof secs[0], cmp_double);
    double plain_mb = (double)(comp ? in : out) / 1e6;
    printf("mbps=%.1f out=%llu\n", plain_mb / secs[RUNS / 2], (unsigned long long)out);
    return 0;
}
