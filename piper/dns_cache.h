/* dns_cache: a bounded TTL cache of name lookups shared by every dns filter of the process (the
 * original's cache was per record, so useless). Keys are "P:<ip>" (PTR) or "A:<name>" (forward).
 * Failures are cached too (negative entries, value NULL) so a dead name does not cost a lookup per
 * record. Thread-safe (one mutex; lookups themselves run outside it).
 * Ownership: dns_cache_create/destroy; dns_resolve returns a malloc'd string the caller frees. */
#ifndef PIPER_DNS_CACHE_H
#define PIPER_DNS_CACHE_H
#include <stddef.h>
#include <stdint.h>

typedef struct dns_cache dns_cache;
int dns_cache_create(size_t capacity, dns_cache **out);
void dns_cache_destroy(dns_cache *c);
/* Reverse lookup when q is an IP address, forward lookup otherwise. c may be NULL (no caching).
 * 0 with *out set, -ENOENT when it does not resolve, -ENOMEM. */
int dns_resolve(dns_cache *c, const char *q, int64_t ttl_ms, int64_t now_ms, char **out);
uint64_t dns_cache_hits(dns_cache *c);
uint64_t dns_cache_misses(dns_cache *c);
#endif
