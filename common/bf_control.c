/* bf_control: see bf_control.h. One curl easy handle per call keeps the client trivially thread-safe;
 * control calls are rare (registry polls, lock calls), so connection reuse is not worth shared state.
 * Cache: <cache_dir>/control/<sha256(url+path)>.json, written atomically after every good GET. */
#include "bf_control.h"
#include "bf_buf.h"
#include "bf_log.h"
#include "bf_util.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_MAX_BODY (32u << 20)
#define CONTROL_TIMEOUT_MS 15000L
#define CONTROL_CONNECT_MS 3000L

struct bf_control {
    char *url;         /* without trailing '/' */
    char *auth;        /* "Authorization: Bearer <key>" */
    char *account_id;  /* may be NULL */
    char *cache_dir;   /* <cache_dir>/control, or NULL (no cache) */
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* curl_global_init is not thread-safe; do it once (libcurl reference-counts further calls by others). */
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int bf_control_create(const char *url, const char *api_key, const char *account_id, const char *cache_dir,
                      bf_control **out)
{
    if (!url || !*url || !out) return -EINVAL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) return -EINVAL;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    bf_control *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    c->url = strdup(url);
    size_t n = c->url ? strlen(c->url) : 0;
    while (n && c->url[n - 1] == '/') c->url[--n] = 0;
    if (asprintf(&c->auth, "Authorization: Bearer %s", api_key ? api_key : "") < 0) c->auth = NULL;
    c->account_id = account_id && *account_id ? strdup(account_id) : NULL;
    if (cache_dir && *cache_dir && asprintf(&c->cache_dir, "%s/control", cache_dir) < 0) c->cache_dir = NULL;
    if (!c->url || !c->auth || (account_id && *account_id && !c->account_id) ||
        (cache_dir && *cache_dir && !c->cache_dir)) {
        bf_control_destroy(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void bf_control_destroy(bf_control *c)
{
    if (!c) return;
    free(c->url);
    if (c->auth) { explicit_bzero(c->auth, strlen(c->auth)); free(c->auth); }
    free(c->account_id);
    free(c->cache_dir);
    free(c);
}

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return bf_buf_append(ud, p, sz * n) == 0 ? sz * n : 0;
}

static int map_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
    default: return -EIO;
    }
}

/* Status -> errno; 2xx is 0. */
static int map_status(long st)
{
    if (st >= 200 && st < 300) return 0;
    if (st == 401 || st == 403) return -EACCES;
    if (st == 404 || st == 410) return -ENOENT;
    if (st == 409) return -EBUSY;
    if (st >= 400 && st < 500) return -EINVAL;
    return -EIO;
}

/* One request. *status gets the HTTP status (0 on transport failure); body into buf. */
static int http(bf_control *c, const char *method, const char *path, const char *body, long *status, bf_buf *buf)
{
    char *url = NULL;
    *status = 0;
    if (asprintf(&url, "%s%s", c->url, path) < 0) return -ENOMEM;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL, *t;
    int rc = h ? 0 : -ENOMEM;
    if (!rc && (t = curl_slist_append(hdr, c->auth))) hdr = t; else rc = -ENOMEM;
    if (!rc && (t = curl_slist_append(hdr, "Accept: application/json"))) hdr = t; else rc = -ENOMEM;
    if (!rc && body && (t = curl_slist_append(hdr, "Content-Type: application/json"))) hdr = t;
    else if (!rc && body) rc = -ENOMEM;
    if (!rc) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CONTROL_TIMEOUT_MS);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONTROL_CONNECT_MS);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        if (body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
        CURLcode cc = curl_easy_perform(h);
        if (cc != CURLE_OK) {
            rc = map_curl(cc);
            BF_DEBUG("control: %s %s: %s", method, path, curl_easy_strerror(cc));
        } else {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        }
    }
    curl_slist_free_all(hdr);
    if (h) curl_easy_cleanup(h);
    free(url);
    return rc;
}

static int parse_body(const bf_buf *b, json_t **out)
{
    if (!b->len) { *out = json_object(); return *out ? 0 : -ENOMEM; }
    json_error_t je;
    *out = json_loadb(b->data, b->len, JSON_DECODE_ANY, &je);
    return *out ? 0 : -EPROTO;
}

/* ---- cache ---- */

static int cache_path(bf_control *c, const char *path, char *out, size_t outlen)
{
    if (!c->cache_dir) return -ENOENT;
    char key[PATH_MAX + 64], hex[65];
    snprintf(key, sizeof key, "%s%s", c->url, path);
    bf_sha256_hex(key, strlen(key), hex);
    int n = snprintf(out, outlen, "%s/%s.json", c->cache_dir, hex);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static void cache_store(bf_control *c, const char *path, const bf_buf *b)
{
    char p[PATH_MAX];
    if (cache_path(c, path, p, sizeof p) != 0) return;
    /* polls mostly see the same answer: skip the write (and its fsyncs) when nothing changed */
    char *old = NULL;
    size_t olen = 0;
    if (bf_read_file(p, CONTROL_MAX_BODY, &old, &olen) == 0) {
        int same = olen == b->len && (olen == 0 || memcmp(old, b->data, olen) == 0);
        free(old);
        if (same) return;
    }
    int rc = bf_mkdir_p(c->cache_dir, 0700);
    if (!rc) rc = bf_write_file_atomic(p, b->data ? b->data : "", b->len);
    if (rc) BF_WARN("control: cannot write cache %s: %s", p, strerror(-rc));
}

static int cache_load(bf_control *c, const char *path, json_t **out)
{
    char p[PATH_MAX];
    int rc = cache_path(c, path, p, sizeof p);
    if (rc) return rc;
    char *data = NULL;
    size_t len = 0;
    if ((rc = bf_read_file(p, CONTROL_MAX_BODY, &data, &len)) != 0) return rc;
    json_error_t je;
    *out = json_loadb(data, len, JSON_DECODE_ANY, &je);
    free(data);
    return *out ? 0 : -EPROTO;
}

int bf_control_get(bf_control *c, const char *path, json_t **out, int *from_cache)
{
    if (!c || !path || !out) return -EINVAL;
    *out = NULL;
    if (from_cache) *from_cache = 0;
    bf_buf b;
    bf_buf_init(&b, CONTROL_MAX_BODY);
    long st;
    int rc = http(c, "GET", path, NULL, &st, &b);
    if (!rc) rc = map_status(st);
    if (!rc) {
        rc = parse_body(&b, out);
        if (!rc) cache_store(c, path, &b);
    }
    bf_buf_free(&b);
    /* Control being down (transport or 5xx) must not stop data: serve the last good answer. */
    if (rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EIO) {
        int crc = cache_load(c, path, out);
        if (!crc) {
            if (from_cache) *from_cache = 1;
            BF_WARN("control: GET %s failed (%s); using the cached answer", path, strerror(-rc));
            return 0;
        }
    }
    return rc;
}

int bf_control_send(bf_control *c, const char *method, const char *path, json_t *body, json_t **out)
{
    if (!c || !method || !path) return -EINVAL;
    if (out) *out = NULL;
    char *js = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !js) return -ENOMEM;
    bf_buf b;
    bf_buf_init(&b, CONTROL_MAX_BODY);
    long st;
    int rc = http(c, method, path, js, &st, &b);
    free(js);
    if (!rc) rc = map_status(st);
    if (!rc && out) rc = parse_body(&b, out);
    bf_buf_free(&b);
    return rc;
}

/* ---- registry mapping ---- */

static char *esc(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e) return NULL;
    char *r = strdup(e);
    curl_free(e);
    return r;
}

/* GET path formatted with escaped segments; returns the "items" (or the named array) with a reference. */
static int get_items(bf_control *c, const char *path, const char *field, json_t **items, char *err, size_t errlen)
{
    json_t *j = NULL;
    int rc = bf_control_get(c, path, &j, NULL);
    if (rc) { seterr(err, errlen, "control: GET %s: %s", path, strerror(-rc)); return rc; }
    json_t *a = json_is_array(j) ? j : json_object_get(j, field);
    if (!json_is_array(a)) {
        seterr(err, errlen, "control: GET %s: no \"%s\" list in the answer", path, field);
        json_decref(j);
        return -EPROTO;
    }
    *items = json_incref(a);
    json_decref(j);
    return 0;
}

static int is_inactive(json_t *o)
{
    json_t *a = json_object_get(o, "active");
    return json_is_false(a);
}

static const char *str_at(json_t *o, const char *path)
{
    /* dotted path lookup: "config.authentication.bearer_token" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    json_t *cur = o;
    for (char *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save)) cur = json_object_get(cur, k);
    return json_string_value(cur);
}

static json_t *obj_at(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(json_object_get(o, a), b);
    return json_is_object(x) ? x : NULL;
}

/* proxy: source = {type, …source.custom, host default 0.0.0.0} */
static json_t *map_proxy_source(json_t *ds)
{
    json_t *src = obj_at(ds, "config", "source");
    const char *type = json_string_value(json_object_get(src, "type"));
    if (!type || !*type) return NULL;
    json_t *o = json_pack("{s:s}", "type", type);
    json_t *custom = json_object_get(src, "custom");
    if (o && json_is_object(custom)) json_object_update_missing(o, custom);
    if (o && !json_object_get(o, "host")) json_object_set_new(o, "host", json_string("0.0.0.0"));
    return o;
}

/* packer: destination{type, connection{bucket,region,endpoint,ssl,prefix,credentials}} + parquet -> output */
static json_t *map_output(json_t *ds)
{
    json_t *dst = obj_at(ds, "config", "destination");
    json_t *conn = json_object_get(dst, "connection");
    const char *bucket = json_string_value(json_object_get(conn, "bucket"));
    json_t *pq = obj_at(ds, "config", "parquet");
    if (!bucket && !pq) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    if (bucket) {
        const char *prefix = json_string_value(json_object_get(conn, "prefix"));
        char *uri = NULL;
        while (prefix && *prefix == '/') prefix++;
        if (asprintf(&uri, "s3://%s/%s", bucket, prefix ? prefix : "") >= 0) {
            json_object_set_new(o, "uri", json_string(uri));
            free(uri);
        }
        static const char *const copy[][2] = {{"region", "region"}, {"endpoint", "endpoint"}};
        for (size_t i = 0; i < sizeof copy / sizeof *copy; i++) {
            json_t *v = json_object_get(conn, copy[i][0]);
            if (json_is_string(v)) json_object_set(o, copy[i][1], v);
        }
        json_t *cred = json_object_get(conn, "credentials");
        if (json_is_string(json_object_get(cred, "access_key")))
            json_object_set(o, "access_key", json_object_get(cred, "access_key"));
        if (json_is_string(json_object_get(cred, "secret_key")))
            json_object_set(o, "secret_key", json_object_get(cred, "secret_key"));
    }
    if (pq) {
        const char *scheme = json_string_value(json_object_get(pq, "partitioning_scheme"));
        if (scheme) json_object_set_new(o, "partitioning", json_string(scheme));
        json_object_set(o, "parquet", pq);
    }
    return o;
}

/* piper: transformations {enabled, filters[]} -> pipeline; 404 = none configured. */
static int fetch_pipeline(bf_control *c, const char *te, const char *de, json_t **out, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/tenants/%s/datasets/%s/transformations", te, de);
    json_t *j = NULL;
    int rc = bf_control_get(c, path, &j, NULL);
    if (rc == -ENOENT) { *out = json_array(); return *out ? 0 : -ENOMEM; }
    if (rc) { seterr(err, errlen, "control: GET %s: %s", path, strerror(-rc)); return rc; }
    json_t *f = json_object_get(j, "filters");
    *out = !json_is_false(json_object_get(j, "enabled")) && json_is_array(f) ? json_incref(f) : json_array();
    json_decref(j);
    return *out ? 0 : -ENOMEM;
}

static int map_dataset(bf_control *c, const char *daemon, const char *te, json_t *ds, json_t *out_list, char *err,
                       size_t errlen)
{
    const char *id = json_string_value(json_object_get(ds, "id"));
    if (!id || !bf_id_valid(id)) {
        BF_WARN("control: skipping dataset with an invalid id \"%s\"", id ? id : "");
        return 0;
    }
    json_t *d = json_pack("{s:s, s:b}", "id", id, "active", !is_inactive(ds));
    if (!d) return -ENOMEM;
    const char *fmt = str_at(ds, "config.format");
    const char *hint = str_at(ds, "config.source.data_hint");
    json_object_set_new(d, "format", json_string(fmt ? fmt : "ndjson"));
    if (hint) json_object_set_new(d, "data_hint", json_string(hint));
    if (json_is_boolean(json_object_get(ds, "testing"))) json_object_set(d, "testing", json_object_get(ds, "testing"));
    json_t *src = map_proxy_source(ds);
    if (src) json_object_set_new(d, "source", src);
    json_t *outp = map_output(ds);
    if (outp) json_object_set_new(d, "output", outp);
    int rc = 0;
    if (strcmp(daemon, "piper") == 0) {
        char *de = esc(id);
        json_t *pl = NULL;
        rc = de ? fetch_pipeline(c, te, de, &pl, err, errlen) : -ENOMEM;
        free(de);
        if (!rc) json_object_set_new(d, "pipeline", pl);
    }
    if (!rc) rc = json_array_append_new(out_list, d) ? -ENOMEM : 0;
    else json_decref(d);
    return rc;
}

/* A control tenant -> registry tenant; token from config.authentication.bearer_token. */
static json_t *map_tenant_head(json_t *t, const char *fallback_token)
{
    const char *id = json_string_value(json_object_get(t, "id"));
    if (!id || !bf_id_valid(id)) {
        BF_WARN("control: skipping tenant with an invalid id \"%s\"", id ? id : "");
        return NULL;
    }
    json_t *o = json_pack("{s:s, s:b, s:[]}", "id", id, "active", !is_inactive(t), "datasets");
    const char *tok = str_at(t, "config.authentication.bearer_token");
    if (!tok || !*tok) tok = fallback_token;
    if (o && tok && *tok) json_object_set_new(o, "token", json_string(tok));
    return o;
}

static int walk_tenant(bf_control *c, const char *daemon, json_t *t, json_t *tenants, char *err, size_t errlen)
{
    json_t *o = map_tenant_head(t, NULL);
    if (!o) return 0;
    char *te = esc(json_string_value(json_object_get(o, "id")));
    char path[1024];
    json_t *items = NULL;
    int rc = te ? 0 : -ENOMEM;
    if (!rc) {
        snprintf(path, sizeof path, "/api/v1/tenants/%s/datasets?limit=1000", te);
        rc = get_items(c, path, "items", &items, err, errlen);
    }
    for (size_t i = 0; !rc && i < json_array_size(items); i++)
        rc = map_dataset(c, daemon, te, json_array_get(items, i), json_object_get(o, "datasets"), err, errlen);
    json_decref(items);
    free(te);
    if (!rc) rc = json_array_append_new(tenants, o) ? -ENOMEM : 0;
    else json_decref(o);
    return rc;
}

static int walk_account(bf_control *c, const char *daemon, json_t *acct, json_t *tenants, char *err, size_t errlen)
{
    const char *id = json_string_value(json_object_get(acct, "id"));
    if (!id || is_inactive(acct)) return 0;
    char *ae = esc(id);
    if (!ae) return -ENOMEM;
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/accounts/%s/tenants?limit=1000", ae);
    free(ae);
    json_t *items = NULL;
    int rc = get_items(c, path, "items", &items, err, errlen);
    for (size_t i = 0; !rc && i < json_array_size(items); i++)
        rc = walk_tenant(c, daemon, json_array_get(items, i), tenants, err, errlen);
    json_decref(items);
    return rc;
}

/* accounts -> tenants -> datasets; with account_id only that account. */
static int fetch_walk(bf_control *c, const char *daemon, json_t *tenants, char *err, size_t errlen)
{
    int rc;
    if (c->account_id) {
        char *ae = esc(c->account_id), path[1024];
        if (!ae) return -ENOMEM;
        snprintf(path, sizeof path, "/api/v1/accounts/%s", ae);
        free(ae);
        json_t *acct = NULL;
        rc = bf_control_get(c, path, &acct, NULL);
        if (rc) { seterr(err, errlen, "control: GET %s: %s", path, strerror(-rc)); return rc; }
        rc = walk_account(c, daemon, acct, tenants, err, errlen);
        json_decref(acct);
        return rc;
    }
    json_t *items = NULL;
    rc = get_items(c, "/api/v1/accounts?limit=1000", "items", &items, err, errlen);
    for (size_t i = 0; !rc && i < json_array_size(items); i++)
        rc = walk_account(c, daemon, json_array_get(items, i), tenants, err, errlen);
    json_decref(items);
    return rc;
}

/* proxy: GET /api/v1/proxy/config?account_id=A -> {tenants:[{tenant:{…}, datasets:[…]}]} */
static int fetch_proxy(bf_control *c, json_t *tenants, char *err, size_t errlen)
{
    char path[1024];
    if (!c->account_id) { seterr(err, errlen, "control: proxy needs control.account_id"); return -EINVAL; }
    char *ae = esc(c->account_id);
    if (!ae) return -ENOMEM;
    snprintf(path, sizeof path, "/api/v1/proxy/config?account_id=%s", ae);
    free(ae);
    json_t *items = NULL;
    int rc = get_items(c, path, "tenants", &items, err, errlen);
    /* the proxy authenticates to the receiver with the tenant's token, else with its control key */
    const char *key = c->auth + strlen("Authorization: Bearer ");
    for (size_t i = 0; !rc && i < json_array_size(items); i++) {
        json_t *e = json_array_get(items, i);
        json_t *o = map_tenant_head(json_object_get(e, "tenant"), key);
        if (!o) continue;
        json_t *ds = json_object_get(e, "datasets");
        const char *te = json_string_value(json_object_get(o, "id"));
        for (size_t j = 0; !rc && j < json_array_size(ds); j++)
            rc = map_dataset(c, "proxy", te, json_array_get(ds, j), json_object_get(o, "datasets"), err, errlen);
        if (!rc) rc = json_array_append_new(tenants, o) ? -ENOMEM : 0;
        else json_decref(o);
    }
    json_decref(items);
    return rc;
}

int bf_control_fetch_registry(bf_control *c, const char *daemon, bf_registry **out, char *err, size_t errlen)
{
    if (!c || !daemon || !out) return -EINVAL;
    json_t *tenants = json_array();
    if (!tenants) return -ENOMEM;
    int rc = strcmp(daemon, "proxy") == 0 ? fetch_proxy(c, tenants, err, errlen)
                                          : fetch_walk(c, daemon, tenants, err, errlen);
    if (!rc) rc = bf_registry_from_json(tenants, out, err, errlen);
    json_decref(tenants);
    return rc;
}

/* ---- locks (piper lease.mode: control): key = "tenant/dataset/file…" ---- */

static json_t *lock_body(const char *key, const char *owner)
{
    const char *s1 = strchr(key, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || s1 == key || s2 == s1 + 1) return NULL;
    return json_pack("{s:s%, s:s%, s:s, s:s}", "tenant_id", key, (size_t)(s1 - key), "dataset_id", s1 + 1,
                     (size_t)(s2 - s1 - 1), "file_key", key, "locked_by", owner);
}

int bf_control_lock(bf_control *c, const char *key, const char *owner, int64_t ttl_ms)
{
    if (!c || !key || !owner || ttl_ms <= 0) return -EINVAL;
    json_t *b = lock_body(key, owner);
    if (!b) return -EINVAL;
    json_object_set_new(b, "lock_duration_seconds", json_integer((ttl_ms + 999) / 1000));
    json_t *resp = NULL;
    int rc = bf_control_send(c, "POST", "/api/v1/piper/locks/files", b, &resp);
    json_decref(b);
    /* the original server answers 409 when held; some versions answer 200 {success:false} */
    if (!rc && json_is_false(json_object_get(resp, "success"))) rc = -EBUSY;
    json_decref(resp);
    return rc;
}

int bf_control_unlock(bf_control *c, const char *key, const char *owner)
{
    if (!c || !key || !owner) return -EINVAL;
    json_t *b = lock_body(key, owner);
    if (!b) return -EINVAL;
    int rc = bf_control_send(c, "POST", "/api/v1/piper/locks/files/release", b, NULL);
    json_decref(b);
    return rc;
}
