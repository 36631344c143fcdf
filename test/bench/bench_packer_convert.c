/* bench_packer_convert: NDJSON -> Parquet with the packer's converter, timed.
 *   bench_packer_convert gen BYTES OUT.ndjson [seed]      synthetic log records (syslog/netflow-like)
 *   bench_packer_convert conv IN.ndjson OUTDIR [codec] [max_memory_MiB]
 * conv prints: rows, input bytes, output bytes, seconds (CPU and wall), MB/s, peak RSS. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../packer/convert.h"

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *HOSTS[] = { "edge-fw-01", "edge-fw-02", "core-sw-1", "web-7", "db-primary", "k8s-node-12" };
static const char *APPS[] = { "sshd", "nginx", "kernel", "cron", "postfix", "dockerd", "systemd" };
static const char *WORDS[] = { "connection", "accepted", "refused", "from", "user", "session", "opened",
                               "closed", "timeout", "GET", "POST", "/api/v1/items", "200", "404", "bytes",
                               "error", "warning", "disk", "usage", "high", "for", "port", "ssh2", "invalid" };

static int gen(int64_t bytes, const char *out, uint64_t seed)
{
    FILE *f = fopen(out, "w");
    if (!f)
        return 1;
    uint64_t s = seed | 1;
    int64_t t = 1764237600000;   /* 2025-11-27T10:00:00Z */
    int64_t done = 0;
    char msg[512], line[1024];
    while (done < bytes) {
        t += (int64_t)(rng(&s) % 20);
        size_t m = 0;
        int nw = 4 + (int)(rng(&s) % 12);
        for (int i = 0; i < nw; i++)
            m += (size_t)snprintf(msg + m, sizeof(msg) - m, "%s%s", i ? " " : "", WORDS[rng(&s) % 24]);
        int64_t sec = t / 1000;
        struct tm tm;
        time_t tt = (time_t)sec;
        gmtime_r(&tt, &tm);
        char ts[40];
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        int n;
        if (rng(&s) % 10 < 8) {
            n = snprintf(line, sizeof(line),
                         "{\"BfTs\":%" PRId64 ",\"timestamp\":\"%s.%03dZ\",\"source_ip\":\"10.%d.%d.%d\",\"rfc\":\"3164\","
                         "\"priority\":%d,\"facility\":%d,\"severity\":%d,\"hostname\":\"%s\",\"app_name\":\"%s\","
                         "\"proc_id\":\"%d\",\"message\":\"%s\"}\n",
                         t, ts, (int)(t % 1000), (int)(rng(&s) % 4), (int)(rng(&s) % 256), (int)(rng(&s) % 256),
                         (int)(rng(&s) % 192), (int)(rng(&s) % 24), (int)(rng(&s) % 8), HOSTS[rng(&s) % 6],
                         APPS[rng(&s) % 7], (int)(rng(&s) % 65536), msg);
        } else {
            n = snprintf(line, sizeof(line),
                         "{\"BfTs\":%" PRId64 ",\"src_addr\":\"192.168.%d.%d\",\"dst_addr\":\"10.0.%d.%d\",\"src_port\":%d,"
                         "\"dst_port\":%d,\"proto\":%d,\"bytes\":%" PRIu64 ",\"packets\":%d,\"duration\":%.3f,"
                         "\"tcp_flags\":[\"SYN\",\"ACK\"],\"meta\":{\"exporter\":\"%s\",\"seq\":%d}}\n",
                         t, (int)(rng(&s) % 256), (int)(rng(&s) % 256), (int)(rng(&s) % 16), (int)(rng(&s) % 256),
                         (int)(1024 + rng(&s) % 60000), (int)(rng(&s) % 4 ? 443 : 53), (int)(rng(&s) % 2 ? 6 : 17),
                         rng(&s) % 1000000, (int)(rng(&s) % 1000), (double)(rng(&s) % 100000) / 1000.0,
                         HOSTS[rng(&s) % 6], (int)(rng(&s) % 100000));
        }
        fwrite(line, 1, (size_t)n, f);
        done += n;
    }
    return fclose(f) ? 1 : 0;
}

typedef struct res { uint64_t rows, bytes; unsigned files; } res;

static int on_part(void *ud, const pk_part_out *p)
{
    res *r = ud;
    r->rows += p->rows;
    r->bytes += p->bytes;
    r->files++;
    const char *dir = getenv("BENCH_KEEP");
    if (dir) {
        char dst[4096];
        snprintf(dst, sizeof(dst), "%s/part-%u.parquet", dir, r->files);
        if (rename(p->path, dst) < 0)
            return -errno;
    }
    return 0;
}

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int conv(const char *in, const char *dir, const char *codec, int64_t maxmem_mib)
{
    pk_conv_opts o = { .spill_dir = dir, .partitioning = PK_PART_NONE };
    if (pq_codec_parse(codec, &o.pq.codec) < 0) {
        fprintf(stderr, "bad codec %s\n", codec);
        return 2;
    }
    /* the daemon's sizing for max_memory (config.c) */
    int64_t maxmem = (maxmem_mib ? maxmem_mib : 1024) * 1048576;
    o.pq.row_group_bytes = maxmem / 4 < (64 << 20) ? maxmem / 4 : (64 << 20);
    o.spill_memory = maxmem / 2 > o.pq.row_group_bytes ? (uint64_t)(maxmem / 2 - o.pq.row_group_bytes) : 0;
    if (getenv("BENCH_LEVEL"))
        o.pq.level = atoi(getenv("BENCH_LEVEL"));
    if (getenv("BENCH_PART"))
        pk_partitioning_parse(getenv("BENCH_PART"), &o.partitioning);
    pk_conv *c;
    if (pk_conv_create(&o, &c) < 0)
        return 1;
    int fd = open(in, O_RDONLY);
    if (fd < 0) {
        perror(in);
        return 1;
    }
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    size_t cap = 4 << 20;
    char *buf = malloc(cap);
    ssize_t k;
    uint64_t in_bytes = 0;
    pk_conv_set_recv_ms(c, 1764237600000);
    int rc = 0;
    while ((k = read(fd, buf, cap)) > 0 && rc == 0) {
        rc = pk_conv_feed(c, buf, (size_t)k);
        in_bytes += (uint64_t)k;
    }
    close(fd);
    free(buf);
    res r = { 0 };
    if (rc == 0)
        rc = pk_conv_finish(c, on_part, &r);
    double w1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    pk_conv_stats st;
    pk_conv_get_stats(c, &st);
    pk_conv_destroy(c);
    if (rc < 0) {
        fprintf(stderr, "convert failed: %s\n", strerror(-rc));
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("rows=%" PRIu64 " files=%u in_bytes=%" PRIu64 " out_bytes=%" PRIu64 " invalid=%" PRIu64
           " wall_s=%.3f cpu_s=%.3f mb_per_cpu_s=%.1f peak_rss_mib=%.1f\n",
           r.rows, r.files, in_bytes, r.bytes, st.invalid, w1 - w0, c1 - c0, in_bytes / 1e6 / (c1 - c0),
           ru.ru_maxrss / 1024.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "gen"))
        return gen(strtoll(argv[2], NULL, 10), argv[3], argc > 4 ? strtoull(argv[4], NULL, 10) : 42);
    if (argc >= 4 && !strcmp(argv[1], "conv"))
        return conv(argv[2], argv[3], argc > 4 ? argv[4] : "zstd", argc > 5 ? strtoll(argv[5], NULL, 10) : 0);
    fprintf(stderr, "usage: %s gen BYTES OUT | conv IN OUTDIR [codec] [max_memory_MiB]\n", argv[0]);
    return 2;
}
