/* filter_field: simple field operations (see filter_field.h). */
#include "filter_field.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_util.h"
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

/* ---------- templates ---------- */

bool ff_has_template(const char *s)
{
    return strstr(s, "${") || strstr(s, "%{");
}

static int expand_var(const char *name, json_t *rec, const pf_ctx *ctx, bf_buf *out)
{
    char tmp[64];
    if (!strcmp(name, "timestamp")) {
        bf_rfc3339_s(ctx->now_ms / 1000, tmp);
        return bf_buf_puts(out, tmp);
    }
    if (!strcmp(name, "tenant_id"))
        return bf_buf_puts(out, ctx->tenant ? ctx->tenant : "");
    if (!strcmp(name, "dataset_id"))
        return bf_buf_puts(out, ctx->dataset ? ctx->dataset : "");
    if (!strcmp(name, "line_number"))
        return bf_buf_printf(out, "%llu", (unsigned long long)ctx->line_no);
    json_t *v = fpath_get_str(rec, name);
    return v ? fo_value_text(v, out) : 0;
}

int ff_expand(const char *s, json_t *rec, const pf_ctx *ctx, bf_buf *out)
{
    while (*s) {
        if ((s[0] == '$' || s[0] == '%') && s[1] == '{' && strchr(s + 2, '}')) {
            const char *e = strchr(s + 2, '}');
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(e - s - 2), s + 2);
            int rc = expand_var(name, rec, ctx, out);
            if (rc)
                return rc;
            s = e + 1;
            continue;
        }
        if (bf_buf_putc(out, *s++))
            return -ENOMEM;
    }
    return 0;
}

/* ---------- add_field ---------- */

typedef struct addf {
    fpath field;
    json_t *value;      /* typed value when not a template string */
    const char *tmpl;   /* points into value when it is a template */
} addf;

static void addf_free(void *p)
{
    addf *a = p;
    fpath_free(&a->field);
    json_decref(a->value);
    free(a);
}

static int addf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *field;
    int rc = fo_req_str(cfg, "field", &field, err, errlen);
    if (rc)
        return rc;
    json_t *v = json_object_get(cfg, "value");
    if (!v) {
        snprintf(err, errlen, "option value is required");
        return -EINVAL;
    }
    addf *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    if (fpath_compile(field, &a->field)) {
        free(a);
        snprintf(err, errlen, "bad field name");
        return -EINVAL;
    }
    a->value = json_deep_copy(v);
    if (json_is_string(v) && ff_has_template(json_string_value(v)))
        a->tmpl = json_string_value(a->value);
    *st = a;
    return 0;
}

static int addf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    addf *a = p;
    json_t *v;
    if (a->tmpl) {
        bf_buf b;
        bf_buf_init(&b, 0);
        if (ff_expand(a->tmpl, rec, ctx, &b)) {
            bf_buf_free(&b);
            return -ENOMEM;
        }
        v = json_stringn(b.data ? b.data : "", b.len);
        bf_buf_free(&b);
    } else {
        v = json_deep_copy(a->value);
    }
    int rc = fpath_set(&a->field, rec, v);
    if (rc)
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "cannot set %s", a->field.text);
    return rc;
}

const pf_def pf_add_field = {"add_field", addf_compile, addf_apply, addf_free};

/* ---------- remove_field ---------- */

typedef struct fields { fpath *f; size_t n; } fields;

static void fields_free(void *p)
{
    fields *f = p;
    for (size_t i = 0; i < f->n; i++)
        fpath_free(&f->f[i]);
    free(f->f);
    free(f);
}

static int fields_add(fields *f, const char *name, char *err, size_t errlen)
{
    fpath *nf = realloc(f->f, (f->n + 1) * sizeof *nf);
    if (!nf)
        return -ENOMEM;
    f->f = nf;
    if (fpath_compile(name, &f->f[f->n])) {
        snprintf(err, errlen, "bad field name '%s'", name);
        return -EINVAL;
    }
    f->n++;
    return 0;
}

static int remf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *one = NULL;
    const char **list = NULL;
    size_t n = 0;
    int rc = fo_str(cfg, "field", NULL, &one, err, errlen);
    if (rc == -EINVAL)
        return rc;
    rc = fo_strlist(cfg, "fields", &list, &n, err, errlen);
    if (rc == -EINVAL || rc == -ENOMEM)
        return rc;
    if (!one && n == 0) {
        free(list);
        snprintf(err, errlen, "option field or fields is required");
        return -EINVAL;
    }
    fields *f = calloc(1, sizeof *f);
    rc = f ? 0 : -ENOMEM;
    if (!rc && one)
        rc = fields_add(f, one, err, errlen);
    for (size_t i = 0; !rc && i < n; i++)
        rc = fields_add(f, list[i], err, errlen);
    free(list);
    if (rc) {
        if (f)
            fields_free(f);
        return rc;
    }
    *st = f;
    return 0;
}

static int remf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)ctx;
    fields *f = p;
    for (size_t i = 0; i < f->n; i++)
        fpath_del(&f->f[i], rec);
    return PF_NEXT;
}

const pf_def pf_remove_field = {"remove_field", remf_compile, remf_apply, fields_free};

/* ---------- rename_field ---------- */

typedef struct renf { fpath from, to; } renf;

static void renf_free(void *p)
{
    renf *r = p;
    fpath_free(&r->from);
    fpath_free(&r->to);
    free(r);
}

static int renf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *from, *to;
    int rc;
    if ((rc = fo_req_str(cfg, "from", &from, err, errlen)) || (rc = fo_req_str(cfg, "to", &to, err, errlen)))
        return rc;
    renf *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if (fpath_compile(from, &r->from) || fpath_compile(to, &r->to)) {
        renf_free(r);
        snprintf(err, errlen, "bad field name");
        return -EINVAL;
    }
    *st = r;
    return 0;
}

static int renf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    renf *r = p;
    json_t *v = fpath_take(&r->from, rec);
    if (!v)
        return PF_NEXT;
    int rc = fpath_set(&r->to, rec, v);
    if (rc)
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "cannot set %s", r->to.text);
    return rc;
}

const pf_def pf_rename_field = {"rename_field", renf_compile, renf_apply, renf_free};

/* ---------- uppercase_keys ---------- */

typedef struct upk { fields *only; bool recursive; } upk;

static void upk_free(void *p)
{
    upk *u = p;
    if (u->only)
        fields_free(u->only);
    free(u);
}

static int upk_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    upk *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    int rc = fo_bool(cfg, "recursive", true, &u->recursive, err, errlen);
    const char **list = NULL;
    size_t n = 0;
    if (rc != -EINVAL) {
        rc = fo_strlist(cfg, "source_field", &list, &n, err, errlen);
        if (rc == -ENOENT)
            rc = 0;
    }
    /* "" or "*" mean the whole record, like no option */
    bool whole = n == 0 || (n == 1 && (!*list[0] || !strcmp(list[0], "*")));
    if (!rc && !whole) {
        u->only = calloc(1, sizeof *u->only);
        rc = u->only ? 0 : -ENOMEM;
        for (size_t i = 0; !rc && i < n; i++)
            rc = fields_add(u->only, list[i], err, errlen);
    }
    free(list);
    if (rc) {
        upk_free(u);
        return rc;
    }
    *st = u;
    return 0;
}

static int upper_obj(json_t *obj, bool recursive);

static int upper_val(json_t *v, bool recursive)
{
    if (json_is_object(v))
        return upper_obj(v, recursive);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (json_is_object(e) && upper_obj(e, recursive))
                return -ENOMEM;
        }
    }
    return 0;
}

/* Rebuild the object with upper-cased keys, keeping the order. */
static int upper_obj(json_t *obj, bool recursive)
{
    json_t *n = json_object();
    if (!n)
        return -ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        char *uk = strdup(k);
        if (!uk) {
            json_decref(n);
            return -ENOMEM;
        }
        for (char *c = uk; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 32);
        if (recursive && upper_val(v, recursive)) {
            free(uk);
            json_decref(n);
            return -ENOMEM;
        }
        json_object_set(n, uk, v);
        free(uk);
    }
    json_object_clear(obj);
    json_object_update(obj, n);
    json_decref(n);
    return 0;
}

static int upk_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)ctx;
    upk *u = p;
    if (!u->only)
        return upper_obj(rec, u->recursive);
    for (size_t i = 0; i < u->only->n; i++) {
        json_t *v = fpath_get(&u->only->f[i], rec);
        if (json_is_object(v) && upper_obj(v, u->recursive))
            return -ENOMEM;
    }
    return PF_NEXT;
}

const pf_def pf_uppercase_keys = {"uppercase_keys", upk_compile, upk_apply, upk_free};

/* ---------- passthrough / enricher ---------- */

static int noop_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)cfg; (void)env; (void)err; (void)errlen;
    *st = NULL;
    return 0;
}
static int noop_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)p; (void)rec; (void)ctx;
    return PF_NEXT;
}
static void noop_free(void *p) { (void)p; }

const pf_def pf_passthrough = {"passthrough", noop_compile, noop_apply, noop_free};
/* The original's enricher is a stub that never enriches (§4.3); accepted so its pipelines load. */
const pf_def pf_enricher = {"enricher", noop_compile, noop_apply, noop_free};
