/* flow_netflow: NetFlow v5 and v9 (see flow_netflow.h). */
#include "flow_netflow.h"

#include <errno.h>

#define NF5_HDR 24
#define NF5_REC 48
#define NF5_MAX_COUNT 30
#define NF9_HDR 20

/* v5 record layout: offset, size, kind, name (kind 0 integer, 1 IPv4 address). */
typedef struct { uint8_t off, size, ip; const char *name; } nf5_field;
static const nf5_field nf5_fields[] = {
    {0, 4, 1, "src_addr"}, {4, 4, 1, "dst_addr"}, {32, 2, 0, "src_port"}, {34, 2, 0, "dst_port"},
    {38, 1, 0, "protocol"}, {20, 4, 0, "bytes"}, {16, 4, 0, "packets"}, {37, 1, 0, "tcp_flags"},
    {39, 1, 0, "tos"}, {12, 2, 0, "input_if"}, {14, 2, 0, "output_if"}, {8, 4, 1, "next_hop"},
    {40, 2, 0, "src_as"}, {42, 2, 0, "dst_as"}, {44, 1, 0, "src_mask"}, {45, 1, 0, "dst_mask"},
};

/* Absolute time of a sysUpTime stamp; differences taken mod 2^32 so a wrapped uptime still works. */
static int64_t uptime_to_ms(int64_t unix_ms, uint32_t uptime, uint32_t stamp)
{
    return unix_ms - (int64_t)(int32_t)(uptime - stamp);
}

int flow_nf5_decode(flow_ctx *c, const uint8_t *p, size_t len)
{
    if (len < NF5_HDR)
        return -EBADMSG;
    uint16_t count = fj_rd16(p + 2);
    if (count > NF5_MAX_COUNT || NF5_HDR + (size_t)count * NF5_REC > len)
        return -EBADMSG;
    uint32_t uptime = fj_rd32(p + 4);
    int64_t unix_ms = (int64_t)fj_rd32(p + 8) * 1000 + fj_rd32(p + 12) / 1000000;
    uint16_t sampling = fj_rd16(p + 22);
    fj w;
    for (uint16_t i = 0; i < count; i++) {
        const uint8_t *r = p + NF5_HDR + (size_t)i * NF5_REC;
        fj_begin(&w, c->out, &c->pre, c->recv_ms, c->exporter, "netflow_v5");
        for (size_t k = 0; k < sizeof nf5_fields / sizeof nf5_fields[0]; k++) {
            const nf5_field *f = &nf5_fields[k];
            if (f->ip)
                fj_ip4(&w, f->name, r + f->off);
            else
                fj_u64(&w, f->name, fj_rdn(r + f->off, f->size));
        }
        fj_i64(&w, "flow_start_ms", uptime_to_ms(unix_ms, uptime, fj_rd32(r + 24)));
        fj_i64(&w, "flow_end_ms", uptime_to_ms(unix_ms, uptime, fj_rd32(r + 28)));
        fj_u64(&w, "engine_type", p[20]);
        fj_u64(&w, "engine_id", p[21]);
        if (sampling & 0x3FFF)
            fj_u64(&w, "sampling_interval", sampling & 0x3FFF);
        fj_end(&w);
        if (w.rc)
            return w.rc;
    }
    return count;
}

/* Template flowset (id 0): records of {template id, field count, (type, length)*}. */
static int nf9_templates(flow_ctx *c, uint32_t domain, const uint8_t *p, size_t n)
{
    flow_field fields[FLOW_TMPL_MAX_FIELDS];
    size_t off = 0;
    while (n - off >= 4) {
        uint16_t tid = fj_rd16(p + off), cnt = fj_rd16(p + off + 2);
        if (!tid)
            break;  /* zero padding */
        off += 4;
        if (tid < 256 || !cnt || cnt > FLOW_TMPL_MAX_FIELDS || (size_t)cnt * 4 > n - off)
            return -EBADMSG;
        for (uint16_t i = 0; i < cnt; i++, off += 4)
            fields[i] = (flow_field){.id = fj_rd16(p + off), .len = fj_rd16(p + off + 2)};
        int rc = flow_fields_store(c, 9, domain, tid, 0, 0, fields, cnt);
        if (rc)
            return rc;
    }
    return 0;
}

/* Options template flowset (id 1): {template id, scope length, option length, scope fields, option fields}. */
static int nf9_options(flow_ctx *c, uint32_t domain, const uint8_t *p, size_t n)
{
    flow_field fields[FLOW_TMPL_MAX_FIELDS];
    size_t off = 0;
    while (n - off >= 6) {
        uint16_t tid = fj_rd16(p + off), slen = fj_rd16(p + off + 2), olen = fj_rd16(p + off + 4);
        if (!tid)
            break;  /* zero padding */
        off += 6;
        size_t cnt = (size_t)(slen / 4) + olen / 4;
        if (tid < 256 || (slen | olen) % 4 || !cnt || cnt > FLOW_TMPL_MAX_FIELDS || (size_t)slen + olen > n - off)
            return -EBADMSG;
        for (size_t i = 0; i < cnt; i++, off += 4)
            fields[i] = (flow_field){.id = fj_rd16(p + off), .len = fj_rd16(p + off + 2)};
        int rc = flow_fields_store(c, 9, domain, tid, 1, (uint16_t)(slen / 4), fields, (uint16_t)cnt);
        if (rc)
            return rc;
    }
    return 0;
}

static int nf9_data(flow_ctx *c, uint32_t domain, uint16_t tid, const uint8_t *p, size_t n,
                    const flow_time_base *tb)
{
    return flow_fields_data_set(c, 9, "netflow_v9", "source_id", domain, tid, p, n, tb);
}

int flow_nf9_decode(flow_ctx *c, const uint8_t *p, size_t len)
{
    if (len < NF9_HDR)
        return -EBADMSG;
    flow_time_base tb = {.has_uptime = 1, .uptime_ms = fj_rd32(p + 4), .unix_ms = (int64_t)fj_rd32(p + 8) * 1000};
    uint32_t domain = fj_rd32(p + 16);
    size_t off = NF9_HDR;
    int total = 0;
    while (len - off >= 4) {  /* fewer than 4 trailing bytes: padding */
        uint16_t id = fj_rd16(p + off), slen = fj_rd16(p + off + 2);
        if (slen < 4 || slen > len - off)
            return -EBADMSG;
        const uint8_t *body = p + off + 4;
        size_t blen = slen - 4u;
        int rc = 0;
        if (id == 0)
            rc = nf9_templates(c, domain, body, blen);
        else if (id == 1)
            rc = nf9_options(c, domain, body, blen);
        else if (id >= 256)
            rc = nf9_data(c, domain, id, body, blen, &tb);
        if (rc < 0)
            return rc;
        total += rc;
        off += slen;
    }
    return total;
}
