/* Syslog traffic generator and delivery counter for the ingest benchmark (test/bench/ingest.sh).
 *
 *   bench_proxy_udpgen send [options]     send numbered syslog messages to 127.0.0.1
 *     -t udp|tcp|tcp-octet  transport (default udp); tcp = LF framing, tcp-octet = RFC 6587 octet counting
 *     -f 3164|5424          message format (default 3164)
 *     -s BYTES              size of each syslog message, framing excluded (default 300)
 *     -n COUNT              messages to send (default 100000)
 *     -d SECONDS            stop after this long even if COUNT is not reached (default: no limit)
 *     -r RATE|max           offered messages per second (token bucket), or max (default max)
 *     -b BATCH              messages per sendmmsg / write (default 64 for udp, 256 for tcp)
 *     -c CPU                pin to this CPU with sched_setaffinity, -1 = do not pin (default 1)
 *     -p PORT               destination port on 127.0.0.1 (required)
 *     -S SEQ                first sequence number (default 0)
 *   prints: sent=N errors=E secs=T rate=R (achieved msgs/s)
 *
 *   bench_proxy_udpgen count -S SEQ -n COUNT < lines
 *     counts lines carrying "seq=<10 digits>" with SEQ <= seq < SEQ+COUNT, once each
 *   prints: lines=L distinct=D dups=U outside=O noseq=X
 *
 * Why its own sender: syslog-ng's loggen cannot offer UDP fast enough to find rsyslog's limit on a
 * 2-core machine. Messages are built once; only the 10 sequence digits change per message, and UDP
 * goes out in sendmmsg batches on a connected socket, so nearly all the sender's CPU is the kernel's.
 * Self-contained (libc only) so ingest.sh can also compile it with plain cc when make cannot. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SEQ_DIGITS 10
#define MAX_BATCH 1024
#define MAX_UDP_MSG 65000

enum transport { T_UDP, T_TCP_LF, T_TCP_OCTET };

typedef struct gen_opts {
    enum transport transport;
    int rfc5424;
    size_t size;
    uint64_t count;
    double max_secs; /* 0 = no limit */
    double rate;     /* 0 = max */
    int batch;
    int cpu;
    int port;
    uint64_t seq0;
} gen_opts;

typedef struct gen_stats {
    uint64_t sent, errors;
    double secs;
} gen_stats;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_seq(char *p, uint64_t seq)
{
    for (int i = SEQ_DIGITS - 1; i >= 0; i--) {
        p[i] = (char)('0' + seq % 10);
        seq /= 10;
    }
}

/* Writes the message header up to "seq=" into msg and returns its length, or -1 when o->size cannot hold
 * the header, the sequence digits and a little text. */
static long build_header(const gen_opts *o, char *msg)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[64];
    int n;
    if (o->rfc5424) {
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        n = snprintf(msg, 128, "<134>1 %s benchhost bench 4242 ID47 - seq=", ts);
    } else {
        strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
        n = snprintf(msg, 128, "<134>%s benchhost bench[4242]: seq=", ts);
    }
    if (n < 0 || (size_t)n + SEQ_DIGITS + 8 > o->size) return -1;
    return n;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17; /* xorshift64 */
    return *s;
}

/* Fills p[0..n) with log-like text (words, key=value pairs, numbers) so that batches compress like real
 * logs (5-10x), not like one repeated message (>100x, which receivers rightly treat as a zip bomb). */
static void fill_text(char *p, size_t n, uint64_t *rng)
{
    static const char *words[] = {"user", "login", "failed", "accepted", "session", "opened", "closed", "for",
        "from", "port", "ssh2", "connection", "reset", "by", "peer", "request", "GET", "POST", "/api/v1/items",
        "/login", "status", "bytes", "duration", "ms", "error", "warning", "kernel", "eth0", "link", "up",
        "timeout", "retry", "cache", "miss", "hit", "backend", "upstream", "client", "server", "denied"};
    static const char *keys[] = {"src", "dst", "id", "pid", "uid", "len", "ttl", "code"};
    size_t i = 0;
    char tmp[48];
    while (i < n) {
        uint64_t r = rng_next(rng);
        int len;
        if (r % 4 == 0)
            len = snprintf(tmp, sizeof tmp, " %s=%u", keys[(r >> 8) % 8], (unsigned)(r >> 16) % 100000);
        else if (r % 4 == 1)
            len = snprintf(tmp, sizeof tmp, " 10.%u.%u.%u", (unsigned)(r >> 8) % 256, (unsigned)(r >> 16) % 256,
                           (unsigned)(r >> 24) % 256);
        else
            len = snprintf(tmp, sizeof tmp, " %s", words[(r >> 8) % (sizeof words / sizeof words[0])]);
        for (int j = 0; j < len && i < n; j++) p[i++] = tmp[j];
    }
}

/* The message pool: `pool_n` framed messages laid out back to back, each `flen` bytes, with the
 * sequence digits of message i at pool + i*flen + seq_off. A batch is a contiguous slice of it. */
typedef struct pool {
    char *buf;
    size_t n, flen, seq_off;
} pool;

static int pool_build(const gen_opts *o, pool *pl)
{
    char prefix[32] = "";
    int plen = o->transport == T_TCP_OCTET ? snprintf(prefix, sizeof prefix, "%zu ", o->size) : 0;
    char head[160];
    long hlen = build_header(o, head);
    if (hlen < 0) return -EINVAL;
    pl->flen = (size_t)plen + o->size + (o->transport == T_TCP_LF ? 1 : 0);
    /* ~4096 distinct messages, at most ~16 MiB, a whole number of batches */
    size_t want = (16u << 20) / pl->flen;
    if (want > 4096) want = 4096;
    if (want < (size_t)o->batch) want = (size_t)o->batch;
    pl->n = (want / (size_t)o->batch) * (size_t)o->batch;
    pl->seq_off = (size_t)plen + (size_t)hlen;
    pl->buf = malloc(pl->n * pl->flen);
    if (!pl->buf) return -ENOMEM;
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < pl->n; i++) {
        char *p = pl->buf + i * pl->flen;
        memcpy(p, prefix, (size_t)plen);
        memcpy(p + plen, head, (size_t)hlen);
        memset(p + pl->seq_off, '0', SEQ_DIGITS);
        size_t used = (size_t)hlen + SEQ_DIGITS;
        fill_text(p + plen + used, o->size - used, &rng);
        if (o->transport == T_TCP_LF) p[plen + o->size] = '\n';
    }
    return 0;
}

/* Token bucket: blocks until k tokens are available (rate > 0). The bucket holds 5 ms of traffic (at
 * least two batches): enough that a late wake-up on a busy machine does not lower the offered rate,
 * small enough (1500 datagrams at 300k/s) that catching up stays far below a receive buffer. */
typedef struct bucket {
    double rate, tokens, burst, last;
} bucket;

static bucket bucket_init(const gen_opts *o)
{
    double burst = o->rate * 0.005;
    if (burst < 2.0 * o->batch) burst = 2.0 * o->batch;
    return (bucket){o->rate, o->batch, burst, now_s()};
}

static void bucket_take(bucket *b, int k)
{
    if (b->rate <= 0) return;
    for (;;) {
        double t = now_s();
        b->tokens += (t - b->last) * b->rate;
        if (b->tokens > b->burst) b->tokens = b->burst;
        b->last = t;
        if (b->tokens >= k) {
            b->tokens -= k;
            return;
        }
        double wait = (k - b->tokens) / b->rate;
        if (wait > 30e-6) {
            struct timespec ts = {0, (long)(wait * 1e9 * 0.9)};
            nanosleep(&ts, NULL);
        }
    }
}

static int pin_cpu(int cpu)
{
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set)) {
        fprintf(stderr, "udpgen: sched_setaffinity(cpu %d): %s\n", cpu, strerror(errno));
        return -errno;
    }
    return 0;
}

static int connect_to(const gen_opts *o)
{
    int fd = socket(AF_INET, o->transport == T_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, "udpgen: socket: %s\n", strerror(errno));
        return -1;
    }
    int sz = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz); /* best effort; clamped by wmem_max */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        fprintf(stderr, "udpgen: connect 127.0.0.1:%d: %s\n", o->port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int stop_now(const gen_opts *o, double t0, uint64_t sent)
{
    if (sent >= o->count) return 1;
    return o->max_secs > 0 && now_s() - t0 >= o->max_secs;
}

static int send_udp(const gen_opts *o, int fd, const pool *pl, gen_stats *st)
{
    struct mmsghdr *msgs = calloc(pl->n, sizeof *msgs);
    struct iovec *iov = calloc(pl->n, sizeof *iov);
    if (!msgs || !iov) {
        free(msgs), free(iov);
        fprintf(stderr, "udpgen: out of memory\n");
        return -ENOMEM;
    }
    for (size_t i = 0; i < pl->n; i++) {
        iov[i].iov_base = pl->buf + i * pl->flen;
        iov[i].iov_len = o->size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    bucket b = bucket_init(o);
    double t0 = now_s();
    uint64_t seq = o->seq0;
    size_t idx = 0;
    int refused = 0, rc = 0;
    while (!stop_now(o, t0, st->sent)) {
        uint64_t left = o->count - st->sent;
        int k = left < (uint64_t)o->batch ? (int)left : o->batch;
        bucket_take(&b, k);
        for (int i = 0; i < k; i++) put_seq(pl->buf + (idx + (size_t)i) * pl->flen + pl->seq_off, seq + (uint64_t)i);
        int done = 0;
        while (done < k) {
            int r = sendmmsg(fd, msgs + idx + done, (unsigned)(k - done), 0);
            if (r > 0) {
                done += r;
                continue;
            }
            if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)) continue;
            /* ECONNREFUSED reports an ICMP port-unreachable for an earlier datagram; that one is lost */
            st->errors++;
            if (r < 0 && errno == ECONNREFUSED && ++refused < 1000) continue;
            fprintf(stderr, "udpgen: sendmmsg: %s\n", r < 0 ? strerror(errno) : "sent nothing");
            rc = -EIO;
            goto out;
        }
        st->sent += (uint64_t)k;
        seq += (uint64_t)k;
        idx = (idx + (size_t)k) % pl->n;
    }
out:
    st->secs = now_s() - t0;
    free(msgs), free(iov);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* TCP: blocking writes of contiguous pool slices, so the daemon's reading speed sets the pace. */
static int send_tcp(const gen_opts *o, int fd, const pool *pl, gen_stats *st)
{
    bucket b = bucket_init(o);
    double t0 = now_s();
    uint64_t seq = o->seq0;
    size_t idx = 0;
    while (!stop_now(o, t0, st->sent)) {
        uint64_t left = o->count - st->sent;
        int k = left < (uint64_t)o->batch ? (int)left : o->batch;
        bucket_take(&b, k);
        char *p = pl->buf + idx * pl->flen;
        for (int i = 0; i < k; i++) put_seq(p + (size_t)i * pl->flen + pl->seq_off, seq + (uint64_t)i);
        int rc = write_all(fd, p, (size_t)k * pl->flen);
        if (rc) {
            fprintf(stderr, "udpgen: write: %s\n", strerror(-rc));
            st->errors++;
            st->secs = now_s() - t0;
            return rc;
        }
        st->sent += (uint64_t)k;
        seq += (uint64_t)k;
        idx = (idx + (size_t)k) % pl->n;
    }
    st->secs = now_s() - t0;
    return 0;
}

static int parse_u64(const char *s, uint64_t mn, uint64_t mx, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < mn || v > mx) return -EINVAL;
    *out = v;
    return 0;
}

/* option letter → handler; each returns 0 or -EINVAL */
typedef int (*opt_fn)(gen_opts *o, const char *v);
static int o_t(gen_opts *o, const char *v)
{
    static const struct { const char *name; enum transport t; } tbl[] = {
        {"udp", T_UDP}, {"tcp", T_TCP_LF}, {"tcp-octet", T_TCP_OCTET}};
    for (size_t i = 0; i < sizeof tbl / sizeof tbl[0]; i++)
        if (!strcmp(v, tbl[i].name)) return o->transport = tbl[i].t, 0;
    return -EINVAL;
}
static int o_f(gen_opts *o, const char *v)
{
    if (strcmp(v, "3164") && strcmp(v, "5424")) return -EINVAL;
    o->rfc5424 = !strcmp(v, "5424");
    return 0;
}
static int o_s(gen_opts *o, const char *v)
{
    uint64_t x;
    if (parse_u64(v, 64, MAX_UDP_MSG, &x)) return -EINVAL;
    o->size = (size_t)x;
    return 0;
}
static int o_n(gen_opts *o, const char *v) { return parse_u64(v, 1, UINT64_MAX / 2, &o->count); }
static int o_d(gen_opts *o, const char *v)
{
    char *end;
    o->max_secs = strtod(v, &end);
    return (end == v || *end || o->max_secs <= 0) ? -EINVAL : 0;
}
static int o_r(gen_opts *o, const char *v)
{
    if (!strcmp(v, "max")) return o->rate = 0, 0;
    uint64_t x;
    if (parse_u64(v, 1, 100000000, &x)) return -EINVAL;
    o->rate = (double)x;
    return 0;
}
static int o_b(gen_opts *o, const char *v)
{
    uint64_t x;
    if (parse_u64(v, 1, MAX_BATCH, &x)) return -EINVAL;
    o->batch = (int)x;
    return 0;
}
static int o_c(gen_opts *o, const char *v)
{
    if (!strcmp(v, "-1")) return o->cpu = -1, 0;
    uint64_t x;
    if (parse_u64(v, 0, CPU_SETSIZE - 1, &x)) return -EINVAL;
    o->cpu = (int)x;
    return 0;
}
static int o_p(gen_opts *o, const char *v)
{
    uint64_t x;
    if (parse_u64(v, 1, 65535, &x)) return -EINVAL;
    o->port = (int)x;
    return 0;
}
static int o_S(gen_opts *o, const char *v) { return parse_u64(v, 0, 9999999999ULL, &o->seq0); }

static const struct { char letter; opt_fn fn; } send_opts[] = {
    {'t', o_t}, {'f', o_f}, {'s', o_s}, {'n', o_n}, {'d', o_d}, {'r', o_r},
    {'b', o_b}, {'c', o_c}, {'p', o_p}, {'S', o_S},
};

static int parse_opts(int argc, char **argv, gen_opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        opt_fn fn = NULL;
        if (a[0] == '-' && a[1] && !a[2])
            for (size_t j = 0; j < sizeof send_opts / sizeof send_opts[0]; j++)
                if (send_opts[j].letter == a[1]) fn = send_opts[j].fn;
        if (!fn) {
            fprintf(stderr, "udpgen: unknown option %s\n", a);
            return -EINVAL;
        }
        if (i + 1 >= argc || fn(o, argv[i + 1])) {
            fprintf(stderr, "udpgen: bad value for %s: %s\n", a, i + 1 < argc ? argv[i + 1] : "(missing)");
            return -EINVAL;
        }
        i++;
    }
    if (!o->port) {
        fprintf(stderr, "udpgen: -p PORT is required\n");
        return -EINVAL;
    }
    return 0;
}

static int cmd_send(int argc, char **argv)
{
    gen_opts o = {.transport = T_UDP, .size = 300, .count = 100000, .batch = 0, .cpu = 1};
    if (parse_opts(argc, argv, &o)) return 2;
    if (!o.batch) o.batch = o.transport == T_UDP ? 64 : 256;
    if (o.seq0 + o.count - 1 > 9999999999ULL) {
        fprintf(stderr, "udpgen: sequence numbers would exceed %d digits\n", SEQ_DIGITS);
        return 2;
    }
    pool pl;
    int prc = pool_build(&o, &pl);
    if (prc) {
        fprintf(stderr, prc == -ENOMEM ? "udpgen: out of memory\n"
                                       : "udpgen: -s %zu is too small for the syslog header and sequence number\n",
                o.size);
        return 2;
    }
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* precise pacing sleeps */
    int fd = pin_cpu(o.cpu) ? -1 : connect_to(&o);
    if (fd < 0) {
        free(pl.buf);
        return 1;
    }
    gen_stats st = {0};
    int rc = o.transport == T_UDP ? send_udp(&o, fd, &pl, &st) : send_tcp(&o, fd, &pl, &st);
    close(fd);
    free(pl.buf);
    printf("sent=%llu errors=%llu secs=%.3f rate=%.0f\n", (unsigned long long)st.sent,
           (unsigned long long)st.errors, st.secs, st.secs > 0 ? (double)st.sent / st.secs : 0.0);
    return rc ? 1 : 0;
}

/* Finds "seq=" followed by exactly SEQ_DIGITS digits; returns 0 and the value, or -1. */
static int find_seq(const char *line, size_t len, uint64_t *out)
{
    const char *p = line, *end = line + len;
    while ((p = memmem(p, (size_t)(end - p), "seq=", 4))) {
        p += 4;
        if (end - p < SEQ_DIGITS) return -1;
        uint64_t v = 0;
        int i;
        for (i = 0; i < SEQ_DIGITS && p[i] >= '0' && p[i] <= '9'; i++) v = v * 10 + (uint64_t)(p[i] - '0');
        if (i == SEQ_DIGITS) return *out = v, 0;
    }
    return -1;
}

static int cmd_count(int argc, char **argv)
{
    gen_opts o = {.count = 0};
    for (int i = 0; i + 1 < argc; i += 2) {
        int bad = 1;
        if (!strcmp(argv[i], "-S")) bad = o_S(&o, argv[i + 1]);
        else if (!strcmp(argv[i], "-n")) bad = parse_u64(argv[i + 1], 1, 1ULL << 34, &o.count);
        if (bad) {
            fprintf(stderr, "udpgen count: bad option %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
    }
    if (!o.count || argc % 2) {
        fprintf(stderr, "usage: bench_proxy_udpgen count -S SEQ -n COUNT < lines\n");
        return 2;
    }
    uint8_t *seen = calloc((size_t)(o.count + 7) / 8, 1);
    if (!seen) {
        fprintf(stderr, "udpgen count: out of memory\n");
        return 1;
    }
    uint64_t lines = 0, distinct = 0, dups = 0, outside = 0, noseq = 0, v;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lines++;
        if (find_seq(line, (size_t)n, &v)) {
            noseq++;
        } else if (v < o.seq0 || v - o.seq0 >= o.count) {
            outside++;
        } else {
            uint64_t i = v - o.seq0;
            if (seen[i / 8] & (1u << (i % 8))) {
                dups++;
            } else {
                seen[i / 8] |= (uint8_t)(1u << (i % 8));
                distinct++;
            }
        }
    }
    free(line);
    free(seen);
    printf("lines=%llu distinct=%llu dups=%llu outside=%llu noseq=%llu\n", (unsigned long long)lines,
           (unsigned long long)distinct, (unsigned long long)dups, (unsigned long long)outside,
           (unsigned long long)noseq);
    return ferror(stdin) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "send")) return cmd_send(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "count")) return cmd_count(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench_proxy_udpgen send -p PORT [-t udp|tcp|tcp-octet] [-f 3164|5424] [-s BYTES]\n"
                    "         [-n COUNT] [-d SECS] [-r RATE|max] [-b BATCH] [-c CPU] [-S SEQ]\n"
                    "       bench_proxy_udpgen count -S SEQ -n COUNT < lines\n");
    return 2;
}
