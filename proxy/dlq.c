/* dlq: see dlq.h. */
#include "dlq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_log.h"
#include "spoolq.h"

/* Splits "t/d/dlq" into t and d; 0 when q is a DLQ path. */
static int dlq_path(const char *q, char *t, char *d)
{
    const char *a = strchr(q, '/');
    if (!a) return -1;
    const char *b = strchr(a + 1, '/');
    if (!b || strcmp(b + 1, "dlq") || a - q > 64 || b - a - 1 > 64) return -1;
    memcpy(t, q, (size_t)(a - q));
    t[a - q] = '\0';
    memcpy(d, a + 1, (size_t)(b - a - 1));
    d[b - a - 1] = '\0';
    return 0;
}

static int match(const char *want, const char *have) { return !want || !*want || !strcmp(want, "*") || !strcmp(want, have); }

typedef int (*dlq_visit)(void *ud, bf_spool *s, const char *q, const char *t, const char *d, char **names, size_t n);

static int each_dlq(bf_spool *s, const char *tenant, const char *dataset, dlq_visit fn, void *ud)
{
    char **qs;
    size_t nq;
    int rc = bf_spool_queues(s, &qs, &nq);
    if (rc) return rc;
    for (size_t i = 0; i < nq && !rc; i++) {
        char t[65], d[65];
        if (dlq_path(qs[i], t, d) || !match(tenant, t) || !match(dataset, d)) continue;
        char **names;
        size_t n;
        if (bf_spool_list(s, qs[i], &names, &n)) continue;
        rc = fn(ud, s, qs[i], t, d, names, n);
        bf_spool_names_free(names, n);
    }
    bf_spool_names_free(qs, nq);
    return rc;
}

typedef struct list_ctx {
    json_t *arr;
    size_t limit, count;
    uint64_t bytes;
} list_ctx;

static int list_visit(void *ud, bf_spool *s, const char *q, const char *t, const char *d, char **names, size_t n)
{
    list_ctx *c = ud;
    c->bytes += bf_spool_queue_bytes(s, q);
    for (size_t i = 0; i < n; i++, c->count++) {
        if (json_array_size(c->arr) >= c->limit) continue;
        char *mj = NULL;
        json_t *meta = NULL;
        if (!bf_spool_read_meta(s, q, names[i], &mj)) meta = json_loads(mj, 0, NULL);
        free(mj);
        json_t *e = json_pack("{s:s, s:s, s:s, s:o}", "tenant", t, "dataset", d, "name", names[i], "meta",
                              meta ? meta : json_object());
        if (!e || json_array_append_new(c->arr, e)) return -ENOMEM;
    }
    return 0;
}

int dlq_list(bf_spool *s, const char *tenant, const char *dataset, size_t limit, json_t **out)
{
    list_ctx c = {json_array(), limit, 0, 0};
    if (!c.arr) return -ENOMEM;
    int rc = each_dlq(s, tenant, dataset, list_visit, &c);
    if (rc) {
        json_decref(c.arr);
        return rc;
    }
    *out = json_pack("{s:o, s:I, s:I}", "entries", c.arr, "count", (json_int_t)c.count, "bytes", (json_int_t)c.bytes);
    return *out ? 0 : -ENOMEM;
}

static int replay_visit(void *ud, bf_spool *s, const char *q, const char *t, const char *d, char **names, size_t n)
{
    size_t *moved = ud;
    char dst[160];
    if (spoolq_queue(t, d, SPOOLQ_QUEUE, dst, sizeof dst)) return 0;
    for (size_t i = 0; i < n; i++) {
        int rc = bf_spool_move(s, q, names[i], dst);
        if (rc) {
            bf_log_kv(BF_LOG_ERROR, "dlq replay: move failed", "name", names[i], "error", strerror(-rc), NULL);
            continue;
        }
        (*moved)++;
        /* a replayed entry starts over: no inherited retry count (backoff), the reason says why it is back */
        char *mj = NULL;
        if (!bf_spool_read_meta(s, dst, names[i], &mj)) {
            spoolq_meta m;
            spoolq_meta_init(&m);
            if (!spoolq_meta_parse(mj, &m)) {
                m.retry_count = 0;
                snprintf(m.status, sizeof m.status, "queue");
                snprintf(m.trigger_reason, sizeof m.trigger_reason, "dlq_replay");
                char *nj = spoolq_meta_json(&m, t, d, names[i]);
                if (nj) bf_spool_write_meta(s, dst, names[i], nj);
                free(nj);
            }
            free(mj);
        }
    }
    return 0;
}

int dlq_replay(bf_spool *s, const char *tenant, const char *dataset, size_t *moved)
{
    *moved = 0;
    return each_dlq(s, tenant, dataset, replay_visit, moved);
}

static int bytes_visit(void *ud, bf_spool *s, const char *q, const char *t, const char *d, char **names, size_t n)
{
    (void)t, (void)d, (void)names, (void)n;
    *(uint64_t *)ud += bf_spool_queue_bytes(s, q);
    return 0;
}

uint64_t dlq_bytes(bf_spool *s)
{
    uint64_t b = 0;
    each_dlq(s, NULL, NULL, bytes_visit, &b);
    return b;
}

typedef struct oldest_ctx {
    int64_t ns;
    char q[160], name[SPOOLQ_NAME_MAX];
} oldest_ctx;

static int oldest_visit(void *ud, bf_spool *s, const char *q, const char *t, const char *d, char **names, size_t n)
{
    (void)s, (void)t, (void)d;
    oldest_ctx *o = ud;
    for (size_t i = 0; i < n; i++) {
        int64_t ns;
        if (spoolq_parse_name(names[i], &ns, NULL, NULL)) continue;
        if (o->ns < 0 || ns < o->ns) {
            o->ns = ns;
            snprintf(o->q, sizeof o->q, "%s", q);
            snprintf(o->name, sizeof o->name, "%s", names[i]);
        }
        break; /* names are sorted: the first parseable one is this queue's oldest */
    }
    return 0;
}

int dlq_enforce(bf_spool *s, uint64_t max_bytes)
{
    int evicted = 0;
    while (dlq_bytes(s) > max_bytes) {
        oldest_ctx o = {-1, "", ""};
        each_dlq(s, NULL, NULL, oldest_visit, &o);
        if (o.ns < 0) break;
        int rc = bf_spool_remove(s, o.q, o.name);
        if (rc) {
            bf_log_kv(BF_LOG_ERROR, "dlq eviction failed", "name", o.name, "error", strerror(-rc), NULL);
            break;
        }
        evicted++;
        bf_log_kv(BF_LOG_WARN, "dlq over dlq.max_bytes: evicted oldest entry", "queue", o.q, "name", o.name, NULL);
    }
    return evicted;
}
