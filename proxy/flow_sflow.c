/* flow_sflow: sFlow v5 decoder (see flow_sflow.h). Every read goes through a bounded cursor, so a
 * length field can never take a read outside the datagram. */
#include "flow_sflow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* ---------- bounded cursor ---------- */
typedef struct { const uint8_t *p; size_t n; int bad; } cur;

static uint32_t u32(cur *c)
{
    if (c->n < 4) {
        c->bad = 1;
        c->n = 0;
        return 0;
    }
    uint32_t v = fj_rd32(c->p);
    c->p += 4;
    c->n -= 4;
    return v;
}

static uint64_t u64(cur *c) { uint64_t hi = u32(c); return hi << 32 | u32(c); }

/* Sub-cursor of n bytes (XDR opaque data is padded to 4 bytes; pad = 1 skips the padding too). */
static cur take(cur *c, size_t n, int pad)
{
    size_t adv = pad ? (n + 3) & ~(size_t)3 : n;
    if (adv < n || adv > c->n) {
        c->bad = 1;
        c->n = 0;
        return (cur){NULL, 0, 1};
    }
    cur s = {c->p, n, 0};
    c->p += adv;
    c->n -= adv;
    return s;
}

/* ---------- what one flow sample tells ---------- */
typedef struct {
    uint32_t seq, src_type, src_index, rate, pool, drops, in_if, out_if;
    int has_hdr;
    uint32_t header_protocol, frame_length;
    int has_eth;
    uint8_t src_mac[6], dst_mac[6];
    uint16_t eth_type;
    int has_vlan;
    uint16_t vlan;
    int ipver;               /* 0, 4 or 6 */
    uint8_t src[16], dst[16];
    uint8_t proto, tos, ttl;
    int has_ports;
    uint16_t sport, dport;
    int has_tcp_flags;
    uint8_t tcp_flags;
    int has_icmp;
    uint8_t icmp_type, icmp_code;
    int has_switch;
    uint32_t src_vlan, src_prio, dst_vlan, dst_prio;
    int has_router;
    int nh_ver;              /* 4 or 6 */
    uint8_t next_hop[16];
    uint32_t src_mask, dst_mask;
    int has_gateway;
    uint32_t as, src_as, src_peer_as, dst_as;
} sflow_flow;

static void parse_l4(sflow_flow *f, const uint8_t *h, size_t n)
{
    if ((f->proto == 6 && n >= 14) || ((f->proto == 17 || f->proto == 132) && n >= 4)) {
        f->has_ports = 1;
        f->sport = fj_rd16(h);
        f->dport = fj_rd16(h + 2);
        if (f->proto == 6) {
            f->has_tcp_flags = 1;
            f->tcp_flags = h[13];
        }
    } else if ((f->proto == 1 || f->proto == 58) && n >= 2) {
        f->has_icmp = 1;
        f->icmp_type = h[0];
        f->icmp_code = h[1];
    }
}

static void parse_ip4(sflow_flow *f, const uint8_t *h, size_t n)
{
    if (n < 20 || h[0] >> 4 != 4)
        return;
    size_t ihl = (size_t)(h[0] & 15) * 4;
    if (ihl < 20 || ihl > n)
        return;
    f->ipver = 4;
    memset(f->src, 0, 16);
    memset(f->dst, 0, 16);
    memcpy(f->src, h + 12, 4);
    memcpy(f->dst, h + 16, 4);
    f->tos = h[1];
    f->ttl = h[8];
    f->proto = h[9];
    if ((fj_rd16(h + 6) & 0x1FFF) == 0)  /* ports only in the first fragment */
        parse_l4(f, h + ihl, n - ihl);
}

/* IPv6 extension headers that may sit before the transport header (bounded walk). */
static int ip6_ext(uint8_t nh) { return nh == 0 || nh == 43 || nh == 60 || nh == 44; }

static void parse_ip6(sflow_flow *f, const uint8_t *h, size_t n)
{
    if (n < 40 || h[0] >> 4 != 6)
        return;
    f->ipver = 6;
    memcpy(f->src, h + 8, 16);
    memcpy(f->dst, h + 24, 16);
    f->tos = (uint8_t)((h[0] & 15) << 4 | h[1] >> 4);
    f->ttl = h[7];
    uint8_t nh = h[6];
    size_t off = 40;
    for (int i = 0; i < 8 && ip6_ext(nh); i++) {
        if (n - off < 8)
            return;
        if (nh == 44 && (fj_rd16(h + off + 2) & 0xFFF8))
            return;  /* not the first fragment: no transport header */
        size_t el = nh == 44 ? 8 : ((size_t)h[off + 1] + 1) * 8;
        nh = h[off];
        if (el > n - off)
            return;
        off += el;
    }
    f->proto = nh;
    if (!ip6_ext(nh))
        parse_l4(f, h + off, n - off);
}

static void parse_eth(sflow_flow *f, const uint8_t *h, size_t n)
{
    if (n < 14)
        return;
    f->has_eth = 1;
    memcpy(f->dst_mac, h, 6);
    memcpy(f->src_mac, h + 6, 6);
    uint16_t type = fj_rd16(h + 12);
    size_t off = 14;
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88A8) && n - off >= 4; tags++) {
        if (!f->has_vlan) {  /* outer tag */
            f->has_vlan = 1;
            f->vlan = fj_rd16(h + off) & 0x0FFF;
        }
        type = fj_rd16(h + off + 2);
        off += 4;
    }
    f->eth_type = type;
    if (type == 0x0800)
        parse_ip4(f, h + off, n - off);
    else if (type == 0x86DD)
        parse_ip6(f, h + off, n - off);
}

/* ---------- flow records (enterprise 0 formats) ---------- */
typedef void (*flow_rec_fn)(sflow_flow *f, cur *r);

static void rec_raw_header(sflow_flow *f, cur *r)
{
    uint32_t proto = u32(r), frame = u32(r);
    u32(r);  /* stripped */
    uint32_t hlen = u32(r);
    cur h = take(r, hlen, 1);
    if (r->bad)
        return;
    f->has_hdr = 1;
    f->header_protocol = proto;
    f->frame_length = frame;
    if (proto == 1)
        parse_eth(f, h.p, h.n);
    else if (proto == 11)
        parse_ip4(f, h.p, h.n);
    else if (proto == 12)
        parse_ip6(f, h.p, h.n);
}

/* Sampled IPv4 / IPv6 records only fill in what the raw header did not give. */
static void rec_sampled_ip(sflow_flow *f, cur *r, int v6)
{
    uint32_t length = u32(r), proto = u32(r);
    cur a = take(r, v6 ? 32 : 8, 0);
    uint32_t sport = u32(r), dport = u32(r), flags = u32(r), tos = u32(r);
    if (r->bad || f->ipver)
        return;
    f->ipver = v6 ? 6 : 4;
    memset(f->src, 0, 16);
    memset(f->dst, 0, 16);
    memcpy(f->src, a.p, v6 ? 16 : 4);
    memcpy(f->dst, a.p + (v6 ? 16 : 4), v6 ? 16 : 4);
    f->proto = (uint8_t)proto;
    f->tos = (uint8_t)tos;
    f->has_ports = proto == 6 || proto == 17;
    f->sport = (uint16_t)sport;
    f->dport = (uint16_t)dport;
    f->has_tcp_flags = proto == 6;
    f->tcp_flags = (uint8_t)flags;
    if (!f->frame_length)
        f->frame_length = length;
}
static void rec_ipv4(sflow_flow *f, cur *r) { rec_sampled_ip(f, r, 0); }
static void rec_ipv6(sflow_flow *f, cur *r) { rec_sampled_ip(f, r, 1); }

static void rec_ethernet(sflow_flow *f, cur *r)
{
    u32(r);  /* length */
    cur s = take(r, 6, 1), d = take(r, 6, 1);
    uint32_t type = u32(r);
    if (r->bad || f->has_eth)
        return;
    f->has_eth = 1;
    memcpy(f->src_mac, s.p, 6);
    memcpy(f->dst_mac, d.p, 6);
    f->eth_type = (uint16_t)type;
}

static void rec_switch(sflow_flow *f, cur *r)
{
    f->src_vlan = u32(r);
    f->src_prio = u32(r);
    f->dst_vlan = u32(r);
    f->dst_prio = u32(r);
    f->has_switch = !r->bad;
}

/* XDR address: type (1 IPv4, 2 IPv6) then the bytes. Returns 4, 6 or 0 (unknown type: stream marked bad). */
static int read_addr(cur *r, uint8_t out[16])
{
    uint32_t type = u32(r);
    if (type != 1 && type != 2) {
        r->bad = 1;
        return 0;
    }
    cur a = take(r, type == 1 ? 4 : 16, 0);
    if (r->bad)
        return 0;
    memset(out, 0, 16);
    memcpy(out, a.p, a.n);
    return type == 1 ? 4 : 6;
}

static void rec_router(sflow_flow *f, cur *r)
{
    f->nh_ver = read_addr(r, f->next_hop);
    f->src_mask = u32(r);
    f->dst_mask = u32(r);
    f->has_router = !r->bad;
}

/* Extended gateway: BGP AS numbers; dst_as is the last AS of the destination path. */
static void rec_gateway(sflow_flow *f, cur *r)
{
    uint8_t nh[16];
    int v = read_addr(r, nh);
    f->as = u32(r);
    f->src_as = u32(r);
    f->src_peer_as = u32(r);
    uint32_t segs = u32(r);
    f->dst_as = 0;
    for (uint32_t i = 0; i < segs && !r->bad; i++) {
        u32(r);  /* segment type */
        uint32_t len = u32(r);
        if (len > r->n / 4) {
            r->bad = 1;
            break;
        }
        for (uint32_t k = 0; k < len; k++)
            f->dst_as = u32(r);
    }
    f->has_gateway = !r->bad;
    if (f->has_gateway && !f->has_router) {  /* the gateway's next hop is the BGP one; router's wins */
        f->nh_ver = v;
        memcpy(f->next_hop, nh, 16);
    }
}

static const struct { uint32_t format; flow_rec_fn fn; } flow_recs[] = {
    {1, rec_raw_header}, {2, rec_ethernet}, {3, rec_ipv4}, {4, rec_ipv6},
    {1001, rec_switch}, {1002, rec_router}, {1003, rec_gateway},
};

static void put_flow(fj *w, const sflow_flow *f)
{
    fj_str(w, "sample_type", "flow", 4);
    fj_u64(w, "sequence_number", f->seq);
    fj_u64(w, "source_id_type", f->src_type);
    fj_u64(w, "source_id_index", f->src_index);
    fj_u64(w, "sampling_rate", f->rate);
    fj_u64(w, "sample_pool", f->pool);
    fj_u64(w, "drops", f->drops);
    fj_u64(w, "input_if", f->in_if);
    fj_u64(w, "output_if", f->out_if);
    if (f->has_hdr)
        fj_u64(w, "header_protocol", f->header_protocol);
    if (f->frame_length)
        fj_u64(w, "frame_length", f->frame_length);
    if (f->has_eth) {
        fj_mac(w, "src_mac", f->src_mac);
        fj_mac(w, "dst_mac", f->dst_mac);
        fj_u64(w, "eth_type", f->eth_type);
    }
    if (f->has_vlan)
        fj_u64(w, "vlan", f->vlan);
    if (f->ipver) {
        fj_u64(w, "ip_version", (uint64_t)f->ipver);
        if (f->ipver == 4) {
            fj_ip4(w, "src_ip", f->src);
            fj_ip4(w, "dst_ip", f->dst);
        } else {
            fj_ip6(w, "src_ip", f->src);
            fj_ip6(w, "dst_ip", f->dst);
        }
        fj_u64(w, "protocol", f->proto);
        fj_u64(w, "tos", f->tos);
        if (f->ttl)
            fj_u64(w, "ttl", f->ttl);
    }
    if (f->has_ports) {
        fj_u64(w, "src_port", f->sport);
        fj_u64(w, "dst_port", f->dport);
    }
    if (f->has_tcp_flags)
        fj_u64(w, "tcp_flags", f->tcp_flags);
    if (f->has_icmp) {
        fj_u64(w, "icmp_type", f->icmp_type);
        fj_u64(w, "icmp_code", f->icmp_code);
    }
    if (f->nh_ver == 4)
        fj_ip4(w, "next_hop", f->next_hop);
    else if (f->nh_ver == 6)
        fj_ip6(w, "next_hop", f->next_hop);
    if (f->has_router) {
        fj_u64(w, "src_mask", f->src_mask);
        fj_u64(w, "dst_mask", f->dst_mask);
    }
    if (f->has_gateway) {
        fj_u64(w, "as", f->as);
        fj_u64(w, "src_as", f->src_as);
        fj_u64(w, "src_peer_as", f->src_peer_as);
        fj_u64(w, "dst_as", f->dst_as);
    }
    if (f->has_switch) {
        fj_u64(w, "src_vlan", f->src_vlan);
        fj_u64(w, "src_priority", f->src_prio);
        fj_u64(w, "dst_vlan", f->dst_vlan);
        fj_u64(w, "dst_priority", f->dst_prio);
    }
}

/* ---------- counter records ---------- */
/* Generic interface counters (format 1), in wire order; 64-bit ones are handled by position. */
static const char *const if_names[] = {
    "if_index", "if_type", "if_speed", "if_direction", "if_status", "if_in_octets", "if_in_ucast_pkts",
    "if_in_multicast_pkts", "if_in_broadcast_pkts", "if_in_discards", "if_in_errors", "if_in_unknown_protos",
    "if_out_octets", "if_out_ucast_pkts", "if_out_multicast_pkts", "if_out_broadcast_pkts", "if_out_discards",
    "if_out_errors", "if_promiscuous_mode",
};
#define IF_SPEED 2
#define IF_IN_OCTETS 5
#define IF_OUT_OCTETS 12
#define IF_COUNT (sizeof if_names / sizeof if_names[0])

static void put_counters(fj *w, const uint64_t *v)
{
    for (size_t i = 0; i < IF_COUNT; i++)
        fj_u64(w, if_names[i], v[i]);
}

/* Walks the records of a sample: flow records fill an sflow_flow, counter records an if-counter array. */
static int records(flow_ctx *c, cur *s, void *target, int counter)
{
    uint32_t nrec = u32(s);
    if (s->bad || nrec > s->n / 8)
        return -EBADMSG;
    for (uint32_t i = 0; i < nrec; i++) {
        uint32_t tag = u32(s), rlen = u32(s);
        cur r = take(s, rlen, 1);
        if (s->bad)
            return -EBADMSG;
        uint32_t ent = tag >> 12, fmt = tag & 0xFFF;
        int known = 0;
        if (ent == 0 && counter && fmt == 1) {
            uint64_t *v = target;
            for (size_t k = 0; k < IF_COUNT; k++)
                v[k] = (k == IF_SPEED || k == IF_IN_OCTETS || k == IF_OUT_OCTETS) ? u64(&r) : u32(&r);
            v[IF_COUNT] = !r.bad;
            known = 1;
        }
        for (size_t k = 0; ent == 0 && !counter && k < sizeof flow_recs / sizeof flow_recs[0]; k++) {
            if (flow_recs[k].format == fmt) {
                flow_recs[k].fn(target, &r);
                known = 1;
            }
        }
        if (r.bad)
            return -EBADMSG;
        if (!known)
            c->st->unsupported++;
    }
    return 0;
}

static void begin(fj *w, flow_ctx *c, const char *agent, uint32_t sub_agent, uint32_t dseq)
{
    fj_begin(w, c->out, &c->pre, c->recv_ms, c->exporter, "sflow_v5");
    fj_u64(w, "version", 5);
    fj_str(w, "agent_ip", agent, strlen(agent));
    fj_u64(w, "sub_agent_id", sub_agent);
    fj_u64(w, "datagram_sequence", dseq);
}

typedef struct { const char *agent; uint32_t sub_agent, dseq; } dgram_info;

static int flow_sample(flow_ctx *c, cur *s, int expanded, const dgram_info *di)
{
    sflow_flow f;
    memset(&f, 0, sizeof f);
    f.seq = u32(s);
    if (expanded) {
        f.src_type = u32(s);
        f.src_index = u32(s);
    } else {
        uint32_t sid = u32(s);
        f.src_type = sid >> 24;
        f.src_index = sid & 0xFFFFFF;
    }
    f.rate = u32(s);
    f.pool = u32(s);
    f.drops = u32(s);
    if (expanded) {
        u32(s);  /* input format */
        f.in_if = u32(s);
        u32(s);  /* output format */
        f.out_if = u32(s);
    } else {
        f.in_if = u32(s) & 0x3FFFFFFF;   /* top 2 bits: format */
        f.out_if = u32(s) & 0x3FFFFFFF;
    }
    int rc = records(c, s, &f, 0);
    if (rc)
        return rc;
    fj w;
    begin(&w, c, di->agent, di->sub_agent, di->dseq);
    put_flow(&w, &f);
    fj_end(&w);
    return w.rc ? w.rc : 1;
}

static int counter_sample(flow_ctx *c, cur *s, int expanded, const dgram_info *di)
{
    uint32_t seq = u32(s), type, index;
    if (expanded) {
        type = u32(s);
        index = u32(s);
    } else {
        uint32_t sid = u32(s);
        type = sid >> 24;
        index = sid & 0xFFFFFF;
    }
    uint64_t v[IF_COUNT + 1] = {0};
    int rc = records(c, s, v, 1);
    if (rc)
        return rc;
    fj w;
    begin(&w, c, di->agent, di->sub_agent, di->dseq);
    fj_str(&w, "sample_type", "counter", 7);
    fj_u64(&w, "sequence_number", seq);
    fj_u64(&w, "source_id_type", type);
    fj_u64(&w, "source_id_index", index);
    if (v[IF_COUNT])
        put_counters(&w, v);
    fj_end(&w);
    return w.rc ? w.rc : 1;
}

/* sample format → handler (enterprise 0): 1 flow, 2 counters, 3 expanded flow, 4 expanded counters */
static const struct {
    uint32_t format;
    int expanded;
    int (*fn)(flow_ctx *, cur *, int, const dgram_info *);
} sample_kinds[] = {
    {1, 0, flow_sample}, {2, 0, counter_sample}, {3, 1, flow_sample}, {4, 1, counter_sample},
};

int flow_sflow_decode(flow_ctx *c, const uint8_t *p, size_t len)
{
    cur d = {p, len, 0};
    if (u32(&d) != 5)
        return -EBADMSG;
    uint32_t atype = u32(&d);
    if (atype != 1 && atype != 2)
        return -EBADMSG;
    cur a = take(&d, atype == 1 ? 4 : 16, 0);
    dgram_info di;
    di.sub_agent = u32(&d);
    di.dseq = u32(&d);
    u32(&d);  /* uptime */
    uint32_t nsamples = u32(&d);
    if (d.bad || nsamples > d.n / 8)
        return -EBADMSG;
    char agent[48];
    if (atype == 1)
        inet_ntop(AF_INET, a.p, agent, sizeof agent);
    else
        inet_ntop(AF_INET6, a.p, agent, sizeof agent);
    di.agent = agent;
    int total = 0;
    for (uint32_t i = 0; i < nsamples; i++) {
        uint32_t tag = u32(&d), slen = u32(&d);
        cur s = take(&d, slen, 1);
        if (d.bad)
            return -EBADMSG;
        int rc = 0, known = 0;
        for (size_t k = 0; (tag >> 12) == 0 && k < sizeof sample_kinds / sizeof sample_kinds[0]; k++) {
            if (sample_kinds[k].format == (tag & 0xFFF)) {
                rc = sample_kinds[k].fn(c, &s, sample_kinds[k].expanded, &di);
                known = 1;
            }
        }
        if (!known)
            c->st->unsupported++;
        if (rc < 0)
            return rc;
        if (s.bad)
            return -EBADMSG;
        total += rc;
    }
    return total;
}
