/* bf_lease: store-based leases so that several instances never work on the same item at once.
 * A lease on name N lives at "<prefix>/<N>.<gen>" (gen zero-padded, 10 digits) created with
 * create-exclusive; its body is JSON {owner, expires_ms, gen}. Taking over an expired lease creates
 * generation gen+1 exclusively, so two contenders can never both win, without conditional deletes.
 * Release deletes every generation up to ours. Errors: 0, -EBUSY held by another live owner, -errno. */
#ifndef BF_LEASE_H
#define BF_LEASE_H
#include <stdint.h>
#include "bf_store.h"

typedef struct bf_lease {
    char name[512];
    char owner[256];
    int64_t gen;
    int64_t expires_ms;
} bf_lease;

/* prefix: e.g. "_leases/piper"; name: a key-safe name (hash the work key). */
int bf_lease_acquire(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                     bf_lease *out);
/* Extend (rewrites our generation's object); -EBUSY if someone took it over. */
int bf_lease_renew(bf_store *s, const char *prefix, bf_lease *l, int64_t ttl_ms);
int bf_lease_release(bf_store *s, const char *prefix, const bf_lease *l);
#endif
