/* dlq: the dead-letter queues <tenant>/<dataset>/dlq of the spool: listing, replay (entries move back to
 * queue/, oldest first, and are sent again) and the dlq.max_bytes cap (oldest entries across all
 * datasets evicted first, each eviction counted and logged). Thread-safe (bf_spool is); no state.
 * Errors: 0 or -errno. */
#ifndef PROXY_DLQ_H
#define PROXY_DLQ_H
#include <stdint.h>
#include <jansson.h>
#include "bf_spool.h"

/* {"entries":[{tenant,dataset,name,bytes,meta:{…}}…], "count":N, "bytes":B}; tenant/dataset NULL = all.
 * At most `limit` entries are listed (count/bytes cover all). Caller owns *out. */
int dlq_list(bf_spool *s, const char *tenant, const char *dataset, size_t limit, json_t **out);
/* Move matching DLQ entries back to their queue/. *moved receives the count. */
int dlq_replay(bf_spool *s, const char *tenant, const char *dataset, size_t *moved);
/* Total DLQ bytes (data + meta). */
uint64_t dlq_bytes(bf_spool *s);
/* Evict oldest entries until the DLQ holds at most max_bytes; returns the number evicted (>= 0). */
int dlq_enforce(bf_spool *s, uint64_t max_bytes);
#endif
