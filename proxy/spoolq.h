/* spoolq: the proxy's spool conventions over bf_spool (DESIGN §5.2):
 *   queue paths  <tenant>/<dataset>/{queue,retry,dlq}
 *   entry names  <tenant>--<dataset>--<unix_ns, 19 digits>--<hint>.<gz|zst|raw>   (sort = batch order;
 *                raw = uncompressed, written when the spool writer fell behind the inputs)
 *   .meta JSON   in retry/ and dlq/ (the original proxy's SpooledFile fields plus span_ns)
 * Each batch owns the name-time interval [ns, ns + span): a 413 split gives the halves
 * [ns, ns+span/2) and [ns+span/2, ns+span), so split halves sort exactly where their parent was.
 * Pure helpers plus the open-time validate callback; no state. Errors: 0 or -errno. */
#ifndef PROXY_SPOOLQ_H
#define PROXY_SPOOLQ_H
#include <stddef.h>
#include <stdint.h>
#include "bf_codec.h"

#define SPOOLQ_SPAN_NS 65536LL     /* batches of one dataset are named at least this far apart */
#define SPOOLQ_NAME_MAX 200

typedef enum { SPOOLQ_QUEUE = 0, SPOOLQ_RETRY, SPOOLQ_DLQ } spoolq_kind;

typedef struct spoolq_meta {
    int64_t retry_count;
    int64_t span_ns;
    int64_t lines;          /* -1 unknown */
    int64_t orig_bytes;     /* -1 unknown */
    int64_t comp_bytes;
    int64_t created_ms;     /* batch seal time */
    int64_t last_retry_ms;
    char status[16];        /* retry | dlq */
    char failure_reason[160];
    char trigger_reason[40];
} spoolq_meta;

const char *spoolq_kind_name(spoolq_kind k);        /* "queue", "retry", "dlq" */
int spoolq_queue(const char *tenant, const char *dataset, spoolq_kind k, char *out, size_t outlen);
int spoolq_name(const char *tenant, const char *dataset, int64_t ns, const char *hint, bf_codec c,
                char *out, size_t outlen);
/* Time, hint (buffer >= 65 bytes) and codec of a name (any output may be NULL). -EINVAL if malformed. */
int spoolq_parse_name(const char *name, int64_t *ns, char *hint, bf_codec *c);

/* JSON text (caller frees) for a meta; tenant/dataset/name are written as the original's fields too. */
char *spoolq_meta_json(const spoolq_meta *m, const char *tenant, const char *dataset, const char *name);
/* Parse; missing fields keep the defaults set by spoolq_meta_init. */
void spoolq_meta_init(spoolq_meta *m);
int spoolq_meta_parse(const char *json, spoolq_meta *m);

/* Decompress-count: records ('\n'-terminated lines) and uncompressed bytes. -EBADMSG when corrupt. */
int spoolq_count(bf_codec c, const void *data, size_t len, uint64_t max_out, int64_t *lines, int64_t *orig);
/* Split a compressed NDJSON batch into two halves at a line boundary (by record count).
 * -ERANGE when it holds fewer than two records. Outputs are malloc'd (caller frees). */
typedef struct spoolq_half {
    char *data;
    size_t len;
    int64_t lines, orig_bytes;
} spoolq_half;
int spoolq_split(bf_codec c, int level, const void *data, size_t len, uint64_t max_out, spoolq_half out[2]);

/* bf_spool validate callback: decodes the whole entry (ud = NULL). */
int spoolq_validate(void *ud, const char *queue, const char *name, const char *path);
#endif
