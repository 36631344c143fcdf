/* filter_useragent: see filter_useragent.h. Rules are tried in order; the first match wins, so
 * specific families (Edge, Opera, Samsung) come before the engines they embed (Chrome, Safari). */
#include "filter_useragent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

/* family: fixed name or NULL to use group 1 as the name (then versions start at group 2) */
typedef struct ua_rule { const char *re; const char *family; const char *device; } ua_rule;

static const ua_rule BROWSERS[] = {
    {"(Googlebot|bingbot|YandexBot|Baiduspider|DuckDuckBot|Applebot|AhrefsBot|SemrushBot|facebookexternalhit|Twitterbot)"
     "/(\\d+)(?:\\.(\\d+))?", NULL, "Spider"},
    {"\\b(curl|Wget|python-requests|Go-http-client|okhttp|PostmanRuntime|Apache-HttpClient)/(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?", NULL, NULL},
    {"Edg(?:e|A|iOS)?/(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?", "Edge", NULL},
    {"(?:OPR|Opera)/(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?", "Opera", NULL},
    {"SamsungBrowser/(\\d+)(?:\\.(\\d+))?", "Samsung Internet", NULL},
    {"(?:Firefox|FxiOS)/(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?", "Firefox", NULL},
    {"(?:Chrome|CriOS)/(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?", "Chrome", NULL},
    {"Version/(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?.*Safari/", "Safari", NULL},
    {"MSIE (\\d+)(?:\\.(\\d+))?", "IE", NULL},
    {"Trident/.*rv:(\\d+)(?:\\.(\\d+))?", "IE", NULL},
};

typedef struct os_rule { const char *re; const char *family; const char *fixed_version; } os_rule;
static const os_rule OSES[] = {
    {"Windows NT 10\\.0", "Windows", "10"}, {"Windows NT 6\\.3", "Windows", "8.1"},
    {"Windows NT 6\\.2", "Windows", "8"}, {"Windows NT 6\\.1", "Windows", "7"},
    {"Windows NT 6\\.0", "Windows", "Vista"}, {"Windows NT 5\\.[12]", "Windows", "XP"},
    {"(?:iPhone|iPad|iPod).*? OS (\\d+)[_.](\\d+)", "iOS", NULL},
    {"Mac OS X (\\d+)[_.](\\d+)", "Mac OS X", NULL},
    {"Android (\\d+)(?:\\.(\\d+))?", "Android", NULL},
    {"CrOS", "Chrome OS", NULL}, {"Linux", "Linux", NULL},
};

typedef struct dev_rule { const char *re; const char *family; const char *brand; bool model_group; } dev_rule;
static const dev_rule DEVICES[] = {
    {"iPhone", "iPhone", "Apple", false}, {"iPad", "iPad", "Apple", false},
    {"Android [^;]*; (?:[a-z]{2}-[a-z]{2}; )?([^;)]+?)(?: Build/|\\))", NULL, NULL, true},
    {"Macintosh", "Mac", "Apple", false},
};

struct ua_parser {
    rx *b[sizeof BROWSERS / sizeof *BROWSERS];
    rx *o[sizeof OSES / sizeof *OSES];
    rx *d[sizeof DEVICES / sizeof *DEVICES];
};

void ua_parser_free(ua_parser *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < sizeof p->b / sizeof *p->b; i++)
        rx_free(p->b[i]);
    for (size_t i = 0; i < sizeof p->o / sizeof *p->o; i++)
        rx_free(p->o[i]);
    for (size_t i = 0; i < sizeof p->d / sizeof *p->d; i++)
        rx_free(p->d[i]);
    free(p);
}

int ua_parser_create(ua_parser **out, char *err, size_t errlen)
{
    ua_parser *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof BROWSERS / sizeof *BROWSERS; i++)
        rc = rx_compile(BROWSERS[i].re, 0, &p->b[i], err, errlen);
    for (size_t i = 0; !rc && i < sizeof OSES / sizeof *OSES; i++)
        rc = rx_compile(OSES[i].re, 0, &p->o[i], err, errlen);
    for (size_t i = 0; !rc && i < sizeof DEVICES / sizeof *DEVICES; i++)
        rc = rx_compile(DEVICES[i].re, 0, &p->d[i], err, errlen);
    if (rc) {
        ua_parser_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* Group g of the last match as a new JSON string, or NULL when unset. */
static json_t *grp(rx_scratch *s, const char *ua, uint32_t g)
{
    uint32_t n = s->last_rc > 0 ? (uint32_t)s->last_rc : 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    if (g >= n || ov[2 * g] == PCRE2_UNSET)
        return NULL;
    return json_stringn(ua + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

static void set_versions(json_t *out, rx_scratch *s, const char *ua, uint32_t first, const char *const *keys,
                         const char *joined)
{
    char ver[64] = "";
    for (uint32_t i = 0; i < 3 && keys[i]; i++) {
        json_t *v = grp(s, ua, first + i);
        if (!v)
            break;
        snprintf(ver + strlen(ver), sizeof ver - strlen(ver), "%s%s", i ? "." : "", json_string_value(v));
        json_object_set_new(out, keys[i], v);
    }
    if (*ver)
        json_object_set_new(out, joined, json_string(ver));
}

static const char *browser(const ua_parser *p, rx_scratch *s, const char *ua, size_t len, json_t *out)
{
    static const char *const keys[] = {"major", "minor", "patch"};
    for (size_t i = 0; i < sizeof BROWSERS / sizeof *BROWSERS; i++) {
        if (rx_search(p->b[i], s, ua, len, 0) <= 0)
            continue;
        uint32_t first = 1;
        if (BROWSERS[i].family) {
            json_object_set_new(out, "name", json_string(BROWSERS[i].family));
        } else {
            json_object_set_new(out, "name", grp(s, ua, 1));
            first = 2;
        }
        set_versions(out, s, ua, first, keys, "version");
        return BROWSERS[i].device;
    }
    json_object_set_new(out, "name", json_string("Other"));
    return NULL;
}

static const char *os(const ua_parser *p, rx_scratch *s, const char *ua, size_t len, json_t *out)
{
    static const char *const keys[] = {"os_major", "os_minor", NULL};
    for (size_t i = 0; i < sizeof OSES / sizeof *OSES; i++) {
        if (rx_search(p->o[i], s, ua, len, 0) <= 0)
            continue;
        json_object_set_new(out, "os", json_string(OSES[i].family));
        if (OSES[i].fixed_version)
            json_object_set_new(out, "os_version", json_string(OSES[i].fixed_version));
        else
            set_versions(out, s, ua, 1, keys, "os_version");
        return OSES[i].family;
    }
    json_object_set_new(out, "os", json_string("Other"));
    return "Other";
}

int ua_parse(const ua_parser *p, rx_scratch *s, const char *ua, size_t len, json_t *out)
{
    const char *dev = browser(p, s, ua, len, out);
    const char *osf = os(p, s, ua, len, out);
    for (size_t i = 0; !dev && i < sizeof DEVICES / sizeof *DEVICES; i++) {
        if (rx_search(p->d[i], s, ua, len, 0) <= 0)
            continue;
        if (DEVICES[i].model_group) {
            json_t *m = grp(s, ua, 1);
            if (m)
                json_object_set_new(out, "device_model", m);
            dev = "Mobile";
        } else {
            dev = DEVICES[i].family;
            json_object_set_new(out, "device_brand", json_string(DEVICES[i].brand));
            json_object_set_new(out, "device_model", json_string(DEVICES[i].family));
        }
    }
    if (!dev) {
        /* infer from the OS, as the original did when the device family was unknown */
        bool desk = !strcmp(osf, "Windows") || !strcmp(osf, "Mac OS X") || !strcmp(osf, "Linux") ||
                    !strcmp(osf, "Chrome OS");
        dev = desk ? "Desktop" : strstr(ua, "Mobile") ? "Mobile" : "Other";
    }
    json_object_set_new(out, "device", json_string(dev));
    return 0;
}

typedef struct uaf { ua_parser *p; fpath src, dst; } uaf;

static void uaf_free(void *x)
{
    uaf *u = x;
    ua_parser_free(u->p);
    fpath_free(&u->src);
    fpath_free(&u->dst);
    free(u);
}

static int uaf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *src, *dst;
    if (fo_str(cfg, "source_field", "user_agent", &src, err, errlen) == -EINVAL ||
        fo_str(cfg, "target_field", "ua", &dst, err, errlen) == -EINVAL)
        return -EINVAL;
    uaf *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    int rc = ua_parser_create(&u->p, err, errlen);
    if (!rc && (fpath_compile(*src ? src : "user_agent", &u->src) || fpath_compile(*dst ? dst : "ua", &u->dst)))
        rc = -EINVAL;
    if (rc) {
        uaf_free(u);
        return rc;
    }
    *st = u;
    return 0;
}

static int uaf_apply(void *x, json_t *rec, pf_ctx *ctx)
{
    uaf *u = x;
    json_t *v = fpath_get(&u->src, rec);
    if (!json_is_string(v))
        return PF_NEXT;
    json_t *out = json_object();
    if (!out)
        return -ENOMEM;
    ua_parse(u->p, ctx->rx, json_string_value(v), json_string_length(v), out);
    return fpath_set(&u->dst, rec, out);
}

const pf_def pf_useragent = {"useragent", uaf_compile, uaf_apply, uaf_free};
