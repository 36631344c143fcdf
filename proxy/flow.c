/* flow: public entry of the flow decoders (see flow.h). Dispatches by kind/version, owns the template
 * cache and the counters, and gives every datagram all-or-nothing output. */
#include "flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow_ipfix.h"
#include "flow_netflow.h"
#include "flow_sflow.h"

struct flow_state {
    flow_tmpl_cache *tc;
    flow_stats st;
};

int flow_state_create(size_t max_templates, flow_state **out)
{
    flow_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc = flow_tmpl_create(max_templates, &s->tc);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void flow_state_destroy(flow_state *s)
{
    if (!s)
        return;
    flow_tmpl_destroy(s->tc);
    free(s);
}

static const struct { const char *name; flow_kind kind; } kind_names[] = {
    {"netflow", FLOW_NETFLOW}, {"ipfix", FLOW_IPFIX}, {"sflow", FLOW_SFLOW},
};

int flow_kind_parse(const char *s, flow_kind *out)
{
    for (size_t i = 0; s && i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (!strcmp(s, kind_names[i].name)) {
            *out = kind_names[i].kind;
            return 0;
        }
    }
    return -EINVAL;
}

/* The netflow port takes v5 and v9 by version; IPFIX (v10) is accepted there too, since exporters
 * configured for "netflow" often speak it. */
static int decode_netflow(flow_ctx *c, const uint8_t *p, size_t len)
{
    if (len < 2)
        return -EBADMSG;
    uint16_t v = fj_rd16(p);
    if (v == 5)
        return flow_nf5_decode(c, p, len);
    if (v == 9)
        return flow_nf9_decode(c, p, len);
    if (v == 10)
        return flow_ipfix_decode(c, p, len);
    return -EBADMSG;
}

static int (*const decoders[])(flow_ctx *, const uint8_t *, size_t) = {
    [FLOW_NETFLOW] = decode_netflow, [FLOW_IPFIX] = flow_ipfix_decode, [FLOW_SFLOW] = flow_sflow_decode,
};

int flow_decode(flow_state *s, flow_kind kind, const uint8_t *pkt, size_t len, const char *exporter_ip,
                int64_t recv_ms, bf_buf *out)
{
    if (!s || !out || (unsigned)kind >= sizeof decoders / sizeof decoders[0])
        return -EINVAL;
    if (!pkt)
        len = 0;
    flow_ctx c = {.tc = s->tc, .st = &s->st, .exporter = exporter_ip ? exporter_ip : "", .recv_ms = recv_ms,
                  .out = out, .pre = {.n = 0}};
    size_t mark = out->len;
    int rc = decoders[kind](&c, pkt, len);
    if (rc < 0) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        if (rc == -EBADMSG)
            s->st.bad_datagrams++;
        return rc;
    }
    s->st.datagrams++;
    s->st.records += (uint64_t)rc;
    return rc;
}

void flow_state_stats(const flow_state *s, flow_stats *out, size_t *templates)
{
    *out = s->st;
    if (templates)
        *templates = flow_tmpl_count(s->tc);
}
