/* flow_json: the NDJSON record writer shared by the flow decoders. A writer carries a sticky error so
 * decoders can write a whole record and check once; keys are ASCII literals (no escaping needed).
 * Ownership: the writer borrows the bf_buf. */
#ifndef PROXY_FLOW_JSON_H
#define PROXY_FLOW_JSON_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

typedef struct fj {
    bf_buf *b;
    int rc;   /* first error of any call (0 / -ENOMEM / -E2BIG); later calls do nothing */
} fj;

/* The common start of every record of one datagram, written once and then copied. */
typedef struct fj_prefix {
    char s[256];
    size_t n;               /* 0: not built yet */
    const char *flow_type;  /* the type it was built for (compared by pointer) */
} fj_prefix;

/* {"BfTs":recv_ms,"timestamp":"<RFC 3339 ms>","source_ip":"<exporter>","flow_type":"<type>"
 * pre (may be NULL) caches it for the next records of the same datagram. */
void fj_begin(fj *w, bf_buf *b, fj_prefix *pre, int64_t recv_ms, const char *exporter, const char *flow_type);
void fj_u64(fj *w, const char *key, uint64_t v);   /* > INT64_MAX: written as a decimal string */
void fj_i64(fj *w, const char *key, int64_t v);
void fj_str(fj *w, const char *key, const char *s, size_t n);   /* JSON-escaped, invalid UTF-8 → U+FFFD */
void fj_ip4(fj *w, const char *key, const uint8_t a[4]);
void fj_ip6(fj *w, const char *key, const uint8_t a[16]);
void fj_mac(fj *w, const char *key, const uint8_t a[6]);
void fj_hex(fj *w, const char *key, const uint8_t *p, size_t n);
void fj_end(fj *w);   /* "}\n" */

/* Big-endian readers; callers check lengths first. */
static inline uint16_t fj_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t fj_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t fj_rd64(const uint8_t *p) { return (uint64_t)fj_rd32(p) << 32 | fj_rd32(p + 4); }
/* 1..8 bytes, big-endian (IPFIX reduced-size encoding) */
static inline uint64_t fj_rdn(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}
#endif
