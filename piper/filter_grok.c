/* filter_grok: see filter_grok.h. */
#include "filter_grok.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"
#include "grok.h"

typedef struct gf {
    grok **g;
    size_t n;
    fpath src, dst;
    bool has_dst, brk;
    grok_opts o;
    json_t *fail_tags;
} gf;

static void gf_free(void *p)
{
    gf *f = p;
    for (size_t i = 0; i < f->n; i++)
        grok_free(f->g[i]);
    free(f->g);
    fpath_free(&f->src);
    fpath_free(&f->dst);
    json_decref(f->fail_tags);
    free(f);
}

static int gf_add(gf *f, const char *pat, const json_t *custom, char *err, size_t errlen)
{
    grok **ng = realloc(f->g, (f->n + 1) * sizeof *ng);
    if (!ng)
        return -ENOMEM;
    f->g = ng;
    int rc = grok_compile(pat, custom, &f->g[f->n], err, errlen);
    if (!rc)
        f->n++;
    return rc;
}

/* patterns from pattern / patterns / match (the Logstash shape); match also names the source. */
static int gf_patterns(gf *f, const json_t *cfg, const char **src, char *err, size_t errlen)
{
    const json_t *custom = json_object_get(cfg, "custom_patterns");
    if (custom && !json_is_object(custom)) {
        snprintf(err, errlen, "custom_patterns must be an object");
        return -EINVAL;
    }
    const char **list = NULL;
    size_t n = 0;
    int rc = fo_strlist(cfg, "patterns", &list, &n, err, errlen);
    if (rc == -ENOENT || (rc == 0 && n == 0)) {
        free(list);
        list = NULL;
        rc = fo_strlist(cfg, "pattern", &list, &n, err, errlen);
    }
    json_t *match = json_object_get(cfg, "match");
    if (rc == -ENOENT && json_is_object(match) && json_object_size(match) == 1) {
        const char *k;
        json_t *v;
        json_object_foreach(match, k, v) {
            *src = k;
            json_t *wrap = json_pack("{sO}", "p", v);
            rc = wrap ? fo_strlist(wrap, "p", &list, &n, err, errlen) : -ENOMEM;
            /* strings stay owned by cfg (wrap holds references to the same values) */
            json_decref(wrap);
        }
    }
    if (rc == -ENOENT || (rc == 0 && n == 0)) {
        free(list);
        snprintf(err, errlen, "option pattern or patterns is required");
        return -EINVAL;
    }
    for (size_t i = 0; !rc && i < n; i++)
        rc = gf_add(f, list[i], custom, err, errlen);
    free(list);
    return rc;
}

static int gf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    gf *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    const char *src = NULL, *dst;
    int rc = gf_patterns(f, cfg, &src, err, errlen);
    if (!rc && !src && fo_str(cfg, "source_field", "message", &src, err, errlen) == -EINVAL)
        rc = -EINVAL;
    if (!rc && (fo_str(cfg, "target_field", "", &dst, err, errlen) == -EINVAL ||
                fo_bool(cfg, "break_on_match", true, &f->brk, err, errlen) == -EINVAL ||
                fo_bool(cfg, "keep_empty_captures", false, &f->o.keep_empty, err, errlen) == -EINVAL ||
                fo_bool(cfg, "overwrite_keys", true, &f->o.overwrite, err, errlen) == -EINVAL))
        rc = -EINVAL;
    if (!rc) {
        f->has_dst = *dst;
        if (fpath_compile(*src ? src : "message", &f->src) || (f->has_dst && fpath_compile(dst, &f->dst)))
            rc = -EINVAL;
        json_t *t = json_object_get(cfg, "tag_on_failure");
        f->fail_tags = t ? (json_is_array(t) ? json_deep_copy(t) : json_pack("[O]", t))
                         : json_pack("[s]", "_grokparsefailure");
        if (!f->fail_tags)
            rc = -ENOMEM;
    }
    if (rc) {
        gf_free(f);
        return rc;
    }
    *st = f;
    return 0;
}

static int gf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    gf *f = p;
    json_t *v = fpath_get(&f->src, rec);
    bool matched = false;
    if (v && !json_is_null(v)) {
        bf_buf text;
        bf_buf_init(&text, 0);
        const char *s;
        size_t len;
        if (json_is_string(v)) {
            s = json_string_value(v);
            len = json_string_length(v);
        } else {
            if (fo_value_text(v, &text))
                return -ENOMEM;
            s = text.data ? text.data : "";
            len = text.len;
        }
        /* captures may overwrite the source: keep it alive while matching */
        json_incref(v);
        json_t *dst = rec;
        if (f->has_dst) {
            dst = fpath_get(&f->dst, rec);
            if (!json_is_object(dst)) {
                dst = json_object();
                fpath_set(&f->dst, rec, dst);
            }
        }
        int rc = 0;
        for (size_t i = 0; i < f->n && !(matched && f->brk); i++) {
            int m = grok_match(f->g[i], ctx->rx, s, len, dst, &f->o);
            if (m < 0) {
                rc = m;
                break;
            }
            matched |= m > 0;
        }
        json_decref(v);
        bf_buf_free(&text);
        if (rc < 0) {
            snprintf(ctx->errmsg, sizeof ctx->errmsg, "grok: match error %d", rc);
            return rc;
        }
    }
    if (matched)
        return PF_NEXT;
    size_t i;
    json_t *t;
    json_array_foreach(f->fail_tags, i, t) {
        if (json_is_string(t))
            pf_add_tag(rec, json_string_value(t));
    }
    return PF_NEXT;
}

const pf_def pf_grok = {"grok", gf_compile, gf_apply, gf_free};
