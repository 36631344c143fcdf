/* bf_lease: store-based leases so that several instances never work on the same item at once.
 * Bodies are JSON {owner, expires_ms, gen}; a lease has a generation, and taking over an expired lease
 * moves to generation gen+1. Two ways to arbitrate, chosen per store handle automatically:
 *
 * 1. Conditional writes (file store, AWS S3, moto): the lease on name N is "<prefix>/<N>.<gen>" (gen
 *    zero-padded, 10 digits) created with create-exclusive, so two contenders can never both win.
 * 2. Listing fallback, used when create-exclusive answers -ENOTSUP (OpenStack Swift s3api and some
 *    on-prem S3s answer 501); remembered per store handle so later calls go straight to it. A contender
 *    puts "<prefix>/<N>.<gen>.<owner-hash>" (owner-hash: 16 hex digits of a hash of the owner string),
 *    lists "<prefix>/<N>.<gen>." and wins only if its key is the lexicographically smallest one of the
 *    highest generation; a loser deletes its object and gets -EBUSY. Two racing contenders can each see
 *    themselves smallest at different moments, so acquire may briefly return 0 to both; the one whose key
 *    is larger is displaced, and bf_lease_renew / bf_lease_check return -EBUSY to it from then on.
 *
 * Guarantee (both ways): at most one holder passes bf_lease_check at a time, given read-after-write list
 * consistency (AWS S3 since 2020, single-node Swift, the file store) and clocks that agree to well within
 * the TTL. So callers run bf_lease_check right before committing output (the rename/put that makes the
 * work visible) and drop the work on -EBUSY. A passing check also means the lease had not expired.
 * Expiry/takeover and release behave the same on both ways. Release deletes our object and every older
 * generation. Owners must be unique per contender (e.g. instance id); the same owner re-acquiring
 * extends its lease. Errors: 0, -EBUSY held by another live owner (or lost), -EINVAL bad arguments,
 * other -errno from the store. */
#ifndef BF_LEASE_H
#define BF_LEASE_H
#include <stdint.h>
#include "bf_store.h"

typedef struct bf_lease {
    char name[512];
    char owner[256];
    int64_t gen;
    int64_t expires_ms;
    /* 1 when taken with the listing fallback (set by bf_lease_acquire; a zeroed lease means way 1 unless
     * the handle is known to lack conditional writes) */
    int listed;
} bf_lease;

/* prefix: e.g. "_leases/piper"; name: a key-safe name (hash the work key). */
int bf_lease_acquire(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                     bf_lease *out);
/* Extend (rewrites our object); -EBUSY if someone took it over or (fallback) displaced us. */
int bf_lease_renew(bf_store *s, const char *prefix, bf_lease *l, int64_t ttl_ms);
/* Read-only: 0 if we still hold the lease and it has not expired, -EBUSY if it was taken over,
 * displaced by a racing contender, released, or has expired (renew first when near expiry). Call right
 * before committing output. */
int bf_lease_check(bf_store *s, const char *prefix, const bf_lease *l);
int bf_lease_release(bf_store *s, const char *prefix, const bf_lease *l);
#endif
