/* spool_uploader: ack: spool writes and the background upload thread (see spool_uploader.h). */
#include "spool_uploader.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "bf_codec.h"
#include "bf_log.h"
#include "bf_util.h"

#define QUEUE_SUFFIX "/queue"
#define MAX_META 16
#define MAX_PASS 10000          /* entries listed per pass: bounds memory with a huge backlog */

struct rcv_uploader {
    bf_spool *sp;
    bf_store *st;
    rcv_stats *stats;
    int64_t retry_initial_ms, retry_max_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked, idle;    /* idle: the last pass found nothing to upload */
    uint64_t rng;
    char **seen;                /* queues ever seen, for the per-dataset gauge (uploader thread only) */
    size_t nseen;
};

#define MAX_SEEN 4096

typedef struct entry { char *queue; char *name; } entry;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int rcv_spool_put(bf_spool *sp, const char *key, const char *tenant, const char *dataset, int64_t recv_ns,
                  const char *h16, const char *ext, const void *data, int fd, size_t len, const bf_kv *meta,
                  size_t nmeta)
{
    char queue[160], name[64];
    int n1 = snprintf(queue, sizeof queue, "%s/%s" QUEUE_SUFFIX, tenant, dataset);
    int n2 = snprintf(name, sizeof name, "%019lld-%s.%s", (long long)recv_ns, h16, ext);
    if (n1 < 0 || (size_t)n1 >= sizeof queue || n2 < 0 || (size_t)n2 >= sizeof name)
        return -ENAMETOOLONG;
    json_t *m = json_object(), *root = json_object();
    if (!m || !root) {
        json_decref(m);
        json_decref(root);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nmeta; i++)
        json_object_set_new(m, meta[i].key, json_string(meta[i].value));
    json_object_set_new(root, "key", json_string(key));
    json_object_set_new(root, "meta", m);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        return -ENOMEM;
    int rc = data ? bf_spool_write(sp, queue, name, data, len, text) : bf_spool_write_fd(sp, queue, name, fd, len, text);
    free(text);
    return rc;
}

/* "<19 digits>-<16 hex>.<gz|zst>" */
static bool name_ok(const char *name)
{
    size_t i = 0;
    for (; i < 19; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    if (name[i++] != '-')
        return false;
    for (size_t j = 0; j < 16; j++, i++)
        if (!strchr("0123456789abcdef", name[i]) || !name[i])
            return false;
    return !strcmp(name + i, ".gz") || !strcmp(name + i, ".zst");
}

int rcv_spool_validate(void *ud, const char *queue, const char *name, const char *path)
{
    (void)ud;
    if (!ends_with(queue, QUEUE_SUFFIX))
        return 0;
    if (!name_ok(name))
        return -EINVAL;
    char *data = NULL, *meta = NULL, mpath[4096];
    size_t len = 0, mlen = 0;
    int rc = bf_read_file(path, 8, &data, &len);
    if (rc == -EFBIG) {
        /* bigger than the peek size: read just the magic */
        FILE *f = fopen(path, "rb");
        data = malloc(8);
        len = (f && data) ? fread(data, 1, 8, f) : 0;
        if (f)
            fclose(f);
        rc = data ? 0 : -ENOMEM;
    }
    if (rc || len < 4 || bf_codec_detect(data, len) == BF_CODEC_NONE)
        rc = rc ? rc : -EBADMSG;
    free(data);
    if (rc)
        return rc;
    snprintf(mpath, sizeof mpath, "%s.meta", path);
    rc = bf_read_file(mpath, 1 << 20, &meta, &mlen);
    if (rc)
        return rc;
    json_t *j = json_loadb(meta, mlen, 0, NULL);
    free(meta);
    rc = (j && json_is_string(json_object_get(j, "key")) && json_is_object(json_object_get(j, "meta"))) ? 0 : -EBADMSG;
    json_decref(j);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static void free_entries(entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].queue);
        free(e[i].name);
    }
    free(e);
}

/* Every entry of every ".../queue" queue, oldest first (names start with the receive time). */
static int collect(bf_spool *sp, entry **out, size_t *nout)
{
    char **queues = NULL;
    size_t nq = 0, n = 0, cap = 0;
    entry *e = NULL;
    int rc = bf_spool_queues(sp, &queues, &nq);
    if (rc)
        return rc;
    for (size_t q = 0; q < nq && !rc && n < MAX_PASS; q++) {
        char **names = NULL;
        size_t nn = 0;
        if (!ends_with(queues[q], QUEUE_SUFFIX) || bf_spool_list(sp, queues[q], &names, &nn))
            continue;
        for (size_t i = 0; i < nn && !rc && n < MAX_PASS; i++) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                entry *ne = realloc(e, nc * sizeof *e);
                if (!ne) { rc = -ENOMEM; break; }
                e = ne;
                cap = nc;
            }
            e[n].queue = strdup(queues[q]);
            e[n].name = strdup(names[i]);
            n++;
            if (!e[n - 1].queue || !e[n - 1].name)
                rc = -ENOMEM;
        }
        bf_spool_names_free(names, nn);
    }
    bf_spool_names_free(queues, nq);
    if (rc) {
        free_entries(e, n);
        return rc;
    }
    if (n)
        qsort(e, n, sizeof *e, cmp_entry);
    *out = e;
    *nout = n;
    return 0;
}

/* Upload one entry, then remove it. */
static int upload_one(rcv_uploader *u, const entry *e)
{
    char *text = NULL, path[4096];
    int rc = bf_spool_read_meta(u->sp, e->queue, e->name, &text);
    if (rc)
        return rc;
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    const char *key = root ? json_string_value(json_object_get(root, "key")) : NULL;
    json_t *m = root ? json_object_get(root, "meta") : NULL;
    if (!key || !json_is_object(m)) {
        json_decref(root);
        return -EBADMSG;
    }
    bf_kv kv[MAX_META];
    size_t nkv = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (nkv < MAX_META && json_is_string(v))
            kv[nkv++] = (bf_kv){k, json_string_value(v)};
    }
    rc = bf_spool_path(u->sp, e->queue, e->name, path, sizeof path);
    if (!rc)
        rc = bf_store_put_file(u->st, key, path, kv, nkv);
    if (!rc)
        rc = bf_spool_remove(u->sp, e->queue, e->name);
    else
        bf_log_kv(BF_LOG_WARN, "spool upload failed", "key", key, "error", bf_store_errmsg(), NULL);
    json_decref(root);
    return rc;
}

/* Sleep until deadline (monotonic ms) or stop; a kick ends the wait only when kick_wakes. */
static void wait_until(rcv_uploader *u, int64_t deadline, bool kick_wakes)
{
    pthread_mutex_lock(&u->mu);
    while (!u->stop && !(kick_wakes && u->kicked)) {
        int64_t left = deadline - bf_mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        bf_deadline(CLOCK_MONOTONIC, left, &ts);
        pthread_cond_timedwait(&u->cv, &u->mu, &ts);
    }
    u->kicked = false;
    pthread_mutex_unlock(&u->mu);
}

static bool stopping(rcv_uploader *u)
{
    pthread_mutex_lock(&u->mu);
    bool s = u->stop;
    pthread_mutex_unlock(&u->mu);
    return s;
}

static void set_idle(rcv_uploader *u, bool idle)
{
    pthread_mutex_lock(&u->mu);
    u->idle = idle;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

/* Full-jitter exponential backoff: uniform in [delay/2, delay], delay doubling up to retry_max. */
static int64_t backoff_ms(rcv_uploader *u, int attempt)
{
    int64_t d = u->retry_initial_ms;
    for (int i = 1; i < attempt && d < u->retry_max_ms; i++)
        d *= 2;
    if (d > u->retry_max_ms)
        d = u->retry_max_ms;
    return d / 2 + (int64_t)(bf_rand_next(&u->rng) % (uint64_t)(d / 2 + 1));
}

static void remember_queue(rcv_uploader *u, const char *q)
{
    for (size_t i = 0; i < u->nseen; i++)
        if (!strcmp(u->seen[i], q))
            return;
    if (u->nseen == MAX_SEEN)
        return;
    char **ns = realloc(u->seen, (u->nseen + 1) * sizeof *ns);
    if (!ns)
        return;
    u->seen = ns;
    if ((u->seen[u->nseen] = strdup(q)))
        u->nseen++;
}

/* Per-dataset spool gauges: every queue ever seen, so an emptied queue reports 0, not its last value. */
static void update_gauges(rcv_uploader *u)
{
    char **queues = NULL;
    size_t nq = 0;
    if (!bf_spool_queues(u->sp, &queues, &nq)) {
        for (size_t i = 0; i < nq; i++)
            if (ends_with(queues[i], QUEUE_SUFFIX))
                remember_queue(u, queues[i]);
        bf_spool_names_free(queues, nq);
    }
    for (size_t i = 0; i < u->nseen; i++) {
        char t[128], d[128];
        if (sscanf(u->seen[i], "%127[^/]/%127[^/]/", t, d) == 2)
            rcv_stats_spool_dataset(u->stats, t, d, bf_spool_queue_bytes(u->sp, u->seen[i]));
    }
    rcv_stats_spool(u->stats, bf_spool_used(u->sp), bf_spool_max(u->sp));
}

/* One pass over the backlog; returns the number uploaded, or negative when one failed. */
static int pass(rcv_uploader *u)
{
    entry *e = NULL;
    size_t n = 0;
    int rc = collect(u->sp, &e, &n), done = 0;
    update_gauges(u);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !stopping(u); i++) {
        rc = upload_one(u, &e[i]);
        rcv_stats_upload(u->stats, rc);
        if (rc == -EBADMSG) {
            /* a sidecar we cannot read: set it aside instead of blocking the queue forever */
            bf_log_kv(BF_LOG_ERROR, "spool entry without valid metadata quarantined", "queue", e[i].queue,
                      "name", e[i].name, NULL);
            bf_spool_move(u->sp, e[i].queue, e[i].name, "quarantine");
            continue;
        }
        if (rc)
            break;
        done++;
    }
    free_entries(e, n);
    update_gauges(u);
    return rc && rc != -EBADMSG ? rc : done;
}

static void *run(void *arg)
{
    rcv_uploader *u = arg;
    int attempt = 0;
    while (!stopping(u)) {
        int r = pass(u);
        if (r < 0) {
            attempt++;
            set_idle(u, false);
            wait_until(u, bf_mono_ms() + backoff_ms(u, attempt), false);
            continue;
        }
        attempt = 0;
        if (r == 0) {
            set_idle(u, true);
            wait_until(u, bf_mono_ms() + 1000, true);
        }
    }
    return NULL;
}

int rcv_uploader_start(bf_spool *sp, bf_store *st, rcv_stats *stats, int64_t retry_initial_ms,
                       int64_t retry_max_ms, rcv_uploader **out)
{
    rcv_uploader *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->sp = sp;
    u->st = st;
    u->stats = stats;
    u->retry_initial_ms = retry_initial_ms > 0 ? retry_initial_ms : 1000;
    u->retry_max_ms = retry_max_ms >= u->retry_initial_ms ? retry_max_ms : u->retry_initial_ms;
    u->rng = (uint64_t)bf_now_ns() | 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&u->thread, NULL, run, u);
    if (rc) {
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->mu);
        free(u);
        return -rc;
    }
    *out = u;
    return 0;
}

void rcv_uploader_kick(rcv_uploader *u)
{
    pthread_mutex_lock(&u->mu);
    u->kicked = true;
    u->idle = false;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

int rcv_uploader_drain(rcv_uploader *u, int64_t timeout_ms)
{
    int64_t deadline = bf_mono_ms() + timeout_ms;
    rcv_uploader_kick(u);
    for (;;) {
        pthread_mutex_lock(&u->mu);
        bool idle = u->idle && !u->kicked;
        pthread_mutex_unlock(&u->mu);
        if (idle)
            return 0;
        if (bf_mono_ms() >= deadline)
            return -ETIMEDOUT;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void rcv_uploader_stop(rcv_uploader *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->thread, NULL);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    for (size_t i = 0; i < u->nseen; i++)
        free(u->seen[i]);
    free(u->seen);
    free(u);
}
