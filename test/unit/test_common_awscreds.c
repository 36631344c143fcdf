/* bf_awscreds: static keys, the ECS container endpoint and IMDSv2, played by a libmicrohttpd server on
 * loopback (ports 24300-24349). 169.254.x is never contacted: AWS_EC2_METADATA_DISABLED=true unless a
 * test points AWS_EC2_METADATA_SERVICE_ENDPOINT at the loopback server.
 * The last test rotates keys against Swift (which verifies signatures): the first credentials carry a
 * wrong secret, the refreshed ones the right secret, so the store only succeeds once the client has
 * really picked up the new keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include "bf_awscreds.h"
#include "bf_store.h"
#include "bf_store_s3.h"

typedef struct credset { const char *ak, *sk, *token; int64_t expires_in_s; } credset;

typedef struct server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    credset sets[4];
    int nsets, next;
    int hits;              /* credential documents served */
    int fail;              /* answer 500 to credential requests */
    char last_auth[256];
} server;

static server S;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_creds(struct MHD_Connection *c)
{
    pthread_mutex_lock(&S.mu);
    if (S.fail) {
        pthread_mutex_unlock(&S.mu);
        return reply(c, 500, "boom");
    }
    credset *cs = &S.sets[S.next < S.nsets ? S.next : S.nsets - 1];
    if (S.next < S.nsets - 1) S.next++;
    S.hits++;
    time_t exp = time(NULL) + cs->expires_in_s;
    struct tm tm;
    gmtime_r(&exp, &tm);
    char ts[32], body[1024];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof body,
             "{\"RoleArn\":\"arn:aws:iam::1:role/t\",\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\"%s%s%s,"
             "\"Expiration\":\"%s\",\"Code\":\"Success\"}",
             cs->ak, cs->sk, cs->token ? ",\"Token\":\"" : "", cs->token ? cs->token : "", cs->token ? "\"" : "", ts);
    pthread_mutex_unlock(&S.mu);
    return reply(c, 200, body);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)version; (void)upload;
    static int marker;
    if (!*con_cls) { *con_cls = &marker; return MHD_YES; }
    if (*upload_size) { *upload_size = 0; return MHD_YES; }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-aws-ec2-metadata-token");
    if (!strcmp(url, "/creds")) {                       /* ECS */
        pthread_mutex_lock(&S.mu);
        snprintf(S.last_auth, sizeof S.last_auth, "%s", auth ? auth : "");
        pthread_mutex_unlock(&S.mu);
        if (!auth || strcmp(auth, "secret-auth-token") != 0) return reply(c, 401, "unauthorized");
        return serve_creds(c);
    }
    if (!strcmp(url, "/latest/api/token") && !strcmp(method, "PUT")) {   /* IMDSv2 session token */
        if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-aws-ec2-metadata-token-ttl-seconds"))
            return reply(c, 400, "missing ttl");
        return reply(c, 200, "IMDS-TOKEN-1");
    }
    if (!strncmp(url, "/latest/meta-data/iam/security-credentials/", 43)) {
        if (!tok || strcmp(tok, "IMDS-TOKEN-1") != 0) return reply(c, 401, "IMDSv1 refused");
        if (url[43] == 0) return reply(c, 200, "test-role\n");
        if (!strcmp(url + 43, "test-role")) return serve_creds(c);
    }
    return reply(c, 404, "not found");
}

static int server_start(void)
{
    pthread_mutex_init(&S.mu, NULL);
    for (int p = 24300; p < 24350 && !S.d; p++) {
        S.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)p, NULL, NULL, handler,
                               NULL, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
        if (S.d) S.port = p;
    }
    return S.d ? 0 : -1;
}

static void server_set(const credset *sets, int n)
{
    pthread_mutex_lock(&S.mu);
    memcpy(S.sets, sets, (size_t)n * sizeof *sets);
    S.nsets = n;
    S.next = 0;
    S.hits = 0;
    S.fail = 0;
    pthread_mutex_unlock(&S.mu);
}

static int hits(void)
{
    pthread_mutex_lock(&S.mu);
    int h = S.hits;
    pthread_mutex_unlock(&S.mu);
    return h;
}

static void clear_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_EC2_METADATA_SERVICE_ENDPOINT"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void use_ecs(const char *auth)
{
    char uri[128];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/creds", S.port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", auth, 1);
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static void t_static_config_and_env(void **state)
{
    (void)state;
    bf_awscreds *c;
    bf_aws_credentials cr;
    char err[256];
    assert_int_equal(bf_awscreds_create("AKCFG", "SKCFG", "TOKCFG", &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKCFG");
    assert_string_equal(cr.session_token, "TOKCFG");
    assert_string_equal(cr.source, "config");
    assert_int_equal(cr.expires_ms, 0);
    bf_awscreds_destroy(c);
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    setenv("AWS_SESSION_TOKEN", "TOKENV", 1);
    assert_int_equal(bf_awscreds_create(NULL, "", NULL, &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKENV");
    assert_string_equal(cr.secret_key, "SKENV");
    assert_string_equal(cr.session_token, "TOKENV");
    assert_string_equal(cr.source, "env");
    bf_awscreds_destroy(c);
    clear_env();
}

static void t_nothing_configured(void **state)
{
    (void)state;
    bf_awscreds *c;
    bf_aws_credentials cr;
    char err[256] = "";
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), -EACCES);
    assert_non_null(strstr(err, "no AWS credentials"));
    bf_awscreds_destroy(c);
    /* a FULL_URI over plain http to a non-loopback host is refused (never contacted) */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds", 1);
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), -EACCES);
    bf_awscreds_destroy(c);
    clear_env();
}

static void t_ecs_rotation(void **state)
{
    (void)state;
    /* first keys expire within the 5-minute refresh margin, so the next use fetches again */
    credset sets[] = {{"AKROT1", "SK1", "TOKEN1", 120}, {"AKROT2", "SK2", "TOKEN2", 3600}};
    server_set(sets, 2);
    use_ecs("secret-auth-token");
    bf_awscreds *c;
    bf_aws_credentials cr;
    char err[256];
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKROT1");
    assert_string_equal(cr.session_token, "TOKEN1");
    assert_string_equal(cr.source, "ecs");
    assert_true(cr.expires_ms > 0);
    assert_int_equal(hits(), 1);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKROT2");
    assert_string_equal(cr.secret_key, "SK2");
    assert_int_equal(hits(), 2);
    /* far from expiry: cached, the endpoint is not asked again */
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKROT2");
    assert_int_equal(hits(), 2);
    /* after an invalidation (403 ExpiredToken) it fetches again */
    bf_awscreds_invalidate(c);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_int_equal(hits(), 3);
    bf_awscreds_destroy(c);
    clear_env();
}

static void t_ecs_auth_and_failures(void **state)
{
    (void)state;
    credset sets[] = {{"AKF1", "SKF1", NULL, 120}};
    server_set(sets, 1);
    bf_awscreds *c;
    bf_aws_credentials cr;
    char err[256] = "";
    use_ecs("wrong-auth-token");
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), -EACCES);
    assert_non_null(strstr(err, "401"));
    pthread_mutex_lock(&S.mu);
    assert_string_equal(S.last_auth, "wrong-auth-token");
    pthread_mutex_unlock(&S.mu);
    bf_awscreds_destroy(c);
    /* refresh failing while the current keys are still valid: keep using them */
    use_ecs("secret-auth-token");
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKF1");
    assert_string_equal(cr.session_token, "");
    pthread_mutex_lock(&S.mu);
    S.fail = 1;
    pthread_mutex_unlock(&S.mu);
    assert_int_equal(bf_awscreds_get(c, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKF1");
    bf_awscreds_destroy(c);
    clear_env();
}

static void t_imds_v2(void **state)
{
    (void)state;
    credset sets[] = {{"AKIMDS", "SKIMDS", "TOKIMDS", 3600}};
    server_set(sets, 1);
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", S.port);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    bf_awscreds *c;
    bf_aws_credentials cr;
    char err[256] = "";
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    int rc = bf_awscreds_get(c, &cr, err, sizeof err);
    if (rc) fprintf(stderr, "imds: %s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(cr.access_key, "AKIMDS");
    assert_string_equal(cr.session_token, "TOKIMDS");
    assert_string_equal(cr.source, "imds");
    bf_awscreds_destroy(c);
    clear_env();
}

static void *getter(void *arg)
{
    bf_awscreds *c = arg;
    bf_aws_credentials cr;
    char err[256];
    for (int i = 0; i < 200; i++)
        if (bf_awscreds_get(c, &cr, err, sizeof err) != 0 || strncmp(cr.access_key, "AKT", 3) != 0) return (void *)1;
    return NULL;
}

static void t_threads(void **state)
{
    (void)state;
    credset sets[] = {{"AKT1", "S", NULL, 3600}};
    server_set(sets, 1);
    use_ecs("secret-auth-token");
    bf_awscreds *c;
    assert_int_equal(bf_awscreds_create(NULL, NULL, NULL, &c), 0);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, getter, c);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    assert_int_equal(hits(), 1);   /* fetched once, shared by all threads */
    bf_awscreds_destroy(c);
    clear_env();
}

/* The store picks up rotated keys: Swift rejects the first (wrong secret), accepts the refreshed ones. */
static void t_store_rotation_swift(void **state)
{
    (void)state;
    const char *ep = getenv("BF_TEST_S3_ENDPOINT"), *ak = getenv("BF_TEST_S3_AK"), *sk = getenv("BF_TEST_S3_SK");
    assert_non_null(ep);
    assert_non_null(ak);
    assert_non_null(sk);
    credset sets[] = {{ak, "wrong-secret", NULL, 120}, {ak, sk, NULL, 3600}};
    server_set(sets, 2);
    use_ecs("secret-auth-token");
    /* the bucket is made with the static keys, then a store without keys uses the ECS endpoint */
    bf_s3_config good = {.endpoint = (char *)ep, .region = "us-east-1", .path_style = true, .access_key = (char *)ak,
                         .secret_key = (char *)sk, .retry_deadline_ms = 5000};
    char uri[128], err[256];
    snprintf(uri, sizeof uri, "s3://bf-creds-%d-%ld", (int)getpid(), (long)time(NULL));
    bf_store *st;
    assert_int_equal(bf_store_open(uri, &good, NULL, &st, err, sizeof err), 0);
    assert_int_equal(bf_store_s3_create_bucket(st), 0);
    bf_store_close(st);
    bf_s3_config chain = good;
    chain.access_key = chain.secret_key = NULL;
    assert_int_equal(bf_store_open(uri, &chain, NULL, &st, err, sizeof err), 0);
    assert_int_equal(bf_store_put(st, "k", "v", 1, NULL, 0), -EACCES);
    assert_non_null(strstr(bf_store_errmsg(), "SignatureDoesNotMatch"));
    assert_int_equal(hits(), 1);
    /* first keys were inside the refresh margin: the next request fetches the rotated, right ones */
    int rc = bf_store_put(st, "k", "v", 1, NULL, 0);
    if (rc) fprintf(stderr, "put: %s\n", bf_store_errmsg());
    assert_int_equal(rc, 0);
    assert_int_equal(hits(), 2);
    assert_int_equal(bf_store_head(st, "k", NULL), 0);
    assert_int_equal(hits(), 2);
    bf_store_close(st);
    clear_env();
}

int main(void)
{
    if (server_start() != 0) {
        fprintf(stderr, "cannot start the loopback credentials server on 24300-24349\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(t_static_config_and_env, setup),
        cmocka_unit_test_setup(t_nothing_configured, setup),
        cmocka_unit_test_setup(t_ecs_rotation, setup),
        cmocka_unit_test_setup(t_ecs_auth_and_failures, setup),
        cmocka_unit_test_setup(t_imds_v2, setup),
        cmocka_unit_test_setup(t_threads, setup),
        cmocka_unit_test_setup(t_store_rotation_swift, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MHD_stop_daemon(S.d);
    return rc;
}
