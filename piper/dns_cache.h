/* dns_cache: a bounded TTL cache of name lookups shared by every dns filter of the process (the
 * original's cache was per record, so useless). Keys are "P:<ip>" (PTR) or "A:<name>" (forward).
 * Failures are cached too (negative entries, value NULL) so a dead name does not cost a lookup per
 * record. Lookups on a miss run on a helper thread and the caller waits at most timeout_ms: the
 * system resolver's own timeouts (5 s x attempts x servers) would otherwise stall a worker, and with
 * it its whole pipeline, on every record of an address whose DNS server does not answer. A lookup
 * that outlives its caller still lands in the cache. At most max_inflight lookups run at once;
 * past that a miss fails at once (-EBUSY) instead of queueing.
 * Thread-safe (one mutex; lookups themselves run outside it).
 * Ownership: dns_cache_create/destroy (destroy returns at once; helpers still running finish on
 * their own and the last one frees what is left); dns_resolve returns a malloc'd string the caller
 * frees. */
#ifndef PIPER_DNS_CACHE_H
#define PIPER_DNS_CACHE_H
#include <stddef.h>
#include <stdint.h>

typedef struct dns_cache dns_cache;
int dns_cache_create(size_t capacity, dns_cache **out);
void dns_cache_destroy(dns_cache *c);
/* Reverse lookup when q is an IP address, forward lookup otherwise. c may be NULL (no caching, and the
 * lookup runs in the caller, without a timeout); timeout_ms <= 0 also waits as long as the resolver.
 * 0 with *out set, -ENOENT when it does not resolve, -ETIMEDOUT, -EBUSY (too many lookups running),
 * -ENOMEM. Timeouts and busy refusals are not cached. */
int dns_resolve(dns_cache *c, const char *q, int64_t ttl_ms, int64_t timeout_ms, int64_t now_ms, char **out);
uint64_t dns_cache_hits(dns_cache *c);
uint64_t dns_cache_misses(dns_cache *c);
uint64_t dns_cache_timeouts(dns_cache *c);

/* The resolver: 0 with *out malloc'd, -ENOENT, -ENOMEM. Replaceable for tests (a slow one). */
typedef int (*dns_lookup_fn)(const char *q, char **out);
void dns_cache_set_lookup(dns_cache *c, dns_lookup_fn fn, unsigned max_inflight);
#endif
