/* flow: NetFlow v5/v9, IPFIX (RFC 7011) and sFlow v5 datagram decoders. Each decoded flow / sample
 * becomes one JSON object line (NDJSON, '\n'-terminated) appended to out, with BfTs (receive ms),
 * timestamp, exporter ("source_ip"), flow_type ("netflow_v5"|"netflow_v9"|"ipfix"|"sflow_v5") and the
 * flow fields (same names for netflow and ipfix: src_addr, dst_addr, src_port, dst_port, protocol,
 * bytes, packets, …). Templates (v9/IPFIX) are cached per (exporter, observation domain / source id,
 * template id) in a bounded table owned by flow_state. Malformed datagrams never crash:
 * they return -EBADMSG having appended nothing for the bad part.
 *
 * Precise contract (added):
 * - A datagram that fails (-EBADMSG, or -ENOMEM/-E2BIG from out) appends nothing at all: out is rolled
 *   back to its length at entry. Templates learned from the valid sets before the error are kept.
 * - Data sets whose template is unknown (data before template) are skipped and counted in
 *   flow_stats.no_template; that is not an error. Options-template data records (exporter metadata)
 *   are parsed for length and counted, not emitted.
 * - sFlow records keep the original proxy's sflow field names (agent_ip, sampling_rate, input_if,
 *   output_if, frame_length, src_ip, dst_ip, src_port, dst_port, protocol); flow samples give one record
 *   each (sample_type "flow"), counter samples one record each with the interface counters
 *   (sample_type "counter").
 * Not thread-safe: one flow_state per receiving thread. */
#ifndef PROXY_FLOW_H
#define PROXY_FLOW_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

typedef enum { FLOW_NETFLOW = 0, FLOW_IPFIX, FLOW_SFLOW } flow_kind;
typedef struct flow_state flow_state;

/* Counters since flow_state_create (added). */
typedef struct flow_stats {
    uint64_t datagrams;           /* decoded without error */
    uint64_t bad_datagrams;       /* returned -EBADMSG */
    uint64_t records;             /* records appended */
    uint64_t no_template;         /* data sets dropped: template unknown */
    uint64_t options_records;     /* options data records (not emitted) */
    uint64_t templates_added;     /* template (re)definitions accepted */
    uint64_t templates_rejected;  /* templates refused (no fields, > 512 fields, zero length) */
    uint64_t template_evictions;  /* LRU evictions because the table was full */
    uint64_t unsupported;         /* sFlow samples / records of unknown format, skipped */
} flow_stats;

int flow_state_create(size_t max_templates, flow_state **out);
void flow_state_destroy(flow_state *s);
/* "netflow" (v5 and v9 auto-detected by version), "ipfix", "sflow". */
int flow_kind_parse(const char *s, flow_kind *out);
/* Returns the number of records appended (>= 0) or a negative errno. */
int flow_decode(flow_state *s, flow_kind kind, const uint8_t *pkt, size_t len, const char *exporter_ip,
                int64_t recv_ms, bf_buf *out);
/* Counters and the number of cached templates (added). */
void flow_state_stats(const flow_state *s, flow_stats *out, size_t *templates);
#endif
