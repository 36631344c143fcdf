/* datasets: the compiled form of the registry for piper — one ds_conf per active tenant/dataset with
 * its input format and compiled pipeline. Rebuilt when the registry changes; unchanged datasets keep
 * their compiled pipeline (same canonical spec → same object), changed ones are compiled once.
 * A ds_conf is reference counted: jobs hold a reference while they run, so a reload never frees a
 * pipeline that a worker still uses. Thread-safety: a table is immutable once built. */
#ifndef PIPER_DATASETS_H
#define PIPER_DATASETS_H
#include <stdatomic.h>
#include <stddef.h>
#include "bf_metrics.h"
#include "bf_tenants.h"
#include "formats.h"
#include "pipeline.h"

typedef struct ds_conf {
    atomic_int refs;
    char *tenant, *dataset;
    char *canon;          /* canonical text of format + options + pipeline (change detection) */
    fmt *format;          /* NULL when the dataset config is invalid */
    pipeline *pl;         /* NULL when the pipeline does not compile */
    char error[512];      /* why it is invalid ("" when fine) */
} ds_conf;

ds_conf *ds_conf_ref(ds_conf *d);
void ds_conf_unref(ds_conf *d);

typedef struct ds_table { ds_conf **v; size_t n; } ds_table;

/* Build from the registry's active tenants/datasets, reusing entries of old (may be NULL). metrics
 * may be NULL. Returns 0 or -ENOMEM; invalid datasets are kept with their error set. */
int ds_table_build(const bf_registry *r, const ds_table *old, pl_env *env, bf_metrics *m, ds_table *out);
void ds_table_free(ds_table *t);
/* Borrowed lookup. */
ds_conf *ds_table_find(const ds_table *t, const char *tenant, const char *dataset);
/* Compile a standalone conf (the test API): format name + options + pipeline spec. */
int ds_conf_compile(const char *tenant, const char *dataset, const char *format, const json_t *opts,
                    const json_t *pipeline_spec, pl_env *env, ds_conf **out);
#endif
