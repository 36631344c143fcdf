/* bf_admin: a real server on an ephemeral loopback port, driven with libcurl: health 200/503,
 * metrics text, config behind the token (401 without, 200 with), 404/405, routes (exact, prefix,
 * public), query args, POST bodies and 413 above max_body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_admin.h"

typedef struct resp { long status; char body[65536]; size_t len; char ctype[128]; } resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t k = sz * n;
    if (r->len + k >= sizeof r->body) k = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = 0;
    return sz * n;
}

static void req(int port, const char *method, const char *path, const char *token, const char *body, size_t blen,
                resp *r)
{
    memset(r, 0, sizeof *r);
    char url[512], auth[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    struct curl_slist *hdr = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)blen);
    }
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) fprintf(stderr, "curl: %s\n", curl_easy_strerror(cc));
    assert_int_equal(cc, CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) snprintf(r->ctype, sizeof r->ctype, "%s", ct);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
}

static bf_health health_state = BF_HEALTHY;
static bf_health health_cb(void *ud, json_t *detail)
{
    (void)ud;
    json_object_set_new(detail, "spool_used_percent", json_integer(12));
    return health_state;
}

static void echo_handler(void *ud, const bf_admin_req *rq, bf_admin_resp *rs)
{
    (void)ud;
    const char *who = bf_admin_req_arg(rq, "who");
    json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "method", rq->method, "path", rq->path, "who", who ? who : "",
                          "body_len", (json_int_t)rq->body_len);
    if (rq->body_len) json_object_set_new(o, "body", json_stringn(rq->body, rq->body_len));
    rs->body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    rs->body_len = strlen(rs->body);
    rs->status = strcmp(rq->method, "POST") == 0 ? 201 : 200;
    json_decref(o);
}

static void text_handler(void *ud, const bf_admin_req *rq, bf_admin_resp *rs)
{
    (void)rq;
    rs->body = strdup((const char *)ud);
    rs->body_len = strlen(rs->body);
    rs->content_type = "text/plain";
}

typedef struct fixture { bf_metrics *m; bf_admin *a; int port; } fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || bf_metrics_create(&f->m)) return -1;
    bf_counter_add(bf_metrics_counter(f->m, "bf_test_total", "A test counter.", "tenant=\"acme\""), 42);
    if (bf_admin_create("127.0.0.1:0", "s3cret", f->m, health_cb, NULL, "{\"listen\":\"x\",\"token\":\"****\"}", 64,
                        &f->a))
        return -1;
    if (bf_admin_route(f->a, "POST", "/api/v1/echo", 0, echo_handler, NULL)) return -1;
    if (bf_admin_route(f->a, "GET", "/api/v1/echo", 0, echo_handler, NULL)) return -1;
    if (bf_admin_route(f->a, "GET", "/api/v1/spool/*", 0, echo_handler, NULL)) return -1;
    if (bf_admin_route(f->a, "GET", "/public", 1, text_handler, "hello\n")) return -1;
    if (bf_admin_start(f->a)) return -1;
    f->port = bf_admin_port(f->a);
    *state = f;
    return f->port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bf_admin_destroy(f->a);
    bf_metrics_destroy(f->m);
    free(f);
    return 0;
}

static void test_health(void **state)
{
    fixture *f = *state;
    resp r;
    health_state = BF_HEALTHY;
    req(f->port, "GET", "/api/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "healthy");
    assert_int_equal(json_integer_value(json_object_get(j, "spool_used_percent")), 12);
    json_decref(j);
    health_state = BF_DEGRADED;
    req(f->port, "GET", "/api/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"degraded\""));
    health_state = BF_UNHEALTHY;
    req(f->port, "GET", "/api/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "\"status\":\"unhealthy\""));
    health_state = BF_HEALTHY;
}

static void test_metrics(void **state)
{
    fixture *f = *state;
    resp r;
    req(f->port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain; version=0.0.4"));
    assert_string_equal(r.body, "# HELP bf_test_total A test counter.\n# TYPE bf_test_total counter\n"
                                "bf_test_total{tenant=\"acme\"} 42\n");
}

static void test_config_token(void **state)
{
    fixture *f = *state;
    resp r;
    req(f->port, "GET", "/api/v1/config", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    req(f->port, "GET", "/api/v1/config", "wrong", NULL, 0, &r);
    assert_int_equal(r.status, 401);
    req(f->port, "GET", "/api/v1/config", "s3cre", NULL, 0, &r);
    assert_int_equal(r.status, 401);
    req(f->port, "GET", "/api/v1/config", "s3cret", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"listen\":\"x\",\"token\":\"****\"}");
    bf_admin_set_config_json(f->a, "{\"v\":2}");
    req(f->port, "GET", "/api/v1/config", "s3cret", NULL, 0, &r);
    assert_string_equal(r.body, "{\"v\":2}");
    req(f->port, "POST", "/api/v1/config", "s3cret", "{}", 2, &r);
    assert_int_equal(r.status, 405);
}

static void test_routes(void **state)
{
    fixture *f = *state;
    resp r;
    req(f->port, "GET", "/nope", "s3cret", NULL, 0, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"error\""));
    req(f->port, "DELETE", "/api/v1/echo", "s3cret", NULL, 0, &r);
    assert_int_equal(r.status, 405);
    req(f->port, "GET", "/api/v1/echo?who=me%20too", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    req(f->port, "GET", "/api/v1/echo?who=me%20too", "s3cret", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"body_len\":0,\"method\":\"GET\",\"path\":\"/api/v1/echo\",\"who\":\"me too\"}");
    req(f->port, "GET", "/api/v1/spool/acme/fw", "s3cret", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"path\":\"/api/v1/spool/acme/fw\""));
    req(f->port, "GET", "/public", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello\n");
    assert_string_equal(r.ctype, "text/plain");
}

static void test_post_and_413(void **state)
{
    fixture *f = *state;
    resp r;
    req(f->port, "POST", "/api/v1/echo", "s3cret", "{\"a\":1}", 7, &r);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"body\":\"{\\\"a\\\":1}\""));
    assert_non_null(strstr(r.body, "\"body_len\":7"));
    char big[200];
    memset(big, 'x', sizeof big);
    req(f->port, "POST", "/api/v1/echo", "s3cret", big, 65, &r);
    assert_int_equal(r.status, 413);
    req(f->port, "POST", "/api/v1/echo", "s3cret", big, 64, &r);
    assert_int_equal(r.status, 201);
    /* the server still answers after a refused body */
    req(f->port, "GET", "/api/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
}


/* A chunked body (no Content-Length) is counted as it streams in. */
typedef struct chunk_src { size_t left; } chunk_src;
static size_t chunk_read(char *buf, size_t sz, size_t n, void *ud)
{
    chunk_src *c = ud;
    size_t k = sz * n < 10 ? sz * n : 10;
    if (k > c->left) k = c->left;
    memset(buf, 'y', k);
    c->left -= k;
    return k;
}

static long post_chunked(int port, size_t total)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/echo", port);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Authorization: Bearer s3cret");
    hdr = curl_slist_append(hdr, "Transfer-Encoding: chunked");
    hdr = curl_slist_append(hdr, "Expect:");
    chunk_src c = {total};
    resp r = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, chunk_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return r.status;
}

static void test_chunked_413(void **state)
{
    fixture *f = *state;
    assert_int_equal(post_chunked(f->port, 64), 201);
    assert_int_equal(post_chunked(f->port, 65), 413);
    assert_int_equal(post_chunked(f->port, 5000), 413);
}

static void test_bad_listen_and_ipv6(void **state)
{
    (void)state;
    bf_admin *a;
    assert_true(bf_admin_create("nonsense", NULL, NULL, NULL, NULL, NULL, 0, &a) < 0);
    assert_true(bf_admin_create("127.0.0.1:99999", NULL, NULL, NULL, NULL, NULL, 0, &a) < 0);
    /* IPv6 loopback when the machine has it; no token: config is open */
    if (bf_admin_create("[::1]:0", NULL, NULL, NULL, NULL, NULL, 0, &a) != 0) return;
    if (bf_admin_start(a) != 0) { bf_admin_destroy(a); return; }
    assert_true(bf_admin_port(a) > 0);
    char url[128];
    snprintf(url, sizeof url, "http://[::1]:%d/api/v1/config", bf_admin_port(a));
    CURL *h = curl_easy_init();
    resp r = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(h);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{}");
    bf_admin_destroy(a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_config_token),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_post_and_413),
        cmocka_unit_test(test_chunked_413),
        cmocka_unit_test(test_bad_listen_and_ipv6),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
