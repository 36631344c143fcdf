/* pipeline: a dataset's ordered filter list (DESIGN §7.3), compiled once per pipeline version and
 * shared read-only by every worker thread. Spec: JSON array of {type, config, enabled (default true),
 * condition}; when `config` is absent the other keys of the entry are taken as the options.
 * Errors in one record never stop the others: a filter error tags the record "_filter_error", counts
 * it and the record continues. split emits several records, each running the remaining filters.
 * Ownership: pipeline_compile returns a reference (count 1); pipeline_ref/unref manage it. Records
 * passed to pipeline_run are stolen; emitted records are borrowed for the duration of the callback. */
#ifndef PIPER_PIPELINE_H
#define PIPER_PIPELINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "filter.h"
#include "bf_metrics.h"

typedef struct pipeline pipeline;

int pipeline_compile(const json_t *spec, pl_env *env, pipeline **out, char *err, size_t errlen);
pipeline *pipeline_ref(pipeline *p);
void pipeline_unref(pipeline *p);
/* 16 hex digits of SHA-256 of the canonical spec: identical specs share a version. */
const char *pipeline_version(const pipeline *p);
/* true when no enabled filter remains (the worker's fast path). */
bool pipeline_empty(const pipeline *p);
size_t pipeline_nfilters(const pipeline *p);
const char *pipeline_filter_type(const pipeline *p, size_t i);
/* Per-filter counters {filter, tenant, dataset} in m: records in/out/dropped/errors. Optional. */
int pipeline_bind_metrics(pipeline *p, bf_metrics *m, const char *tenant, const char *dataset);

typedef int (*pl_emit_fn)(void *ud, json_t *rec);   /* 0 or negative to abort the run */
/* Optional trace (the test API): called after each filter with its outcome text and the record. */
typedef void (*pl_trace_fn)(void *ud, size_t idx, const char *type, const char *outcome, const json_t *rec);

typedef struct pl_result {
    uint64_t emitted, dropped, errors;
} pl_result;

/* Run rec through the filters; emit each surviving record. res accumulates (not reset). Returns 0, or
 * the emit callback's negative value. */
int pipeline_run(const pipeline *p, json_t *rec, pf_ctx *ctx, pl_emit_fn emit, void *ud,
                 pl_trace_fn trace, void *trace_ud, pl_result *res);
#endif
