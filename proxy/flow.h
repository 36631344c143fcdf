/* flow: NetFlow v5/v9, IPFIX (RFC 7011) and sFlow v5 datagram decoders. Each decoded flow / sample
 * becomes one JSON object line (NDJSON, '\n'-terminated) appended to out, with BfTs (receive ms),
 * timestamp, exporter ("source_ip"), flow_type ("netflow_v5"|"netflow_v9"|"ipfix"|"sflow_v5") and the
 * flow fields (same names for netflow and ipfix: src_addr, dst_addr, src_port, dst_port, protocol,
 * bytes, packets, …). Templates (v9/IPFIX) are cached per (exporter, observation domain / source id,
 * template id) in a bounded table owned by flow_state. Malformed datagrams never crash:
 * they return -EBADMSG having appended nothing for the bad part. */
#ifndef PROXY_FLOW_H
#define PROXY_FLOW_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

typedef enum { FLOW_NETFLOW = 0, FLOW_IPFIX, FLOW_SFLOW } flow_kind;
typedef struct flow_state flow_state;

int flow_state_create(size_t max_templates, flow_state **out);
void flow_state_destroy(flow_state *s);
/* "netflow" (v5 and v9 auto-detected by version), "ipfix", "sflow". */
int flow_kind_parse(const char *s, flow_kind *out);
/* Returns the number of records appended (>= 0) or a negative errno. */
int flow_decode(flow_state *s, flow_kind kind, const uint8_t *pkt, size_t len, const char *exporter_ip,
                int64_t recv_ms, bf_buf *out);
#endif
