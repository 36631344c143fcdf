/* filter_regex: see filter_regex.h. */
#include "filter_regex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

typedef struct rrep {
    rx *re;
    fpath src, dst;
    char *repl;
    bool global;
} rrep;

static void rrep_free(void *p)
{
    rrep *r = p;
    rx_free(r->re);
    fpath_free(&r->src);
    fpath_free(&r->dst);
    free(r->repl);
    free(r);
}

static int rrep_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *pat, *src, *dst, *repl;
    int rc;
    if ((rc = fo_req_str(cfg, "pattern", &pat, err, errlen)))
        return rc;
    if (fo_str(cfg, "source_field", "message", &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", NULL, &dst, err, errlen) == -EINVAL ||
        fo_str(cfg, "replacement", "", &repl, err, errlen) == -EINVAL)
        return -EINVAL;
    rrep *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if (fo_bool(cfg, "global", true, &r->global, err, errlen) == -EINVAL ||
        (rc = rx_compile(pat, 0, &r->re, err, errlen))) {
        rrep_free(r);
        return -EINVAL;
    }
    if (!*src)
        src = "message";
    if (fpath_compile(src, &r->src) || fpath_compile(dst && *dst ? dst : src, &r->dst) ||
        !(r->repl = strdup(repl))) {
        rrep_free(r);
        snprintf(err, errlen, "bad field name");
        return -EINVAL;
    }
    *st = r;
    return 0;
}

static int rrep_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    rrep *r = p;
    json_t *v = fpath_get(&r->src, rec);
    if (!v || json_is_null(v))
        return PF_NEXT;
    bf_buf in, out;
    bf_buf_init(&in, 0);
    bf_buf_init(&out, 0);
    int rc = fo_value_text(v, &in);
    if (!rc) {
        rc = rx_replace(r->re, ctx->rx, in.data ? in.data : "", in.len, r->repl, r->global, true, &out);
        if (rc >= 0)
            rc = fpath_set(&r->dst, rec, json_stringn(out.data ? out.data : "", out.len));
    }
    if (rc < 0)
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "regex_replace failed (%d)", rc);
    bf_buf_free(&in);
    bf_buf_free(&out);
    return rc < 0 ? rc : PF_NEXT;
}

const pf_def pf_regex_replace = {"regex_replace", rrep_compile, rrep_apply, rrep_free};
