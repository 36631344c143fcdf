/* Flow decoders: datagrams are built byte by byte here (NetFlow v5, v9 template then data, IPFIX
 * template set then data set with enterprise and variable-length fields, sFlow flow + counter samples
 * over IPv4 and IPv6 with VLAN) and the decoded values asserted; malformed and truncated inputs must
 * return -EBADMSG and leave the output untouched. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../proxy/flow.h"

#define RECV 1770314400123LL

/* ---------- datagram builder ---------- */
typedef struct { uint8_t b[4096]; size_t n; } pk;

static void p8(pk *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static void p16(pk *p, unsigned v) { p8(p, v >> 8); p8(p, v & 0xFF); }
static void p32(pk *p, uint32_t v) { p16(p, v >> 16); p16(p, v & 0xFFFF); }
static void p64(pk *p, uint64_t v) { p32(p, (uint32_t)(v >> 32)); p32(p, (uint32_t)v); }
static void pbytes(pk *p, const void *d, size_t n) { memcpy(p->b + p->n, d, n); p->n += n; }
static void pip4(pk *p, const char *s) { uint8_t a[4]; assert_int_equal(inet_pton(AF_INET, s, a), 1); pbytes(p, a, 4); }
static void pip6(pk *p, const char *s) { uint8_t a[16]; assert_int_equal(inet_pton(AF_INET6, s, a), 1); pbytes(p, a, 16); }
static void set16(pk *p, size_t off, unsigned v) { p->b[off] = (uint8_t)(v >> 8); p->b[off + 1] = (uint8_t)v; }
static void set32(pk *p, size_t off, uint32_t v) { set16(p, off, v >> 16); set16(p, off + 2, v & 0xFFFF); }

/* ---------- output helpers ---------- */
static json_t *line(const bf_buf *out, int idx)
{
    const char *s = out->data;
    for (int i = 0; i < idx; i++) {
        s = strchr(s, '\n');
        assert_non_null(s);
        s++;
    }
    const char *e = strchr(s, '\n');
    assert_non_null(e);
    json_error_t err;
    json_t *j = json_loadb(s, (size_t)(e - s), 0, &err);
    if (!j)
        fail_msg("bad JSON line %d: %s", idx, err.text);
    return j;
}

static int count_lines(const bf_buf *out)
{
    int n = 0;
    for (size_t i = 0; i < out->len; i++)
        n += out->data[i] == '\n';
    return n;
}

static void assert_str(json_t *o, const char *k, const char *v)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_string(x) || strcmp(json_string_value(x), v))
        fail_msg("%s: want \"%s\", got %s", k, v, x ? json_dumps(x, JSON_ENCODE_ANY) : "(absent)");
}

static void assert_int(json_t *o, const char *k, long long v)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_integer(x) || json_integer_value(x) != v)
        fail_msg("%s: want %lld, got %s", k, v, x ? json_dumps(x, JSON_ENCODE_ANY) : "(absent)");
}

static void assert_absent(json_t *o, const char *k)
{
    if (json_object_get(o, k))
        fail_msg("%s should be absent", k);
}

/* ---------- NetFlow v5 ---------- */
static void v5_record(pk *p, const char *src, const char *dst, unsigned sport, unsigned dport, unsigned proto,
                      uint32_t pkts, uint32_t bytes, uint32_t first, uint32_t last)
{
    pip4(p, src); pip4(p, dst); pip4(p, "10.0.0.254");
    p16(p, 3); p16(p, 4);            /* input, output */
    p32(p, pkts); p32(p, bytes); p32(p, first); p32(p, last);
    p16(p, sport); p16(p, dport);
    p8(p, 0); p8(p, 0x1B); p8(p, proto); p8(p, 0x10);
    p16(p, 64512); p16(p, 15169);
    p8(p, 24); p8(p, 16); p16(p, 0);
}

static void build_v5(pk *p)
{
    p->n = 0;
    p16(p, 5); p16(p, 2);
    p32(p, 100000);        /* sys uptime ms */
    p32(p, 1770314400);    /* unix secs */
    p32(p, 500000000);     /* nsecs */
    p32(p, 42);            /* flow sequence */
    p8(p, 1); p8(p, 7); p16(p, 0x4000 | 100);  /* engine, sampling mode 1 interval 100 */
    v5_record(p, "192.0.2.1", "198.51.100.2", 51234, 443, 6, 10, 12345, 90000, 99000);
    v5_record(p, "192.0.2.3", "198.51.100.4", 5353, 53, 17, 1, 80, 99999, 99999);
}

static void test_v5(void **st)
{
    (void)st;
    flow_state *s;
    assert_int_equal(flow_state_create(64, &s), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    pk p;
    build_v5(&p);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.2", RECV, &out), 2);
    assert_int_equal(count_lines(&out), 2);
    json_t *r = line(&out, 0);
    assert_int(r, "BfTs", RECV);
    assert_str(r, "timestamp", "2026-02-05T18:00:00.123Z");
    assert_str(r, "source_ip", "127.0.0.2");
    assert_str(r, "flow_type", "netflow_v5");
    assert_str(r, "src_addr", "192.0.2.1");
    assert_str(r, "dst_addr", "198.51.100.2");
    assert_int(r, "src_port", 51234);
    assert_int(r, "dst_port", 443);
    assert_int(r, "protocol", 6);
    assert_int(r, "bytes", 12345);
    assert_int(r, "packets", 10);
    assert_int(r, "tcp_flags", 0x1B);
    assert_int(r, "tos", 0x10);
    assert_int(r, "input_if", 3);
    assert_int(r, "output_if", 4);
    assert_str(r, "next_hop", "10.0.0.254");
    assert_int(r, "src_as", 64512);
    assert_int(r, "dst_as", 15169);
    assert_int(r, "src_mask", 24);
    assert_int(r, "dst_mask", 16);
    assert_int(r, "flow_start_ms", 1770314400500LL - 10000);
    assert_int(r, "flow_end_ms", 1770314400500LL - 1000);
    assert_int(r, "engine_type", 1);
    assert_int(r, "engine_id", 7);
    assert_int(r, "sampling_interval", 100);
    json_decref(r);
    r = line(&out, 1);
    assert_str(r, "src_addr", "192.0.2.3");
    assert_int(r, "protocol", 17);
    assert_int(r, "dst_port", 53);
    assert_int(r, "bytes", 80);
    json_decref(r);

    /* count says 2 records but only one is there */
    size_t before = out.len;
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n - 48, "127.0.0.2", RECV, &out), -EBADMSG);
    assert_int_equal(out.len, before);
    set16(&p, 2, 31);  /* over the v5 maximum of 30 */
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.2", RECV, &out), -EBADMSG);
    set16(&p, 0, 7);   /* unknown version */
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.2", RECV, &out), -EBADMSG);
    assert_int_equal(out.len, before);
    flow_stats fs;
    flow_state_stats(s, &fs, NULL);
    assert_int_equal(fs.datagrams, 1);
    assert_int_equal(fs.records, 2);
    assert_int_equal(fs.bad_datagrams, 3);
    bf_buf_free(&out);
    flow_state_destroy(s);
}

/* ---------- NetFlow v9 ---------- */
static void v9_header(pk *p, uint32_t source_id)
{
    p->n = 0;
    p16(p, 9); p16(p, 0);
    p32(p, 200000);       /* uptime */
    p32(p, 1770314400);   /* unix secs */
    p32(p, 7);            /* sequence */
    p32(p, source_id);
}

/* IPv4 template 256: src(8) dst(12) sport(7) dport(11) proto(4) bytes(1,8B) pkts(2) first(22) last(21) in(10,2B) */
static void v9_template(pk *p)
{
    size_t start = p->n;
    p16(p, 0); p16(p, 0);
    p16(p, 256); p16(p, 10);
    unsigned f[10][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 4}, {22, 4}, {21, 4}, {10, 2}};
    for (int i = 0; i < 10; i++) { p16(p, f[i][0]); p16(p, f[i][1]); }
    /* IPv6 template 257: src6(27) dst6(28) sport dport proto bytes(4B) pkts */
    p16(p, 257); p16(p, 7);
    unsigned g[7][2] = {{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}};
    for (int i = 0; i < 7; i++) { p16(p, g[i][0]); p16(p, g[i][1]); }
    set16(p, start + 2, (unsigned)(p->n - start));
}

static void v9_data(pk *p)
{
    size_t start = p->n;
    p16(p, 256); p16(p, 0);
    pip4(p, "10.1.1.1"); pip4(p, "10.2.2.2"); p16(p, 40000); p16(p, 80); p8(p, 6);
    p64(p, 5000000000ULL); p32(p, 4000); p32(p, 150000); p32(p, 199000); p16(p, 5);
    pip4(p, "10.1.1.3"); pip4(p, "10.2.2.4"); p16(p, 123); p16(p, 123); p8(p, 17);
    p64(p, 76); p32(p, 1); p32(p, 199500); p32(p, 199500); p16(p, 6);
    p8(p, 0); p8(p, 0); p8(p, 0);  /* padding to 4 bytes */
    set16(p, start + 2, (unsigned)(p->n - start));
    start = p->n;
    p16(p, 257); p16(p, 0);
    pip6(p, "2001:db8::1"); pip6(p, "2001:db8::2"); p16(p, 546); p16(p, 547); p8(p, 17); p32(p, 300); p32(p, 3);
    p8(p, 0); p8(p, 0); p8(p, 0);
    set16(p, start + 2, (unsigned)(p->n - start));
}

static void test_v9(void **st)
{
    (void)st;
    flow_state *s;
    assert_int_equal(flow_state_create(64, &s), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    pk p;
    flow_stats fs;

    /* data before template: counted and dropped */
    v9_header(&p, 1);
    v9_data(&p);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), 0);
    assert_int_equal(out.len, 0);
    flow_state_stats(s, &fs, NULL);
    assert_int_equal(fs.no_template, 2);

    /* template then data in one packet */
    v9_header(&p, 1);
    v9_template(&p);
    v9_data(&p);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), 3);
    json_t *r = line(&out, 0);
    assert_str(r, "flow_type", "netflow_v9");
    assert_int(r, "source_id", 1);
    assert_str(r, "src_addr", "10.1.1.1");
    assert_str(r, "dst_addr", "10.2.2.2");
    assert_int(r, "src_port", 40000);
    assert_int(r, "dst_port", 80);
    assert_int(r, "protocol", 6);
    assert_int(r, "bytes", 5000000000LL);
    assert_int(r, "packets", 4000);
    assert_int(r, "input_if", 5);
    assert_int(r, "flow_start_ms", 1770314400000LL - 50000);
    assert_int(r, "flow_end_ms", 1770314400000LL - 1000);
    json_decref(r);
    r = line(&out, 1);
    assert_str(r, "src_addr", "10.1.1.3");
    assert_int(r, "protocol", 17);
    assert_int(r, "bytes", 76);
    json_decref(r);
    r = line(&out, 2);
    assert_str(r, "src_addr", "2001:db8::1");
    assert_str(r, "dst_addr", "2001:db8::2");
    assert_int(r, "src_port", 546);
    assert_int(r, "bytes", 300);
    assert_int(r, "packets", 3);
    json_decref(r);

    /* data only: template cached per (exporter, source id) */
    bf_buf_reset(&out);
    v9_header(&p, 1);
    v9_data(&p);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), 3);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.9", RECV, &out), 0);  /* other exporter */
    v9_header(&p, 2);
    v9_data(&p);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), 0);  /* other source id */
    assert_int_equal(count_lines(&out), 3);
    flow_state_stats(s, &fs, NULL);
    assert_int_equal(fs.no_template, 6);

    /* options template (scope system, option sampling interval) + options data: counted, not emitted */
    v9_header(&p, 1);
    size_t start = p.n;
    p16(&p, 1); p16(&p, 0);
    p16(&p, 300); p16(&p, 4); p16(&p, 4);
    p16(&p, 1); p16(&p, 4);   /* scope: system */
    p16(&p, 34); p16(&p, 4);  /* sampling interval */
    p16(&p, 0);               /* padding */
    set16(&p, start + 2, (unsigned)(p.n - start));
    start = p.n;
    p16(&p, 300); p16(&p, 0);
    p32(&p, 1); p32(&p, 100);
    set16(&p, start + 2, (unsigned)(p.n - start));
    bf_buf_reset(&out);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), 0);
    assert_int_equal(out.len, 0);
    flow_state_stats(s, &fs, NULL);
    assert_int_equal(fs.options_records, 1);
    assert_int_equal(fs.templates_added, 3);

    /* malformed: flowset longer than the datagram, template with zero fields */
    v9_header(&p, 1);
    v9_data(&p);
    set16(&p, 22, 4000);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), -EBADMSG);
    v9_header(&p, 1);
    p16(&p, 0); p16(&p, 8); p16(&p, 260); p16(&p, 0);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.3", RECV, &out), -EBADMSG);
    assert_int_equal(out.len, 0);
    bf_buf_free(&out);
    flow_state_destroy(s);
}

/* ---------- IPFIX ---------- */
static void ipfix_header(pk *p, uint32_t domain)
{
    p->n = 0;
    p16(p, 10); p16(p, 0);
    p32(p, 1770314400); p32(p, 1); p32(p, domain);
}

static void ipfix_finish(pk *p) { set16(p, 2, (unsigned)p->n); }

/* template 400: src4 dst4 sport dport proto octetDelta(8) packetDelta(4) flowStartMs(152) flowEndMs(153)
 * interfaceName(82, varlen) enterprise(pen 9, id 1, 4 bytes) */
static void ipfix_template(pk *p)
{
    size_t start = p->n;
    p16(p, 2); p16(p, 0);
    p16(p, 400); p16(p, 11);
    unsigned f[10][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 4}, {152, 8}, {153, 8}, {82, 0xFFFF}};
    for (int i = 0; i < 10; i++) { p16(p, f[i][0]); p16(p, f[i][1]); }
    p16(p, 0x8000 | 1); p16(p, 4); p32(p, 9);
    set16(p, start + 2, (unsigned)(p->n - start));
}

static void ipfix_data(pk *p)
{
    size_t start = p->n;
    p16(p, 400); p16(p, 0);
    pip4(p, "172.16.0.1"); pip4(p, "172.16.0.2"); p16(p, 1111); p16(p, 22); p8(p, 6);
    p64(p, 987654321); p32(p, 321); p64(p, 1770314399000ULL); p64(p, 1770314399900ULL);
    p8(p, 4); pbytes(p, "eth0", 4); p32(p, 0xDEADBEEF);
    pip4(p, "172.16.0.3"); pip4(p, "172.16.0.4"); p16(p, 2222); p16(p, 53); p8(p, 17);
    p64(p, 99); p32(p, 1); p64(p, 1770314399500ULL); p64(p, 1770314399500ULL);
    char name[300];
    memset(name, 'x', sizeof name);
    p8(p, 255); p16(p, 300); pbytes(p, name, 300);  /* long form of the variable length */
    p32(p, 7);
    p8(p, 0); p8(p, 0);  /* padding shorter than a record */
    set16(p, start + 2, (unsigned)(p->n - start));
}

static void test_ipfix(void **st)
{
    (void)st;
    flow_state *s;
    assert_int_equal(flow_state_create(64, &s), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    pk p;
    flow_stats fs;

    ipfix_header(&p, 77);
    ipfix_data(&p);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 0);
    flow_state_stats(s, &fs, NULL);
    assert_int_equal(fs.no_template, 1);

    ipfix_header(&p, 77);
    ipfix_template(&p);
    ipfix_data(&p);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 2);
    json_t *r = line(&out, 0);
    assert_str(r, "flow_type", "ipfix");
    assert_str(r, "source_ip", "::1");
    assert_int(r, "observation_domain_id", 77);
    assert_str(r, "src_addr", "172.16.0.1");
    assert_str(r, "dst_addr", "172.16.0.2");
    assert_int(r, "src_port", 1111);
    assert_int(r, "dst_port", 22);
    assert_int(r, "protocol", 6);
    assert_int(r, "bytes", 987654321);
    assert_int(r, "packets", 321);
    assert_int(r, "flow_start_ms", 1770314399000LL);
    assert_int(r, "flow_end_ms", 1770314399900LL);
    assert_str(r, "if_name", "eth0");
    assert_int(r, "ie9_1", 0xDEADBEEF);
    json_decref(r);
    r = line(&out, 1);
    assert_str(r, "src_addr", "172.16.0.3");
    assert_int(r, "protocol", 17);
    assert_int(r, "bytes", 99);
    assert_int_equal(strlen(json_string_value(json_object_get(r, "if_name"))), 300);
    assert_int(r, "ie9_1", 7);
    json_decref(r);

    /* options template with systemInitTimeMilliseconds (as softflowd sends), then a template with
     * flowStart/EndSysUpTime: the times become absolute */
    bf_buf_reset(&out);
    ipfix_header(&p, 77);
    size_t st3 = p.n;
    p16(&p, 3); p16(&p, 0);
    p16(&p, 500); p16(&p, 2); p16(&p, 1);
    p16(&p, 143); p16(&p, 4); p16(&p, 160); p16(&p, 8);
    p16(&p, 0);  /* padding */
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    st3 = p.n;
    p16(&p, 2); p16(&p, 0);
    p16(&p, 501); p16(&p, 3); p16(&p, 22); p16(&p, 4); p16(&p, 21); p16(&p, 4); p16(&p, 2); p16(&p, 4);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    st3 = p.n;
    /* booted 60 days before the export time (1770314400 s): the 32-bit uptime has wrapped once */
    const uint64_t boot = 1770314400000ULL - 60ULL * 86400000ULL;
    p16(&p, 500); p16(&p, 0); p32(&p, 1); p64(&p, boot);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    st3 = p.n;
    uint64_t up_start = 60ULL * 86400000ULL - 600000, up_end = 60ULL * 86400000ULL - 1000;  /* 10 min / 1 s ago */
    p16(&p, 501); p16(&p, 0); p32(&p, (uint32_t)up_start); p32(&p, (uint32_t)up_end); p32(&p, 9);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 1);
    r = line(&out, 0);
    assert_int(r, "flow_start_ms", 1770314400000LL - 600000);
    assert_int(r, "flow_end_ms", 1770314400000LL - 1000);
    assert_int(r, "packets", 9);
    json_decref(r);
    /* a garbage systemInitTimeMilliseconds (any 64-bit value on the wire) is passed on, saturated, with
     * no wrap arithmetic: INT64_MAX + uptime overflowed before (found by fuzz_proxy_flow under UBSan) */
    static const struct { uint64_t boot; int64_t start; } garbage[] = {
        {0x7FFFFFFFFFFFFFFFULL, INT64_MAX}, {1ULL << 60, (1LL << 60) + 5000},
        {0xFFFFFFFFFFFFFFFFULL, (1LL << 60) + 5000},   /* beyond int64: ignored, the last init stays */
    };
    for (size_t g = 0; g < sizeof garbage / sizeof *garbage; g++) {
        bf_buf_reset(&out);
        ipfix_header(&p, 77);
        st3 = p.n;
        p16(&p, 500); p16(&p, 0); p32(&p, 1); p64(&p, garbage[g].boot);
        set16(&p, st3 + 2, (unsigned)(p.n - st3));
        st3 = p.n;
        p16(&p, 501); p16(&p, 0); p32(&p, 5000); p32(&p, 6000); p32(&p, 1);
        set16(&p, st3 + 2, (unsigned)(p.n - st3));
        ipfix_finish(&p);
        assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 1);
        r = line(&out, 0);
        assert_int(r, "flow_start_ms", garbage[g].start);
        json_decref(r);
    }
    flow_state_stats(s, &fs, NULL);
    assert_int_equal(fs.options_records, 4);   /* the one above and the three garbage ones */
    /* RFC 5103 reverse octets (enterprise 29305, IE 1) */
    bf_buf_reset(&out);
    ipfix_header(&p, 79);
    st3 = p.n;
    p16(&p, 2); p16(&p, 0);
    p16(&p, 600); p16(&p, 2); p16(&p, 1); p16(&p, 4); p16(&p, 0x8000 | 1); p16(&p, 4); p32(&p, 29305);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    st3 = p.n;
    p16(&p, 600); p16(&p, 0); p32(&p, 1500); p32(&p, 700);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 1);
    r = line(&out, 0);
    assert_int(r, "bytes", 1500);
    assert_int(r, "reverse_bytes", 700);
    json_decref(r);
    /* without the boot time (another domain), the raw uptimes are kept under their own names */
    bf_buf_reset(&out);
    ipfix_header(&p, 78);
    st3 = p.n;
    p16(&p, 2); p16(&p, 0);
    p16(&p, 501); p16(&p, 3); p16(&p, 22); p16(&p, 4); p16(&p, 21); p16(&p, 4); p16(&p, 2); p16(&p, 4);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    st3 = p.n;
    p16(&p, 501); p16(&p, 0); p32(&p, 1000); p32(&p, 2000); p32(&p, 9);
    set16(&p, st3 + 2, (unsigned)(p.n - st3));
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 1);
    r = line(&out, 0);
    assert_int(r, "first_switched", 1000);
    assert_int(r, "last_switched", 2000);
    assert_absent(r, "flow_start_ms");
    json_decref(r);

    /* withdrawal: data after it is dropped again */
    bf_buf_reset(&out);
    ipfix_header(&p, 77);
    p16(&p, 2); p16(&p, 8); p16(&p, 400); p16(&p, 0);
    ipfix_data(&p);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 0);
    assert_int_equal(out.len, 0);

    /* withdraw-all (template id 2, field count 0) after re-learning 400 */
    ipfix_header(&p, 77);
    ipfix_template(&p);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 0);
    ipfix_header(&p, 77);
    p16(&p, 2); p16(&p, 8); p16(&p, 2); p16(&p, 0);
    ipfix_data(&p);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 0);
    assert_int_equal(out.len, 0);

    /* malformed: message length beyond the datagram, variable length running past the set, bad set id */
    ipfix_header(&p, 77);
    ipfix_template(&p);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n - 1, "::1", RECV, &out), -EBADMSG);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), 0);
    ipfix_header(&p, 77);
    size_t start = p.n;
    p16(&p, 400); p16(&p, 0);
    pip4(&p, "1.1.1.1"); pip4(&p, "2.2.2.2"); p16(&p, 1); p16(&p, 2); p8(&p, 6);
    p64(&p, 1); p32(&p, 1); p64(&p, 1); p64(&p, 1);
    p8(&p, 200); pbytes(&p, "abcd", 4);  /* says 200 bytes, set has far fewer */
    set16(&p, start + 2, (unsigned)(p.n - start));
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), -EBADMSG);
    ipfix_header(&p, 77);
    p16(&p, 5); p16(&p, 4);
    ipfix_finish(&p);
    assert_int_equal(flow_decode(s, FLOW_IPFIX, p.b, p.n, "::1", RECV, &out), -EBADMSG);
    assert_int_equal(out.len, 0);
    bf_buf_free(&out);
    flow_state_destroy(s);
}

/* ---------- sFlow v5 ---------- */
static size_t open_len(pk *p) { size_t at = p->n; p32(p, 0); return at; }
static void close_len(pk *p, size_t at) { set32(p, at, (uint32_t)(p->n - at - 4)); }

static void eth_vlan_ipv4_tcp(uint8_t *h, size_t *n)
{
    pk f = {.n = 0};
    uint8_t dmac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, smac[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
    pbytes(&f, dmac, 6); pbytes(&f, smac, 6);
    p16(&f, 0x8100); p16(&f, (3 << 13) | 100); p16(&f, 0x0800);
    p8(&f, 0x45); p8(&f, 0x20); p16(&f, 40); p16(&f, 1); p16(&f, 0x4000); p8(&f, 63); p8(&f, 6); p16(&f, 0);
    pip4(&f, "10.10.0.1"); pip4(&f, "10.20.0.2");
    p16(&f, 33000); p16(&f, 8443); p32(&f, 1); p32(&f, 0); p8(&f, 0x50); p8(&f, 0x12); p16(&f, 1024); p32(&f, 0);
    memcpy(h, f.b, f.n);
    *n = f.n;
}

static void eth_ipv6_udp(uint8_t *h, size_t *n)
{
    pk f = {.n = 0};
    uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    pbytes(&f, mac, 6); pbytes(&f, mac, 6);
    p16(&f, 0x86DD);
    p32(&f, 0x60000000); p16(&f, 8); p8(&f, 17); p8(&f, 64);
    pip6(&f, "2001:db8:1::10"); pip6(&f, "2001:db8:2::20");
    p16(&f, 5000); p16(&f, 6000); p16(&f, 8); p16(&f, 0);
    memcpy(h, f.b, f.n);
    *n = f.n;
}

static void raw_header_record(pk *p, const uint8_t *h, size_t hn, uint32_t frame_len)
{
    p32(p, 1);
    size_t at = open_len(p);
    p32(p, 1); p32(p, frame_len); p32(p, 4); p32(p, (uint32_t)hn);
    pbytes(p, h, hn);
    while (p->n % 4) p8(p, 0);
    close_len(p, at);
}

static void build_sflow(pk *p, int agent6)
{
    p->n = 0;
    p32(p, 5);
    if (agent6) { p32(p, 2); pip6(p, "2001:db8::99"); } else { p32(p, 1); pip4(p, "192.0.2.99"); }
    p32(p, 0); p32(p, 1000); p32(p, 123456); p32(p, 4);
    uint8_t h[128];
    size_t hn;
    /* 1: flow sample, raw header Ethernet + 802.1Q + IPv4 + TCP, plus extended switch */
    p32(p, 1);
    size_t at = open_len(p);
    p32(p, 11); p32(p, (0 << 24) | 7); p32(p, 512); p32(p, 9000); p32(p, 0); p32(p, 7); p32(p, 8);
    p32(p, 2);
    eth_vlan_ipv4_tcp(h, &hn);
    raw_header_record(p, h, hn, 1518);
    p32(p, 1001); p32(p, 16); p32(p, 100); p32(p, 3); p32(p, 200); p32(p, 0);
    close_len(p, at);
    /* 2: flow sample, IPv6 + UDP */
    p32(p, 1);
    at = open_len(p);
    p32(p, 12); p32(p, 9); p32(p, 1024); p32(p, 9100); p32(p, 1); p32(p, 9); p32(p, 10);
    p32(p, 3);
    eth_ipv6_udp(h, &hn);
    raw_header_record(p, h, hn, 90);
    p32(p, 1002);  /* extended router: IPv6 next hop, masks */
    size_t rat = open_len(p);
    p32(p, 2); pip6(p, "2001:db8::1"); p32(p, 48); p32(p, 64);
    close_len(p, rat);
    p32(p, 1003);  /* extended gateway: AS numbers, one path segment 65001 65002 */
    rat = open_len(p);
    p32(p, 1); pip4(p, "192.0.2.254"); p32(p, 64500); p32(p, 64501); p32(p, 64502);
    p32(p, 1); p32(p, 2); p32(p, 2); p32(p, 65001); p32(p, 65002);
    p32(p, 0); p32(p, 100);
    close_len(p, rat);
    close_len(p, at);
    /* 3: expanded flow sample with a sampled IPv4 record (no header) */
    p32(p, 3);
    at = open_len(p);
    p32(p, 13); p32(p, 0); p32(p, 65536); p32(p, 2048); p32(p, 9200); p32(p, 0);
    p32(p, 0); p32(p, 70000); p32(p, 0); p32(p, 70001);
    p32(p, 1);
    p32(p, 3); p32(p, 32);
    p32(p, 60); p32(p, 17); pip4(p, "10.30.0.1"); pip4(p, "10.40.0.2"); p32(p, 1234); p32(p, 53); p32(p, 0); p32(p, 0);
    close_len(p, at);
    /* 4: counter sample, generic interface counters */
    p32(p, 2);
    at = open_len(p);
    p32(p, 14); p32(p, 7);
    p32(p, 1);
    p32(p, 1); p32(p, 88);
    p32(p, 7); p32(p, 6); p64(p, 10000000000ULL); p32(p, 1); p32(p, 3);
    p64(p, 123456789012ULL); p32(p, 1000); p32(p, 20); p32(p, 30); p32(p, 0); p32(p, 1); p32(p, 0);
    p64(p, 98765432109ULL); p32(p, 2000); p32(p, 40); p32(p, 50); p32(p, 2); p32(p, 3); p32(p, 0);
    close_len(p, at);
}

static void test_sflow(void **st)
{
    (void)st;
    flow_state *s;
    assert_int_equal(flow_state_create(64, &s), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    pk p;
    build_sflow(&p, 0);
    assert_int_equal(flow_decode(s, FLOW_SFLOW, p.b, p.n, "127.0.0.5", RECV, &out), 4);
    json_t *r = line(&out, 0);
    assert_str(r, "flow_type", "sflow_v5");
    assert_int(r, "version", 5);
    assert_str(r, "agent_ip", "192.0.2.99");
    assert_str(r, "sample_type", "flow");
    assert_int(r, "sampling_rate", 512);
    assert_int(r, "input_if", 7);
    assert_int(r, "output_if", 8);
    assert_int(r, "frame_length", 1518);
    assert_str(r, "src_mac", "66:77:88:99:aa:bb");
    assert_str(r, "dst_mac", "00:11:22:33:44:55");
    assert_int(r, "vlan", 100);
    assert_int(r, "ip_version", 4);
    assert_str(r, "src_ip", "10.10.0.1");
    assert_str(r, "dst_ip", "10.20.0.2");
    assert_int(r, "protocol", 6);
    assert_int(r, "src_port", 33000);
    assert_int(r, "dst_port", 8443);
    assert_int(r, "tcp_flags", 0x12);
    assert_int(r, "ttl", 63);
    assert_int(r, "src_vlan", 100);
    assert_int(r, "dst_vlan", 200);
    json_decref(r);
    r = line(&out, 1);
    assert_int(r, "ip_version", 6);
    assert_str(r, "src_ip", "2001:db8:1::10");
    assert_str(r, "dst_ip", "2001:db8:2::20");
    assert_int(r, "protocol", 17);
    assert_int(r, "src_port", 5000);
    assert_int(r, "dst_port", 6000);
    assert_absent(r, "vlan");
    assert_absent(r, "tcp_flags");
    assert_str(r, "next_hop", "2001:db8::1");
    assert_int(r, "src_mask", 48);
    assert_int(r, "dst_mask", 64);
    assert_int(r, "as", 64500);
    assert_int(r, "src_as", 64501);
    assert_int(r, "src_peer_as", 64502);
    assert_int(r, "dst_as", 65002);
    json_decref(r);
    r = line(&out, 2);
    assert_int(r, "sampling_rate", 2048);
    assert_int(r, "input_if", 70000);
    assert_int(r, "output_if", 70001);
    assert_str(r, "src_ip", "10.30.0.1");
    assert_str(r, "dst_ip", "10.40.0.2");
    assert_int(r, "src_port", 1234);
    assert_int(r, "dst_port", 53);
    assert_int(r, "frame_length", 60);
    json_decref(r);
    r = line(&out, 3);
    assert_str(r, "sample_type", "counter");
    assert_int(r, "if_index", 7);
    assert_int(r, "if_speed", 10000000000LL);
    assert_int(r, "if_in_octets", 123456789012LL);
    assert_int(r, "if_in_ucast_pkts", 1000);
    assert_int(r, "if_in_errors", 1);
    assert_int(r, "if_out_octets", 98765432109LL);
    assert_int(r, "if_out_discards", 2);
    assert_int(r, "if_out_errors", 3);
    json_decref(r);

    bf_buf_reset(&out);
    build_sflow(&p, 1);
    assert_int_equal(flow_decode(s, FLOW_SFLOW, p.b, p.n, "127.0.0.5", RECV, &out), 4);
    r = line(&out, 0);
    assert_str(r, "agent_ip", "2001:db8::99");
    assert_str(r, "src_ip", "10.10.0.1");
    json_decref(r);

    /* wrong version, and a sample length beyond the datagram */
    bf_buf_reset(&out);
    set32(&p, 0, 4);
    assert_int_equal(flow_decode(s, FLOW_SFLOW, p.b, p.n, "127.0.0.5", RECV, &out), -EBADMSG);
    build_sflow(&p, 0);
    set32(&p, 32, 100000);
    assert_int_equal(flow_decode(s, FLOW_SFLOW, p.b, p.n, "127.0.0.5", RECV, &out), -EBADMSG);
    assert_int_equal(out.len, 0);
    bf_buf_free(&out);
    flow_state_destroy(s);
}

/* Every truncation and many corruptions of valid datagrams: never a crash, and a failure leaves out as it was. */
static void test_truncated_and_corrupted(void **st)
{
    (void)st;
    flow_state *s;
    assert_int_equal(flow_state_create(16, &s), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    pk dg[5];
    build_v5(&dg[0]);
    v9_header(&dg[1], 1); v9_template(&dg[1]); v9_data(&dg[1]);
    ipfix_header(&dg[2], 5); ipfix_template(&dg[2]); ipfix_data(&dg[2]); ipfix_finish(&dg[2]);
    build_sflow(&dg[3], 0);
    build_sflow(&dg[4], 1);
    const flow_kind kinds[5] = {FLOW_NETFLOW, FLOW_NETFLOW, FLOW_IPFIX, FLOW_SFLOW, FLOW_SFLOW};
    int bad = 0;
    for (int d = 0; d < 5; d++) {
        for (size_t n = 0; n < dg[d].n; n++) {
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, dg[d].b, n);
            size_t before = out.len;
            int rc = flow_decode(s, kinds[d], copy, n, "10.9.9.9", RECV, &out);
            if (rc < 0) {
                assert_int_equal(rc, -EBADMSG);
                assert_int_equal(out.len, before);
                bad++;
            }
            free(copy);
        }
        uint64_t x = 88172645463325252ULL + (uint64_t)d;
        for (int k = 0; k < 3000; k++) {
            pk c = dg[d];
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            c.b[x % c.n] ^= (uint8_t)(1u << (x >> 32) % 8);
            size_t before = out.len;
            int rc = flow_decode(s, kinds[d], c.b, c.n, "10.9.9.9", RECV, &out);
            if (rc < 0)
                assert_int_equal(out.len, before);
            bf_buf_reset(&out);
        }
    }
    assert_true(bad > 500);  /* truncations overwhelmingly fail */
    bf_buf_free(&out);
    flow_state_destroy(s);
}

static void test_template_table_bounded(void **st)
{
    (void)st;
    flow_state *s;
    assert_int_equal(flow_state_create(4, &s), 0);
    bf_buf out;
    bf_buf_init(&out, 0);
    pk p;
    for (unsigned t = 0; t < 6; t++) {
        v9_header(&p, 1);
        p16(&p, 0); p16(&p, 12); p16(&p, 256 + t); p16(&p, 1); p16(&p, 1); p16(&p, 4);
        assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.4", RECV, &out), 0);
    }
    flow_stats fs;
    size_t ntmpl;
    flow_state_stats(s, &fs, &ntmpl);
    assert_int_equal(ntmpl, 4);
    assert_int_equal(fs.templates_added, 6);
    assert_int_equal(fs.template_evictions, 2);
    /* the two oldest (256, 257) were evicted, 261 is there */
    v9_header(&p, 1);
    p16(&p, 256); p16(&p, 8); p32(&p, 1);
    p16(&p, 261); p16(&p, 8); p32(&p, 2);
    assert_int_equal(flow_decode(s, FLOW_NETFLOW, p.b, p.n, "127.0.0.4", RECV, &out), 1);
    json_t *r = line(&out, 0);
    assert_int(r, "bytes", 2);
    json_decref(r);
    bf_buf_free(&out);
    flow_state_destroy(s);
}

static void test_kind_parse(void **st)
{
    (void)st;
    flow_kind k;
    assert_int_equal(flow_kind_parse("netflow", &k), 0);
    assert_int_equal(k, FLOW_NETFLOW);
    assert_int_equal(flow_kind_parse("ipfix", &k), 0);
    assert_int_equal(k, FLOW_IPFIX);
    assert_int_equal(flow_kind_parse("sflow", &k), 0);
    assert_int_equal(k, FLOW_SFLOW);
    assert_int_equal(flow_kind_parse("syslog", &k), -EINVAL);
    assert_int_equal(flow_kind_parse(NULL, &k), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v5),
        cmocka_unit_test(test_v9),
        cmocka_unit_test(test_ipfix),
        cmocka_unit_test(test_sflow),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_template_table_bounded),
        cmocka_unit_test(test_kind_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
