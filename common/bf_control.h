/* bf_control: client for the control service (DESIGN §10, reference/original-control-and-infra.md §1).
 * Every call sends Authorization: Bearer <api_key>. Successful GET answers are cached on disk under
 * <cache_dir>/control/ so that control being unreachable never stops data flowing.
 * Thread-safe (a curl handle per call). Errors: 0 or -errno (-ENOENT 404, -EACCES 401/403,
 * -ETIMEDOUT/-ECONNREFUSED/-EIO transport). */
#ifndef BF_CONTROL_H
#define BF_CONTROL_H
#include <jansson.h>
#include "bf_tenants.h"

typedef struct bf_control bf_control;
int bf_control_create(const char *url, const char *api_key, const char *account_id, const char *cache_dir,
                      bf_control **out);
void bf_control_destroy(bf_control *c);
/* GET path (e.g. "/api/v1/proxy/config?account_id=a"); on transport failure falls back to the cached
 * answer (*from_cache = 1). Caller owns *out. */
int bf_control_get(bf_control *c, const char *path, json_t **out, int *from_cache);
/* POST/PUT/DELETE with a JSON body (may be NULL); *out may be NULL if the answer is not needed. */
int bf_control_send(bf_control *c, const char *method, const char *path, json_t *body, json_t **out);
/* Walk accounts -> tenants -> datasets (receiver/piper/packer) or the proxy config endpoint
 * (daemon == "proxy") and map it to a registry (tokens, sources, transformations, destinations). */
int bf_control_fetch_registry(bf_control *c, const char *daemon, bf_registry **out, char *err, size_t errlen);
/* Locks (piper lease.mode: control): 0 acquired, -EBUSY held. */
int bf_control_lock(bf_control *c, const char *key, const char *owner, int64_t ttl_ms);
int bf_control_unlock(bf_control *c, const char *key, const char *owner);
#endif
