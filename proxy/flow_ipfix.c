/* flow_ipfix: IPFIX decoder (see flow_ipfix.h). */
#include "flow_ipfix.h"

#include <errno.h>

#define IPFIX_HDR 16
#define SET_TEMPLATE 2
#define SET_OPTIONS 3

/* Field specifiers: (id with enterprise bit, length [, enterprise number]). Returns bytes used or -EBADMSG. */
static int read_fields(const uint8_t *p, size_t n, uint16_t cnt, flow_field *fields)
{
    size_t off = 0;
    for (uint16_t i = 0; i < cnt; i++) {
        if (n - off < 4)
            return -EBADMSG;
        uint16_t id = fj_rd16(p + off), flen = fj_rd16(p + off + 2);
        off += 4;
        uint32_t pen = 0;
        if (id & 0x8000) {
            if (n - off < 4)
                return -EBADMSG;
            pen = fj_rd32(p + off);
            off += 4;
        }
        fields[i] = (flow_field){.id = id & 0x7FFF, .len = flen, .pen = pen};
    }
    return (int)off;
}

/* Template (options = 0) or options template set. */
static int template_set(flow_ctx *c, uint32_t domain, const uint8_t *p, size_t n, int options)
{
    flow_field fields[FLOW_TMPL_MAX_FIELDS];
    size_t hdr = options ? 6 : 4, off = 0;
    while (n - off >= hdr) {
        uint16_t tid = fj_rd16(p + off), cnt = fj_rd16(p + off + 2);
        uint16_t nscope = options ? fj_rd16(p + off + 4) : 0;
        if (!tid)
            break;  /* zero padding at the end of the set */
        if (tid < 256 && tid != SET_TEMPLATE && tid != SET_OPTIONS)
            return -EBADMSG;
        if (!cnt) {  /* withdrawal (RFC 7011 §8.1): 4-byte record; id 2 / 3 withdraws all of the set's kind */
            if (tid >= 256)
                flow_tmpl_del(c->tc, 10, c->exporter, domain, tid);
            else
                flow_tmpl_del_all(c->tc, 10, c->exporter, domain, tid == SET_OPTIONS);
            off += 4;
            continue;
        }
        if (tid < 256 || cnt > FLOW_TMPL_MAX_FIELDS || (options && (!nscope || nscope > cnt)))
            return -EBADMSG;
        off += hdr;
        int used = read_fields(p + off, n - off, cnt, fields);
        if (used < 0)
            return used;
        off += (size_t)used;
        int rc = flow_fields_store(c, 10, domain, tid, options, nscope, fields, cnt);
        if (rc)
            return rc;
    }
    return 0;
}

static int data_set(flow_ctx *c, uint32_t domain, uint16_t tid, const uint8_t *p, size_t n, int64_t export_ms)
{
    flow_time_base tb = {.unix_ms = export_ms};
    tb.has_init = flow_tmpl_get_init(c->tc, 10, c->exporter, domain, &tb.init_ms) == 0;
    return flow_fields_data_set(c, 10, "ipfix", "observation_domain_id", domain, tid, p, n, &tb);
}

int flow_ipfix_decode(flow_ctx *c, const uint8_t *p, size_t len)
{
    if (len < IPFIX_HDR || fj_rd16(p) != 10)
        return -EBADMSG;
    size_t mlen = fj_rd16(p + 2);
    if (mlen < IPFIX_HDR || mlen > len)
        return -EBADMSG;  /* truncated message */
    int64_t export_ms = (int64_t)fj_rd32(p + 4) * 1000;
    uint32_t domain = fj_rd32(p + 12);
    size_t off = IPFIX_HDR;
    int total = 0;
    while (off < mlen) {
        if (mlen - off < 4)
            return -EBADMSG;
        uint16_t id = fj_rd16(p + off), slen = fj_rd16(p + off + 2);
        if (slen < 4 || slen > mlen - off)
            return -EBADMSG;
        const uint8_t *body = p + off + 4;
        size_t blen = slen - 4u;
        int rc = 0;
        if (id == SET_TEMPLATE || id == SET_OPTIONS)
            rc = template_set(c, domain, body, blen, id == SET_OPTIONS);
        else if (id >= 256)
            rc = data_set(c, domain, id, body, blen, export_ms);
        else
            return -EBADMSG;  /* set ids 0, 1, 4-255 are reserved */
        if (rc < 0)
            return rc;
        total += rc;
        off += slen;
    }
    return total;
}
