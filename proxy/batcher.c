/* batcher: see batcher.h. */
#include "batcher.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "bf_buf.h"
#include "bf_log.h"
#include "bf_util.h"
#include "spoolq.h"

#define RETRY_WRITE_MS 250

typedef struct batch {
    struct batch *next;
    bstream *st;
    uv_work_t work;
    char *data, *comp;
    size_t len, comp_len, records;
    int64_t created_ms, ns;
    uint64_t seq;
    bf_codec codec;             /* decided when the writer first takes it (see choose_codec) */
    int level;
    int named;
    char name[SPOOLQ_NAME_MAX];
    int rc;
} batch;

struct bstream {
    batcher *b;
    char tenant[65], dataset[65], queue[160];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bf_buf buf;                 /* open batch */
    size_t records;
    int64_t first_mono_ms;
    int64_t last_ns;
    uint64_t sealed_seq, durable_seq;
    batch *head, *tail;         /* sealed, waiting for the writer, in seal order */
    int writing;                /* loop thread only */
    int64_t retry_at_mono;      /* loop thread only: after a failed write */
    bf_counter *c_records, *c_bytes, *c_batches, *c_spooled, *c_drops, *c_write_err, *c_raw, *c_fast;
    struct bstream *next;
};

struct batcher {
    uv_loop_t *loop;
    batcher_opts o;
    char hint[32];
    bf_spool *spool;
    bf_metrics *m;
    batcher_spooled_fn cb;
    void *cb_ud;
    uv_async_t async;
    uv_timer_t timer;
    int closing;
    pthread_mutex_t mu;         /* guards the stream list */
    bstream *streams;
    atomic_uint_fast64_t pending_bytes;
    atomic_int pressure, blocked;
    int renice;                 /* pool threads lower their priority while compressing */
    atomic_int shutting, waiters;   /* batcher_wait callers (other threads) leave before destroy frees */
    atomic_int_fast64_t last_drop_ms;
};

static void kick(bstream *s);

/* ---- sealing (any thread, stream lock held) ---- */

static int seal_locked(bstream *s)
{
    if (!s->buf.len) return 0;
    batch *bt = calloc(1, sizeof *bt);
    if (!bt) return -ENOMEM;
    int64_t ns = bf_now_ns();
    if (ns < s->last_ns + SPOOLQ_SPAN_NS) ns = s->last_ns + SPOOLQ_SPAN_NS;
    s->last_ns = ns;
    bt->st = s;
    bt->created_ms = ns / 1000000;
    bt->ns = ns;
    bt->records = s->records;
    bt->seq = ++s->sealed_seq;
    bt->data = bf_buf_steal(&s->buf, &bt->len);
    s->records = 0;
    if (s->tail) s->tail->next = bt;
    else s->head = bt;
    s->tail = bt;
    atomic_fetch_add(&s->b->pending_bytes, bt->len);
    bf_counter_add(s->c_batches, 1);
    uv_async_send(&s->b->async);
    return 0;
}

/* How much of data (whole records) fits in the open batch: at most room_r records and room_b bytes,
 * but at least one record when the batch is empty (a record larger than max_bytes is a batch of its
 * own). Returns the byte count (0 = seal first) and the record count in *n. */
static size_t fit(const char *data, size_t len, size_t room_r, size_t room_b, int empty, size_t *n)
{
    size_t take = 0;
    *n = 0;
    while (*n < room_r && take < len) {
        const char *nl = memchr(data + take, '\n', len - take);
        size_t end = nl ? (size_t)(nl - data) + 1 : len;
        if (end > room_b && !(empty && *n == 0)) break;
        take = end;
        (*n)++;
    }
    return take;
}

int batcher_append(bstream *s, const char *data, size_t len, size_t records, uint64_t *seq)
{
    if (!len) {
        if (seq) *seq = 0;
        return 0;
    }
    batcher *b = s->b;
    uint64_t last = 0;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    while (len && !rc) {
        size_t room_r = b->o.max_records - s->records;
        size_t room_b = b->o.max_bytes > s->buf.len ? b->o.max_bytes - s->buf.len : 0;
        size_t take = len, n = records;
        if (records > room_r || len > room_b) take = fit(data, len, room_r, room_b, s->buf.len == 0, &n);
        if (!take) {   /* the next record does not fit: this batch is done */
            rc = seal_locked(s);
            continue;
        }
        /* reserve a whole batch at once: growing by doubling would copy each batch about twice more */
        if (!s->buf.cap) bf_buf_reserve(&s->buf, b->o.max_bytes + 65536);
        if ((rc = bf_buf_append(&s->buf, data, take))) break;
        if (!s->records && s->buf.len == take) s->first_mono_ms = bf_mono_ms();
        s->records += n;
        last = s->sealed_seq + 1;
        bf_counter_add(s->c_records, n);
        bf_counter_add(s->c_bytes, take);
        data += take;
        len -= take;
        records = records > n ? records - n : 0;
        if (s->buf.len >= b->o.max_bytes || s->records >= b->o.max_records) rc = seal_locked(s);
    }
    pthread_mutex_unlock(&s->mu);
    if (seq) *seq = last;
    return rc;
}

void batcher_flush(bstream *s)
{
    pthread_mutex_lock(&s->mu);
    if (seal_locked(s)) BF_WARN("batcher: could not seal a batch (out of memory); retried on the next tick");
    pthread_mutex_unlock(&s->mu);
}

void batcher_floor_ns(bstream *s, int64_t ns)
{
    pthread_mutex_lock(&s->mu);
    if (ns > s->last_ns) s->last_ns = ns;
    pthread_mutex_unlock(&s->mu);
}

int batcher_wait(bstream *s, uint64_t seq, int64_t timeout_ms)
{
    struct timespec ts;
    bf_deadline(CLOCK_REALTIME, timeout_ms, &ts);
    int rc = 0;
    atomic_fetch_add(&s->b->waiters, 1);
    pthread_mutex_lock(&s->mu);
    while (s->durable_seq < seq && rc == 0 && !atomic_load(&s->b->shutting))
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    int ok = s->durable_seq >= seq;
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_sub(&s->b->waiters, 1);
    return ok ? 0 : -ETIMEDOUT;
}

void batcher_note_drop(bstream *s, uint64_t n)
{
    bf_counter_add(s->c_drops, n);
    atomic_store(&s->b->last_drop_ms, bf_now_ms());
}

/* ---- writing (thread pool, then loop) ---- */

/* Compression runs at a lower priority than the receive threads: on a busy core a UDP socket buffer
 * holds only tens of milliseconds of datagrams, while compressing a batch takes about as long.
 * Linux nice values are per thread; lowering one's own needs no privilege (raising it back may, see
 * can_renice). The priority is restored right after compressing: the spool write must not lag, and
 * libuv signals the loop with uv_async_send after work_cb returns; a loop thread that wakes while the
 * sender is still inside it spins until the sender runs again, which a nice-10 thread sharing a core
 * with nice -20 ones hardly does (measured: 9 % of the proxy's CPU in that spin). */
static int lower_priority(batcher *b)
{
    if (!b->renice) return 10;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int old = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno == 0 && old < 10) setpriority(PRIO_PROCESS, (id_t)tid, 10);
    return errno == 0 ? old : 10;
}

static void restore_priority(int old)
{
    if (old < 10) setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), old);
}

/* Whether a thread may raise its nice value back to the process's: root, or RLIMIT_NICE allowing it
 * (the floor is 20 - rlim_cur). Without that right, compression runs at normal priority: better than
 * a pool thread stuck at nice 10 and the spin above. */
static int can_renice(void)
{
    struct rlimit rl;
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, 0);
    if (errno) return 0;
    if (geteuid() == 0) return 1;
    return getrlimit(RLIMIT_NICE, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || 20 - (long long)rl.rlim_cur <= cur);
}

/* Bytes of other sealed batches waiting behind bt for the writer. */
static uint64_t behind(const batcher *b, const batch *bt)
{
    uint64_t pend = atomic_load(&b->pending_bytes);
    return pend > bt->len ? pend - bt->len : 0;
}

static void work_cb(uv_work_t *w)
{
    batch *bt = w->data;
    batcher *b = bt->st->b;
    int rc = 0;
    if (bt->codec != BF_CODEC_NONE && !bt->comp) {   /* a retried write keeps what it compressed */
        int prio = lower_priority(b);
        rc = bf_compress(bt->codec, bt->level, bt->data, bt->len, &bt->comp, &bt->comp_len);
        restore_priority(prio);   /* the write itself, like an uncompressed batch's, must not lag */
    }
    const char *out = bt->codec == BF_CODEC_NONE ? bt->data : bt->comp;
    size_t n = bt->codec == BF_CODEC_NONE ? bt->len : bt->comp_len;
    bt->rc = rc ? rc : bf_spool_write(b->spool, bt->st->queue, bt->name, out, n, NULL);
}

static void after_cb(uv_work_t *w, int status)
{
    batch *bt = w->data;
    bstream *s = bt->st;
    batcher *b = s->b;
    if (status == UV_ECANCELED) bt->rc = -ECANCELED;
    if (bt->rc) {
        s->writing = 0;
        s->retry_at_mono = bf_mono_ms() + RETRY_WRITE_MS;
        if (bt->rc == -ENOSPC) {
            atomic_store(&b->blocked, 1);
            BF_DEBUG("batcher: spool full, %s/%s waits", s->tenant, s->dataset);
        } else {
            bf_counter_add(s->c_write_err, 1);
            bf_log_kv(BF_LOG_ERROR, "spool write failed, will retry", "tenant", s->tenant, "dataset", s->dataset,
                      "error", strerror(-bt->rc), NULL);
        }
        return;
    }
    atomic_store(&b->blocked, 0);
    pthread_mutex_lock(&s->mu);
    s->head = bt->next;
    if (!s->head) s->tail = NULL;
    s->durable_seq = bt->seq;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    s->writing = 0;
    atomic_fetch_sub(&b->pending_bytes, bt->len);
    size_t stored = bt->codec == BF_CODEC_NONE ? bt->len : bt->comp_len;
    bf_counter_add(s->c_spooled, stored);
    char **body = bt->codec == BF_CODEC_NONE ? &bt->data : &bt->comp;
    batcher_spooled info = {s->tenant, s->dataset, bt->name, (int64_t)bt->records, (int64_t)bt->len,
                            (int64_t)stored, bt->created_ms, *body, stored};
    *body = NULL;
    if (b->cb) b->cb(b->cb_ud, &info);
    free(info.body);
    free(bt->data);
    free(bt->comp);
    free(bt);
    kick(s);
}

/* The codec and level of a batch, fixed when the writer first takes it (a retried write keeps them, and
 * its name). When at least raw_backlog bytes of other sealed batches are waiting, the writer is not
 * keeping up: compressing would take CPU from the inputs until UDP datagrams are lost, so the batch is
 * spooled and sent uncompressed instead (the receiver compresses it for the intake). Nothing is lost
 * for want of CPU; only the upload is larger. Before that, from a quarter of raw_backlog, a zstd batch
 * is compressed at fast_level: measured at 500k datagrams/s on one core, the share of batches that
 * had to go uncompressed fell from ~75 % to ~20 % (zstd -5 runs ~25 % faster than -1 on syslog JSON,
 * at 3.3x instead of 5.1x). */
static int choose_codec(bstream *s, batch *bt)
{
    batcher *b = s->b;
    if (bt->named) return 0;
    uint64_t back = behind(b, bt), quarter = b->o.raw_backlog / 4 ? b->o.raw_backlog / 4 : 1;
    bt->codec = b->o.raw_backlog && back >= b->o.raw_backlog ? BF_CODEC_NONE : b->o.codec;
    bt->level = b->o.level;
    int fast = bt->codec == BF_CODEC_ZSTD && b->o.raw_backlog && b->o.fast_level && back >= quarter &&
               (b->o.level == 0 || b->o.fast_level < b->o.level);   /* 0: zstd's default, 3 */
    if (fast) bt->level = b->o.fast_level;
    if (spoolq_name(s->tenant, s->dataset, bt->ns, b->hint, bt->codec, bt->name, sizeof bt->name))
        return -ENAMETOOLONG;
    if (bt->codec != b->o.codec) bf_counter_add(s->c_raw, 1);   /* not when none is configured */
    if (fast) bf_counter_add(s->c_fast, 1);
    bt->named = 1;
    return 0;
}

static void kick(bstream *s)
{
    if (s->writing || s->b->closing || bf_mono_ms() < s->retry_at_mono) return;
    pthread_mutex_lock(&s->mu);
    batch *bt = s->head;
    pthread_mutex_unlock(&s->mu);
    if (!bt) return;
    if (choose_codec(s, bt)) {   /* cannot happen with ids of at most 64 bytes; keep it queued, loudly */
        BF_WARN("batcher: batch name too long for %s/%s", s->tenant, s->dataset);
        s->retry_at_mono = bf_mono_ms() + RETRY_WRITE_MS;
        return;
    }
    bt->work.data = bt;
    s->writing = 1;
    int rc = uv_queue_work(s->b->loop, &bt->work, work_cb, after_cb);
    if (rc) {
        s->writing = 0;
        s->retry_at_mono = bf_mono_ms() + RETRY_WRITE_MS;
    }
}

static void update_pressure(batcher *b)
{
    uint64_t pend = atomic_load(&b->pending_bytes);
    uint64_t used = bf_spool_used(b->spool), max = bf_spool_max(b->spool);
    int p = atomic_load(&b->blocked) || pend > b->o.max_pending || used + pend + b->o.max_bytes > max;
    atomic_store(&b->pressure, p);
}

static void kick_all(batcher *b)
{
    pthread_mutex_lock(&b->mu);
    bstream *list = b->streams;
    pthread_mutex_unlock(&b->mu);
    for (bstream *s = list; s; s = s->next) kick(s);   /* streams are only ever prepended: list is stable */
    update_pressure(b);
}

static void async_cb(uv_async_t *a) { kick_all(a->data); }

static void timer_cb(uv_timer_t *t)
{
    batcher *b = t->data;
    int64_t now = bf_mono_ms();
    pthread_mutex_lock(&b->mu);
    bstream *list = b->streams;
    pthread_mutex_unlock(&b->mu);
    for (bstream *s = list; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        if (s->buf.len && now - s->first_mono_ms >= b->o.max_age_ms) seal_locked(s);
        pthread_mutex_unlock(&s->mu);
    }
    kick_all(b);
}

/* ---- lifecycle ---- */

bstream *batcher_stream(batcher *b, const char *tenant, const char *dataset)
{
    pthread_mutex_lock(&b->mu);
    bstream *s;
    for (s = b->streams; s; s = s->next)
        if (!strcmp(s->tenant, tenant) && !strcmp(s->dataset, dataset)) break;
    if (!s && strlen(tenant) < sizeof s->tenant && strlen(dataset) < sizeof s->dataset && (s = calloc(1, sizeof *s))) {
        s->b = b;
        strcpy(s->tenant, tenant);
        strcpy(s->dataset, dataset);
        spoolq_queue(tenant, dataset, SPOOLQ_QUEUE, s->queue, sizeof s->queue);
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        bf_buf_init(&s->buf, 0);
        char l[200];
        bf_metrics_labels(l, sizeof l, "tenant", tenant, "dataset", dataset, NULL);
        s->c_records = bf_metrics_counter(b->m, "bytefreezer_proxy_records_total", "records received", l);
        s->c_bytes = bf_metrics_counter(b->m, "bytefreezer_proxy_record_bytes_total", "NDJSON bytes batched", l);
        s->c_batches = bf_metrics_counter(b->m, "bytefreezer_proxy_batches_total", "batches sealed", l);
        s->c_spooled = bf_metrics_counter(b->m, "bytefreezer_proxy_spooled_bytes_total",
                                          "compressed bytes written to the spool", l);
        s->c_drops = bf_metrics_counter(b->m, "bytefreezer_proxy_udp_dropped_total",
                                        "UDP datagrams dropped because the spool was full", l);
        s->c_write_err = bf_metrics_counter(b->m, "bytefreezer_proxy_spool_write_errors_total",
                                            "failed spool writes (retried)", l);
        s->c_raw = bf_metrics_counter(b->m, "bytefreezer_proxy_uncompressed_batches_total",
                                      "batches spooled uncompressed because the writer fell behind", l);
        s->c_fast = bf_metrics_counter(b->m, "bytefreezer_proxy_fast_batches_total",
                                       "batches compressed at batch.fast_level because the writer fell behind", l);
        s->next = b->streams;
        b->streams = s;
    }
    pthread_mutex_unlock(&b->mu);
    return s;
}

int batcher_create(uv_loop_t *loop, const batcher_opts *o, bf_spool *spool, bf_metrics *m, batcher_spooled_fn cb,
                   void *ud, batcher **out)
{
    batcher *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    b->loop = loop;
    b->o = *o;
    snprintf(b->hint, sizeof b->hint, "%s", o->hint ? o->hint : "ndjson");
    b->spool = spool;
    b->m = m;
    b->renice = can_renice();
    b->cb = cb;
    b->cb_ud = ud;
    pthread_mutex_init(&b->mu, NULL);
    int rc = uv_async_init(loop, &b->async, async_cb);
    if (rc) {
        free(b);
        return rc;
    }
    b->async.data = b;
    uv_timer_init(loop, &b->timer);
    b->timer.data = b;
    int64_t tick = o->max_age_ms / 4;
    if (tick > 100) tick = 100;
    if (tick < 5) tick = 5;
    uv_timer_start(&b->timer, timer_cb, (uint64_t)tick, (uint64_t)tick);
    *out = b;
    return 0;
}

static void handle_closed(uv_handle_t *h) { ((batcher *)h->data)->closing++; }

void batcher_destroy(batcher *b)
{
    if (!b) return;
    /* release threads still waiting for durability (they answer 503) before anything is freed */
    atomic_store(&b->shutting, 1);
    for (bstream *s = b->streams; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    while (atomic_load(&b->waiters)) usleep(1000);
    b->closing = 1;
    uv_close((uv_handle_t *)&b->async, handle_closed);
    uv_close((uv_handle_t *)&b->timer, handle_closed);
    for (;;) { /* both handles closed (closing == 3) and no write in the pool (it owns its batch) */
        int writing = 0;
        for (bstream *s = b->streams; s; s = s->next) writing |= s->writing;
        if (!writing && b->closing >= 3) break;
        uv_run(b->loop, UV_RUN_ONCE);
    }
    bstream *s = b->streams;
    while (s) {
        bstream *n = s->next;
        for (batch *bt = s->head; bt;) {
            batch *bn = bt->next;
            free(bt->data);
            free(bt->comp);
            free(bt);
            bt = bn;
        }
        bf_buf_free(&s->buf);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        s = n;
    }
    pthread_mutex_destroy(&b->mu);
    free(b);
}

int batcher_pressure(batcher *b) { return atomic_load(&b->pressure); }
int64_t batcher_last_drop_ms(batcher *b) { return atomic_load(&b->last_drop_ms); }
uint64_t batcher_pending_bytes(batcher *b) { return atomic_load(&b->pending_bytes); }

void batcher_seal_all(batcher *b)
{
    pthread_mutex_lock(&b->mu);
    bstream *list = b->streams;
    pthread_mutex_unlock(&b->mu);
    for (bstream *s = list; s; s = s->next) batcher_flush(s);
    kick_all(b);
}

int batcher_idle(batcher *b)
{
    pthread_mutex_lock(&b->mu);
    bstream *list = b->streams;
    pthread_mutex_unlock(&b->mu);
    for (bstream *s = list; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        int busy = s->buf.len || s->head;
        pthread_mutex_unlock(&s->mu);
        if (busy || s->writing) return 0;
    }
    return 1;
}
