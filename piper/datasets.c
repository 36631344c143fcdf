/* datasets: see datasets.h. */
#include "datasets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_log.h"

ds_conf *ds_conf_ref(ds_conf *d)
{
    if (d)
        atomic_fetch_add(&d->refs, 1);
    return d;
}

void ds_conf_unref(ds_conf *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    free(d->tenant);
    free(d->dataset);
    free(d->canon);
    fmt_free(d->format);
    pipeline_unref(d->pl);
    free(d);
}

/* format options live on the dataset object itself (columns, delimiter, header) */
static char *canon_of(const char *format, const json_t *opts, const json_t *spec)
{
    json_t *o = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?}", "format", format ? format : "ndjson", "columns",
                          json_object_get(opts, "columns"), "delimiter", json_object_get(opts, "delimiter"), "header",
                          json_object_get(opts, "header"), "pipeline", spec);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

int ds_conf_compile(const char *tenant, const char *dataset, const char *format, const json_t *opts,
                    const json_t *spec, pl_env *env, ds_conf **out)
{
    ds_conf *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    atomic_init(&d->refs, 1);
    d->tenant = strdup(tenant);
    d->dataset = strdup(dataset);
    d->canon = canon_of(format, opts, spec);
    if (!d->tenant || !d->dataset || !d->canon) {
        ds_conf_unref(d);
        return -ENOMEM;
    }
    char err[400] = "";
    if (fmt_create(format && *format ? format : "ndjson", opts, &d->format, err, sizeof err))
        snprintf(d->error, sizeof d->error, "format: %s", err);
    else if (pipeline_compile(spec, env, &d->pl, err, sizeof err))
        snprintf(d->error, sizeof d->error, "%s", err);
    *out = d;
    return 0;
}

void ds_table_free(ds_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        ds_conf_unref(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

ds_conf *ds_table_find(const ds_table *t, const char *tenant, const char *dataset)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (!strcmp(t->v[i]->tenant, tenant) && !strcmp(t->v[i]->dataset, dataset))
            return t->v[i];
    return NULL;
}

static int add_one(ds_table *out, size_t *cap, const bf_tenant *t, const bf_dataset *d, const ds_table *old,
                   pl_env *env, bf_metrics *m)
{
    if (out->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        ds_conf **nv = realloc(out->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        out->v = nv;
        *cap = nc;
    }
    ds_conf *prev = ds_table_find(old, t->id, d->id);
    char *canon = canon_of(d->format, d->raw, d->pipeline);
    if (!canon)
        return -ENOMEM;
    if (prev && !strcmp(prev->canon, canon)) {
        free(canon);
        out->v[out->n++] = ds_conf_ref(prev);
        return 0;
    }
    free(canon);
    ds_conf *c;
    int rc = ds_conf_compile(t->id, d->id, d->format, d->raw, d->pipeline, env, &c);
    if (rc)
        return rc;
    if (c->error[0])
        bf_log_kv(BF_LOG_ERROR, "dataset config invalid: its objects wait until it is fixed", "tenant", t->id,
                  "dataset", d->id, "error", c->error, NULL);
    else {
        bf_log_kv(BF_LOG_INFO, "pipeline compiled", "tenant", t->id, "dataset", d->id, "version",
                  pipeline_version(c->pl), NULL);
        if (m)
            pipeline_bind_metrics(c->pl, m, t->id, d->id);
    }
    out->v[out->n++] = c;
    return 0;
}

int ds_table_build(const bf_registry *r, const ds_table *old, pl_env *env, bf_metrics *m, ds_table *out)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < r->ntenants; i++) {
        const bf_tenant *t = &r->tenants[i];
        if (!t->active)
            continue;
        for (size_t k = 0; k < t->ndatasets; k++) {
            if (!t->datasets[k].active)
                continue;
            int rc = add_one(out, &cap, t, &t->datasets[k], old, env, m);
            if (rc) {
                ds_table_free(out);
                return rc;
            }
        }
    }
    return 0;
}
