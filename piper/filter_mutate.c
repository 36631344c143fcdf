/* filter_mutate: see filter_mutate.h. */
#include "filter_mutate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "filter_defs.h"
#include "filter_field.h"
#include "fopts.h"

typedef enum { M_COPY, M_RENAME, M_CONVERT, M_SPLIT, M_JOIN, M_GSUB, M_LOWER, M_UPPER, M_STRIP, M_MERGE,
               M_UPDATE, M_REPLACE, M_REMOVE } m_kind;

typedef enum { CV_STRING, CV_INT, CV_FLOAT, CV_BOOL } cv_kind;

typedef struct mop {
    m_kind k;
    fpath a, b;          /* a: field / source; b: destination / target */
    char *text;          /* separator, replacement, convert type name */
    json_t *value;       /* update / replace */
    rx *re;
    cv_kind cv;
} mop;

typedef struct mutate { mop *ops; size_t n; } mutate;

static void mutate_free(void *p)
{
    mutate *m = p;
    for (size_t i = 0; i < m->n; i++) {
        fpath_free(&m->ops[i].a);
        fpath_free(&m->ops[i].b);
        free(m->ops[i].text);
        json_decref(m->ops[i].value);
        rx_free(m->ops[i].re);
    }
    free(m->ops);
    free(m);
}

static mop *new_op(mutate *m, m_kind k)
{
    mop *n = realloc(m->ops, (m->n + 1) * sizeof *n);
    if (!n)
        return NULL;
    m->ops = n;
    memset(&n[m->n], 0, sizeof *n);
    n[m->n].k = k;
    return &n[m->n++];
}

static int op_paths(mop *o, const char *a, const char *b, char *err, size_t errlen)
{
    if (!a || !*a || fpath_compile(a, &o->a) || (b && *b && fpath_compile(b, &o->b))) {
        snprintf(err, errlen, "bad field name '%s'", a ? a : "");
        return -EINVAL;
    }
    return 0;
}

static const struct { const char *name; cv_kind k; } CONVS[] = {
    {"string", CV_STRING}, {"integer", CV_INT}, {"int", CV_INT}, {"float", CV_FLOAT},
    {"double", CV_FLOAT}, {"boolean", CV_BOOL}, {"bool", CV_BOOL},
};

/* {a: b} maps (copy, rename, convert, update, replace, merge in Logstash form, split/join {f: sep}). */
static int add_map(mutate *m, m_kind k, const json_t *obj, bool swap, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        mop *o = new_op(m, k);
        if (!o)
            return -ENOMEM;
        const char *vs = json_string_value(v);
        if (k == M_UPDATE || k == M_REPLACE) {
            o->value = json_deep_copy(v);
            if (op_paths(o, key, NULL, err, errlen))
                return -EINVAL;
            continue;
        }
        if (!vs) {
            snprintf(err, errlen, "value of %s must be a string", key);
            return -EINVAL;
        }
        if (k == M_CONVERT) {
            size_t i;
            for (i = 0; i < sizeof CONVS / sizeof *CONVS; i++)
                if (!strcmp(CONVS[i].name, vs))
                    break;
            if (i == sizeof CONVS / sizeof *CONVS) {
                snprintf(err, errlen, "convert: unknown type '%s'", vs);
                return -EINVAL;
            }
            o->cv = CONVS[i].k;
            if (op_paths(o, key, NULL, err, errlen))
                return -EINVAL;
        } else if (k == M_SPLIT || k == M_JOIN) {
            if (!(o->text = strdup(vs)) || op_paths(o, key, NULL, err, errlen))
                return -EINVAL;
        } else if (op_paths(o, swap ? vs : key, swap ? key : vs, err, errlen)) {
            return -EINVAL;
        }
    }
    return 0;
}

/* {field, separator, target} objects of the original for split/join. */
static int add_fst(mutate *m, m_kind k, const json_t *obj, char *err, size_t errlen)
{
    const char *f = json_string_value(json_object_get(obj, "field"));
    const char *sep = json_string_value(json_object_get(obj, "separator"));
    const char *t = json_string_value(json_object_get(obj, "target"));
    mop *o = new_op(m, k);
    if (!o)
        return -ENOMEM;
    if (!(o->text = strdup(sep ? sep : (k == M_SPLIT ? "," : ","))))
        return -ENOMEM;
    return op_paths(o, f, t, err, errlen);
}

static int add_list(mutate *m, m_kind k, const json_t *v, char *err, size_t errlen)
{
    json_t *list = json_is_array(v) ? json_incref((json_t *)v) : json_pack("[O]", v);
    if (!list)
        return -ENOMEM;
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(list, i, e) {
        mop *o = new_op(m, k);
        if (!o || !json_is_string(e)) {
            rc = o ? -EINVAL : -ENOMEM;
            snprintf(err, errlen, "expected a list of field names");
            break;
        }
        if ((rc = op_paths(o, json_string_value(e), NULL, err, errlen)))
            break;
    }
    json_decref(list);
    return rc;
}

static int add_gsub_one(mutate *m, const char *f, const char *pat, const char *repl, char *err, size_t errlen)
{
    mop *o = new_op(m, M_GSUB);
    if (!o)
        return -ENOMEM;
    if (!pat || !(o->text = strdup(repl ? repl : ""))) {
        snprintf(err, errlen, "gsub needs field, pattern and replacement");
        return -EINVAL;
    }
    int rc = op_paths(o, f, NULL, err, errlen);
    return rc ? rc : rx_compile(pat, 0, &o->re, err, errlen);
}

static int add_gsub(mutate *m, const json_t *v, char *err, size_t errlen)
{
    if (!json_is_array(v)) {
        snprintf(err, errlen, "gsub must be a list");
        return -EINVAL;
    }
    size_t n = json_array_size(v);
    if (n && json_is_string(json_array_get(v, 0))) {
        if (n % 3) {
            snprintf(err, errlen, "gsub flat list needs triples");
            return -EINVAL;
        }
        for (size_t i = 0; i < n; i += 3) {
            int rc = add_gsub_one(m, json_string_value(json_array_get(v, i)),
                                  json_string_value(json_array_get(v, i + 1)),
                                  json_string_value(json_array_get(v, i + 2)), err, errlen);
            if (rc)
                return rc;
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        int rc = add_gsub_one(m, json_string_value(json_object_get(e, "field")),
                              json_string_value(json_object_get(e, "pattern")),
                              json_string_value(json_object_get(e, "replacement")), err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int add_merge(mutate *m, const json_t *v, char *err, size_t errlen)
{
    if (json_is_object(v))
        return add_map(m, M_MERGE, v, true, err, errlen);   /* Logstash: {dst: src} */
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)v, i, e) {
        mop *o = new_op(m, M_MERGE);
        if (!o)
            return -ENOMEM;
        int rc = op_paths(o, json_string_value(json_object_get(e, "source")),
                          json_string_value(json_object_get(e, "target")), err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int add_op(mutate *m, m_kind k, const json_t *v, char *err, size_t errlen)
{
    switch (k) {
    case M_COPY: case M_RENAME: case M_CONVERT: case M_UPDATE: case M_REPLACE:
        if (!json_is_object(v)) {
            snprintf(err, errlen, "expected an object");
            return -EINVAL;
        }
        return add_map(m, k, v, false, err, errlen);
    case M_SPLIT: case M_JOIN:
        if (!json_is_object(v)) {
            snprintf(err, errlen, "expected an object");
            return -EINVAL;
        }
        return json_object_get(v, "field") ? add_fst(m, k, v, err, errlen) : add_map(m, k, v, false, err, errlen);
    case M_GSUB:
        return add_gsub(m, v, err, errlen);
    case M_MERGE:
        return add_merge(m, v, err, errlen);
    default:
        return add_list(m, k, v, err, errlen);
    }
}

static const struct { const char *name; m_kind k; } MOPS[] = {
    {"copy", M_COPY}, {"rename", M_RENAME}, {"convert", M_CONVERT}, {"split", M_SPLIT}, {"join", M_JOIN},
    {"gsub", M_GSUB}, {"lowercase", M_LOWER}, {"uppercase", M_UPPER}, {"strip", M_STRIP}, {"merge", M_MERGE},
    {"update", M_UPDATE}, {"replace", M_REPLACE}, {"remove", M_REMOVE}, {"remove_field", M_REMOVE},
};

static int mutate_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    mutate *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof MOPS / sizeof *MOPS; i++) {
        json_t *v = json_object_get(cfg, MOPS[i].name);
        if (v && !json_is_null(v)) {
            char sub[160] = "";
            rc = add_op(m, MOPS[i].k, v, sub, sizeof sub);
            if (rc)
                snprintf(err, errlen, "%s: %s", MOPS[i].name, sub);
        }
    }
    if (rc) {
        mutate_free(m);
        return rc;
    }
    *st = m;
    return 0;
}

/* ---- apply ---- */

static json_t *convert_one(const json_t *v, cv_kind k)
{
    char tmp[64];
    double d;
    bool b;
    switch (k) {
    case CV_STRING: {
        bf_buf s;
        bf_buf_init(&s, 0);
        json_t *r = fo_value_text(v, &s) ? NULL : json_stringn(s.data ? s.data : "", s.len);
        bf_buf_free(&s);
        return r;
    }
    case CV_INT:
        if (json_is_integer(v))
            return json_incref((json_t *)v);
        if (json_is_boolean(v))
            return json_integer(json_is_true(v));
        if (json_is_string(v)) {
            char *end;
            errno = 0;
            long long i = strtoll(json_string_value(v), &end, 10);
            if (!*end && end != json_string_value(v) && !errno)
                return json_integer(i);
        }
        if (fo_value_num(v, &d) == 0 && fabs(d) < 9.2e18)
            return json_integer((json_int_t)d);
        return NULL;
    case CV_FLOAT:
        if (json_is_boolean(v))
            return json_real(json_is_true(v));
        return fo_value_num(v, &d) == 0 ? json_real(d) : NULL;
    default:
        if (json_is_boolean(v))
            return json_incref((json_t *)v);
        if (json_is_number(v))
            return json_boolean(json_number_value(v) != 0);
        return json_is_string(v) && fo_parse_bool(fo_value_cstr(v, tmp, sizeof tmp), &b) == 0 ? json_boolean(b)
                                                                                           : NULL;
    }
}

static int do_convert(const mop *o, json_t *rec)
{
    json_t *v = fpath_get(&o->a, rec);
    if (!v)
        return 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *c = convert_one(json_array_get(v, i), o->cv);
            if (c)
                json_array_set_new(v, i, c);
        }
        return 0;
    }
    json_t *c = convert_one(v, o->cv);
    return c ? fpath_set(&o->a, rec, c) : 0;
}

static int do_split(const mop *o, json_t *rec)
{
    json_t *v = fpath_get(&o->a, rec);
    if (!json_is_string(v) || !*o->text)
        return 0;
    json_t *arr = json_array();
    const char *s = json_string_value(v);
    size_t sl = strlen(o->text);
    for (;;) {
        const char *e = strstr(s, o->text);
        json_array_append_new(arr, json_stringn(s, e ? (size_t)(e - s) : strlen(s)));
        if (!e)
            break;
        s = e + sl;
    }
    return fpath_set(o->b.nseg ? &o->b : &o->a, rec, arr);
}

static int do_join(const mop *o, json_t *rec)
{
    json_t *v = fpath_get(&o->a, rec);
    if (!json_is_array(v))
        return 0;
    bf_buf b;
    bf_buf_init(&b, 0);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if ((i && bf_buf_puts(&b, o->text)) || fo_value_text(e, &b)) {
            bf_buf_free(&b);
            return -ENOMEM;
        }
    }
    int rc = fpath_set(o->b.nseg ? &o->b : &o->a, rec, json_stringn(b.data ? b.data : "", b.len));
    bf_buf_free(&b);
    return rc;
}

static int do_gsub(const mop *o, json_t *rec, pf_ctx *ctx)
{
    json_t *v = fpath_get(&o->a, rec);
    if (!json_is_string(v))
        return 0;
    bf_buf b;
    bf_buf_init(&b, 0);
    int rc = rx_replace(o->re, ctx->rx, json_string_value(v), json_string_length(v), o->text, true, true, &b);
    if (rc >= 0)
        rc = fpath_set(&o->a, rec, json_stringn(b.data ? b.data : "", b.len));
    bf_buf_free(&b);
    return rc < 0 ? rc : 0;
}

static int do_case(const mop *o, json_t *rec)
{
    json_t *v = fpath_get(&o->a, rec);
    if (!json_is_string(v))
        return 0;
    char *s = strndup(json_string_value(v), json_string_length(v));
    if (!s)
        return -ENOMEM;
    size_t n = json_string_length(v);
    char *start = s;
    if (o->k == M_STRIP) {
        while (n && isspace((unsigned char)start[n - 1]))
            n--;
        while (n && isspace((unsigned char)*start)) {
            start++;
            n--;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(o->k == M_LOWER ? tolower((unsigned char)s[i]) : toupper((unsigned char)s[i]));
    }
    int rc = fpath_set(&o->a, rec, json_stringn(start, n));
    free(s);
    return rc;
}

static int do_merge(const mop *o, json_t *rec)
{
    json_t *src = fpath_get(&o->a, rec), *dst = fpath_get(&o->b, rec);
    if (!src)
        return 0;
    if (json_is_array(dst)) {
        if (json_is_array(src))
            return json_array_extend(dst, src) ? -ENOMEM : 0;
        return json_array_append(dst, src) ? -ENOMEM : 0;
    }
    if (json_is_object(dst) && json_is_object(src))
        return json_object_update(dst, src) ? -ENOMEM : 0;
    if (json_is_string(dst) && json_is_string(src)) {
        bf_buf b;
        bf_buf_init(&b, 0);
        int rc = bf_buf_append(&b, json_string_value(dst), json_string_length(dst)) ||
                 bf_buf_append(&b, json_string_value(src), json_string_length(src));
        if (!rc)
            rc = fpath_set(&o->b, rec, json_stringn(b.data, b.len));
        bf_buf_free(&b);
        return rc;
    }
    return fpath_set(&o->b, rec, json_deep_copy(src));
}

static int do_set(const mop *o, json_t *rec, pf_ctx *ctx)
{
    if (o->k == M_UPDATE && !fpath_get(&o->a, rec))
        return 0;
    if (json_is_string(o->value) && ff_has_template(json_string_value(o->value))) {
        bf_buf b;
        bf_buf_init(&b, 0);
        int rc = ff_expand(json_string_value(o->value), rec, ctx, &b);
        if (!rc)
            rc = fpath_set(&o->a, rec, json_stringn(b.data ? b.data : "", b.len));
        bf_buf_free(&b);
        return rc;
    }
    return fpath_set(&o->a, rec, json_deep_copy(o->value));
}

static int mop_apply(const mop *o, json_t *rec, pf_ctx *ctx)
{
    json_t *v;
    switch (o->k) {
    case M_COPY:
        v = fpath_get(&o->a, rec);
        return v ? fpath_set(&o->b, rec, json_deep_copy(v)) : 0;
    case M_RENAME:
        v = fpath_take(&o->a, rec);
        return v ? fpath_set(&o->b, rec, v) : 0;
    case M_CONVERT: return do_convert(o, rec);
    case M_SPLIT: return do_split(o, rec);
    case M_JOIN: return do_join(o, rec);
    case M_GSUB: return do_gsub(o, rec, ctx);
    case M_LOWER: case M_UPPER: case M_STRIP: return do_case(o, rec);
    case M_MERGE: return do_merge(o, rec);
    case M_UPDATE: case M_REPLACE: return do_set(o, rec, ctx);
    default:
        fpath_del(&o->a, rec);
        return 0;
    }
}

static int mutate_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    mutate *m = p;
    for (size_t i = 0; i < m->n; i++) {
        int rc = mop_apply(&m->ops[i], rec, ctx);
        if (rc) {
            snprintf(ctx->errmsg, sizeof ctx->errmsg, "mutate %s: error %d", m->ops[i].a.text, rc);
            return rc;
        }
    }
    return PF_NEXT;
}

const pf_def pf_mutate = {"mutate", mutate_compile, mutate_apply, mutate_free};
