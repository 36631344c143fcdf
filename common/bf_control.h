/* bf_control: client for the control service (DESIGN §10, reference/original-control-and-infra.md §1).
 * Every call sends Authorization: Bearer <api_key>. Successful GET answers are cached on disk under
 * <cache_dir>/control/ so that control being unreachable never stops data flowing.
 * Thread-safe (a curl handle per call). Errors: 0 or -errno (-ENOENT 404/410, -EACCES 401/403, -EBUSY 409,
 * -EINVAL other 4xx, -EIO 5xx, -ETIMEDOUT/-ECONNREFUSED/-EIO transport, -EPROTO answer is not JSON).
 * Cache file: <cache_dir>/control/<sha256(url + path)>.json (atomic write). Only transport errors and 5xx
 * fall back to it; 401/404 are reported (a wrong key must be seen, not hidden by a stale cache).
 * cache_dir may be NULL (no cache); account_id may be NULL (walk every account). */
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
 * (daemon == "proxy") and map it to a registry (tokens, sources, transformations, destinations).
 * Mapping: tenant token = config.authentication.bearer_token (proxy: else the api key);
 * dataset source = {type, …config.source.custom, host default "0.0.0.0"} when config.source.type is set;
 * format = config.format or "ndjson"; data_hint and testing kept in raw; piper: pipeline = the
 * transformations' filters (404 or enabled:false = []); output = {uri:"s3://bucket/prefix", region, endpoint,
 * access_key, secret_key, partitioning, parquet} from config.destination/config.parquet.
 * Inactive accounts are skipped; tenants/datasets with invalid ids are skipped with a warning.
 * Any failed request fails the whole fetch (after the cache fallback), so a partial answer never
 * replaces a good registry. The proxy mapping needs account_id. */
int bf_control_fetch_registry(bf_control *c, const char *daemon, bf_registry **out, char *err, size_t errlen);
/* Locks (piper lease.mode: control): 0 acquired, -EBUSY held. key = "tenant/dataset/rest" (tenant and
 * dataset are its first two segments, else -EINVAL); ttl rounded up to whole seconds.
 * POST /api/v1/piper/locks/files and …/release. Unlock: -EBUSY held by another owner, -ENOENT not held. */
int bf_control_lock(bf_control *c, const char *key, const char *owner, int64_t ttl_ms);
int bf_control_unlock(bf_control *c, const char *key, const char *owner);
#endif
