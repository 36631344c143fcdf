/* filter_net: see filter_net.h. */
#include "filter_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns_cache.h"
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"
#include "geoip.h"

/* ---------- geoip ---------- */

typedef struct geof {
    fpath src, dst;
    const char **fields;
    size_t nfields;
    geoip_mgr *mgr;       /* borrowed from env, or owned when `database` is given */
    bool own;
} geof;

static void geof_free(void *p)
{
    geof *g = p;
    fpath_free(&g->src);
    fpath_free(&g->dst);
    free(g->fields);
    if (g->own)
        geoip_mgr_destroy(g->mgr);
    free(g);
}

static int geof_fields(geof *g, const json_t *cfg, char *err, size_t errlen)
{
    static const char *const def[] = {"country", "city", "latitude", "longitude"};
    const char **list = NULL;
    size_t n = 0;
    int rc = fo_strlist(cfg, "fields", &list, &n, err, errlen);
    if (rc == -EINVAL || rc == -ENOMEM)
        return rc;
    size_t cnt = n ? n : 4;
    g->fields = calloc(cnt, sizeof *g->fields);
    if (!g->fields) {
        free(list);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cnt; i++) {
        const char *c = geoip_field_canonical(n ? list[i] : def[i]);
        if (!c) {
            snprintf(err, errlen, "unknown geoip field '%s'", list[i]);
            free(list);
            return -EINVAL;
        }
        g->fields[g->nfields++] = c;
    }
    free(list);
    return 0;
}

static int geof_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    const char *src, *dst, *db;
    if (fo_str(cfg, "source_field", "ip_address", &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", "geoip", &dst, err, errlen) == -EINVAL ||
        fo_str(cfg, "database", NULL, &db, err, errlen) == -EINVAL)
        return -EINVAL;
    geof *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    int rc = geof_fields(g, cfg, err, errlen);
    if (!rc && (fpath_compile(*src ? src : "ip_address", &g->src) || fpath_compile(*dst ? dst : "geoip", &g->dst)))
        rc = -EINVAL;
    if (!rc && db && *db) {
        g->own = true;
        rc = geoip_mgr_create(&g->mgr);
        if (!rc && (rc = geoip_mgr_load(g->mgr, db, NULL)))
            snprintf(err, errlen, "cannot open geoip database %s", db);
    } else if (!rc) {
        g->mgr = env ? env->geoip : NULL;
        if (!g->mgr) {
            snprintf(err, errlen, "no geoip database configured (geoip.city / geoip.asn / geoip.uri)");
            rc = -ENOENT;
        }
    }
    if (rc) {
        geof_free(g);
        return rc;
    }
    *st = g;
    return 0;
}

static int geof_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    geof *g = p;
    json_t *v = fpath_get(&g->src, rec);
    if (!json_is_string(v))
        return PF_NEXT;
    geoip_db *db = geoip_acquire(g->mgr);
    if (!db) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "geoip database not loaded");
        return -ENOENT;
    }
    json_t *out = json_object();
    int rc = out ? geoip_lookup(db, json_string_value(v), g->fields, g->nfields, out) : -ENOMEM;
    geoip_release(db);
    if (rc == 1 && json_object_size(out))
        return fpath_set(&g->dst, rec, out);
    json_decref(out);
    if (rc == 0 || rc == 1)
        return pf_add_tag(rec, "_geoip_lookup_failure");
    return rc == -EINVAL ? PF_NEXT : rc;
}

const pf_def pf_geoip = {"geoip", geof_compile, geof_apply, geof_free};

/* ---------- dns ---------- */

typedef struct dnsf {
    fpath *f;
    size_t n;
    bool append;
    fpath dst;
    bool has_dst;
    int64_t ttl_ms, timeout_ms;
} dnsf;

static void dnsf_free(void *p)
{
    dnsf *d = p;
    for (size_t i = 0; i < d->n; i++)
        fpath_free(&d->f[i]);
    free(d->f);
    fpath_free(&d->dst);
    free(d);
}

static int dnsf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char **list = NULL, *action, *dst;
    size_t n = 0;
    double ttl, timeout, csize;
    int rc = fo_strlist(cfg, "resolve", &list, &n, err, errlen);
    if (rc == -ENOENT || (!rc && !n)) {
        free(list);
        snprintf(err, errlen, "option resolve (list of fields) is required");
        return -EINVAL;
    }
    if (rc)
        return rc;
    dnsf *d = calloc(1, sizeof *d);
    if (!d || !(d->f = calloc(n, sizeof *d->f))) {
        free(d);
        free(list);
        return -ENOMEM;
    }
    if (fo_str(cfg, "action", "replace", &action, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", NULL, &dst, err, errlen) == -EINVAL ||
        fo_num(cfg, "cache_ttl", 3600, 0, 86400 * 7, &ttl, err, errlen) == -EINVAL ||
        fo_num(cfg, "timeout", 2, 0, 60, &timeout, err, errlen) == -EINVAL ||
        fo_num(cfg, "cache_size", 1000, 0, 1e7, &csize, err, errlen) == -EINVAL)
        rc = -EINVAL;
    if (!rc && strcmp(action, "replace") && strcmp(action, "append")) {
        snprintf(err, errlen, "action must be replace or append");
        rc = -EINVAL;
    }
    for (size_t i = 0; !rc && i < n; i++, d->n++)
        rc = fpath_compile(list[i], &d->f[i]) ? -EINVAL : 0;
    free(list);
    if (!rc) {
        d->append = !strcmp(action, "append");
        d->has_dst = dst && *dst;
        d->ttl_ms = (int64_t)(ttl * 1000);
        d->timeout_ms = (int64_t)(timeout * 1000);
        if (d->has_dst && fpath_compile(dst, &d->dst))
            rc = -EINVAL;
    }
    if (rc) {
        dnsf_free(d);
        return rc;
    }
    *st = d;
    return 0;
}

static int dnsf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    dnsf *d = p;
    for (size_t i = 0; i < d->n; i++) {
        json_t *v = fpath_get(&d->f[i], rec);
        if (!json_is_string(v))
            continue;
        char *res = NULL;
        int rc = dns_resolve(ctx->env ? ctx->env->dns : NULL, json_string_value(v), d->ttl_ms, d->timeout_ms,
                             ctx->now_ms, &res);
        if (rc == -ENOMEM)
            return rc;
        if (rc)
            continue;
        json_t *val = json_string(res);
        free(res);
        if (d->has_dst) {
            rc = fpath_set(&d->dst, rec, val);
        } else if (d->append) {
            char name[512];
            snprintf(name, sizeof name, "%s_resolved", d->f[i].text);
            fpath fp;
            if (fpath_compile(name, &fp)) {
                json_decref(val);
                return -ENOMEM;
            }
            rc = fpath_set(&fp, rec, val);
            fpath_free(&fp);
        } else {
            rc = fpath_set(&d->f[i], rec, val);
        }
        if (rc)
            return rc;
    }
    return PF_NEXT;
}

const pf_def pf_dns = {"dns", dnsf_compile, dnsf_apply, dnsf_free};
