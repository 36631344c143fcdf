/* flow_tmpl: bounded cache of NetFlow v9 / IPFIX (options) templates, keyed by
 * (protocol version, exporter address, source id / observation domain, template id).
 * When full, the least recently used template is evicted (counted by the caller via the return).
 * Ownership: the cache owns the templates and their field arrays; pointers returned by
 * flow_tmpl_find stay valid until the next put/del on the same cache. */
#ifndef PROXY_FLOW_TMPL_H
#define PROXY_FLOW_TMPL_H
#include <stddef.h>
#include <stdint.h>

#define FLOW_TMPL_MAX_FIELDS 512
#define FLOW_VARLEN 0xFFFF

typedef struct flow_field {
    uint16_t id;      /* element id without the enterprise bit */
    uint16_t len;     /* FLOW_VARLEN: IPFIX variable length */
    uint32_t pen;     /* enterprise number, 0 = IANA */
    int16_t def;      /* index in the element table (flow_fields_prepare), -1: not in the table */
    int16_t slot;     /* index of the first table entry with the same output name (duplicate keys) */
} flow_field;

typedef struct flow_tmpl {
    char exporter[48];
    uint32_t domain;
    uint16_t tid;
    uint8_t version;     /* 9 or 10 */
    uint8_t options;     /* 1: options template (its data records describe the exporter, not flows) */
    uint16_t nfields;
    uint16_t nscope;
    uint32_t min_len;    /* record length; for variable-length templates the minimum (1 byte per var field) */
    flow_field *fields;
    int64_t init_ms;     /* pseudo entry (tid 0): the exporter's systemInitTimeMilliseconds */
    uint64_t last_used;
    int32_t next;        /* hash chain */
    int used;
} flow_tmpl;

typedef struct flow_tmpl_cache flow_tmpl_cache;

int flow_tmpl_create(size_t max_templates, flow_tmpl_cache **out);
void flow_tmpl_destroy(flow_tmpl_cache *c);
flow_tmpl *flow_tmpl_find(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid);
/* Adds or replaces a template (fields are copied). Returns 0, 1 when an older template was evicted to make
 * room, -ENOMEM, or -EINVAL (no fields, too many fields, zero record length). */
int flow_tmpl_put(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid,
                  int options, uint16_t nscope, const flow_field *fields, uint16_t nfields);
/* Exporter boot time (IPFIX systemInitTimeMilliseconds, from options data) per (version, exporter, domain),
 * kept in the same bounded table as a pseudo entry with template id 0. set: 0, 1 (evicted) or -ENOMEM;
 * get: 0 when known, else -ENOENT. */
int flow_tmpl_set_init(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, int64_t init_ms);
int flow_tmpl_get_init(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, int64_t *init_ms);
void flow_tmpl_del(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid);
/* Withdraws every template (options: 1 options templates, 0 plain ones) of (version, exporter, domain). */
void flow_tmpl_del_all(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, int options);
size_t flow_tmpl_count(const flow_tmpl_cache *c);
#endif
