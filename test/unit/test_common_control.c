/* bf_control against the fake control service (test/tools/fake-control.py) started here on a port in
 * the common range: registry mapping for proxy / receiver / piper / packer, bearer auth and 401,
 * 404, the on-disk cache used when control fails (503) or is gone, locks, and bf_tenants with
 * source "control" (poll picks up a change; a stopped service keeps the last registry). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bf_control.h"
#include "bf_util.h"

#define KEY "test-control-key"

typedef struct fake { pid_t pid; int port; char url[64]; } fake;
static char root[512], fixtures[600], logpath[600], cache[600], script[600];
static fake srv;

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

static int ping(int port, const char *what)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", port, what);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
    CURLcode cc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    fclose(devnull);
    return cc == CURLE_OK && st == 200 ? 0 : -1;
}

/* fork/exec the fake; try a few ports of 24000-24999 in case one is taken. */
static int fake_start(fake *f)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        f->port = 24000 + (int)((getpid() * 7 + attempt * 97) % 1000);
        char port[16];
        snprintf(port, sizeof port, "%d", f->port);
        pid_t pid = fork();
        if (pid < 0) return -errno;
        if (pid == 0) {
            execlp("python3", "python3", script, "--port", port, "--fixtures", fixtures, "--log", logpath, "--key", KEY,
                   (char *)NULL);
            _exit(127);
        }
        f->pid = pid;
        /* readiness: bounded wait for the listener (not a timing assertion) */
        for (int i = 0; i < 200; i++) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) { f->pid = 0; break; }
            if (ping(f->port, "__ping") == 0) {
                snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
                return 0;
            }
            usleep(50000);
        }
        if (f->pid) { kill(f->pid, SIGKILL); waitpid(f->pid, NULL, 0); f->pid = 0; }
    }
    return -1;
}

static void fake_stop(fake *f)
{
    if (f->pid <= 0) return;
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
    f->pid = 0;
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("BF_TMP"), *broot = getenv("BF_ROOT");
    snprintf(root, sizeof root, "%s/common_control.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    snprintf(fixtures, sizeof fixtures, "%s/fixtures", root);
    snprintf(logpath, sizeof logpath, "%s/requests.jsonl", root);
    snprintf(cache, sizeof cache, "%s/state", root);
    snprintf(script, sizeof script, "%s/test/tools/fake-control.py", broot && *broot ? broot : ".");
    char src[600];
    snprintf(src, sizeof src, "%s/test/fixtures/control", broot && *broot ? broot : ".");
    if (sh("rm -rf '%s' && mkdir -p '%s'", root, root)) return -1;
    if (sh("cp -r '%s' '%s'", src, fixtures)) return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return fake_start(&srv);
}

static int teardown(void **state)
{
    (void)state;
    fake_stop(&srv);
    curl_global_cleanup();
    return sh("rm -rf '%s'%s", root, "");
}

/* Count logged requests matching method+path (+ query substring). */
static int logged(const char *method, const char *path, const char *query_sub)
{
    FILE *f = fopen(logpath, "r");
    if (!f) return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        const char *m = json_string_value(json_object_get(j, "method"));
        const char *p = json_string_value(json_object_get(j, "path"));
        const char *q = json_string_value(json_object_get(j, "query"));
        if (m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0 && (!query_sub || (q && strstr(q, query_sub))))
            n++;
        json_decref(j);
    }
    fclose(f);
    return n;
}

static int all_api_requests_authorized(void)
{
    FILE *f = fopen(logpath, "r");
    if (!f) return 0;
    char line[8192];
    int ok = 1, seen = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *p = json_string_value(json_object_get(j, "path"));
        const char *a = json_string_value(json_object_get(j, "auth"));
        if (p && strncmp(p, "/api/", 5) == 0) {
            seen++;
            if (!a || strcmp(a, "Bearer " KEY) != 0) ok = 0;
        }
        json_decref(j);
    }
    fclose(f);
    return ok && seen;
}

static void test_registry_receiver(void **state)
{
    (void)state;
    bf_control *c;
    assert_int_equal(bf_control_create(srv.url, KEY, NULL, cache, &c), 0);
    bf_registry *r = NULL;
    char err[512] = "";
    int rc = bf_control_fetch_registry(c, "receiver", &r, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(r->ntenants, 2);   /* "bad id!" skipped */
    const bf_tenant *a = bf_registry_tenant(r, "acme");
    assert_non_null(a);
    assert_true(a->active);
    assert_int_equal(bf_tenant_token_ok(a, "acme-secret-token", 17), 1);
    assert_int_equal(a->ndatasets, 2);
    const bf_dataset *fw = bf_tenant_dataset(a, "firewall");
    assert_true(fw->active);
    assert_string_equal(fw->format, "ndjson");
    assert_string_equal(json_string_value(json_object_get(fw->raw, "data_hint")), "syslog");
    assert_false(bf_tenant_dataset(a, "web")->active);
    const bf_tenant *g = bf_registry_tenant(r, "globex");
    assert_non_null(g);
    assert_false(g->active);
    assert_false(g->has_token);
    bf_registry_unref(r);
    /* the walk: accounts list, the active account's tenants, each tenant's datasets; not the closed account */
    assert_true(logged("GET", "/api/v1/accounts", "limit=1000") >= 1);
    assert_true(logged("GET", "/api/v1/accounts/acct-1/tenants", "limit=1000") >= 1);
    assert_true(logged("GET", "/api/v1/tenants/acme/datasets", "limit=1000") >= 1);
    assert_int_equal(logged("GET", "/api/v1/accounts/acct-off/tenants", NULL), 0);
    assert_true(all_api_requests_authorized());
    /* the answer is cached at <cache_dir>/control/<sha256(url+path)>.json */
    char key[256], hex[65], cpath[800];
    snprintf(key, sizeof key, "%s/api/v1/accounts?limit=1000", srv.url);
    bf_sha256_hex(key, strlen(key), hex);
    snprintf(cpath, sizeof cpath, "%s/control/%s.json", cache, hex);
    char *cached = NULL;
    size_t clen = 0;
    assert_int_equal(bf_read_file(cpath, 1 << 20, &cached, &clen), 0);
    assert_non_null(strstr(cached, "\"acct-off\""));
    free(cached);
    bf_control_destroy(c);
}

static void test_registry_piper_packer(void **state)
{
    (void)state;
    bf_control *c;
    assert_int_equal(bf_control_create(srv.url, KEY, "acct-1", cache, &c), 0);
    bf_registry *r = NULL;
    char err[512] = "";
    assert_int_equal(bf_control_fetch_registry(c, "piper", &r, err, sizeof err), 0);
    assert_true(logged("GET", "/api/v1/accounts/acct-1", NULL) >= 1);
    const bf_tenant *a = bf_registry_tenant(r, "acme");
    const bf_dataset *fw = bf_tenant_dataset(a, "firewall");
    assert_int_equal(json_array_size(fw->pipeline), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fw->pipeline, 0), "type")), "rename_field");
    assert_int_equal(json_array_size(bf_tenant_dataset(a, "web")->pipeline), 0);   /* 404: no filters */
    bf_registry_unref(r);

    assert_int_equal(bf_control_fetch_registry(c, "packer", &r, err, sizeof err), 0);
    fw = bf_tenant_dataset(bf_registry_tenant(r, "acme"), "firewall");
    assert_non_null(fw->output);
    assert_string_equal(json_string_value(json_object_get(fw->output, "uri")), "s3://acme-archive/logs/");
    assert_string_equal(json_string_value(json_object_get(fw->output, "region")), "eu-west-1");
    assert_string_equal(json_string_value(json_object_get(fw->output, "endpoint")), "http://127.0.0.1:9000");
    assert_string_equal(json_string_value(json_object_get(fw->output, "access_key")), "AKIAEXAMPLE");
    assert_string_equal(json_string_value(json_object_get(fw->output, "partitioning")), "hive_hour");
    assert_null(bf_tenant_dataset(bf_registry_tenant(r, "acme"), "web")->output);
    bf_registry_unref(r);
    bf_control_destroy(c);
}

static void test_registry_proxy(void **state)
{
    (void)state;
    bf_control *c;
    assert_int_equal(bf_control_create(srv.url, KEY, "acct-1", cache, &c), 0);
    bf_registry *r = NULL;
    char err[512] = "";
    assert_int_equal(bf_control_fetch_registry(c, "proxy", &r, err, sizeof err), 0);
    assert_true(logged("GET", "/api/v1/proxy/config", "account_id=acct-1") >= 1);
    const bf_tenant *a = bf_registry_tenant(r, "acme");
    assert_non_null(a);
    assert_string_equal(a->token, KEY);   /* no tenant token: the proxy's key authenticates */
    assert_int_equal(a->ndatasets, 3);
    const bf_dataset *fw = bf_tenant_dataset(a, "firewall");
    char *s = json_dumps(fw->source, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"host\":\"0.0.0.0\",\"port\":5514,\"transport\":\"udp\",\"type\":\"syslog\"}");
    free(s);
    const bf_dataset *api = bf_tenant_dataset(a, "api-logs");
    assert_string_equal(json_string_value(json_object_get(api->source, "host")), "127.0.0.1");
    assert_null(bf_tenant_dataset(a, "nosource")->source);
    bf_registry_unref(r);
    bf_control_destroy(c);
    /* the proxy mapping needs an account */
    assert_int_equal(bf_control_create(srv.url, KEY, NULL, cache, &c), 0);
    assert_int_equal(bf_control_fetch_registry(c, "proxy", &r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "account_id"));
    bf_control_destroy(c);
}

static void test_auth_and_errors(void **state)
{
    (void)state;
    bf_control *c;
    assert_int_equal(bf_control_create(srv.url, "wrong-key", NULL, NULL, &c), 0);
    json_t *j = NULL;
    int from_cache = -1;
    assert_int_equal(bf_control_get(c, "/api/v1/accounts?limit=1000", &j, &from_cache), -EACCES);
    assert_null(j);
    assert_int_equal(from_cache, 0);
    bf_registry *r = NULL;
    char err[512] = "";
    assert_int_equal(bf_control_fetch_registry(c, "receiver", &r, err, sizeof err), -EACCES);
    assert_non_null(strstr(err, "/api/v1/accounts"));
    assert_null(r);
    bf_control_destroy(c);

    assert_int_equal(bf_control_create(srv.url, KEY, NULL, NULL, &c), 0);
    assert_int_equal(bf_control_get(c, "/api/v1/nothing/here", &j, NULL), -ENOENT);
    json_t *body = json_pack("{s:s, s:b}", "service_name", "bytefreezer-receiver", "healthy", 1);
    json_t *out = NULL;
    assert_int_equal(bf_control_send(c, "POST", "/api/v1/services/report", body, &out), 0);
    assert_true(json_is_true(json_object_get(out, "success")));
    json_decref(out);
    json_decref(body);
    assert_true(logged("POST", "/api/v1/services/report", NULL) >= 1);
    bf_control_destroy(c);
    assert_int_equal(bf_control_create("not-a-url", KEY, NULL, NULL, &c), -EINVAL);
}

static void test_locks(void **state)
{
    (void)state;
    bf_control *c;
    assert_int_equal(bf_control_create(srv.url, KEY, NULL, NULL, &c), 0);
    const char *key = "acme/firewall/2026/11/27/batch-0001.ndjson.zst";
    assert_int_equal(bf_control_lock(c, key, "piper-a", 60000), 0);
    assert_int_equal(bf_control_lock(c, key, "piper-b", 60000), -EBUSY);
    assert_int_equal(bf_control_lock(c, key, "piper-a", 60000), 0);    /* re-entrant for the owner */
    assert_int_equal(bf_control_unlock(c, key, "piper-b"), -EBUSY);     /* not the owner */
    assert_int_equal(bf_control_unlock(c, key, "piper-a"), 0);
    assert_int_equal(bf_control_lock(c, key, "piper-b", 1500), 0);
    assert_int_equal(bf_control_unlock(c, key, "piper-b"), 0);
    assert_int_equal(bf_control_unlock(c, key, "piper-b"), -ENOENT);
    assert_int_equal(bf_control_lock(c, "nokey", "piper-a", 1000), -EINVAL);
    assert_int_equal(bf_control_lock(c, "acme//x", "piper-a", 1000), -EINVAL);
    /* request shape: tenant and dataset from the key, TTL rounded up to seconds */
    FILE *f = fopen(logpath, "r");
    char line[8192];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        json_t *b = json_object_get(j, "body");
        if (json_is_object(b) && json_integer_value(json_object_get(b, "lock_duration_seconds")) == 2 &&
            strcmp(json_string_value(json_object_get(b, "tenant_id")), "acme") == 0 &&
            strcmp(json_string_value(json_object_get(b, "dataset_id")), "firewall") == 0 &&
            strcmp(json_string_value(json_object_get(b, "file_key")), key) == 0 &&
            strcmp(json_string_value(json_object_get(b, "locked_by")), "piper-b") == 0)
            found = 1;
        json_decref(j);
    }
    if (f) fclose(f);
    assert_true(found);
    bf_control_destroy(c);
}

/* Last: stops the server. */
static void test_cache_fallback_and_tenants_source(void **state)
{
    (void)state;
    bf_common_config common = {0};
    common.control_url = srv.url;
    common.control_api_key = KEY;
    common.account_id = NULL;
    common.state_dir = cache;
    bf_tenants *t;
    char err[512] = "";
    int rc = bf_tenants_create("control", &common, "receiver", &t, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    bf_registry *r1 = bf_tenants_get(t);
    assert_int_equal(r1->ntenants, 2);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 0);

    /* a change in control shows on the next poll */
    char path[700];
    snprintf(path, sizeof path, "%s/tenants/globex/datasets.json", fixtures);
    const char *ds = "{\"items\":[{\"id\":\"mail\",\"active\":true,\"config\":{}}],\"total\":1}";
    assert_int_equal(bf_write_file_atomic(path, ds, strlen(ds)), 0);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 1);
    bf_registry *r2 = bf_tenants_get(t);
    assert_non_null(bf_tenant_dataset(bf_registry_tenant(r2, "globex"), "mail"));
    assert_null(bf_tenant_dataset(bf_registry_tenant(r1, "globex"), "mail"));   /* old reader unchanged */
    bf_registry_unref(r1);

    /* 503: the cached answers are used */
    assert_int_equal(ping(srv.port, "__fail"), 0);
    bf_control *c;
    assert_int_equal(bf_control_create(srv.url, KEY, NULL, cache, &c), 0);
    json_t *j = NULL;
    int from_cache = 0;
    assert_int_equal(bf_control_get(c, "/api/v1/tenants/globex/datasets?limit=1000", &j, &from_cache), 0);
    assert_int_equal(from_cache, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "id")), "mail");
    json_decref(j);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 0);
    assert_int_equal(ping(srv.port, "__recover"), 0);

    /* control gone: registry fetch still works from the cache, and a new bf_tenants can start */
    fake_stop(&srv);
    bf_registry *r = NULL;
    assert_int_equal(bf_control_fetch_registry(c, "receiver", &r, err, sizeof err), 0);
    assert_string_equal(r->version, r2->version);
    bf_registry_unref(r);
    assert_int_equal(bf_control_get(c, "/api/v1/never/fetched", &j, &from_cache), -ECONNREFUSED);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 0);
    bf_tenants *t2;
    assert_int_equal(bf_tenants_create("control", &common, "receiver", &t2, err, sizeof err), 0);
    bf_registry *r3 = bf_tenants_get(t2);
    assert_string_equal(r3->version, r2->version);
    bf_registry_unref(r3);
    bf_tenants_destroy(t2);
    /* without a cache and without control, start fails clearly */
    bf_common_config nocache = common;
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty-state", root);
    nocache.state_dir = empty;
    assert_int_equal(bf_tenants_create("control", &nocache, "receiver", &t2, err, sizeof err), -ECONNREFUSED);
    assert_non_null(strstr(err, "control: GET /api/v1/accounts"));
    bf_registry_unref(r2);
    bf_control_destroy(c);
    bf_tenants_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_receiver),
        cmocka_unit_test(test_registry_piper_packer),
        cmocka_unit_test(test_registry_proxy),
        cmocka_unit_test(test_auth_and_errors),
        cmocka_unit_test(test_locks),
        cmocka_unit_test(test_cache_fallback_and_tenants_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
