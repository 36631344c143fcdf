/* proxy source objects (defaults, types, transports, errors), the config schema's cross-key checks, the
 * input registry table, and /proc/net/udp drop parsing for health. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bf_config.h"
#include "../../proxy/config.h"
#include "../../proxy/health.h"
#include "../../proxy/inputs.h"
#include "../../proxy/source.h"

static int parse(const char *json, proxy_source *s, char *err)
{
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    int rc = source_parse(o, s, err, 300);
    json_decref(o);
    return rc;
}

static void test_defaults(void **st)
{
    (void)st;
    proxy_source s;
    char err[300];
    assert_int_equal(parse("{\"type\":\"syslog\",\"port\":5514}", &s, err), 0);
    assert_string_equal(s.transport, "udp");
    assert_string_equal(s.host, "0.0.0.0");
    assert_int_equal(s.workers, 1);
    assert_int_equal(s.format, RECORD_AUTO);
    source_free(&s);
    assert_int_equal(parse("{\"type\":\"http\",\"port\":\"8080\",\"token\":\"abc\",\"data_format\":\"text\"}", &s, err), 0);
    assert_string_equal(s.transport, "tcp");
    assert_string_equal(s.path, "/webhook");
    assert_string_equal(s.token, "abc");
    assert_int_equal(s.port, 8080);
    assert_int_equal(s.format, RECORD_TEXT);
    source_free(&s);
    assert_int_equal(parse("{\"type\":\"udp\",\"port\":9,\"workers\":4,\"rcvbuf\":\"16MiB\"}", &s, err), 0);
    assert_int_equal(s.workers, 4);
    assert_int_equal(s.rcvbuf, 16 << 20);
    source_free(&s);
}

/* sources mapped from the control service carry the original plugin keys (source.custom) */
static void test_control_keys(void **st)
{
    (void)st;
    proxy_source s;
    char err[300];
    assert_int_equal(parse("{\"type\":\"syslog\",\"port\":5514.0,\"host\":\"0.0.0.0\",\"syslog_mode\":\"auto\","
                           "\"read_buffer_size\":1048576,\"worker_count\":2,\"data_hint\":\"syslog\","
                           "\"tenant_id\":\"t\",\"dataset_id\":\"d\"}", &s, err), 0);
    assert_int_equal(s.port, 5514);
    assert_int_equal(s.rcvbuf, 1048576);
    assert_int_equal(s.workers, 2);
    source_free(&s);
    assert_int_equal(parse("{\"type\":\"udp\",\"port\":5514.5}", &s, err), -EINVAL);
}

static void test_errors(void **st)
{
    (void)st;
    proxy_source s;
    char err[300];
    assert_int_equal(parse("{\"type\":\"kafka\",\"port\":1}", &s, err), -EINVAL);
    assert_non_null(strstr(err, "unknown input type"));
    assert_int_equal(parse("{\"type\":\"udp\",\"port\":70000}", &s, err), -EINVAL);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(parse("{\"type\":\"udp\"}", &s, err), -EINVAL);
    assert_int_equal(parse("{\"type\":\"udp\",\"port\":1,\"prot\":1}", &s, err), -EINVAL);
    assert_non_null(strstr(err, "unknown key \"prot\""));
    assert_int_equal(parse("{\"type\":\"netflow\",\"port\":1,\"transport\":\"tcp\"}", &s, err), -EINVAL);
    assert_int_equal(parse("{\"type\":\"syslog\",\"port\":1,\"transport\":\"sctp\"}", &s, err), -EINVAL);
    assert_int_equal(parse("{\"type\":\"http\",\"port\":1,\"path\":\"nope\"}", &s, err), -EINVAL);
    assert_int_equal(parse("{\"type\":\"udp\",\"port\":1,\"data_format\":\"xml\"}", &s, err), -EINVAL);
    assert_int_equal(parse("{\"type\":\"udp\",\"port\":1,\"workers\":0}", &s, err), -EINVAL);
    assert_int_equal(parse("{\"type\":\"tcp\",\"port\":1,\"tls_cert\":\"/c.pem\"}", &s, err), -EINVAL);
    assert_non_null(strstr(err, "together"));
    assert_int_equal(parse("{\"type\":\"syslog\",\"port\":1,\"tls_cert\":\"/c\",\"tls_key\":\"/k\"}", &s, err), -EINVAL);
    assert_non_null(strstr(err, "TLS"));   /* syslog defaults to udp: no TLS there */
    assert_int_equal(parse("{\"type\":\"syslog\",\"transport\":\"tcp\",\"port\":1,\"tls_cert\":\"/c\",\"tls_key\":\"/k\"}",
                           &s, err), 0);
    assert_string_equal(s.tls_key, "/k");
    source_free(&s);
}

static void test_registry_table(void **st)
{
    (void)st;
    static const char *pairs[][2] = {{"syslog", "udp"}, {"syslog", "tcp"}, {"udp", "udp"}, {"tcp", "tcp"},
                                     {"http", "tcp"},   {"netflow", "udp"}, {"ipfix", "udp"}, {"sflow", "udp"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const input_kind *k = input_kind_find(pairs[i][0], pairs[i][1]);
        assert_non_null(k);
        assert_non_null(k->ops);
        assert_non_null(k->make);
    }
    assert_null(input_kind_find("udp", "tcp"));
    assert_int_equal(input_kind_find("udp", "udp")->force_lf, 1);
    assert_int_equal(input_kind_find("syslog", "tcp")->force_lf, 0);
}

static void test_config(void **st)
{
    (void)st;
    proxy_config c;
    char err[BF_CFG_ERRLEN];
    memset(&c, 0, sizeof c);
    const char *y = "receiver: {url: \"http://127.0.0.1:1\"}\nspool: {dir: /tmp/x, max_bytes: 64MiB}\n"
                    "batch: {max_age: 250ms, codec: gzip}\n";
    assert_int_equal(bf_config_load_text(&proxy_schema, &c, "t.yaml", y, strlen(y), err, sizeof err), 0);
    assert_int_equal(proxy_config_validate(&c, err, sizeof err), 0);
    assert_int_equal(c.batch_max_age_ms, 250);
    assert_int_equal(c.batch_max_bytes, 8 << 20);
    assert_int_equal(c.receiver_concurrency, 4);
    assert_string_equal(c.batch_codec, "gzip");
    assert_string_equal(c.common.admin_listen, "0.0.0.0:8008");
    bf_config_free(&proxy_schema, &c);
    memset(&c, 0, sizeof c);
    const char *bad = "receiver: {url: \"ftp://x\"}\n";
    assert_int_equal(bf_config_load_text(&proxy_schema, &c, "t.yaml", bad, strlen(bad), err, sizeof err), 0);
    assert_int_equal(proxy_config_validate(&c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "receiver.url"));
    bf_config_free(&proxy_schema, &c);
    memset(&c, 0, sizeof c);
    /* zstd's fast levels are allowed; gzip has none */
    const char *lv[] = {"batch: {codec: zstd, level: -5}\n", "batch: {codec: gzip, level: -5}\n"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bf_config_load_text(&proxy_schema, &c, "t.yaml", lv[i], strlen(lv[i]), err, sizeof err), 0);
        assert_int_equal(proxy_config_validate(&c, err, sizeof err), i ? -EINVAL : 0);
        if (i) assert_non_null(strstr(err, "batch.level"));
        bf_config_free(&proxy_schema, &c);
        memset(&c, 0, sizeof c);
    }
    const char *unknown = "batch: {max_agee: 1s}\n";
    assert_int_equal(bf_config_load_text(&proxy_schema, &c, "t.yaml", unknown, strlen(unknown), err, sizeof err), -EINVAL);
    bf_config_free(&proxy_schema, &c);
}

static void test_udp_drops(void **st)
{
    (void)st;
    const char *text =
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
        "  100: 0100007F:14B9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123 2 0000000000000000 17\n"
        "  101: 0100007F:14B9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 124 2 0000000000000000 3\n"
        "  102: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 125 2 0000000000000000 99\n";
    assert_int_equal(health_parse_udp_drops(text, 5305), 20);
    assert_int_equal(health_parse_udp_drops(text, 53), 99);
    assert_int_equal(health_parse_udp_drops(text, 1), 0);
    const char *v6 = "  sl  local_address                         remote_address ...\n"
                     "   5: 00000000000000000000000001000000:14B9 00000000000000000000000000000000:0000 07 "
                     "00000000:00000000 00:00000000 00000000     0        0 126 2 0000000000000000 5\n";
    assert_int_equal(health_parse_udp_drops(v6, 5305), 5);
    assert_int_equal(health_parse_udp_drops("", 5305), 0);
}

/* UDP receive coalescing: the nap never lets the queue pass a quarter of the receive buffer at the rate
 * just observed, and is off for a lone datagram, a full vector, or when configured 0. */
static void test_udp_coalesce_nap(void **st)
{
    (void)st;
    const int64_t MiB16 = 16 << 20;
    assert_int_equal(udp_coalesce_nap_ns(1000, MiB16, 300, 1, 64, 10000), 0);            /* a lone datagram */
    assert_int_equal(udp_coalesce_nap_ns(1000, MiB16, 64 * 300, 64, 64, 100000), 0);    /* vector full */
    assert_int_equal(udp_coalesce_nap_ns(0, MiB16, 20 * 300, 20, 64, 192000), 0);       /* off */
    assert_int_equal(udp_coalesce_nap_ns(1000, MiB16, 20 * 300, 20, 64, 0), 0);         /* no interval yet */
    /* 104k/s into a 16 MiB buffer: the configured 1 ms */
    assert_int_equal(udp_coalesce_nap_ns(1000, MiB16, 20 * 300, 20, 64, 192000), 1000000);
    /* 500k/s into the default 208 KiB buffer: a quarter (32 datagrams at 1624 bytes) fills in 64 us */
    assert_int_equal(udp_coalesce_nap_ns(1000, 212992, 50 * 300, 50, 64, 100000), 64000);
    /* faster still: under 10 us is not worth a sleep */
    assert_int_equal(udp_coalesce_nap_ns(1000, 212992, 60 * 300, 60, 64, 10000), 0);
    /* any rate, size, buffer: what arrives during the nap, charged as the kernel does (length + 1 KiB,
     * measured), stays within a quarter of the buffer, and the nap within the configured maximum */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int n = 2 + (int)(x % 1000), vlen = 1024;
        uint64_t len = 1 + (x >> 12) % 9000;
        int64_t rcvbuf = 4608 + (int64_t)((x >> 24) % (64u << 20));
        int64_t gap = 1 + (int64_t)((x >> 40) % 50000000);
        int64_t nap = udp_coalesce_nap_ns(2000, rcvbuf, len * (uint64_t)n, n, vlen, gap);
        assert_true(nap >= 0 && nap <= 2000000);
        double arrivals = (double)nap * n / (double)gap;
        assert_true(arrivals * (double)(len + 1024) <= (double)rcvbuf / 4 + 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_errors), cmocka_unit_test(test_control_keys), cmocka_unit_test(test_registry_table),
        cmocka_unit_test(test_config), cmocka_unit_test(test_udp_drops), cmocka_unit_test(test_udp_coalesce_nap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
