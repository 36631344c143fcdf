/* dns_cache: see dns_cache.h. Open addressing would be faster; a small chained hash is plenty here
 * because every miss costs a resolver round trip anyway. */
#include "dns_cache.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "bf_util.h"

typedef struct entry {
    char *key;
    char *val;          /* NULL = negative */
    int64_t expires;
    struct entry *next;
} entry;

struct dns_cache {
    pthread_mutex_t mu;
    entry **b;
    size_t nb, n, cap;
    uint64_t hits, misses, timeouts;
    dns_lookup_fn lookup;
    unsigned inflight, max_inflight;
    int refs;                   /* the owner + each running helper; the last one frees */
    int closing;                /* destroyed: helpers no longer fill the cache */
};

/* One lookup on a helper thread, shared with the caller that waits for it (under the cache's mu). */
typedef struct job {
    dns_cache *c;
    pthread_cond_t cv;
    char *q, *key, *val;
    int rc, done, refs;
    int64_t expires;
} job;

#define DEFAULT_INFLIGHT 16

static int lookup(const char *q, char **out);

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

int dns_cache_create(size_t capacity, dns_cache **out)
{
    dns_cache *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->cap = capacity ? capacity : 1000;
    c->nb = c->cap * 2 + 1;
    c->b = calloc(c->nb, sizeof *c->b);
    if (!c->b) {
        free(c);
        return -ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->lookup = lookup;
    c->max_inflight = DEFAULT_INFLIGHT;
    c->refs = 1;
    *out = c;
    return 0;
}

static void entry_free(entry *e)
{
    free(e->key);
    free(e->val);
    free(e);
}

static void clear_all(dns_cache *c)
{
    for (size_t i = 0; i < c->nb; i++) {
        for (entry *e = c->b[i], *n; e; e = n) {
            n = e->next;
            entry_free(e);
        }
        c->b[i] = NULL;
    }
    c->n = 0;
}

static void cache_free(dns_cache *c)
{
    clear_all(c);
    free(c->b);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Drop one reference (caller holds mu, which is released here). */
static void cache_unref_unlock(dns_cache *c)
{
    int last = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last)
        cache_free(c);
}

void dns_cache_destroy(dns_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->closing = 1;
    cache_unref_unlock(c);
}

void dns_cache_set_lookup(dns_cache *c, dns_lookup_fn fn, unsigned max_inflight)
{
    pthread_mutex_lock(&c->mu);
    c->lookup = fn ? fn : lookup;
    c->max_inflight = max_inflight ? max_inflight : DEFAULT_INFLIGHT;
    pthread_mutex_unlock(&c->mu);
}

/* 1 hit (out set, maybe NULL for negative), 0 miss. Caller holds mu. */
static int cache_get(dns_cache *c, const char *key, int64_t now, char **out, int *neg)
{
    for (entry *e = c->b[hash(key) % c->nb]; e; e = e->next) {
        if (strcmp(e->key, key) || e->expires < now)
            continue;
        *neg = e->val == NULL;
        *out = e->val ? strdup(e->val) : NULL;
        return 1;
    }
    return 0;
}

static void cache_put(dns_cache *c, const char *key, const char *val, int64_t expires)
{
    if (c->n >= c->cap)
        clear_all(c);   /* simple bound: start over rather than track LRU order */
    entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key)) || (val && !(e->val = strdup(val)))) {
        if (e)
            entry_free(e);
        return;
    }
    e->expires = expires;
    size_t h = hash(key) % c->nb;
    e->next = c->b[h];
    c->b[h] = e;
    c->n++;
}

static int lookup(const char *q, char **out)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl = 0;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, q, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, q, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        sl = sizeof *s6;
    }
    if (sl) {
        char host[NI_MAXHOST];
        if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, NULL, 0, NI_NAMEREQD))
            return -ENOENT;
        *out = strdup(host);
        return *out ? 0 : -ENOMEM;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(q, NULL, &hints, &res) || !res)
        return -ENOENT;
    char buf[INET6_ADDRSTRLEN];
    /* IPv4 first when the name has both, so answers do not depend on the resolver's ordering */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    const void *addr = pick->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr
                                                  : (void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
    const char *r = inet_ntop(pick->ai_family, addr, buf, sizeof buf);
    freeaddrinfo(res);
    if (!r)
        return -ENOENT;
    *out = strdup(buf);
    return *out ? 0 : -ENOMEM;
}

static void job_free(job *j)
{
    pthread_cond_destroy(&j->cv);
    free(j->q);
    free(j->key);
    free(j->val);
    free(j);
}

/* Drop one job reference (caller holds mu). 1 when the job is to be freed (after unlocking). */
static int job_unref(job *j) { return --j->refs == 0; }

static void *helper_main(void *arg)
{
    job *j = arg;
    dns_cache *c = j->c;
    char *val = NULL;
    int rc = c->lookup(j->q, &val);   /* fn set before any helper starts; not changed while they run */
    pthread_mutex_lock(&c->mu);
    j->rc = rc;
    j->val = val;
    j->done = 1;
    if (!c->closing && rc != -ENOMEM)
        cache_put(c, j->key, rc ? NULL : val, j->expires);
    pthread_cond_signal(&j->cv);
    int free_job = job_unref(j);
    c->inflight--;
    cache_unref_unlock(c);
    if (free_job)
        job_free(j);
    return NULL;
}

static job *job_new(dns_cache *c, const char *q, const char *key, int64_t expires)
{
    job *j = calloc(1, sizeof *j);
    pthread_condattr_t ca;
    if (!j || pthread_condattr_init(&ca)) {
        free(j);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) {
        free(j);
        return NULL;
    }
    j->c = c;
    j->refs = 2;   /* the caller and the helper */
    j->expires = expires;
    if (!(j->q = strdup(q)) || !(j->key = strdup(key))) {
        job_free(j);
        return NULL;
    }
    return j;
}

/* Start the lookup on a helper and wait for it at most timeout_ms. */
static int resolve_bounded(dns_cache *c, const char *q, const char *key, int64_t expires, int64_t timeout_ms,
                           char **out)
{
    job *j = job_new(c, q, key, expires);
    if (!j)
        return -ENOMEM;
    pthread_mutex_lock(&c->mu);
    if (c->inflight >= c->max_inflight) {
        pthread_mutex_unlock(&c->mu);
        job_free(j);
        return -EBUSY;
    }
    c->inflight++;
    c->refs++;
    pthread_attr_t a;
    pthread_t th;
    int rc = pthread_attr_init(&a);
    if (!rc) {
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 256 << 10);   /* getaddrinfo needs little; many may wait on DNS */
        rc = pthread_create(&th, &a, helper_main, j);
        pthread_attr_destroy(&a);
    }
    if (rc) {
        c->inflight--;
        c->refs--;
        pthread_mutex_unlock(&c->mu);
        job_free(j);
        return -EAGAIN;
    }
    struct timespec dl;
    bf_deadline(CLOCK_MONOTONIC, timeout_ms, &dl);
    while (!j->done && pthread_cond_timedwait(&j->cv, &c->mu, &dl) != ETIMEDOUT)
        ;
    if (j->done) {
        rc = j->rc;
        *out = j->val;
        j->val = NULL;
    } else {
        rc = -ETIMEDOUT;
        c->timeouts++;
    }
    int free_job = job_unref(j);
    pthread_mutex_unlock(&c->mu);
    if (free_job)
        job_free(j);
    return rc;
}

int dns_resolve(dns_cache *c, const char *q, int64_t ttl_ms, int64_t timeout_ms, int64_t now_ms, char **out)
{
    *out = NULL;
    if (!q || !*q || strlen(q) > 253)
        return -ENOENT;
    char key[300];
    key[0] = 'Q';
    key[1] = ':';
    strcpy(key + 2, q);
    if (c) {
        int neg = 0;
        pthread_mutex_lock(&c->mu);
        int hit = cache_get(c, key, now_ms, out, &neg);
        if (hit)
            c->hits++;
        else
            c->misses++;
        pthread_mutex_unlock(&c->mu);
        if (hit)
            return neg ? -ENOENT : (*out ? 0 : -ENOMEM);
    }
    if (c && timeout_ms > 0)
        return resolve_bounded(c, q, key, now_ms + ttl_ms, timeout_ms, out);
    int rc = c ? c->lookup(q, out) : lookup(q, out);
    if (c && rc != -ENOMEM) {
        pthread_mutex_lock(&c->mu);
        cache_put(c, key, rc ? NULL : *out, now_ms + ttl_ms);
        pthread_mutex_unlock(&c->mu);
    }
    return rc;
}

static uint64_t read_counter(dns_cache *c, const uint64_t *v)
{
    pthread_mutex_lock(&c->mu);
    uint64_t r = *v;
    pthread_mutex_unlock(&c->mu);
    return r;
}

uint64_t dns_cache_hits(dns_cache *c) { return read_counter(c, &c->hits); }
uint64_t dns_cache_misses(dns_cache *c) { return read_counter(c, &c->misses); }
uint64_t dns_cache_timeouts(dns_cache *c) { return read_counter(c, &c->timeouts); }
