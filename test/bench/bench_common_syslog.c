/* Syslog parser throughput on a realistic mix (RFC 5424 with SD, RFC 3164 variants, Cisco, kv, raw).
 * Peer: the original proxy's approach (a RFC 5424 regex, then a RFC 3164 regex) done in C with PCRE2
 * JIT and the same JSON output (bf_buf_json_str per capture), so the ratio measures the parsing method.
 * Prints BENCH lines; usage: bench_common_syslog [seconds per side, default 2]. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bf_syslog.h"

static const char *const mix[] = {
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An application event log entry...",
    "<13>1 2026-11-27T10:49:42.011614+00:00 vm app - - [timeQuality tzKnown=\"1\" isSynced=\"0\"][origin@32473 ip=\"127.0.0.1\"] hello 5424",
    "<165>1 2026-02-05T17:32:18.123+01:00 srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.36 source-address=\"10.0.0.1\" source-port=\"51234\" destination-address=\"8.8.8.8\" destination-port=\"53\"] session created",
    "<38>Feb  5 17:32:18 host sshd[1234]: Accepted publickey for root from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:abcdefghijklmnop",
    "<78>Feb  5 17:32:01 host CRON[5678]: (root) CMD (run-parts /etc/cron.hourly)",
    "<6>Feb  5 17:32:18 host kernel: [ 1234.567890] eth0: Link is Up - 1Gbps/Full - flow control rx/tx",
    "<30>2026-02-05T17:32:18.123456+01:00 web01 nginx[812]: 10.0.0.1 - - \"GET /index.html HTTP/1.1\" 200 612 \"-\" \"curl/8.0\"",
    "<189>123: *Mar  1 00:00:00.123: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.1)",
    "<166>Feb 05 2026 17:32:18: %ASA-6-302013: Built outbound TCP connection 123 for outside:10.0.0.1/443 (10.0.0.1/443) to inside:192.168.1.5/51234 (203.0.113.5/51234)",
    "<189>date=2026-02-05 time=17:32:18 devname=\"FG100E\" devid=\"FG100E123\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" srcip=10.0.0.1 dstip=8.8.8.8 action=\"accept\"",
    "<13>Feb  5 17:32:18 app[12]: a message without a hostname",
};
#define NMIX (sizeof mix / sizeof mix[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t lens[NMIX];

static double run_ours(double secs, size_t *bytes_out)
{
    bf_buf out;
    bf_buf_init(&out, 0);
    size_t n = 0, bytes = 0;
    double t0 = now(), t;
    do {
        for (int rep = 0; rep < 1000; rep++) {
            for (size_t i = 0; i < NMIX; i++) {
                bf_buf_reset(&out);
                if (bf_syslog_parse(mix[i], lens[i], 1770314400000LL, "192.0.2.1", &out))
                    abort();
                bytes += out.len;
            }
            n += NMIX;
        }
        t = now() - t0;
    } while (t < secs);
    bf_buf_free(&out);
    *bytes_out = bytes;
    return (double)n / t;
}

/* ---- peer: two regexes, then JSON of the captures ---- */
static const char *const re5424 =
    "^<(\\d{1,3})>(\\d{1,2}) (\\S+) (\\S+) (\\S+) (\\S+) (\\S+) (-|(?:\\[(?:[^\\]\"]|\"(?:[^\"\\\\]|\\\\.)*\")*\\])+)(?: (.*))?$";
static const char *const re3164 = "^<(\\d{1,3})>([A-Z][a-z]{2}\\s+\\d{1,2}\\s+\\d{2}:\\d{2}:\\d{2})\\s+(\\S+)\\s+([^:\\[\\s]+)(?:\\[(\\d+)\\])?:\\s*(.*)$";
static const char *const names5424[] = {"priority", "version", "syslog_timestamp", "hostname", "app_name", "proc_id", "msg_id", "structured_data", "message"};
static const char *const names3164[] = {"priority", "syslog_timestamp", "hostname", "app_name", "proc_id", "message"};

static int emit_groups(bf_buf *b, const char *s, PCRE2_SIZE *ov, int rc, const char *const *names, const char *rfc)
{
    /* literal appends, not printf: the peer should not lose on formatting */
    bf_buf_puts(b, "{\"BfTs\":1770314400000,\"timestamp\":\"2026-02-05T18:00:00.000Z\",\"source_ip\":\"192.0.2.1\",\"rfc\":\"");
    bf_buf_puts(b, rfc);
    bf_buf_putc(b, '"');
    for (int g = 1; g < rc; g++) {
        if (ov[2 * g] == PCRE2_UNSET)
            continue;
        bf_buf_puts(b, ",\"");
        bf_buf_puts(b, names[g - 1]);
        bf_buf_puts(b, "\":");
        bf_buf_json_str(b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
    return bf_buf_putc(b, '}');
}

static double run_peer(double secs, size_t *bytes_out)
{
    int err;
    PCRE2_SIZE eoff;
    pcre2_code *r5 = pcre2_compile((PCRE2_SPTR)re5424, PCRE2_ZERO_TERMINATED, 0, &err, &eoff, NULL);
    pcre2_code *r3 = pcre2_compile((PCRE2_SPTR)re3164, PCRE2_ZERO_TERMINATED, 0, &err, &eoff, NULL);
    if (!r5 || !r3)
        abort();
    pcre2_jit_compile(r5, PCRE2_JIT_COMPLETE);
    pcre2_jit_compile(r3, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    bf_buf out;
    bf_buf_init(&out, 0);
    size_t n = 0, bytes = 0;
    double t0 = now(), t;
    do {
        for (int rep = 0; rep < 1000; rep++) {
            for (size_t i = 0; i < NMIX; i++) {
                bf_buf_reset(&out);
                const char *s = mix[i];
                int rc = pcre2_match(r5, (PCRE2_SPTR)s, lens[i], 0, 0, md, NULL);
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                if (rc > 0) {
                    emit_groups(&out, s, ov, rc, names5424, "5424");
                } else if ((rc = pcre2_match(r3, (PCRE2_SPTR)s, lens[i], 0, 0, md, NULL)) > 0) {
                    emit_groups(&out, s, ov, rc, names3164, "3164");
                } else {
                    bf_buf_puts(&out, "{\"rfc\":\"raw\",\"message\":");
                    bf_buf_json_str(&out, s, lens[i]);
                    bf_buf_putc(&out, '}');
                }
                bytes += out.len;
            }
            n += NMIX;
        }
        t = now() - t0;
    } while (t < secs);
    bf_buf_free(&out);
    pcre2_match_data_free(md);
    pcre2_code_free(r5);
    pcre2_code_free(r3);
    *bytes_out = bytes;
    return (double)n / t;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    size_t in_bytes = 0;
    for (size_t i = 0; i < NMIX; i++) {
        lens[i] = strlen(mix[i]);
        in_bytes += lens[i];
    }
    size_t ob, pb;
    /* Interleaved rounds, best of each: the machine is shared, so a single long run mostly measures
     * whoever else is busy at that moment. */
    double ours = 0, peer = 0;
    int only = argc > 2 && !strcmp(argv[2], "ours-only");  /* for profiling */
    for (int round = 0; round < 5; round++) {
        double o = run_ours(secs / 5, &ob);
        if (o > ours)
            ours = o;
        if (only)
            continue;
        double q = run_peer(secs / 5, &pb);
        if (q > peer)
            peer = q;
    }
    if (only) {
        printf("ours %.0f msg/s\n", ours);
        return 0;
    }
    double mbps = ours * ((double)in_bytes / NMIX) / 1e6;
    printf("mix of %zu messages, mean %.0f bytes\n", NMIX, (double)in_bytes / NMIX);
    printf("BENCH|syslog parse, msg/s (1 core, mix)|%.0f|pcre2-jit 5424+3164 regex (original's method)|%.0f|%.2f\n",
           ours, peer, ours / peer);
    printf("BENCH|syslog parse, input MB/s (1 core, mix)|%.1f|-|-|-\n", mbps);
    return 0;
}
