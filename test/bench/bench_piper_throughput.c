/* piper throughput benchmark: generates data, then runs the real object path (file store GET →
 * zstd decode → lines → format → pipeline → NDJSON → zstd encode → PUT) on one thread and reports
 * events per CPU-second.
 *   bench_piper_throughput gen-ndjson FILE MB       write NDJSON records (~170 bytes each)
 *   bench_piper_throughput gen-syslog FILE MB       write RFC 3164 firewall lines
 *   bench_piper_throughput run FILE FORMAT DIR [MMDB]
 *        FORMAT ndjson: empty pipeline (the fast path)
 *        FORMAT syslog: grok + geoip + mutate + date_parse
 * Output of run: "<events> <cpu_seconds> <wall_seconds>". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bf_codec.h"
#include "bf_store.h"
#include "bf_util.h"
#include "../../piper/geoip.h"
#include "../../piper/worker.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const ACTIONS[] = {"accept", "drop", "reject", "allow"};
static const char *const USERS[] = {"alice", "bob", "carol", "dave", "eve"};

static int gen(const char *path, long mb, int syslog)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    long target = mb * 1024 * 1024, written = 0;
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (long i = 0; written < target; i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        int n;
        if (syslog)
            n = fprintf(f, "<134>Nov 27 10:%02ld:%02ld fw%02d kernel: %s src=%s dst=10.0.%d.%d bytes=%lu ts=2025-11-27T10:%02ld:%02ld.%03ldZ\n",
                        (i / 60) % 60, i % 60, (int)(r % 8), ACTIONS[r % 4], (r >> 8) % 3 ? "127.0.0.1" : "192.0.2.7",
                        (int)((r >> 16) % 256), (int)((r >> 24) % 256), (unsigned long)((r >> 32) % 100000),
                        (i / 60) % 60, i % 60, i % 1000);
        else
            n = fprintf(f, "{\"ts\":\"2025-11-27T10:%02ld:%02ld.%03ldZ\",\"host\":\"web-%02d\",\"user\":\"%s\",\"status\":%d,\"bytes\":%lu,\"latency_ms\":%.3f,\"path\":\"/api/v1/items/%lu\",\"ok\":true}\n",
                        (i / 60) % 60, i % 60, i % 1000, (int)(r % 32), USERS[r % 5], (int)(200 + (r >> 8) % 4 * 100),
                        (unsigned long)((r >> 16) % 1000000), (double)((r >> 40) % 100000) / 100.0, (unsigned long)((r >> 20) % 100000));
        if (n < 0)
            break;
        written += n;
    }
    return fclose(f) ? 1 : 0;
}

static const char *PIPE_SYSLOG =
    "[{\"type\":\"grok\",\"config\":{\"source_field\":\"message\",\"pattern\":\"%{WORD:action} src=%{IP:src_ip} dst=%{IP:dst_ip} bytes=%{NUMBER:bytes:int} ts=%{TIMESTAMP_ISO8601:event_ts}\"}},"
    "{\"type\":\"geoip\",\"config\":{\"source_field\":\"src_ip\",\"target_field\":\"src_geo\",\"fields\":[\"city\",\"country_code\",\"asn\"]}},"
    "{\"type\":\"mutate\",\"config\":{\"uppercase\":[\"action\"],\"rename\":{\"hostname\":\"device\"},\"remove\":[\"facility\"]}},"
    "{\"type\":\"date_parse\",\"config\":{\"source_field\":\"event_ts\",\"target_field\":\"event_time\",\"formats\":[\"ISO8601\"]}}]";

static int run(const char *path, const char *format, const char *dir, const char *mmdb)
{
    char *data = NULL;
    size_t len = 0;
    if (bf_read_file(path, (size_t)16 << 30, &data, &len)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    uint64_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    char *z = NULL;
    size_t zl = 0;
    if (bf_compress(BF_CODEC_ZSTD, 1, data, len, &z, &zl))
        return 1;
    free(data);
    char uri[600], err[256];
    bf_store *in, *out;
    snprintf(uri, sizeof uri, "file://%s/intake", dir);
    if (bf_store_open(uri, NULL, NULL, &in, err, sizeof err))
        return 1;
    snprintf(uri, sizeof uri, "file://%s/piper", dir);
    if (bf_store_open(uri, NULL, NULL, &out, err, sizeof err))
        return 1;
    const char *key = "bench/ds/bench--ds--1764237600000000000--raw--0000000000000000.zst";
    if (bf_store_put(in, key, z, zl, NULL, 0))
        return 1;
    free(z);
    geoip_mgr *g = NULL;
    geoip_mgr_create(&g);
    if (mmdb && *mmdb && geoip_mgr_load(g, mmdb, NULL)) {
        fprintf(stderr, "cannot open %s\n", mmdb);
        return 1;
    }
    pl_env env = {.geoip = g};
    fmt *fm;
    pipeline *pl;
    json_t *spec = json_loads(strcmp(format, "ndjson") ? PIPE_SYSLOG : "[]", 0, NULL);
    if (fmt_create(format, NULL, &fm, err, sizeof err) || pipeline_compile(spec, &env, &pl, err, sizeof err)) {
        fprintf(stderr, "setup: %s\n", err);
        return 1;
    }
    rx_scratch *rx;
    rx_scratch_create(&rx);
    wk_job j = {.in = in, .out = out, .key = key, .tenant = "bench", .dataset = "ds", .format = fm, .pl = pl,
                .env = &env, .out_codec = BF_CODEC_ZSTD, .out_level = 1, .max_line = 1 << 20, .tmp_dir = dir, .rx = rx};
    wk_stats st;
    double c0 = cpu_now(), w0 = wall_now();
    int rc = wk_process(&j, &st);
    double cpu = cpu_now() - c0, wall = wall_now() - w0;
    if (rc || st.out != lines) {
        fprintf(stderr, "run failed rc=%d out=%llu lines=%llu err=%s\n", rc, (unsigned long long)st.out,
                (unsigned long long)lines, st.err);
        return 1;
    }
    printf("%llu %.3f %.3f\n", (unsigned long long)st.out, cpu, wall);
    rx_scratch_free(rx);
    pipeline_unref(pl);
    fmt_free(fm);
    json_decref(spec);
    geoip_mgr_destroy(g);
    bf_store_close(in);
    bf_store_close(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "gen-ndjson"))
        return gen(argv[2], atol(argv[3]), 0);
    if (argc == 4 && !strcmp(argv[1], "gen-syslog"))
        return gen(argv[2], atol(argv[3]), 1);
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "run"))
        return run(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    fprintf(stderr, "usage: see the header of test/bench/bench_piper_throughput.c\n");
    return 2;
}
