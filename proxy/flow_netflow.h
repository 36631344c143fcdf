/* flow_netflow: NetFlow v5 (fixed 48-byte records) and v9 (templates, options templates) decoders.
 * Both return the number of records appended or -EBADMSG / -ENOMEM / -E2BIG (flow.c rolls back). */
#ifndef PROXY_FLOW_NETFLOW_H
#define PROXY_FLOW_NETFLOW_H
#include "flow_fields.h"

int flow_nf5_decode(flow_ctx *c, const uint8_t *p, size_t len);
int flow_nf9_decode(flow_ctx *c, const uint8_t *p, size_t len);
#endif
