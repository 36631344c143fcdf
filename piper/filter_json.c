/* filter_json: see filter_json.h. */
#include "filter_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

/* ---------- json_validate ---------- */

typedef struct jval { fpath src; bool fail; } jval;

static void jval_free(void *p)
{
    jval *j = p;
    fpath_free(&j->src);
    free(j);
}

static int jval_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *src;
    jval *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    if (fo_str(cfg, "source_field", "message", &src, err, errlen) == -EINVAL ||
        fo_bool(cfg, "fail_on_invalid", true, &j->fail, err, errlen) == -EINVAL ||
        fpath_compile(*src ? src : "message", &j->src)) {
        jval_free(j);
        return -EINVAL;
    }
    *st = j;
    return 0;
}

static int jval_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)ctx;
    jval *j = p;
    json_t *v = fpath_get(&j->src, rec);
    bool ok = v != NULL;
    if (json_is_string(v)) {
        json_t *parsed = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, NULL);
        ok = parsed != NULL;
        json_decref(parsed);
    }
    if (ok)
        return PF_NEXT;
    if (j->fail)
        return PF_DROP;
    return pf_add_tag(rec, "_jsonparsefailure");
}

const pf_def pf_json_validate = {"json_validate", jval_compile, jval_apply, jval_free};

/* ---------- json_flatten ---------- */

typedef struct jflat { bool whole; fpath src, dst; char *sep; } jflat;

static void jflat_free(void *p)
{
    jflat *j = p;
    fpath_free(&j->src);
    fpath_free(&j->dst);
    free(j->sep);
    free(j);
}

static int jflat_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *src, *dst, *sep;
    if (fo_str(cfg, "source_field", "", &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", "@flatten", &dst, err, errlen) == -EINVAL ||
        fo_str(cfg, "separator", ".", &sep, err, errlen) == -EINVAL)
        return -EINVAL;
    jflat *j = calloc(1, sizeof *j);
    if (!j || !(j->sep = strdup(sep))) {
        free(j);
        return -ENOMEM;
    }
    j->whole = !*src;
    /* the target is a literal key: "@flatten" must not be split on dots */
    if (!j->whole && (fpath_compile(src, &j->src) || fpath_compile(*dst ? dst : "@flatten", &j->dst))) {
        jflat_free(j);
        snprintf(err, errlen, "bad field name");
        return -EINVAL;
    }
    *st = j;
    return 0;
}

static int flatten_into(json_t *out, const char *prefix, json_t *v, const char *sep, int depth);

static int flatten_key(json_t *out, const char *prefix, const char *key, json_t *v, const char *sep, int depth)
{
    bf_buf k;
    bf_buf_init(&k, 0);
    int rc = prefix ? bf_buf_printf(&k, "%s%s%s", prefix, sep, key) : bf_buf_puts(&k, key);
    if (!rc) {
        if (json_is_object(v) && depth < 64)
            rc = flatten_into(out, k.data, v, sep, depth + 1);
        else if (json_is_array(v) && depth < 64) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                char idx[24];
                snprintf(idx, sizeof idx, "%zu", i);
                if ((rc = flatten_key(out, k.data, idx, e, sep, depth + 1)))
                    break;
            }
        } else
            rc = json_object_set(out, k.data, v) ? -ENOMEM : 0;
    }
    bf_buf_free(&k);
    return rc;
}

static int flatten_into(json_t *out, const char *prefix, json_t *v, const char *sep, int depth)
{
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e) {
        int rc = flatten_key(out, prefix, key, e, sep, depth);
        if (rc)
            return rc;
    }
    return 0;
}

static int jflat_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)ctx;
    jflat *j = p;
    json_t *out = json_object();
    if (!out)
        return -ENOMEM;
    int rc;
    if (j->whole) {
        rc = flatten_into(out, NULL, rec, j->sep, 0);
        if (!rc) {
            json_object_clear(rec);
            json_object_update(rec, out);
        }
        json_decref(out);
        return rc;
    }
    json_t *v = fpath_get(&j->src, rec);
    json_t *parsed = NULL;
    if (json_is_string(v)) {
        parsed = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, NULL);
        if (!parsed) {
            json_decref(out);
            return PF_NEXT;
        }
        v = parsed;
    }
    if (!v) {
        json_decref(out);
        return PF_NEXT;
    }
    rc = json_is_object(v) ? flatten_into(out, NULL, v, j->sep, 0)
                           : json_is_array(v) ? flatten_key(out, NULL, "value", v, j->sep, 0)
                                              : (json_object_set(out, "value", v) ? -ENOMEM : 0);
    json_decref(parsed);
    if (rc) {
        json_decref(out);
        return rc;
    }
    return fpath_set(&j->dst, rec, out);
}

const pf_def pf_json_flatten = {"json_flatten", jflat_compile, jflat_apply, jflat_free};

/* ---------- json_parse ---------- */

typedef struct jparse { fpath src, dst; bool has_dst, remove; } jparse;

static void jparse_free(void *p)
{
    jparse *j = p;
    fpath_free(&j->src);
    fpath_free(&j->dst);
    free(j);
}

static int jparse_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *src, *dst;
    jparse *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    if (fo_str(cfg, "source_field", "message", &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", NULL, &dst, err, errlen) == -EINVAL ||
        fo_bool(cfg, "remove_source", false, &j->remove, err, errlen) == -EINVAL ||
        fpath_compile(*src ? src : "message", &j->src) ||
        (dst && *dst && fpath_compile(dst, &j->dst))) {
        jparse_free(j);
        return -EINVAL;
    }
    j->has_dst = dst && *dst;
    *st = j;
    return 0;
}

static int jparse_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    jparse *j = p;
    json_t *v = fpath_get(&j->src, rec);
    if (!json_is_string(v))
        return PF_NEXT;
    json_error_t je;
    json_t *parsed = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, &je);
    if (!parsed || (!j->has_dst && !json_is_object(parsed))) {
        json_decref(parsed);
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "json_parse: %s", parsed ? "not an object" : je.text);
        return pf_add_tag(rec, "_jsonparsefailure");
    }
    if (j->remove)
        fpath_del(&j->src, rec);
    if (j->has_dst)
        return fpath_set(&j->dst, rec, parsed);
    int rc = json_object_update(rec, parsed) ? -ENOMEM : 0;
    json_decref(parsed);
    return rc;
}

const pf_def pf_json_parse = {"json_parse", jparse_compile, jparse_apply, jparse_free};

/* ---------- split ---------- */

typedef struct splitf { fpath field, target; char *term; } splitf;

static void splitf_free(void *p)
{
    splitf *s = p;
    fpath_free(&s->field);
    fpath_free(&s->target);
    free(s->term);
    free(s);
}

static int splitf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *field, *term, *target;
    if (fo_str(cfg, "field", "message", &field, err, errlen) == -EINVAL ||
        fo_str(cfg, "terminator", "\n", &term, err, errlen) == -EINVAL ||
        fo_str(cfg, "target", NULL, &target, err, errlen) == -EINVAL)
        return -EINVAL;
    if (!*term) {
        snprintf(err, errlen, "terminator must not be empty");
        return -EINVAL;
    }
    splitf *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (fpath_compile(*field ? field : "message", &s->field) ||
        fpath_compile(target && *target ? target : (*field ? field : "message"), &s->target) ||
        !(s->term = strdup(term))) {
        splitf_free(s);
        return -EINVAL;
    }
    *st = s;
    return 0;
}

/* Items of a string split on the terminator (empty items kept, like Logstash). */
static json_t *split_string(const char *s, const char *term)
{
    json_t *a = json_array();
    size_t tl = strlen(term);
    for (const char *p = s; a;) {
        const char *e = strstr(p, term);
        json_t *item = json_stringn(p, e ? (size_t)(e - p) : strlen(p));
        if (!item || json_array_append_new(a, item)) {
            json_decref(a);
            return NULL;
        }
        if (!e)
            break;
        p = e + tl;
    }
    return a;
}

static int splitf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    splitf *s = p;
    json_t *v = fpath_get(&s->field, rec);
    json_t *items = json_is_array(v) ? json_incref(v)
                    : json_is_string(v) ? split_string(json_string_value(v), s->term) : NULL;
    if (!items)
        return v && (json_is_array(v) || json_is_string(v)) ? -ENOMEM : PF_NEXT;
    if (json_array_size(items) <= 1 && !json_is_array(v)) {
        json_decref(items);
        return PF_NEXT;
    }
    if (json_array_size(items) == 0) {
        json_decref(items);
        return PF_NEXT;
    }
    json_t *out = json_array();
    size_t i;
    json_t *e;
    int rc = out ? 0 : -ENOMEM;
    json_array_foreach(items, i, e) {
        if (rc)
            break;
        json_t *copy = json_deep_copy(rec);
        if (!copy || (rc = fpath_set(&s->target, copy, json_deep_copy(e))) || json_array_append_new(out, copy)) {
            json_decref(copy);
            rc = rc ? rc : -ENOMEM;
        }
    }
    json_decref(items);
    if (rc) {
        json_decref(out);
        return rc;
    }
    ctx->emit = out;
    return PF_SPLIT;
}

const pf_def pf_split = {"split", splitf_compile, splitf_apply, splitf_free};
