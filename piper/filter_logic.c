/* filter_logic: see filter_logic.h. */
#include "filter_logic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cond.h"
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

/* ---------- conditional ---------- */

typedef struct condf { cond_cmp *cmp; bool drop; } condf;

static void condf_free(void *p)
{
    condf *c = p;
    cond_cmp_free(c->cmp);
    free(c);
}

static int condf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *field, *op, *action;
    int rc;
    if ((rc = fo_req_str(cfg, "field", &field, err, errlen)) || (rc = fo_req_str(cfg, "operator", &op, err, errlen)))
        return rc;
    if (fo_str(cfg, "action", "keep", &action, err, errlen) == -EINVAL)
        return -EINVAL;
    if (strcmp(action, "keep") && strcmp(action, "drop")) {
        snprintf(err, errlen, "action must be keep or drop");
        return -EINVAL;
    }
    json_t *value = json_object_get(cfg, "value");
    if (!value && strcmp(op, "exists") && strcmp(op, "not_exists")) {
        snprintf(err, errlen, "option value is required");
        return -EINVAL;
    }
    condf *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->drop = !strcmp(action, "drop");
    if ((rc = cond_cmp_create(field, op, value, &c->cmp, err, errlen))) {
        free(c);
        return rc;
    }
    *st = c;
    return 0;
}

static int condf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    condf *c = p;
    bool hit = cond_cmp_eval(c->cmp, rec, ctx->rx);
    return (c->drop ? hit : !hit) ? PF_DROP : PF_NEXT;
}

const pf_def pf_conditional = {"conditional", condf_compile, condf_apply, condf_free};

/* ---------- conditional_field ---------- */

typedef enum { CA_REMOVE, CA_REPLACE, CA_SET_NULL, CA_DROP, CA_KEEP } cf_action;
static const struct { const char *name; cf_action a; } CF_ACTIONS[] = {
    {"remove", CA_REMOVE}, {"replace", CA_REPLACE}, {"set_null", CA_SET_NULL},
    {"drop_record", CA_DROP}, {"keep_record", CA_KEEP},
};

typedef struct cfield {
    cond_cmp *cmp;
    fpath field;
    cf_action action;
    json_t *with;
    bool presence_op;   /* exists / not_exists: evaluated even when the field is missing */
} cfield;

static void cfield_free(void *p)
{
    cfield *c = p;
    cond_cmp_free(c->cmp);
    fpath_free(&c->field);
    json_decref(c->with);
    free(c);
}

static int cfield_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *field, *op, *action;
    int rc;
    if ((rc = fo_req_str(cfg, "field", &field, err, errlen)))
        return rc;
    if (fo_str(cfg, "operator", "equals", &op, err, errlen) == -EINVAL ||
        fo_str(cfg, "action", "remove", &action, err, errlen) == -EINVAL)
        return -EINVAL;
    cfield *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->presence_op = !strcmp(op, "exists") || !strcmp(op, "not_exists");
    json_t *value = json_object_get(cfg, "value");
    size_t i;
    for (i = 0; i < sizeof CF_ACTIONS / sizeof *CF_ACTIONS; i++)
        if (!strcmp(CF_ACTIONS[i].name, action))
            break;
    if (i == sizeof CF_ACTIONS / sizeof *CF_ACTIONS) {
        snprintf(err, errlen, "unknown action '%s'", action);
        rc = -EINVAL;
    } else if (!c->presence_op && !value) {
        snprintf(err, errlen, "option value is required");
        rc = -EINVAL;
    } else {
        c->action = CF_ACTIONS[i].a;
        c->with = json_incref(json_object_get(cfg, "replace_with"));
        if (c->action == CA_REPLACE && !c->with) {
            snprintf(err, errlen, "option replace_with is required for replace");
            rc = -EINVAL;
        }
    }
    if (!rc && fpath_compile(field, &c->field))
        rc = -EINVAL;
    if (!rc)
        rc = cond_cmp_create(field, op, value, &c->cmp, err, errlen);
    if (rc) {
        cfield_free(c);
        return rc;
    }
    *st = c;
    return 0;
}

static int cfield_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    cfield *c = p;
    bool present = fpath_get(&c->field, rec) != NULL;
    bool hit = (present || c->presence_op) && cond_cmp_eval(c->cmp, rec, ctx->rx);
    switch (c->action) {
    case CA_KEEP: return hit ? PF_NEXT : PF_DROP;
    case CA_DROP: return hit ? PF_DROP : PF_NEXT;
    default: break;
    }
    if (!hit)
        return PF_NEXT;
    if (c->action == CA_REMOVE)
        fpath_del(&c->field, rec);
    else if (c->action == CA_SET_NULL)
        return fpath_set(&c->field, rec, json_null());
    else
        return fpath_set(&c->field, rec, json_deep_copy(c->with));
    return PF_NEXT;
}

const pf_def pf_conditional_field = {"conditional_field", cfield_compile, cfield_apply, cfield_free};

/* ---------- match helpers shared by drop / include / exclude ---------- */

/* One test against a field: equals / not_equals / contains / matches. */
typedef enum { MT_EQ, MT_NE, MT_CONTAINS, MT_MATCHES } mt_kind;
typedef struct mtest { mt_kind k; char *text; rx *re; } mtest;

static void mtests_free(mtest *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].text);
        rx_free(t[i].re);
    }
    free(t);
}

/* Append a test for option `key` when present. */
static int mtest_add(const json_t *cfg, const char *key, mt_kind k, mtest **t, size_t *n, char *err, size_t errlen)
{
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v))
        return 0;
    json_t *list = json_is_array(v) ? json_incref(v) : json_pack("[O]", v);
    if (!list)
        return -ENOMEM;
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(list, i, e) {
        mtest *nt = realloc(*t, (*n + 1) * sizeof *nt);
        if (!nt) {
            rc = -ENOMEM;
            break;
        }
        *t = nt;
        mtest *m = &nt[*n];
        memset(m, 0, sizeof *m);
        m->k = k;
        char tmp[128];
        m->text = strdup(fo_value_cstr(e, tmp, sizeof tmp));
        if (!m->text) {
            rc = -ENOMEM;
            break;
        }
        (*n)++;
        if (k == MT_MATCHES && (rc = rx_compile(m->text, 0, &m->re, err, errlen)))
            break;
    }
    json_decref(list);
    return rc;
}

static bool mtest_eval(const mtest *m, const json_t *v, rx_scratch *s)
{
    if (m->k == MT_EQ)
        return fo_value_equal_text(v, m->text);
    if (m->k == MT_NE)
        return !fo_value_equal_text(v, m->text);
    if (!json_is_string(v))
        return false;
    if (m->k == MT_CONTAINS)
        return strstr(json_string_value(v), m->text) != NULL;
    return rx_test(m->re, s, json_string_value(v), json_string_length(v));
}

static bool any_test(const mtest *t, size_t n, const json_t *v, rx_scratch *s)
{
    for (size_t i = 0; i < n; i++)
        if (mtest_eval(&t[i], v, s))
            return true;
    return false;
}

/* ---------- drop ---------- */

typedef struct dropf {
    bool always, has_if, has_unless;
    fpath ifield, ufield;
    mtest *ift; size_t nif;
    mtest *ut; size_t nu;
    double pct;
} dropf;

static void dropf_free(void *p)
{
    dropf *d = p;
    fpath_free(&d->ifield);
    fpath_free(&d->ufield);
    mtests_free(d->ift, d->nif);
    mtests_free(d->ut, d->nu);
    free(d);
}

static int dropf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    dropf *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    const char *iff = NULL, *uf = NULL;
    int rc = 0;
    if (fo_bool(cfg, "always_drop", false, &d->always, err, errlen) == -EINVAL ||
        fo_num(cfg, "percentage", 0, 0, 100, &d->pct, err, errlen) == -EINVAL ||
        fo_str(cfg, "if_field", NULL, &iff, err, errlen) == -EINVAL ||
        fo_str(cfg, "unless_field", NULL, &uf, err, errlen) == -EINVAL)
        rc = -EINVAL;
    if (!rc && iff && *iff) {
        d->has_if = true;
        rc = fpath_compile(iff, &d->ifield);
        if (!rc) rc = mtest_add(cfg, "equals", MT_EQ, &d->ift, &d->nif, err, errlen);
        if (!rc) rc = mtest_add(cfg, "not_equals", MT_NE, &d->ift, &d->nif, err, errlen);
        if (!rc) rc = mtest_add(cfg, "contains", MT_CONTAINS, &d->ift, &d->nif, err, errlen);
        if (!rc) rc = mtest_add(cfg, "matches", MT_MATCHES, &d->ift, &d->nif, err, errlen);
    }
    if (!rc && uf && *uf) {
        d->has_unless = true;
        rc = fpath_compile(uf, &d->ufield);
        if (!rc) rc = mtest_add(cfg, "unless_equals", MT_EQ, &d->ut, &d->nu, err, errlen);
        if (!rc) rc = mtest_add(cfg, "unless_matches", MT_MATCHES, &d->ut, &d->nu, err, errlen);
    }
    if (rc) {
        dropf_free(d);
        return rc < 0 ? rc : -EINVAL;
    }
    *st = d;
    return 0;
}

static int dropf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    dropf *d = p;
    if (d->always)
        return PF_DROP;
    if (d->has_unless) {
        json_t *u = fpath_get(&d->ufield, rec);
        if (u && (d->nu == 0 || any_test(d->ut, d->nu, u, ctx->rx)))
            return PF_NEXT;
    }
    bool drop;
    if (d->has_if) {
        json_t *v = fpath_get(&d->ifield, rec);
        if (!v)
            return PF_NEXT;
        drop = d->nif == 0 || any_test(d->ift, d->nif, v, ctx->rx);
    } else if (d->has_unless) {
        drop = true;   /* "drop all except": the documented meaning the original never implemented */
    } else {
        drop = d->pct > 0;
    }
    if (drop && d->pct > 0 && d->pct < 100)
        drop = pf_random(ctx) * 100.0 < d->pct;
    return drop ? PF_DROP : PF_NEXT;
}

const pf_def pf_drop = {"drop", dropf_compile, dropf_apply, dropf_free};

/* ---------- include / exclude ---------- */

typedef struct self {
    bool has_field;
    fpath field;
    mtest *t; size_t nt;
    fpath *any; size_t nany;
    mtest *at; size_t nat;
} self;

static void self_free(void *p)
{
    self *s = p;
    fpath_free(&s->field);
    mtests_free(s->t, s->nt);
    for (size_t i = 0; i < s->nany; i++)
        fpath_free(&s->any[i]);
    free(s->any);
    mtests_free(s->at, s->nat);
    free(s);
}

static int self_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    self *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    const char *field = NULL;
    const char **any = NULL;
    size_t nany = 0;
    int rc = fo_str(cfg, "field", NULL, &field, err, errlen) == -EINVAL ? -EINVAL : 0;
    if (!rc && fo_strlist(cfg, "any_field", &any, &nany, err, errlen) == -EINVAL)
        rc = -EINVAL;
    if (!rc && field && *field) {
        s->has_field = true;
        rc = fpath_compile(field, &s->field);
        if (!rc) rc = mtest_add(cfg, "equals", MT_EQ, &s->t, &s->nt, err, errlen);
        if (!rc) rc = mtest_add(cfg, "contains", MT_CONTAINS, &s->t, &s->nt, err, errlen);
        if (!rc) rc = mtest_add(cfg, "matches", MT_MATCHES, &s->t, &s->nt, err, errlen);
    }
    if (!rc && nany) {
        s->any = calloc(nany, sizeof *s->any);
        rc = s->any ? 0 : -ENOMEM;
        for (size_t i = 0; !rc && i < nany; i++, s->nany++)
            rc = fpath_compile(any[i], &s->any[i]);
        if (!rc) rc = mtest_add(cfg, "any_equals", MT_EQ, &s->at, &s->nat, err, errlen);
        if (!rc) rc = mtest_add(cfg, "any_matches", MT_MATCHES, &s->at, &s->nat, err, errlen);
    }
    free(any);
    if (!rc && !s->has_field && !s->nany) {
        snprintf(err, errlen, "option field or any_field is required");
        rc = -EINVAL;
    }
    if (rc) {
        self_free(s);
        return rc;
    }
    *st = s;
    return 0;
}

/* Does any configured condition hold? A field without tests holds when present. */
static bool self_hit(const self *s, json_t *rec, rx_scratch *rx)
{
    if (s->has_field) {
        json_t *v = fpath_get(&s->field, rec);
        if (v && (s->nt == 0 || any_test(s->t, s->nt, v, rx)))
            return true;
    }
    for (size_t i = 0; i < s->nany; i++) {
        json_t *v = fpath_get(&s->any[i], rec);
        if (v && (s->nat == 0 || any_test(s->at, s->nat, v, rx)))
            return true;
    }
    return false;
}

static int include_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    return self_hit(p, rec, ctx->rx) ? PF_NEXT : PF_DROP;
}

static int exclude_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    return self_hit(p, rec, ctx->rx) ? PF_DROP : PF_NEXT;
}

const pf_def pf_include = {"include", self_compile, include_apply, self_free};
const pf_def pf_exclude = {"exclude", self_compile, exclude_apply, self_free};

/* ---------- sample ---------- */

typedef struct samplef { double rate; bool seeded; uint64_t seed; } samplef;

static void samplef_free(void *p) { free(p); }

static int samplef_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    double pct, rate, seed;
    int rp = fo_num(cfg, "percentage", -1, 0, 100, &pct, err, errlen);
    int rr = fo_num(cfg, "rate", -1, 0, 1, &rate, err, errlen);
    int rs = fo_num(cfg, "seed", 0, 0, 0, &seed, err, errlen);
    if (rp == -EINVAL || rr == -EINVAL || rs == -EINVAL)
        return -EINVAL;
    if (rp && rr) {
        snprintf(err, errlen, "option percentage or rate is required");
        return -EINVAL;
    }
    samplef *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->rate = rr == 0 ? rate : pct / 100.0;
    s->seeded = rs == 0;
    s->seed = (uint64_t)(int64_t)seed;
    *st = s;
    return 0;
}

/* FNV-1a 64 then a splitmix finaliser: a stable hash of the record text. */
static double record_unit(uint64_t seed, const json_t *rec)
{
    char *txt = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    uint64_t h = 1469598103934665603ull ^ seed;
    for (const char *c = txt ? txt : ""; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    free(txt);
    h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27; h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return (double)(h >> 11) / 9007199254740992.0;
}

static int samplef_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    samplef *s = p;
    if (s->rate >= 1.0)
        return PF_NEXT;
    double u = s->seeded ? record_unit(s->seed, rec) : pf_random(ctx);
    return u < s->rate ? PF_NEXT : PF_DROP;
}

const pf_def pf_sample = {"sample", samplef_compile, samplef_apply, samplef_free};
