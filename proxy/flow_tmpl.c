/* flow_tmpl: bounded template cache (see flow_tmpl.h). Hash buckets with index chains over a fixed
 * slot array; eviction scans for the least recently used slot, which only happens when a new template
 * arrives while the table is full (templates are rare compared to data). */
#include "flow_tmpl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct flow_tmpl_cache {
    flow_tmpl *slots;
    size_t max, count;
    int32_t *buckets;
    size_t nbuckets;   /* power of two */
    uint64_t clock;
};

int flow_tmpl_create(size_t max_templates, flow_tmpl_cache **out)
{
    if (!max_templates || max_templates > (1u << 20))
        return -EINVAL;
    flow_tmpl_cache *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->max = max_templates;
    c->nbuckets = 16;
    while (c->nbuckets < max_templates * 2)
        c->nbuckets <<= 1;
    c->slots = calloc(max_templates, sizeof *c->slots);
    c->buckets = malloc(c->nbuckets * sizeof *c->buckets);
    if (!c->slots || !c->buckets) {
        flow_tmpl_destroy(c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->nbuckets; i++)
        c->buckets[i] = -1;
    *out = c;
    return 0;
}

void flow_tmpl_destroy(flow_tmpl_cache *c)
{
    if (!c)
        return;
    if (c->slots)
        for (size_t i = 0; i < c->max; i++)
            free(c->slots[i].fields);
    free(c->slots);
    free(c->buckets);
    free(c);
}

static size_t bucket_of(const flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain,
                        uint16_t tid)
{
    uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
    /* only the stored prefix of the exporter takes part in the key */
    const unsigned char *p = (const unsigned char *)exporter;
    for (size_t i = 0; p[i] && i < sizeof ((flow_tmpl *)0)->exporter - 1; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    uint64_t k[3] = {version, domain, tid};
    for (int i = 0; i < 3; i++)
        h = (h ^ k[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29)) & (c->nbuckets - 1);
}

static int matches(const flow_tmpl *t, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid)
{
    return t->tid == tid && t->domain == domain && t->version == version && !strncmp(t->exporter, exporter, sizeof t->exporter - 1);
}

flow_tmpl *flow_tmpl_find(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid)
{
    if (!exporter)
        exporter = "";
    for (int32_t i = c->buckets[bucket_of(c, version, exporter, domain, tid)]; i >= 0; i = c->slots[i].next) {
        flow_tmpl *t = &c->slots[i];
        if (matches(t, version, exporter, domain, tid)) {
            t->last_used = ++c->clock;
            return t;
        }
    }
    return NULL;
}

/* Removes slot i from its chain and frees it. */
static void remove_slot(flow_tmpl_cache *c, int32_t i)
{
    flow_tmpl *t = &c->slots[i];
    int32_t *link = &c->buckets[bucket_of(c, t->version, t->exporter, t->domain, t->tid)];
    while (*link >= 0 && *link != i)
        link = &c->slots[*link].next;
    if (*link == i)
        *link = t->next;
    free(t->fields);
    memset(t, 0, sizeof *t);
    c->count--;
}

void flow_tmpl_del(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid)
{
    flow_tmpl *t = flow_tmpl_find(c, version, exporter, domain, tid);
    if (t)
        remove_slot(c, (int32_t)(t - c->slots));
}

void flow_tmpl_del_all(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, int options)
{
    if (!exporter)
        exporter = "";
    for (size_t i = 0; i < c->max; i++) {
        flow_tmpl *t = &c->slots[i];
        if (t->used && t->tid && t->version == version && t->domain == domain && t->options == (options ? 1 : 0) &&
            !strncmp(t->exporter, exporter, sizeof t->exporter - 1))
            remove_slot(c, (int32_t)i);
    }
}

size_t flow_tmpl_count(const flow_tmpl_cache *c) { return c->count; }

static int32_t free_or_lru_slot(flow_tmpl_cache *c, int *evicted)
{
    int32_t lru = -1;
    for (size_t i = 0; i < c->max; i++) {
        if (!c->slots[i].used)
            return (int32_t)i;
        if (lru < 0 || c->slots[i].last_used < c->slots[lru].last_used)
            lru = (int32_t)i;
    }
    remove_slot(c, lru);
    *evicted = 1;
    return lru;
}

/* Finds or creates the entry for a key; *evicted set when the LRU entry had to go. */
static flow_tmpl *slot_for(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid,
                           int *evicted)
{
    flow_tmpl *t = flow_tmpl_find(c, version, exporter, domain, tid);
    if (t)
        return t;
    int32_t i = free_or_lru_slot(c, evicted);
    t = &c->slots[i];
    size_t el = strlen(exporter);
    if (el >= sizeof t->exporter)
        el = sizeof t->exporter - 1;
    memcpy(t->exporter, exporter, el);
    t->exporter[el] = '\0';
    t->version = version;
    t->domain = domain;
    t->tid = tid;
    t->used = 1;
    size_t b = bucket_of(c, version, t->exporter, domain, tid);
    t->next = c->buckets[b];
    c->buckets[b] = i;
    c->count++;
    return t;
}

int flow_tmpl_put(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, uint16_t tid,
                  int options, uint16_t nscope, const flow_field *fields, uint16_t nfields)
{
    if (!exporter)
        exporter = "";
    if (!tid || !nfields || nfields > FLOW_TMPL_MAX_FIELDS || nscope > nfields)
        return -EINVAL;
    uint32_t min_len = 0;
    for (uint16_t i = 0; i < nfields; i++)
        min_len += fields[i].len == FLOW_VARLEN ? 1 : fields[i].len;
    if (!min_len)
        return -EINVAL;  /* a zero-length record would never advance */
    flow_field *copy = malloc(nfields * sizeof *copy);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, fields, nfields * sizeof *copy);
    int evicted = 0;
    flow_tmpl *t = slot_for(c, version, exporter, domain, tid, &evicted);
    free(t->fields);  /* a refresh replaces the old definition */
    t->fields = copy;
    t->nfields = nfields;
    t->nscope = nscope;
    t->options = options ? 1 : 0;
    t->min_len = min_len;
    t->last_used = ++c->clock;
    return evicted;
}

int flow_tmpl_set_init(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, int64_t init_ms)
{
    int evicted = 0;
    flow_tmpl *t = slot_for(c, version, exporter ? exporter : "", domain, 0, &evicted);
    t->init_ms = init_ms;
    t->last_used = ++c->clock;
    return evicted;
}

int flow_tmpl_get_init(flow_tmpl_cache *c, uint8_t version, const char *exporter, uint32_t domain, int64_t *init_ms)
{
    flow_tmpl *t = flow_tmpl_find(c, version, exporter, domain, 0);
    if (!t)
        return -ENOENT;
    *init_ms = t->init_ms;
    return 0;
}
