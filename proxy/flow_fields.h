/* flow_fields: the NetFlow v9 / IPFIX information-element table (element id → output name and value
 * type) and the decoder of one data record through a template. v9 field types 1-127 are the IPFIX
 * element ids, so both protocols share the table and therefore the field names
 * (src_addr, dst_addr, src_port, dst_port, protocol, bytes, packets, …). Elements not in the table are
 * kept as "ie<id>" (IANA) or "ie<pen>_<id>" (enterprise): integers up to 8 bytes, else hex; RFC 5103
 * reverse elements (enterprise 29305) become "reverse_<name>". Within one record the first element
 * with a given output name wins (a template with both IPv4 and IPv6 sources gives one src_addr). */
#ifndef PROXY_FLOW_FIELDS_H
#define PROXY_FLOW_FIELDS_H
#include <stddef.h>
#include <stdint.h>
#include "flow.h"
#include "flow_json.h"
#include "flow_tmpl.h"

/* What every decoder needs for one datagram (borrowed pointers). */
typedef struct flow_ctx {
    flow_tmpl_cache *tc;
    flow_stats *st;
    const char *exporter;   /* never NULL ("" when unknown) */
    int64_t recv_ms;
    bf_buf *out;
    fj_prefix pre;          /* record prefix of this datagram (fj_begin) */
} flow_ctx;

/* Stores a parsed template (prepares its fields) and counts the outcome in ctx->st. 0 or -ENOMEM. */
int flow_fields_store(flow_ctx *c, uint8_t version, uint32_t domain, uint16_t tid, int options, uint16_t nscope,
                      flow_field *fields, uint16_t nfields);

typedef struct flow_time_base {
    int has_uptime;        /* v9: sysUpTime-relative fields (21/22) can be made absolute */
    int64_t unix_ms;       /* header export time (ms) */
    int64_t uptime_ms;     /* header sysUpTime (ms) */
    int has_init;          /* IPFIX: exporter boot time known from options data (IE 160) */
    int64_t init_ms;
} flow_time_base;

/* Resolves each field's table entry once, when a template is stored (sets def and slot). */
void flow_fields_prepare(flow_field *fields, uint16_t n);
/* Decodes one record at p (avail bytes) with the template's fields, writing ,"name":value pairs.
 * *used gets the record length. Returns 0 or -EBADMSG (a variable-length field runs past avail). */
int flow_fields_record(fj *w, const flow_tmpl *t, const uint8_t *p, size_t avail, size_t *used,
                       const flow_time_base *tb);
/* Only the length of the record (options records are skipped, not written). 0 or -EBADMSG.
 * If want_ie is not 0 and the record holds that IANA element as an integer (<= 8 bytes), *found is
 * set to 1 and *value to it. */
int flow_fields_skip(const flow_tmpl *t, const uint8_t *p, size_t avail, size_t *used, uint16_t want_ie,
                     uint64_t *value, int *found);
/* An options data record: its length in *used; remembers the exporter boot time (IE 160) for the
 * (exporter, domain) so that later sysUpTime-relative times become absolute. 0 or -EBADMSG / -ENOMEM. */
int flow_fields_options(flow_ctx *c, const flow_tmpl *t, uint32_t domain, const uint8_t *p, size_t avail,
                        size_t *used);
/* One NetFlow v9 (version 9) or IPFIX (10) data set of template tid: a record per data record, of flow
 * type `type` with the domain under `domain_key`; options records only update the boot time. Returns
 * the number of records written (0 when the template is unknown: counted), or -EBADMSG / -ENOMEM. */
int flow_fields_data_set(flow_ctx *c, uint8_t version, const char *type, const char *domain_key, uint32_t domain,
                         uint16_t tid, const uint8_t *p, size_t n, const flow_time_base *tb);
/* Table lookup, for tests: output name of an IANA element id, or NULL. */
const char *flow_fields_name(uint16_t id);
#endif
