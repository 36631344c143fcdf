/* bf_tenants: YAML -> JSON typing, registry validation (each invalid case with a clear message),
 * exact integers, tokens (plaintext, env:, file:, sha256) and the constant-time check, file polling
 * with atomic swap that keeps old readers valid, and the s3:// source against moto when available. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include "bf_store.h"
#include "bf_tenants.h"
#include "bf_util.h"

static char root[512];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("BF_TMP");
    snprintf(root, sizeof root, "%s/common_tenants.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    setenv("BF_TEST_ACME_TOKEN", "acme-token-from-env", 1);
    unsetenv("BF_TEST_NOT_SET_ANYWHERE");
    return bf_mkdir_p(root, 0755);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    assert_int_equal(bf_write_file_atomic(path, text, strlen(text)), 0);
}

static const char *valid_yaml =
    "tenants:\n"
    "  - id: acme\n"
    "    token: \"env:BF_TEST_ACME_TOKEN\"\n"
    "    datasets:\n"
    "      - id: firewall\n"
    "        source: {type: syslog, transport: udp, port: 5514, host: 0.0.0.0}\n"
    "        format: syslog\n"
    "        pipeline:\n"
    "          - {type: rename_field, config: {from: a, to: b}}\n"
    "        output:\n"
    "          uri: \"s3://acme-archive/logs/\"\n"
    "          partitioning: hive_hour\n"
    "          row_group_rows: 9223372036854775807\n"
    "          min_val: -9223372036854775808\n"
    "      - id: web\n"
    "        active: false\n"
    "  - id: Beta_2\n"
    "    active: false\n"
    "    token_sha256: \"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"\n"
    "  - id: x\n";

static void test_valid_registry(void **state)
{
    (void)state;
    bf_registry *r = NULL;
    char err[512] = "";
    int rc = bf_registry_parse_yaml("tenants.yaml", valid_yaml, strlen(valid_yaml), &r, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(r->ntenants, 3);
    char ver[65];
    bf_sha256_hex(valid_yaml, strlen(valid_yaml), ver);
    assert_string_equal(r->version, ver);

    const bf_tenant *t = bf_registry_tenant(r, "acme");
    assert_non_null(t);
    assert_true(t->active);
    assert_true(t->has_token);
    assert_string_equal(t->token, "acme-token-from-env");
    assert_int_equal(bf_tenant_token_ok(t, "acme-token-from-env", 19), 1);
    assert_int_equal(bf_tenant_token_ok(t, "acme-token-from-en", 18), 0);
    assert_int_equal(bf_tenant_token_ok(t, "acme-token-from-envX", 20), 0);
    assert_int_equal(t->ndatasets, 2);
    const bf_dataset *d = bf_tenant_dataset(t, "firewall");
    assert_non_null(d);
    assert_true(d->active);
    assert_string_equal(d->format, "syslog");
    assert_int_equal(json_integer_value(json_object_get(d->source, "port")), 5514);
    assert_string_equal(json_string_value(json_object_get(d->source, "host")), "0.0.0.0");
    assert_int_equal(json_array_size(d->pipeline), 1);
    assert_int_equal(json_integer_value(json_object_get(d->output, "row_group_rows")), INT64_MAX);
    assert_int_equal(json_integer_value(json_object_get(d->output, "min_val")), INT64_MIN);
    assert_ptr_equal(json_object_get(d->raw, "output"), d->output);
    const bf_dataset *w = bf_tenant_dataset(t, "web");
    assert_false(w->active);
    assert_string_equal(w->format, "ndjson");        /* defaults */
    assert_non_null(w->pipeline);
    assert_int_equal(json_array_size(w->pipeline), 0);
    assert_null(w->source);
    assert_null(w->output);
    assert_null(bf_tenant_dataset(t, "nope"));

    const bf_tenant *b = bf_registry_tenant(r, "Beta_2");
    assert_non_null(b);
    assert_false(b->active);
    assert_null(b->token);
    assert_int_equal(bf_tenant_token_ok(b, "test", 4), 1);    /* sha256("test"), upper-case hex accepted */
    assert_int_equal(bf_tenant_token_ok(b, "Test", 4), 0);
    const bf_tenant *x = bf_registry_tenant(r, "x");
    assert_true(x->active);
    assert_false(x->has_token);
    assert_int_equal(bf_tenant_token_ok(x, "", 0), 0);
    assert_null(bf_registry_tenant(r, "ACME"));
    bf_registry_unref(r);
}

typedef struct bad_case { const char *yaml; const char *msg; } bad_case;

static void test_invalid_registries(void **state)
{
    (void)state;
    char longid[80];
    memset(longid, 'a', 65);
    longid[65] = 0;
    char long_yaml[256];
    snprintf(long_yaml, sizeof long_yaml, "tenants:\n  - id: %s\n", longid);
    const bad_case cases[] = {
        {"tenants:\n  - id: admin\n", "id \"admin\" is a reserved name"},
        {"tenants:\n  - id: ok\n    datasets:\n      - id: LPT3\n", "id \"LPT3\" is a reserved name"},
        {"tenants:\n  - id: \"ac me\"\n", "id \"ac me\" is invalid"},
        {"tenants:\n  - id: \"-acme\"\n", "id \"-acme\" is invalid"},
        {"tenants:\n  - id: \"acme_\"\n", "is invalid"},
        {long_yaml, "longer than 64 characters"},
        {"tenants:\n  - id: acme\n  - id: acme\n", "duplicate tenant id \"acme\""},
        {"tenants:\n  - id: acme\n    datasets: [{id: fw}, {id: fw}]\n", "duplicate dataset id \"fw\""},
        {"tenants:\n  - id: acme\n    token_sha256: abcdef\n", "token_sha256: must be 64 hexadecimal characters"},
        {"tenants:\n  - id: acme\n    token_sha256: \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\"\n",
         "64 hexadecimal"},
        {"tenants:\n  - id: acme\n    token: \"env:BF_TEST_NOT_SET_ANYWHERE\"\n",
         "BF_TEST_NOT_SET_ANYWHERE is not set"},
        {"tenants:\n  - id: acme\n    token: \"test\"\n    token_sha256: \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
         "disagree"},
        {"tenants:\n  - id: acme\n    datasets: [{id: acme}]\n", "must differ from its tenant id"},
        {"tenants:\n  - id: acme\n    colour: red\n", "unknown key \"colour\""},
        {"tenantz: []\n", "unknown top-level key \"tenantz\""},
        {"tenants: {id: acme}\n", "tenants: must be a list"},
        {"tenants:\n  - id: 42\n", "id is required and must be a string"},
        {"tenants:\n  - id: acme\n    active: yes-please\n", "must be true or false"},
        {"tenants:\n  - id: acme\n    datasets: [{id: fw, pipeline: {a: 1}}]\n", "pipeline: must be a list"},
        {"tenants:\n  - id: acme\n    datasets: [{id: fw, source: [1]}]\n", "source: must be a mapping"},
        {"tenants:\n  - id: acme\n    datasets:\n      - id: fw\n        output: {n: 9223372036854775808}\n",
         "tenants.yaml:5: integer out of the 64-bit range"},
        {"tenants:\n  - id: acme\n  bad indent\n", "tenants.yaml:3:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bf_registry *r = NULL;
        char err[512] = "";
        int rc = bf_registry_parse_yaml("tenants.yaml", cases[i].yaml, strlen(cases[i].yaml), &r, err, sizeof err);
        if (rc != -EINVAL || !strstr(err, cases[i].msg))
            fprintf(stderr, "case %zu: rc=%d err=\"%s\" want \"%s\"\n", i, rc, err, cases[i].msg);
        assert_int_equal(rc, -EINVAL);
        assert_null(r);
        assert_non_null(strstr(err, cases[i].msg));
        assert_non_null(strstr(err, "tenants.yaml"));
    }
}

static void test_yaml_to_json(void **state)
{
    (void)state;
    const char *y =
        "zeta: 1\n"
        "alpha: -17\n"
        "big: 9223372036854775807\n"
        "hex: 0x1F\n"
        "f: 2.5\n"
        "e: 1e3\n"
        "q: \"123\"\n"
        "s: '007'\n"
        "t: true\n"
        "n: ~\n"
        "n2: null\n"
        "empty:\n"
        "word: hello world\n"
        "ver: 1.2.3\n"
        "list: [1, two, 3.0, false]\n"
        "lit: |\n  line1\n  line2\n"
        "nested: {a: {b: [x]}}\n";
    json_t *j = NULL;
    char err[256] = "";
    assert_int_equal(bf_yaml_to_json("t.yaml", y, strlen(y), &j, err, sizeof err), 0);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"zeta\":1,\"alpha\":-17,\"big\":9223372036854775807,\"hex\":31,\"f\":2.5,\"e\":1000.0,"
                           "\"q\":\"123\",\"s\":\"007\",\"t\":true,\"n\":null,\"n2\":null,\"empty\":null,"
                           "\"word\":\"hello world\",\"ver\":\"1.2.3\",\"list\":[1,\"two\",3.0,false],"
                           "\"lit\":\"line1\\nline2\\n\",\"nested\":{\"a\":{\"b\":[\"x\"]}}}");
    free(s);
    json_decref(j);

    /* errors carry the line */
    const char *dup = "a: 1\nb: 2\na: 3\n";
    assert_int_equal(bf_yaml_to_json("d.yaml", dup, strlen(dup), &j, err, sizeof err), -EINVAL);
    assert_string_equal(err, "d.yaml:3: duplicate key");
    const char *syn = "a: [1, 2\nb: 3\n";
    assert_int_equal(bf_yaml_to_json("s.yaml", syn, strlen(syn), &j, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "s.yaml:"));
    const char *alias = "a: &x 1\nb: *x\n";
    assert_int_equal(bf_yaml_to_json("a.yaml", alias, strlen(alias), &j, err, sizeof err), -EINVAL);
    assert_string_equal(err, "a.yaml:2: YAML aliases are not supported");
    const char *two = "a: 1\n---\nb: 2\n";
    assert_int_equal(bf_yaml_to_json("2.yaml", two, strlen(two), &j, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "more than one document"));
    /* deep nesting is refused, not a stack overflow */
    char deep[400];
    memset(deep, '[', 300);
    deep[300] = 0;
    assert_int_equal(bf_yaml_to_json("deep", deep, strlen(deep), &j, err, sizeof err), -EINVAL);
    /* empty text: an empty mapping */
    assert_int_equal(bf_yaml_to_json("e", "", 0, &j, err, sizeof err), 0);
    assert_true(json_is_object(j) && json_object_size(j) == 0);
    json_decref(j);
    /* an empty registry is valid */
    bf_registry *r;
    assert_int_equal(bf_registry_parse_yaml("e", "tenants: []\n", 12, &r, err, sizeof err), 0);
    assert_int_equal(r->ntenants, 0);
    bf_registry_unref(r);
}

static void test_ids(void **state)
{
    (void)state;
    assert_true(bf_id_valid("a"));
    assert_true(bf_id_valid("a-b_c9"));
    assert_false(bf_id_valid("a-"));
    assert_false(bf_id_valid("_a"));
    assert_false(bf_id_valid(""));
    assert_false(bf_id_valid("a.b"));
    assert_false(bf_id_valid("caf\xc3\xa9"));
    assert_true(bf_id_reserved("Syslog"));
    assert_true(bf_id_reserved("COM7"));
    assert_false(bf_id_reserved("com10"));
    assert_false(bf_id_valid("Proxy"));
    char id64[65];
    memset(id64, 'z', 64);
    id64[64] = 0;
    assert_true(bf_id_valid(id64));
}

static void set_mtime(const char *path, time_t sec)
{
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_file_source_poll_and_swap(void **state)
{
    (void)state;
    char path[700], src[720], secret[700];
    snprintf(path, sizeof path, "%s/tenants.yaml", root);
    snprintf(secret, sizeof secret, "%s/acme.token", root);
    write_file(secret, "file-token\n");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "tenants:\n  - id: acme\n    token: \"file:%s\"\n    datasets: [{id: fw}]\n", secret);
    write_file(path, yaml);
    set_mtime(path, 1000000);
    snprintf(src, sizeof src, "file://%s", path);
    bf_tenants *t;
    char err[512] = "";
    assert_int_equal(bf_tenants_create(src, NULL, "receiver", &t, err, sizeof err), 0);
    bf_registry *r1 = bf_tenants_get(t);
    assert_non_null(r1);
    const bf_tenant *a1 = bf_registry_tenant(r1, "acme");
    assert_string_equal(a1->token, "file-token");
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 0);     /* unchanged */
    /* same text, new mtime: content hash says unchanged */
    set_mtime(path, 1000001);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 0);

    write_file(path, "tenants:\n  - id: acme\n    datasets: [{id: fw}, {id: dns}]\n  - id: beta\n");
    set_mtime(path, 1000002);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 1);
    bf_registry *r2 = bf_tenants_get(t);
    assert_ptr_not_equal(r1, r2);
    assert_int_equal(r2->ntenants, 2);
    assert_int_equal(bf_registry_tenant(r2, "acme")->ndatasets, 2);
    /* the old reader's registry is intact */
    assert_int_equal(r1->ntenants, 1);
    assert_string_equal(a1->id, "acme");
    assert_int_equal(a1->ndatasets, 1);
    assert_int_equal(bf_tenant_token_ok(a1, "file-token", 10), 1);
    bf_registry_unref(r1);

    /* a broken file is reported and the current registry stays */
    write_file(path, "tenants:\n  - id: admin\n");
    set_mtime(path, 1000003);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "reserved"));
    bf_registry *r3 = bf_tenants_get(t);
    assert_ptr_equal(r3, r2);
    bf_registry_unref(r3);
    /* reload forces a read even when the markers match */
    write_file(path, "tenants: []\n");
    set_mtime(path, 1000003);
    assert_int_equal(bf_tenants_reload(t, err, sizeof err), 1);
    r3 = bf_tenants_get(t);
    assert_int_equal(r3->ntenants, 0);
    bf_registry_unref(r3);
    bf_registry_unref(r2);
    bf_tenants_destroy(t);

    /* first load failing is an error */
    char missing[720];
    snprintf(missing, sizeof missing, "file://%s/missing.yaml", root);
    assert_int_equal(bf_tenants_create(missing, NULL, "receiver", &t, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "missing.yaml"));
    assert_int_equal(bf_tenants_create("ftp://x", NULL, "receiver", &t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown source"));
    assert_int_equal(bf_tenants_create("file://relative/x", NULL, "receiver", &t, err, sizeof err), -EINVAL);
}


/* Readers take and drop references while the registry is swapped under them (run under ASan/valgrind
 * this catches a use-after-free in the refcounting). */
typedef struct rctx { bf_tenants *t; atomic_int stop; } rctx;
static void *reader(void *arg)
{
    rctx *c = arg;
    while (!atomic_load(&c->stop)) {
        bf_registry *r = bf_tenants_get(c->t);
        const bf_tenant *a = bf_registry_tenant(r, "acme");
        assert_non_null(a);
        assert_int_equal(bf_tenant_token_ok(a, "tok", 3), 1);
        for (size_t i = 0; i < a->ndatasets; i++) assert_non_null(a->datasets[i].id);
        bf_registry_unref(r);
    }
    return NULL;
}

static void test_concurrent_reload(void **state)
{
    (void)state;
    char path[700], src[720], err[512] = "", yaml[256];
    snprintf(path, sizeof path, "%s/concurrent.yaml", root);
    snprintf(src, sizeof src, "file://%s", path);
    write_file(path, "tenants:\n  - id: acme\n    token: tok\n");
    bf_tenants *t;
    assert_int_equal(bf_tenants_create(src, NULL, "receiver", &t, err, sizeof err), 0);
    rctx c = {t, 0};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, reader, &c);
    int swaps = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(yaml, sizeof yaml, "tenants:\n  - id: acme\n    token: tok\n    datasets: [{id: d%d}]\n", i);
        write_file(path, yaml);
        int rc = bf_tenants_reload(t, err, sizeof err);
        assert_true(rc == 1);
        swaps += rc;
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    assert_int_equal(swaps, 200);
    bf_registry *r = bf_tenants_get(t);
    assert_string_equal(bf_registry_tenant(r, "acme")->datasets[0].id, "d199");
    assert_int_equal(r->refs, 2);   /* ours and the holder's */
    bf_registry_unref(r);
    bf_tenants_destroy(t);
}

/* s3:// source against moto (no signature check) when the test environment provides it. */
static int make_bucket(const char *endpoint, const char *bucket)
{
    char url[512];
    snprintf(url, sizeof url, "%s/%s", endpoint, bucket);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_USERNAME, "test");
    curl_easy_setopt(h, CURLOPT_PASSWORD, "test");
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    CURLcode cc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    return cc == CURLE_OK && st == 200 ? 0 : -1;
}

static void test_s3_source(void **state)
{
    (void)state;
    const char *ep = getenv("BF_TEST_MOTO_ENDPOINT");
    if (!ep || !*ep) { fprintf(stderr, "BF_TEST_MOTO_ENDPOINT not set: s3 source not exercised\n"); skip(); }
    char bucket[64];
    snprintf(bucket, sizeof bucket, "bf-tenants-%d", (int)getpid());
    assert_int_equal(make_bucket(ep, bucket), 0);
    bf_common_config common = {0};
    common.s3.endpoint = (char *)ep;
    common.s3.region = "us-east-1";
    common.s3.path_style = true;
    common.s3.access_key = "test";
    common.s3.secret_key = "test";
    common.s3.timeout_ms = 10000;
    common.s3.retry_deadline_ms = 5000;
    common.s3.max_connections = 2;
    common.s3.multipart_threshold = 64 << 20;
    common.s3.part_size = 8 << 20;
    char uri[128], err[512] = "";
    snprintf(uri, sizeof uri, "s3://%s", bucket);
    bf_store *st;
    assert_int_equal(bf_store_open(uri, &common.s3, NULL, &st, err, sizeof err), 0);
    const char *v1 = "tenants:\n  - id: acme\n";
    assert_int_equal(bf_store_put(st, "cfg/tenants.yaml", v1, strlen(v1), NULL, 0), 0);
    char src[160];
    snprintf(src, sizeof src, "s3://%s/cfg/tenants.yaml", bucket);
    bf_tenants *t;
    int rc = bf_tenants_create(src, &common, "piper", &t, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    bf_registry *r = bf_tenants_get(t);
    assert_non_null(bf_registry_tenant(r, "acme"));
    bf_registry_unref(r);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 0);
    const char *v2 = "tenants:\n  - id: acme\n  - id: beta\n";
    assert_int_equal(bf_store_put(st, "cfg/tenants.yaml", v2, strlen(v2), NULL, 0), 0);
    assert_int_equal(bf_tenants_poll(t, err, sizeof err), 1);
    r = bf_tenants_get(t);
    assert_int_equal(r->ntenants, 2);
    bf_registry_unref(r);
    bf_tenants_destroy(t);
    bf_store_delete(st, "cfg/tenants.yaml");
    bf_store_close(st);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_registry),
        cmocka_unit_test(test_invalid_registries),
        cmocka_unit_test(test_yaml_to_json),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_file_source_poll_and_swap),
        cmocka_unit_test(test_concurrent_reload),
        cmocka_unit_test(test_s3_source),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
