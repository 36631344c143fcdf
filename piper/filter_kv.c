/* filter_kv: see filter_kv.h. */
#include "filter_kv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_buf.h"
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

typedef struct kvf {
    fpath src, dst;
    bool has_dst, allow_dup, remove;
    char *fsplit, *vsplit, *prefix, *trim_k, *trim_v;
    const char **inc; size_t ninc;
    const char **exc; size_t nexc;
    json_t *defaults;
    json_t *cfg;     /* keeps the strings inc/exc point into */
} kvf;

static void kvf_free(void *p)
{
    kvf *k = p;
    fpath_free(&k->src);
    fpath_free(&k->dst);
    free(k->fsplit); free(k->vsplit); free(k->prefix); free(k->trim_k); free(k->trim_v);
    free(k->inc);
    free(k->exc);
    json_decref(k->defaults);
    json_decref(k->cfg);
    free(k);
}

static int kvf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    kvf *k = calloc(1, sizeof *k);
    if (!k)
        return -ENOMEM;
    k->cfg = json_deep_copy(cfg);
    const char *src, *dst, *fs, *vs, *pre, *tk, *tv;
    int rc = 0;
    if (fo_str(k->cfg, "source_field", "message", &src, err, errlen) == -EINVAL ||
        fo_str(k->cfg, "target_field", NULL, &dst, err, errlen) == -EINVAL ||
        fo_str(k->cfg, "field_split", " ", &fs, err, errlen) == -EINVAL ||
        fo_str(k->cfg, "value_split", "=", &vs, err, errlen) == -EINVAL ||
        fo_str(k->cfg, "prefix", "", &pre, err, errlen) == -EINVAL ||
        fo_str(k->cfg, "trim_key", "", &tk, err, errlen) == -EINVAL ||
        fo_str(k->cfg, "trim_value", "", &tv, err, errlen) == -EINVAL ||
        fo_bool(k->cfg, "allow_duplicate", true, &k->allow_dup, err, errlen) == -EINVAL ||
        fo_bool(k->cfg, "remove_field", false, &k->remove, err, errlen) == -EINVAL ||
        fo_strlist(k->cfg, "include_keys", &k->inc, &k->ninc, err, errlen) == -EINVAL ||
        fo_strlist(k->cfg, "exclude_keys", &k->exc, &k->nexc, err, errlen) == -EINVAL)
        rc = -EINVAL;
    if (!rc && (!*fs || !*vs)) {
        snprintf(err, errlen, "field_split and value_split must not be empty");
        rc = -EINVAL;
    }
    if (!rc) {
        k->has_dst = dst && *dst;
        if (fpath_compile(*src ? src : "message", &k->src) || (k->has_dst && fpath_compile(dst, &k->dst)))
            rc = -EINVAL;
        k->fsplit = strdup(fs); k->vsplit = strdup(vs); k->prefix = strdup(pre);
        k->trim_k = strdup(tk); k->trim_v = strdup(tv);
        if (!k->fsplit || !k->vsplit || !k->prefix || !k->trim_k || !k->trim_v)
            rc = -ENOMEM;
        json_t *d = json_object_get(k->cfg, "default_values");
        if (d && !json_is_object(d)) {
            snprintf(err, errlen, "default_values must be an object");
            rc = -EINVAL;
        }
        k->defaults = json_incref(d);
    }
    if (rc) {
        kvf_free(k);
        return rc;
    }
    *st = k;
    return 0;
}

/* Trim the cut-set from both ends of [s, s+n). */
static void trim_set(const char **s, size_t *n, const char *set)
{
    if (!*set)
        return;
    while (*n && strchr(set, (*s)[*n - 1]))
        (*n)--;
    while (*n && strchr(set, **s)) {
        (*s)++;
        (*n)--;
    }
}

static size_t skip_split(const char *s, size_t len, size_t i, const char *fs, size_t fl)
{
    bool blank = !strcmp(fs, " ");
    for (;;) {
        if (blank && i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        else if (i + fl <= len && !memcmp(s + i, fs, fl))
            i += fl;
        else
            return i;
    }
}

static size_t find_str(const char *s, size_t len, size_t i, const char *needle, size_t nl, bool blank)
{
    for (; i < len; i++) {
        if (blank && s[i] == '\t')
            return i;
        if (i + nl <= len && !memcmp(s + i, needle, nl))
            return i;
    }
    return len;
}

typedef void (*kv_pair_fn)(void *ud, const char *k, size_t kl, const char *v, size_t vl);

/* Quoted value: returns the index after the closing quote and unescapes into out. */
static size_t read_quoted(const char *s, size_t len, size_t i, bf_buf *out)
{
    char q = s[i++];
    while (i < len && s[i] != q) {
        if (s[i] == '\\' && i + 1 < len)
            i++;
        bf_buf_putc(out, s[i++]);
    }
    return i < len ? i + 1 : i;
}

static void kv_walk(const char *s, size_t len, const char *fs, const char *vs, kv_pair_fn fn, void *ud)
{
    size_t fl = strlen(fs), vl = strlen(vs);
    bool blank = !strcmp(fs, " ");
    bf_buf val;
    bf_buf_init(&val, 1 << 20);
    size_t i = skip_split(s, len, 0, fs, fl);
    while (i < len) {
        size_t fe = find_str(s, len, i, fs, fl, blank);
        size_t ve = find_str(s, len, i, vs, vl, false);
        if (ve >= fe) {   /* token without a value separator: skip it */
            i = skip_split(s, len, fe, fs, fl);
            continue;
        }
        const char *k = s + i;
        size_t kl = ve - i;
        size_t vi = ve + vl;
        bf_buf_reset(&val);
        if (vi < len && (s[vi] == '"' || s[vi] == '\'')) {
            i = read_quoted(s, len, vi, &val);
            fn(ud, k, kl, val.data ? val.data : "", val.len);
            i = find_str(s, len, i, fs, fl, blank);
        } else {
            size_t e = find_str(s, len, vi, fs, fl, blank);
            fn(ud, k, kl, s + vi, e - vi);
            i = e;
        }
        i = skip_split(s, len, i, fs, fl);
    }
    bf_buf_free(&val);
}

typedef struct walk_ud { const kvf *k; json_t *obj; } walk_ud;

static bool in_list(const char **l, size_t n, const char *k, size_t kl)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(l[i]) == kl && !memcmp(l[i], k, kl))
            return true;
    return false;
}

static void kvf_pair(void *p, const char *k, size_t kl, const char *v, size_t vl)
{
    walk_ud *w = p;
    trim_set(&k, &kl, w->k->trim_k);
    trim_set(&v, &vl, w->k->trim_v);
    if (!kl || (w->k->ninc && !in_list(w->k->inc, w->k->ninc, k, kl)) || in_list(w->k->exc, w->k->nexc, k, kl))
        return;
    bf_buf key;
    bf_buf_init(&key, 0);
    if (bf_buf_puts(&key, w->k->prefix) || bf_buf_append(&key, k, kl)) {
        bf_buf_free(&key);
        return;
    }
    if (w->k->allow_dup || !json_object_get(w->obj, key.data))
        json_object_set_new(w->obj, key.data, json_stringn(v, vl));
    bf_buf_free(&key);
}

typedef struct plain_ud { json_t *obj; } plain_ud;
static void plain_pair(void *p, const char *k, size_t kl, const char *v, size_t vl)
{
    plain_ud *u = p;
    char *key = strndup(k, kl);
    if (key && kl)
        json_object_set_new(u->obj, key, json_stringn(v, vl));
    free(key);
}

int kv_parse_into(const char *s, size_t len, const char *fsplit, const char *vsplit, json_t *obj)
{
    plain_ud u = {obj};
    kv_walk(s, len, fsplit, vsplit, plain_pair, &u);
    return 0;
}

static int kvf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)ctx;
    kvf *k = p;
    json_t *v = fpath_get(&k->src, rec);
    if (!json_is_string(v))
        return PF_NEXT;
    json_t *obj = json_object();
    if (!obj)
        return -ENOMEM;
    walk_ud w = {k, obj};
    kv_walk(json_string_value(v), json_string_length(v), k->fsplit, k->vsplit, kvf_pair, &w);
    if (json_object_size(obj) == 0) {
        json_decref(obj);
        return PF_NEXT;
    }
    if (k->defaults)
        json_object_update_missing(obj, k->defaults);
    if (k->remove)
        fpath_del(&k->src, rec);
    if (k->has_dst)
        return fpath_set(&k->dst, rec, obj);
    int rc = json_object_update(rec, obj) ? -ENOMEM : 0;
    json_decref(obj);
    return rc;
}

const pf_def pf_kv = {"kv", kvf_compile, kvf_apply, kvf_free};
