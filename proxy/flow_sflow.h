/* flow_sflow: sFlow v5 datagram decoder. Flow samples (standard and expanded) become one record each,
 * with addresses / ports / protocol taken from the sampled packet header (Ethernet, 802.1Q/802.1ad
 * VLAN tags, IPv4, IPv6 with extension headers, TCP, UDP, ICMP) or from sampled IPv4/IPv6 records, and
 * the VLANs of the extended switch record, next hop / masks of the extended router record and the AS
 * numbers of the extended gateway record. Counter samples (standard and expanded) become one record
 * each with the generic interface counters. Returns records appended or -EBADMSG / -ENOMEM / -E2BIG. */
#ifndef PROXY_FLOW_SFLOW_H
#define PROXY_FLOW_SFLOW_H
#include "flow_fields.h"

int flow_sflow_decode(flow_ctx *c, const uint8_t *p, size_t len);
#endif
