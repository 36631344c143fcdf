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
    uint64_t hits, misses;
};

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

void dns_cache_destroy(dns_cache *c)
{
    if (!c)
        return;
    clear_all(c);
    free(c->b);
    pthread_mutex_destroy(&c->mu);
    free(c);
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

int dns_resolve(dns_cache *c, const char *q, int64_t ttl_ms, int64_t now_ms, char **out)
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
    int rc = lookup(q, out);
    if (c && rc != -ENOMEM) {
        pthread_mutex_lock(&c->mu);
        cache_put(c, key, rc ? NULL : *out, now_ms + ttl_ms);
        pthread_mutex_unlock(&c->mu);
    }
    return rc;
}

uint64_t dns_cache_hits(dns_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t v = c->hits;
    pthread_mutex_unlock(&c->mu);
    return v;
}

uint64_t dns_cache_misses(dns_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t v = c->misses;
    pthread_mutex_unlock(&c->mu);
    return v;
}
