/* bf_store: one object-store interface, two backends chosen by URI (DESIGN §4):
 *   file:///dir/prefix   put = temp + fsync + rename (+ fsync dir); list lexicographic and paginated;
 *                        create-exclusive with O_EXCL (link(2) of a complete temp file)
 *   s3://bucket/prefix   SigV4 over libcurl (path or virtual-host style, region, endpoint, session token),
 *                        multipart above s3.multipart_threshold, ListObjectsV2 with continuation,
 *                        conditional create with If-None-Match: *, retries with exponential backoff + full
 *                        jitter bounded by s3.retry_deadline, pooled keep-alive connections.
 * Keys are relative to the URI prefix and use '/' separators. A handle is safe for concurrent use by
 * many threads. Errors (negative errno):
 *   -ENOENT no such key, -EEXIST conditional create lost, -EACCES denied/bad signature,
 *   -EINVAL bad key/URI/metadata, -ETIMEDOUT / -EAGAIN store unavailable after retries,
 *   -ENOTSUP the server lacks a feature (Swift s3api: conditional PUT), -EFBIG too large, -EIO other.
 * Keys: '/'-separated, no empty, "." or ".." segments, no leading '/', no control bytes, <= 1024 bytes.
 * User metadata: names [A-Za-z0-9-] (case-insensitive, returned lower-case; '_' is refused because many
 * HTTP servers drop such headers), values printable ASCII without surrounding spaces, 2 KiB in total.
 * Metrics (when given): histogram bytefreezer_store_request_seconds{op="put|create|get|head|delete|list"} (whole
 * operation, retries included) and counter bytefreezer_store_errors_total{op} (not-found and lost creates excluded).
 * The last error text of the calling thread (S3 error code and message) is in bf_store_errmsg(). */
#ifndef BF_STORE_H
#define BF_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "bf_config.h"
#include "bf_metrics.h"
#include "bf_codec.h"

typedef struct bf_store bf_store;

typedef struct bf_kv { const char *key; const char *value; } bf_kv;

typedef struct bf_store_info {
    int64_t size;
    int64_t mtime_ms;
    char etag[80];
    /* user metadata (x-amz-meta-*, or the file backend's sidecar); owned by the info, see bf_store_info_free */
    bf_kv *meta;
    size_t nmeta;
} bf_store_info;
void bf_store_info_free(bf_store_info *i);
const char *bf_store_info_meta(const bf_store_info *i, const char *key);

typedef struct bf_store_obj { char *key; int64_t size; int64_t mtime_ms; char etag[80]; } bf_store_obj;
typedef struct bf_store_list {
    bf_store_obj *items; size_t n;
    char *next;          /* continuation token, NULL when this was the last page */
} bf_store_list;
void bf_store_list_free(bf_store_list *l);

/* s3 may be NULL for file:// URIs. metrics may be NULL; else store latency histograms are recorded
 * as bytefreezer_store_request_seconds{op=…}. */
int bf_store_open(const char *uri, const bf_s3_config *s3, bf_metrics *metrics, bf_store **out,
                  char *err, size_t errlen);
void bf_store_close(bf_store *s);
const char *bf_store_uri(const bf_store *s);
const char *bf_store_errmsg(void);   /* thread-local; valid until the thread's next store call */

/* Whole-object put from memory; meta (may be NULL) is stored as user metadata. */
int bf_store_put(bf_store *s, const char *key, const void *data, size_t len, const bf_kv *meta, size_t nmeta);
/* Put from a local file, multipart when larger than the threshold. */
int bf_store_put_file(bf_store *s, const char *key, const char *path, const bf_kv *meta, size_t nmeta);
/* 1 once a create-exclusive on this handle answered -ENOTSUP (the server has no conditional writes,
 * e.g. Swift's s3api); leases then use their listing-based protocol (bf_lease.h). */
int bf_store_lacks_cond_put(bf_store *s);
/* Create only if absent: -EEXIST when it exists. */
int bf_store_create_exclusive(bf_store *s, const char *key, const void *data, size_t len,
                              const bf_kv *meta, size_t nmeta);
/* Streaming get: the sink receives the body in chunks; info (may be NULL) filled from headers. */
int bf_store_get(bf_store *s, const char *key, bf_sink_fn sink, void *ud, bf_store_info *info);
/* Get into memory; -EFBIG when larger than max. Caller frees *data. */
int bf_store_get_mem(bf_store *s, const char *key, size_t max, char **data, size_t *len, bf_store_info *info);
int bf_store_head(bf_store *s, const char *key, bf_store_info *info);
int bf_store_delete(bf_store *s, const char *key);     /* deleting a missing key is 0 */
/* One page of keys under prefix, lexicographic; token = previous page's next or NULL; max 1..1000.
 * (Named _page because C cannot have a function and the bf_store_list type under one name.) */
int bf_store_list_page(bf_store *s, const char *prefix, const char *token, size_t max, bf_store_list *out);
/* Convenience: every key under prefix (all pages), up to limit entries. */
int bf_store_list_all(bf_store *s, const char *prefix, size_t limit, bf_store_list *out);
/* Is the store reachable (list of 1 key under the prefix succeeds)? 0 or error. */
int bf_store_ping(bf_store *s);

/* ---- Backend interface (used by bf_store.c and the bf_store_<scheme>.c backends only) ----
 * The front-end validates keys (no empty or "."/".." segments, no leading '/'), meta names and the list
 * size, records metrics, and fills bf_store_errmsg() when a backend returns an error without text.
 * Backends get keys relative to the URI prefix. `rest` is the URI after "scheme://". */
typedef struct bf_store_ops {
    const char *scheme;   /* "file", "s3" */
    int (*open)(const char *rest, const bf_s3_config *s3, void **be, char *err, size_t errlen);
    void (*close)(void *be);
    /* exclusive: create only if absent (-EEXIST) */
    int (*put)(void *be, const char *key, const void *data, size_t len, const bf_kv *meta, size_t nmeta,
               int exclusive);
    int (*put_file)(void *be, const char *key, const char *path, const bf_kv *meta, size_t nmeta);
    int (*get)(void *be, const char *key, bf_sink_fn sink, void *ud, bf_store_info *info);
    int (*head)(void *be, const char *key, bf_store_info *info);
    int (*del)(void *be, const char *key);
    int (*list)(void *be, const char *prefix, const char *token, size_t max, bf_store_list *out);
} bf_store_ops;
/* The backend state of an open store and its ops (for backend-specific helpers). */
void *bf_store_backend(bf_store *s, const bf_store_ops **ops);
/* Set the calling thread's error text (printf-style). */
void bf_store_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append one user-metadata pair (copied; key lower-cased) to an info. 0 or -ENOMEM. */
int bf_store_info_add_meta(bf_store_info *i, const char *k, size_t klen, const char *v, size_t vlen);
/* Append one listing entry (key copied). 0 or -ENOMEM. */
int bf_store_list_add(bf_store_list *l, size_t *cap, const char *key, size_t klen, int64_t size, int64_t mtime_ms,
                      const char *etag);
#endif
