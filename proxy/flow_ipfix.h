/* flow_ipfix: IPFIX (RFC 7011) message decoder: template / options template sets with enterprise
 * elements and withdrawals, data sets with variable-length fields. Returns the number of records
 * appended or -EBADMSG / -ENOMEM / -E2BIG (flow.c rolls back). */
#ifndef PROXY_FLOW_IPFIX_H
#define PROXY_FLOW_IPFIX_H
#include "flow_fields.h"

int flow_ipfix_decode(flow_ctx *c, const uint8_t *p, size_t len);
#endif
