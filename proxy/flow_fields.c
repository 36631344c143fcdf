/* flow_fields: IPFIX / NetFlow v9 element table and record decoder (see flow_fields.h).
 * Names follow the NetFlow v5 names the proxy emits so that v5, v9 and IPFIX records share a schema. */
#include "flow_fields.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef enum {
    FT_UINT,          /* unsigned, reduced-size encoding allowed; > 8 bytes → hex */
    FT_IP4,
    FT_IP6,
    FT_MAC,
    FT_STR,
    FT_HEX,
    FT_UPTIME,        /* ms since exporter boot: absolute Unix ms when the header gives the base */
    FT_SEC,           /* dateTimeSeconds → Unix ms */
    FT_MS,            /* dateTimeMilliseconds */
    FT_NTP,           /* dateTimeMicro/Nanoseconds: NTP 64-bit → Unix ms */
    FT_SKIP,          /* padding */
} ftype;

typedef struct {
    uint16_t id;
    uint8_t type;
    const char *name;
    const char *alt;  /* FT_UPTIME: name of the raw value when there is no time base (IPFIX) */
} ie_def;

/* Sorted by id (binary search). */
static const ie_def ie_table[] = {
    {1, FT_UINT, "bytes", NULL},
    {2, FT_UINT, "packets", NULL},
    {3, FT_UINT, "flows", NULL},
    {4, FT_UINT, "protocol", NULL},
    {5, FT_UINT, "tos", NULL},
    {6, FT_UINT, "tcp_flags", NULL},
    {7, FT_UINT, "src_port", NULL},
    {8, FT_IP4, "src_addr", NULL},
    {9, FT_UINT, "src_mask", NULL},
    {10, FT_UINT, "input_if", NULL},
    {11, FT_UINT, "dst_port", NULL},
    {12, FT_IP4, "dst_addr", NULL},
    {13, FT_UINT, "dst_mask", NULL},
    {14, FT_UINT, "output_if", NULL},
    {15, FT_IP4, "next_hop", NULL},
    {16, FT_UINT, "src_as", NULL},
    {17, FT_UINT, "dst_as", NULL},
    {18, FT_IP4, "bgp_next_hop", NULL},
    {19, FT_UINT, "mcast_packets", NULL},
    {20, FT_UINT, "mcast_bytes", NULL},
    {21, FT_UPTIME, "flow_end_ms", "last_switched"},
    {22, FT_UPTIME, "flow_start_ms", "first_switched"},
    {23, FT_UINT, "out_bytes", NULL},
    {24, FT_UINT, "out_packets", NULL},
    {25, FT_UINT, "min_length", NULL},
    {26, FT_UINT, "max_length", NULL},
    {27, FT_IP6, "src_addr", NULL},
    {28, FT_IP6, "dst_addr", NULL},
    {29, FT_UINT, "src_mask", NULL},
    {30, FT_UINT, "dst_mask", NULL},
    {31, FT_UINT, "flow_label", NULL},
    {32, FT_UINT, "icmp_type_code", NULL},
    {33, FT_UINT, "igmp_type", NULL},
    {34, FT_UINT, "sampling_interval", NULL},
    {35, FT_UINT, "sampling_algorithm", NULL},
    {36, FT_UINT, "active_timeout", NULL},
    {37, FT_UINT, "inactive_timeout", NULL},
    {38, FT_UINT, "engine_type", NULL},
    {39, FT_UINT, "engine_id", NULL},
    {40, FT_UINT, "exported_bytes", NULL},
    {41, FT_UINT, "exported_messages", NULL},
    {42, FT_UINT, "exported_flows", NULL},
    {44, FT_IP4, "src_prefix", NULL},
    {45, FT_IP4, "dst_prefix", NULL},
    {46, FT_UINT, "mpls_top_label_type", NULL},
    {47, FT_IP4, "mpls_top_label_addr", NULL},
    {48, FT_UINT, "sampler_id", NULL},
    {49, FT_UINT, "sampler_mode", NULL},
    {50, FT_UINT, "sampler_random_interval", NULL},
    {52, FT_UINT, "min_ttl", NULL},
    {53, FT_UINT, "max_ttl", NULL},
    {54, FT_UINT, "fragment_id", NULL},
    {55, FT_UINT, "dst_tos", NULL},
    {56, FT_MAC, "src_mac", NULL},
    {57, FT_MAC, "out_dst_mac", NULL},
    {58, FT_UINT, "src_vlan", NULL},
    {59, FT_UINT, "dst_vlan", NULL},
    {60, FT_UINT, "ip_version", NULL},
    {61, FT_UINT, "direction", NULL},
    {62, FT_IP6, "next_hop", NULL},
    {63, FT_IP6, "bgp_next_hop", NULL},
    {64, FT_UINT, "ipv6_ext_headers", NULL},
    {70, FT_UINT, "mpls_label_1", NULL},
    {71, FT_UINT, "mpls_label_2", NULL},
    {72, FT_UINT, "mpls_label_3", NULL},
    {80, FT_MAC, "dst_mac", NULL},
    {81, FT_MAC, "out_src_mac", NULL},
    {82, FT_STR, "if_name", NULL},
    {83, FT_STR, "if_desc", NULL},
    {85, FT_UINT, "bytes_total", NULL},
    {86, FT_UINT, "packets_total", NULL},
    {88, FT_UINT, "fragment_offset", NULL},
    {89, FT_UINT, "forwarding_status", NULL},
    {90, FT_HEX, "mpls_vpn_rd", NULL},
    {94, FT_STR, "application_description", NULL},
    {95, FT_HEX, "application_id", NULL},
    {96, FT_STR, "application_name", NULL},
    {130, FT_IP4, "exporter_addr", NULL},
    {131, FT_IP6, "exporter_addr", NULL},
    {136, FT_UINT, "flow_end_reason", NULL},
    {148, FT_UINT, "flow_id", NULL},
    {150, FT_SEC, "flow_start_ms", NULL},
    {151, FT_SEC, "flow_end_ms", NULL},
    {152, FT_MS, "flow_start_ms", NULL},
    {153, FT_MS, "flow_end_ms", NULL},
    {154, FT_NTP, "flow_start_ms", NULL},
    {155, FT_NTP, "flow_end_ms", NULL},
    {156, FT_NTP, "flow_start_ms", NULL},
    {157, FT_NTP, "flow_end_ms", NULL},
    {160, FT_MS, "system_init_ms", NULL},
    {176, FT_UINT, "icmp_type", NULL},
    {177, FT_UINT, "icmp_code", NULL},
    {178, FT_UINT, "icmp_type", NULL},
    {179, FT_UINT, "icmp_code", NULL},
    {192, FT_UINT, "ttl", NULL},
    {195, FT_UINT, "dscp", NULL},
    {210, FT_SKIP, "padding", NULL},
    {225, FT_IP4, "xlate_src_addr", NULL},
    {226, FT_IP4, "xlate_dst_addr", NULL},
    {227, FT_UINT, "xlate_src_port", NULL},
    {228, FT_UINT, "xlate_dst_port", NULL},
    {231, FT_UINT, "initiator_bytes", NULL},
    {232, FT_UINT, "responder_bytes", NULL},
    {233, FT_UINT, "firewall_event", NULL},
    {234, FT_UINT, "ingress_vrf_id", NULL},
    {235, FT_UINT, "egress_vrf_id", NULL},
    {239, FT_UINT, "biflow_direction", NULL},
    {243, FT_UINT, "dot1q_vlan", NULL},
    {298, FT_UINT, "initiator_packets", NULL},
    {299, FT_UINT, "responder_packets", NULL},
    {323, FT_MS, "observation_time_ms", NULL},
};
#define IE_COUNT (sizeof ie_table / sizeof ie_table[0])

static const ie_def *ie_lookup(uint16_t id)
{
    size_t lo = 0, hi = IE_COUNT;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ie_table[mid].id == id)
            return &ie_table[mid];
        if (ie_table[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *flow_fields_name(uint16_t id)
{
    const ie_def *d = ie_lookup(id);
    return d ? d->name : NULL;
}

/* Length of the value at p for field f; variable-length prefix per RFC 7011 §7. */
static int value_len(const flow_field *f, const uint8_t *p, size_t avail, size_t *hdr, size_t *len)
{
    *hdr = 0;
    *len = f->len;
    if (f->len == FLOW_VARLEN) {
        if (avail < 1)
            return -EBADMSG;
        *len = p[0];
        *hdr = 1;
        if (p[0] == 255) {
            if (avail < 3)
                return -EBADMSG;
            *len = fj_rd16(p + 1);
            *hdr = 3;
        }
    }
    return *hdr + *len <= avail ? 0 : -EBADMSG;
}

int flow_fields_skip(const flow_tmpl *t, const uint8_t *p, size_t avail, size_t *used, uint16_t want_ie,
                     uint64_t *value, int *found)
{
    size_t off = 0;
    for (uint16_t i = 0; i < t->nfields; i++) {
        const flow_field *f = &t->fields[i];
        size_t hdr, len;
        if (value_len(f, p + off, avail - off, &hdr, &len))
            return -EBADMSG;
        if (want_ie && f->id == want_ie && !f->pen && len && len <= 8) {
            *value = fj_rdn(p + off + hdr, len);
            *found = 1;
        }
        off += hdr + len;
    }
    *used = off;
    return 0;
}

static void put_unknown(fj *w, const flow_field *f, const uint8_t *v, size_t n)
{
    char name[40];
    if (f->pen)
        snprintf(name, sizeof name, "ie%u_%u", (unsigned)f->pen, (unsigned)f->id);
    else
        snprintf(name, sizeof name, "ie%u", (unsigned)f->id);
    if (n && n <= 8)
        fj_u64(w, name, fj_rdn(v, n));
    else
        fj_hex(w, name, v, n);
}


/* One writer per value type (a table, indexed by ftype). Each gets the value bytes as sent. */
typedef void (*put_fn)(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb);

static void put_uint(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)tb;
    if (n && n <= 8)
        fj_u64(w, d->name, fj_rdn(v, n));
    else
        fj_hex(w, d->name, v, n);
}
static void put_ip4(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    if (n == 4) fj_ip4(w, d->name, v); else put_uint(w, d, v, n, tb);
}
static void put_ip6(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)tb;
    if (n == 16) fj_ip6(w, d->name, v); else fj_hex(w, d->name, v, n);
}
static void put_mac(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)tb;
    if (n == 6) fj_mac(w, d->name, v); else fj_hex(w, d->name, v, n);
}
static void put_strv(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)tb;
    const uint8_t *nul = memchr(v, 0, n);
    if (nul)
        n = (size_t)(nul - v);  /* fixed-size strings are NUL padded: C-string semantics */
    fj_str(w, d->name, (const char *)v, n);
}
static void put_hexv(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)tb;
    fj_hex(w, d->name, v, n);
}
/* init + uptime, where the 32-bit uptime counter may have wrapped (every 49.7 days): the result is put
 * in the 2^32 ms window that ends one minute after the export time, since a flow cannot end much
 * after it was exported. */
#define SANE_MS (INT64_C(1) << 50)   /* ~35,000 years after 1970: beyond it a time is garbage */
static int64_t uptime_since_init(const flow_time_base *tb, uint64_t uptime)
{
    const int64_t wrap = INT64_C(1) << 32, up = (int64_t)(uptime & 0xFFFFFFFFu);
    /* an exporter's systemInitTimeMilliseconds is any 64-bit value on the wire: outside sane times it
     * is passed on (saturated), without the wrap arithmetic, which could overflow (found by fuzzing) */
    if (tb->init_ms < 0 || tb->init_ms > SANE_MS || tb->unix_ms < 0 || tb->unix_ms > SANE_MS)
        return tb->init_ms > INT64_MAX - up ? INT64_MAX : tb->init_ms + up;
    const int64_t hi = tb->unix_ms + 60000;
    int64_t t = tb->init_ms + up;
    if (t > hi)
        t -= (t - hi + wrap - 1) / wrap * wrap;
    else if (hi - t >= wrap)
        t += (hi - t) / wrap * wrap;
    return t;
}

static void put_uptime(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    if (!n || n > 8)
        fj_hex(w, d->name, v, n);
    else if (tb && tb->has_init)  /* IPFIX: flowStart/EndSysUpTime are ms since systemInitTime */
        fj_i64(w, d->name, uptime_since_init(tb, fj_rdn(v, n)));
    else if (tb && tb->has_uptime)  /* the uptime difference is taken mod 2^32 so a wrapped counter works */
        fj_i64(w, d->name, tb->unix_ms - (int64_t)(int32_t)((uint32_t)tb->uptime_ms - (uint32_t)fj_rdn(v, n)));
    else
        fj_u64(w, d->alt, fj_rdn(v, n));
}
static void put_sec(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    /* dateTimeSeconds is 32 bits; a longer (non-conforming) value is kept as an integer, not scaled */
    if (n && n <= 4) fj_i64(w, d->name, (int64_t)fj_rdn(v, n) * 1000); else put_uint(w, d, v, n, tb);
}
/* NTP timestamp (seconds since 1900 + 2^-32 fraction) → Unix ms. */
static void put_ntp(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)tb;
    if (n != 8) {
        fj_hex(w, d->name, v, n);
        return;
    }
    uint64_t t = fj_rd64(v);
    int64_t sec = (int64_t)(t >> 32) - 2208988800LL;
    fj_i64(w, d->name, sec * 1000 + (int64_t)(((t & 0xFFFFFFFFu) * 1000) >> 32));
}
static void put_skip(fj *w, const ie_def *d, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    (void)w; (void)d; (void)v; (void)n; (void)tb;
}

static const put_fn put_by_type[] = {
    [FT_UINT] = put_uint, [FT_IP4] = put_ip4, [FT_IP6] = put_ip6, [FT_MAC] = put_mac,
    [FT_STR] = put_strv, [FT_HEX] = put_hexv, [FT_UPTIME] = put_uptime, [FT_SEC] = put_sec,
    [FT_MS] = put_uint, [FT_NTP] = put_ntp, [FT_SKIP] = put_skip,
};

void flow_fields_prepare(flow_field *fields, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        const ie_def *d = fields[i].pen ? NULL : ie_lookup(fields[i].id);
        fields[i].def = d ? (int16_t)(d - ie_table) : -1;
        fields[i].slot = -1;
        /* the first entry with the same name is at or before d; templates are refreshed often
         * (softflowd repeats them in every datagram), so compare first characters before strcmp */
        for (const ie_def *e = ie_table; d && e <= d; e++) {
            if (e->name == d->name || (e->name[0] == d->name[0] && !strcmp(e->name, d->name))) {
                fields[i].slot = (int16_t)(e - ie_table);
                break;
            }
        }
    }
}

/* RFC 5103 biflows: enterprise 29305 carries the reverse direction of IANA element <id>; such a field is
 * written as "reverse_<name>". Returns 1 when written. */
#define PEN_REVERSE 29305
static int put_reverse(fj *w, const flow_field *f, const uint8_t *v, size_t n, const flow_time_base *tb)
{
    const ie_def *d = f->pen == PEN_REVERSE ? ie_lookup(f->id) : NULL;
    if (!d || d->type == FT_SKIP)
        return 0;
    char name[64], alt[64];
    snprintf(name, sizeof name, "reverse_%s", d->name);
    snprintf(alt, sizeof alt, "reverse_%s", d->alt ? d->alt : d->name);
    ie_def r = {d->id, d->type, name, alt};
    put_by_type[d->type](w, &r, v, n, tb);
    return 1;
}

int flow_fields_record(fj *w, const flow_tmpl *t, const uint8_t *p, size_t avail, size_t *used,
                       const flow_time_base *tb)
{
    /* One bit per table entry: the first occurrence of a name wins, so that a template carrying both
     * an IPv4 and an IPv6 source (or two start times) never yields duplicate JSON keys. */
    uint64_t seen[(IE_COUNT + 63) / 64] = {0};
    size_t off = 0;
    for (uint16_t i = 0; i < t->nfields; i++) {
        const flow_field *f = &t->fields[i];
        size_t hdr, len;
        if (value_len(f, p + off, avail - off, &hdr, &len))
            return -EBADMSG;
        const uint8_t *v = p + off + hdr;
        off += hdr + len;
        if (f->def < 0 || f->slot < 0) {
            if (!put_reverse(w, f, v, len, tb))
                put_unknown(w, f, v, len);
            continue;
        }
        size_t bit = (size_t)f->slot;
        if (seen[bit / 64] & (1ULL << (bit % 64)))
            continue;
        seen[bit / 64] |= 1ULL << (bit % 64);
        const ie_def *d = &ie_table[f->def];
        put_by_type[d->type](w, d, v, len, tb);
    }
    *used = off;
    return 0;
}

int flow_fields_store(flow_ctx *c, uint8_t version, uint32_t domain, uint16_t tid, int options, uint16_t nscope,
                      flow_field *fields, uint16_t nfields)
{
    flow_fields_prepare(fields, nfields);
    int rc = flow_tmpl_put(c->tc, version, c->exporter, domain, tid, options, nscope, fields, nfields);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        c->st->templates_rejected++;
        return 0;
    }
    c->st->templates_added++;
    c->st->template_evictions += (uint64_t)rc;
    return 0;
}

#define IE_SYSTEM_INIT_MS 160

int flow_fields_options(flow_ctx *c, const flow_tmpl *t, uint32_t domain, const uint8_t *p, size_t avail,
                        size_t *used)
{
    uint64_t init = 0;
    int found = 0;
    if (flow_fields_skip(t, p, avail, used, IE_SYSTEM_INIT_MS, &init, &found))
        return -EBADMSG;
    c->st->options_records++;
    if (found && init <= (uint64_t)INT64_MAX) {
        int rc = flow_tmpl_set_init(c->tc, t->version, c->exporter, domain, (int64_t)init);
        if (rc < 0)
            return rc;
        c->st->template_evictions += (uint64_t)rc;
    }
    return 0;
}

int flow_fields_data_set(flow_ctx *c, uint8_t version, const char *type, const char *domain_key, uint32_t domain,
                         uint16_t tid, const uint8_t *p, size_t n, const flow_time_base *tb)
{
    const flow_tmpl *t = flow_tmpl_find(c->tc, version, c->exporter, domain, tid);
    if (!t) {
        c->st->no_template++;
        return 0;
    }
    int nrec = 0;
    size_t off = 0, used;
    fj w;
    while (n - off >= t->min_len) {  /* a shorter tail is padding (RFC 7011, RFC 3954) */
        if (t->options) {
            int rc = flow_fields_options(c, t, domain, p + off, n - off, &used);
            if (rc)
                return rc;
            /* remembering the boot time may have evicted entries (tiny tables): look t up again */
            t = flow_tmpl_find(c->tc, version, c->exporter, domain, tid);
            if (!t)
                return nrec;
        } else {
            fj_begin(&w, c->out, &c->pre, c->recv_ms, c->exporter, type);
            fj_u64(&w, domain_key, domain);
            if (flow_fields_record(&w, t, p + off, n - off, &used, tb))
                return -EBADMSG;
            fj_end(&w);
            if (w.rc)
                return w.rc;
            nrec++;
        }
        off += used;
    }
    return nrec;
}
