/* pipeline: see pipeline.h. */
#include "pipeline.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_util.h"
#include "cond.h"
#include "filter_defs.h"

/* The registry: every filter type name the pipeline accepts (original §4.3 names plus ours). */
static const pf_def *const REGISTRY[] = {
    &pf_add_field, &pf_remove_field, &pf_rename_field, &pf_regex_replace, &pf_date_parse,
    &pf_conditional, &pf_conditional_field, &pf_geoip, &pf_json_validate, &pf_json_flatten,
    &pf_uppercase_keys, &pf_enricher, &pf_grok, &pf_mutate, &pf_drop, &pf_kv, &pf_split,
    &pf_useragent, &pf_dns, &pf_fingerprint, &pf_include, &pf_exclude, &pf_sample,
    &pf_passthrough, &pf_json_parse, &pf_timestamp,
};
#define NREG (sizeof REGISTRY / sizeof *REGISTRY)

const pf_def *pf_lookup(const char *name)
{
    for (size_t i = 0; name && i < NREG; i++)
        if (!strcmp(REGISTRY[i]->name, name))
            return REGISTRY[i];
    return NULL;
}

int pf_add_tag(json_t *rec, const char *tag)
{
    json_t *tags = json_object_get(rec, "tags");
    if (!json_is_array(tags)) {
        json_t *t = json_array();
        if (!t)
            return -ENOMEM;
        if (json_is_string(tags))
            json_array_append(t, tags);
        if (json_object_set_new(rec, "tags", t))
            return -ENOMEM;
        tags = t;
    }
    size_t i;
    json_t *e;
    json_array_foreach(tags, i, e) {
        if (json_is_string(e) && !strcmp(json_string_value(e), tag))
            return 0;
    }
    return json_array_append_new(tags, json_string(tag)) ? -ENOMEM : 0;
}

double pf_random(pf_ctx *ctx)
{
    if (!ctx->rng)
        ctx->rng = 0x9E3779B97F4A7C15ull;
    return (double)(bf_rand_next(&ctx->rng) >> 11) / 9007199254740992.0;
}

typedef struct stage {
    const pf_def *def;
    void *st;
    cond *when;
    bf_counter *c_in, *c_out, *c_drop, *c_err;
} stage;

struct pipeline {
    atomic_int refs;
    stage *stages;        /* enabled filters only */
    size_t n;
    char version[17];
};

static int compile_stage(const json_t *entry, size_t idx, pl_env *env, stage *s, bool *enabled,
                         char *err, size_t errlen)
{
    char sub[200];
    if (!json_is_object(entry)) {
        snprintf(err, errlen, "pipeline[%zu]: expected an object", idx);
        return -EINVAL;
    }
    const char *type = json_string_value(json_object_get(entry, "type"));
    s->def = pf_lookup(type);
    if (!s->def) {
        snprintf(err, errlen, "pipeline[%zu]: unknown filter type '%s'", idx, type ? type : "(missing)");
        return -EINVAL;
    }
    json_t *en = json_object_get(entry, "enabled");
    *enabled = !en || json_is_null(en) || json_is_true(en);
    if (!*enabled)
        return 0;
    json_t *cfg = json_object_get(entry, "config");
    json_t *own = NULL;
    if (!cfg || json_is_null(cfg)) {
        /* options written inline next to "type" */
        own = json_deep_copy(entry);
        if (!own)
            return -ENOMEM;
        json_object_del(own, "type");
        json_object_del(own, "enabled");
        json_object_del(own, "condition");
        cfg = own;
    } else if (!json_is_object(cfg)) {
        snprintf(err, errlen, "pipeline[%zu] (%s): config must be an object", idx, type);
        return -EINVAL;
    }
    int rc = s->def->compile(cfg, env, &s->st, sub, sizeof sub);
    json_decref(own);
    if (rc) {
        snprintf(err, errlen, "pipeline[%zu] (%s): %s", idx, type, sub);
        return rc;
    }
    json_t *c = json_object_get(entry, "condition");
    if (c && !json_is_null(c) && !(json_is_string(c) && !*json_string_value(c))) {
        if ((rc = cond_compile(c, &s->when, sub, sizeof sub))) {
            snprintf(err, errlen, "pipeline[%zu] (%s): %s", idx, type, sub);
            return rc;
        }
    }
    return 0;
}

static void free_stage(stage *s)
{
    if (s->def && s->st)
        s->def->free(s->st);
    cond_free(s->when);
}

int pipeline_compile(const json_t *spec, pl_env *env, pipeline **out, char *err, size_t errlen)
{
    *out = NULL;
    if (spec && !json_is_array(spec)) {
        snprintf(err, errlen, "pipeline must be a list of filters");
        return -EINVAL;
    }
    pipeline *p = calloc(1, sizeof *p);
    size_t total = spec ? json_array_size(spec) : 0;
    if (!p || !(p->stages = calloc(total ? total : 1, sizeof *p->stages))) {
        free(p);
        return -ENOMEM;
    }
    atomic_init(&p->refs, 1);
    for (size_t i = 0; i < total; i++) {
        bool enabled;
        stage s = {0};
        int rc = compile_stage(json_array_get(spec, i), i, env, &s, &enabled, err, errlen);
        if (rc) {
            free_stage(&s);
            pipeline_unref(p);
            return rc;
        }
        if (enabled)
            p->stages[p->n++] = s;
    }
    char *canon = spec ? json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS) : strdup("[]");
    if (!canon) {
        pipeline_unref(p);
        return -ENOMEM;
    }
    char hex[65];
    bf_sha256_hex(canon, strlen(canon), hex);
    free(canon);
    memcpy(p->version, hex, 16);
    p->version[16] = 0;
    *out = p;
    return 0;
}

pipeline *pipeline_ref(pipeline *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void pipeline_unref(pipeline *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    for (size_t i = 0; i < p->n; i++)
        free_stage(&p->stages[i]);
    free(p->stages);
    free(p);
}

const char *pipeline_version(const pipeline *p) { return p->version; }
bool pipeline_empty(const pipeline *p) { return p->n == 0; }
size_t pipeline_nfilters(const pipeline *p) { return p->n; }
const char *pipeline_filter_type(const pipeline *p, size_t i) { return i < p->n ? p->stages[i].def->name : NULL; }

int pipeline_bind_metrics(pipeline *p, bf_metrics *m, const char *tenant, const char *dataset)
{
    for (size_t i = 0; i < p->n; i++) {
        char lb[512], idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        bf_metrics_labels(lb, sizeof lb, "tenant", tenant, "dataset", dataset, "filter", p->stages[i].def->name,
                          "index", idx, NULL);
        stage *s = &p->stages[i];
        s->c_in = bf_metrics_counter(m, "bytefreezer_piper_filter_records_in_total", "records entering a filter", lb);
        s->c_out = bf_metrics_counter(m, "bytefreezer_piper_filter_records_out_total", "records leaving a filter", lb);
        s->c_drop = bf_metrics_counter(m, "bytefreezer_piper_filter_records_dropped_total", "records a filter dropped", lb);
        s->c_err = bf_metrics_counter(m, "bytefreezer_piper_filter_errors_total", "filter errors", lb);
        if (!s->c_in || !s->c_out || !s->c_drop || !s->c_err)
            return -ENOMEM;
    }
    return 0;
}

typedef struct run_state {
    const pipeline *p;
    pf_ctx *ctx;
    pl_emit_fn emit;
    void *ud;
    pl_trace_fn trace;
    void *tud;
    pl_result *res;
    bool errored;
} run_state;

static int run_from(run_state *rs, json_t *rec, size_t from);

/* PF_SPLIT: each emitted record continues at the next filter. */
static int run_split(run_state *rs, size_t next)
{
    json_t *arr = rs->ctx->emit;
    rs->ctx->emit = NULL;
    int rc = 0;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_incref(e);
        if ((rc = run_from(rs, e, next)))
            break;
    }
    json_decref(arr);
    return rc;
}

static int run_from(run_state *rs, json_t *rec, size_t from)
{
    for (size_t i = from; i < rs->p->n; i++) {
        const stage *s = &rs->p->stages[i];
        if (s->when && !cond_eval(s->when, rec, rs->ctx->rx)) {
            if (rs->trace)
                rs->trace(rs->tud, i, s->def->name, "skipped", rec);
            continue;
        }
        bf_counter_add(s->c_in, 1);
        rs->ctx->errmsg[0] = 0;
        int r = s->def->apply(s->st, rec, rs->ctx);
        if (r == PF_DROP) {
            bf_counter_add(s->c_drop, 1);
            rs->res->dropped++;
            if (rs->trace)
                rs->trace(rs->tud, i, s->def->name, "dropped", rec);
            json_decref(rec);
            return 0;
        }
        if (r == PF_SPLIT) {
            if (rs->trace)
                rs->trace(rs->tud, i, s->def->name, "split", rec);
            json_decref(rec);
            bf_counter_add(s->c_out, json_array_size(rs->ctx->emit));
            return run_split(rs, i + 1);
        }
        if (r < 0) {
            bf_counter_add(s->c_err, 1);
            rs->errored = true;
            pf_add_tag(rec, "_filter_error");
        }
        bf_counter_add(s->c_out, 1);
        if (rs->trace)
            rs->trace(rs->tud, i, s->def->name, r < 0 ? rs->ctx->errmsg : "applied", rec);
    }
    rs->res->emitted++;
    int rc = rs->emit(rs->ud, rec);
    json_decref(rec);
    return rc;
}

int pipeline_run(const pipeline *p, json_t *rec, pf_ctx *ctx, pl_emit_fn emit, void *ud,
                 pl_trace_fn trace, void *trace_ud, pl_result *res)
{
    run_state rs = {p, ctx, emit, ud, trace, trace_ud, res, false};
    ctx->emit = NULL;
    int rc = run_from(&rs, rec, 0);
    if (rs.errored)
        res->errors++;
    return rc;
}
