/* bf_spool: a durable directory queue with a byte quota, shared by the proxy (batches) and the
 * receiver (ack: spool).
 * Layout: <dir>/<queue>/<name>, where queue is a relative path the caller chooses
 * (e.g. "acme/fw/queue", "acme/fw/retry", "acme/fw/dlq"); an optional sidecar "<name>.meta" (JSON).
 * Writes are temp file (".tmp-" prefix) + fsync + rename + fsync dir, so a reader never sees a partial
 * file. At open, temp files are deleted and entries that fail the caller's validate callback are moved
 * to <dir>/quarantine/ (counted), so a corrupt file never causes a crash loop.
 * Names sort in creation order when they embed a zero-padded time (callers do).
 * Thread-safe (one mutex). Errors: 0 or -errno; -ENOSPC when a write would exceed max_bytes
 * (max_bytes 0 = no quota; moves and meta rewrites are never refused). -EINVAL for a queue that is
 * absolute, has empty/"."/".." components, starts with "quarantine", or a name with '/', a ".tmp-"
 * prefix or a ".meta" suffix. Orphan sidecars are removed at open. */
#ifndef BF_SPOOL_H
#define BF_SPOOL_H
#include <stddef.h>
#include <stdint.h>

typedef struct bf_spool bf_spool;
/* Return 0 if the file content is valid, negative to quarantine it. */
typedef int (*bf_spool_validate_fn)(void *ud, const char *queue, const char *name, const char *path);

int bf_spool_open(const char *dir, uint64_t max_bytes, bf_spool_validate_fn validate, void *ud, bf_spool **out);
void bf_spool_close(bf_spool *s);

/* meta_json may be NULL (no sidecar). exempt_quota: DLQ moves are not refused by the quota. */
int bf_spool_write(bf_spool *s, const char *queue, const char *name, const void *data, size_t len,
                   const char *meta_json);
/* The same, with the content copied from the first len bytes of fd (read with pread, in chunks: memory
 * stays bounded whatever len is); -EIO when fd holds fewer. fd is borrowed. */
int bf_spool_write_fd(bf_spool *s, const char *queue, const char *name, int fd, uint64_t len, const char *meta_json);
int bf_spool_read(bf_spool *s, const char *queue, const char *name, size_t max, char **data, size_t *len);
int bf_spool_read_meta(bf_spool *s, const char *queue, const char *name, char **json);   /* -ENOENT if none */
int bf_spool_write_meta(bf_spool *s, const char *queue, const char *name, const char *json);
/* Move between queues (rename, with its meta); keeps the name. */
int bf_spool_move(bf_spool *s, const char *from, const char *name, const char *to);
int bf_spool_remove(bf_spool *s, const char *queue, const char *name);
/* Sorted names in a queue (meta and temp files excluded); caller frees with bf_spool_names_free. */
int bf_spool_list(bf_spool *s, const char *queue, char ***names, size_t *n);
void bf_spool_names_free(char **names, size_t n);
/* Every queue path that holds at least one entry (relative to dir), sorted. */
int bf_spool_queues(bf_spool *s, char ***queues, size_t *n);
/* Full path of an entry into out. */
int bf_spool_path(bf_spool *s, const char *queue, const char *name, char *out, size_t outlen);

uint64_t bf_spool_used(bf_spool *s);        /* bytes of entries + sidecars (quarantine not counted) */
uint64_t bf_spool_max(bf_spool *s);
uint64_t bf_spool_quarantined(bf_spool *s); /* files quarantined at open */
/* Bytes used under one queue prefix (e.g. "acme/fw/dlq"). */
uint64_t bf_spool_queue_bytes(bf_spool *s, const char *queue);
#endif
