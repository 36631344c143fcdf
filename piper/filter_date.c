/* filter_date: see filter_date.h. */
#include "filter_date.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

struct date_spec {
    tf_layout **l;
    size_t n;
    tz_zone *zone;
    bool defaults;        /* no formats given: numeric strings are read as epochs too */
};

static const char *const DEFAULT_FORMATS[] = {"ISO8601", "2006-01-02 15:04:05", "02/Jan/2006:15:04:05 -0700",
                                              "Jan _2 15:04:05", "Jan _2 2006 15:04:05"};

void date_spec_free(date_spec *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        tf_free(d->l[i]);
    free(d->l);
    tz_free(d->zone);
    free(d);
}

int date_spec_compile(const json_t *cfg, date_spec **out, char *err, size_t errlen)
{
    *out = NULL;
    const char **fmts = NULL;
    size_t n = 0;
    const char *tzname;
    int rc = fo_strlist(cfg, "formats", &fmts, &n, err, errlen);
    if (rc == -ENOENT || (!rc && !n)) {
        free(fmts);
        fmts = NULL;
        rc = fo_strlist(cfg, "format", &fmts, &n, err, errlen);
    }
    if (rc == -EINVAL || rc == -ENOMEM)
        return rc;
    if (fo_str(cfg, "timezone", "UTC", &tzname, err, errlen) == -EINVAL) {
        free(fmts);
        return -EINVAL;
    }
    date_spec *d = calloc(1, sizeof *d);
    const char *const *use = n ? fmts : DEFAULT_FORMATS;
    if (d)
        d->defaults = n == 0;
    size_t nuse = n ? n : sizeof DEFAULT_FORMATS / sizeof *DEFAULT_FORMATS;
    rc = d && (d->l = calloc(nuse, sizeof *d->l)) ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < nuse; i++, d->n++)
        rc = tf_compile(use[i], &d->l[i], err, errlen);
    free(fmts);
    if (!rc && (rc = tz_load(*tzname ? tzname : "UTC", &d->zone)))
        snprintf(err, errlen, "unknown timezone '%s'", tzname);
    if (rc) {
        date_spec_free(d);
        return rc == -ENOMEM ? rc : -EINVAL;
    }
    *out = d;
    return 0;
}

int date_spec_parse(const date_spec *d, const json_t *v, int64_t now_s, tf_time *out)
{
    if (json_is_integer(v))
        return tf_from_integer(json_integer_value(v), out);
    if (json_is_real(v))
        return tf_from_number(json_real_value(v), out);
    if (!json_is_string(v))
        return -EINVAL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < d->n; i++)
        if (tf_parse(d->l[i], s, n, d->zone, now_s, out) == 0)
            return 0;
    /* a numeric string read as an epoch when no explicit format matched */
    char *end;
    errno = 0;
    long long iv = strtoll(s, &end, 10);
    if (d->defaults && n && !*end && !errno)
        return tf_from_integer(iv, out);
    return -EINVAL;
}

/* ---------- date_parse ---------- */

typedef struct dpf {
    date_spec *spec;
    fpath src, dst;
    char *fail_tag;
} dpf;

static void dpf_free(void *p)
{
    dpf *f = p;
    date_spec_free(f->spec);
    fpath_free(&f->src);
    fpath_free(&f->dst);
    free(f->fail_tag);
    free(f);
}

static int dpf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *src, *dst, *tag;
    if (fo_str(cfg, "source_field", "timestamp", &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", "@timestamp", &dst, err, errlen) == -EINVAL ||
        fo_str(cfg, "tag_on_failure", "_dateparsefailure", &tag, err, errlen) == -EINVAL)
        return -EINVAL;
    dpf *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    int rc = date_spec_compile(cfg, &f->spec, err, errlen);
    if (!rc && (fpath_compile(*src ? src : "timestamp", &f->src) ||
                fpath_compile(*dst ? dst : "@timestamp", &f->dst) || !(f->fail_tag = strdup(tag))))
        rc = -EINVAL;
    if (rc) {
        dpf_free(f);
        return rc;
    }
    *st = f;
    return 0;
}

static int dpf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    dpf *f = p;
    json_t *v = fpath_get(&f->src, rec);
    if (!v)
        return PF_NEXT;
    tf_time t;
    if (date_spec_parse(f->spec, v, ctx->now_ms / 1000, &t))
        return *f->fail_tag ? pf_add_tag(rec, f->fail_tag) : PF_NEXT;
    char out[48];
    tf_format_rfc3339(t, f->spec->zone, out, sizeof out);
    return fpath_set(&f->dst, rec, json_string(out));
}

const pf_def pf_date_parse = {"date_parse", dpf_compile, dpf_apply, dpf_free};

/* ---------- timestamp ---------- */

static int tsf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *src, *dst;
    if (fo_str(cfg, "field", NULL, &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target", "BfTs", &dst, err, errlen) == -EINVAL)
        return -EINVAL;
    if (!src && fo_str(cfg, "source_field", "timestamp", &src, err, errlen) == -EINVAL)
        return -EINVAL;
    dpf *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    int rc = date_spec_compile(cfg, &f->spec, err, errlen);
    if (!rc && (fpath_compile(*src ? src : "timestamp", &f->src) || fpath_compile(*dst ? dst : "BfTs", &f->dst) ||
                !(f->fail_tag = strdup("_timestampparsefailure"))))
        rc = -EINVAL;
    if (rc) {
        dpf_free(f);
        return rc;
    }
    *st = f;
    return 0;
}

static int tsf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    dpf *f = p;
    json_t *v = fpath_get(&f->src, rec);
    if (!v)
        return PF_NEXT;
    tf_time t;
    if (date_spec_parse(f->spec, v, ctx->now_ms / 1000, &t))
        return pf_add_tag(rec, f->fail_tag);
    return fpath_set(&f->dst, rec, json_integer(t.sec * 1000 + t.nsec / 1000000));
}

const pf_def pf_timestamp = {"timestamp", tsf_compile, tsf_apply, dpf_free};
