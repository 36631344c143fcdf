/* filter: the interface every pipeline filter implements (DESIGN §7.3). A filter is compiled once per
 * pipeline version (compile -> opaque state, immutable afterwards and shared by all worker threads)
 * and applied to one record at a time with a per-thread context.
 * apply returns PF_NEXT (record continues), PF_DROP (record removed), PF_SPLIT (ctx->emit holds the
 * replacement records, the current one is discarded), or a negative errno with ctx->errmsg set. */
#ifndef PIPER_FILTER_H
#define PIPER_FILTER_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "rx.h"

typedef struct geoip_mgr geoip_mgr;
typedef struct dns_cache dns_cache;

/* Services shared by every pipeline of the process; borrowed by filters (outlives pipelines). */
typedef struct pl_env {
    geoip_mgr *geoip;     /* may be NULL: geoip filters then fail to compile */
    dns_cache *dns;       /* may be NULL: dns filter uses no cache */
} pl_env;

typedef struct pf_ctx {
    const char *tenant;
    const char *dataset;
    int64_t now_ms;
    uint64_t line_no;
    rx_scratch *rx;       /* this thread's regex scratch */
    pl_env *env;
    uint64_t rng;         /* this thread's random state (sample/drop without seed); never 0 */
    json_t *emit;         /* PF_SPLIT: array of new records (owned by the ctx until the pipeline takes it) */
    char errmsg[256];
} pf_ctx;

enum { PF_NEXT = 0, PF_DROP = 1, PF_SPLIT = 2 };

typedef struct pf_def {
    const char *name;
    int (*compile)(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen);
    int (*apply)(void *st, json_t *rec, pf_ctx *ctx);
    void (*free)(void *st);
} pf_def;

/* Registry lookup (pipeline.c): NULL when unknown. */
const pf_def *pf_lookup(const char *name);

/* Tag helper shared by filters: append tag to the record's "tags" array (created when absent;
 * not duplicated). */
int pf_add_tag(json_t *rec, const char *tag);
/* Uniform [0,1) from the context's generator. */
double pf_random(pf_ctx *ctx);
#endif
