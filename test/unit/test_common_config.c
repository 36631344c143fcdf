/* Unit tests for bf_config: defaults, YAML, environment precedence, secrets, printing, and every
 * kind of error with its file:line:col location. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bf_config.h"
#include "bf_util.h"

typedef struct test_cfg {
    bf_common_config common;
    char *intake;
    char *ack;
    int64_t workers;
    int64_t max_bytes;
    int64_t max_age_ms;
    bool verbose;
    double sample;
    char *label;
} test_cfg;

static const bf_config_key test_keys[] = {
    BF_COMMON_KEYS(test_cfg, "0.0.0.0:8081"),
    {"store.intake", BF_CT_STRING, offsetof(test_cfg, intake), "file:///var/lib/x/intake", 0, 0, NULL, NULL, "intake store"},
    {"ack", BF_CT_ENUM, offsetof(test_cfg, ack), "store", 0, 0, "store|spool", NULL, "ack mode"},
    {"workers", BF_CT_INT, offsetof(test_cfg, workers), "4", 1, 64, NULL, NULL, "worker threads"},
    {"batch.max_bytes", BF_CT_SIZE, offsetof(test_cfg, max_bytes), "8MiB", 1024, 1073741824.0, NULL, NULL, "batch size"},
    {"batch.max_age", BF_CT_DURATION, offsetof(test_cfg, max_age_ms), "1s", 0, 0, NULL, NULL, "batch age"},
    {"verbose", BF_CT_BOOL, offsetof(test_cfg, verbose), NULL, 0, 0, NULL, NULL, "chatty"},
    {"sample", BF_CT_DOUBLE, offsetof(test_cfg, sample), "0.5", 0, 1, NULL, NULL, "sampling | ratio"},
    {"label", BF_CT_STRING, offsetof(test_cfg, label), NULL, 0, 0, NULL, NULL, "free text"},
};
static const bf_config_schema schema = {"testd", test_keys, sizeof test_keys / sizeof test_keys[0]};

static char tmpdir[512];

static const char *env_used[] = {
    "BYTEFREEZER_TESTD__WORKERS", "BYTEFREEZER_TESTD__BATCH__MAX_BYTES", "BYTEFREEZER_TESTD__CONTROL__URL",
    "BYTEFREEZER_TESTD__BOGUS", "CONTROL_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "CONTROL_API_KEY", "ACCOUNT_ID", "BF_TEST_TOKEN",
    "BYTEFREEZER_TESTD__ADMIN__TOKEN", "BYTEFREEZER_TESTD__LOG_LEVEL",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_used / sizeof env_used[0]; i++)
        unsetenv(env_used[i]);
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_common_config.%d", base, (int)getpid());
    clear_env();
    return bf_mkdir_p(tmpdir, 0755);
}

static int each(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

/* Loads text; returns rc and leaves the message in err. */
static int load(test_cfg *c, const char *yaml, char *err)
{
    memset(c, 0, sizeof *c);
    return bf_config_load_text(&schema, c, "t.yaml", yaml, yaml ? strlen(yaml) : 0, err, BF_CFG_ERRLEN);
}

static void expect_error(const char *yaml, const char *want)
{
    test_cfg c;
    char err[BF_CFG_ERRLEN] = "";
    int rc = load(&c, yaml, err);
    bf_config_free(&schema, &c);
    if (rc != -EINVAL || !strstr(err, want))
        fail_msg("rc %d, error \"%s\" does not contain \"%s\"", rc, err, want);
}

static void test_defaults(void **state)
{
    (void)state;
    test_cfg c;
    char err[BF_CFG_ERRLEN];
    assert_int_equal(load(&c, NULL, err), 0);
    assert_string_equal(c.common.log_level, "info");
    assert_string_equal(c.common.admin_listen, "0.0.0.0:8081");
    assert_string_equal(c.common.tenants, "file:///etc/bytefreezer/tenants.yaml"); /* URI, not read */
    assert_int_equal(c.common.shutdown_timeout_ms, 20000);
    assert_int_equal(c.common.s3.part_size, 8 << 20);
    assert_int_equal(c.common.s3.max_connections, 16);
    assert_string_equal(c.common.s3.endpoint, "");
    assert_string_equal(c.common.admin_token, "");
    assert_false(c.common.s3.path_style);
    assert_string_equal(c.intake, "file:///var/lib/x/intake");
    assert_string_equal(c.ack, "store");
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.max_bytes, 8 << 20);
    assert_int_equal(c.max_age_ms, 1000);
    assert_false(c.verbose);
    assert_true(c.sample > 0.49 && c.sample < 0.51);
    assert_string_equal(c.label, "");
    bf_config_free(&schema, &c);
    assert_null(c.label);
}

static const char *full_yaml =
    "# comment\n"
    "log_level: debug\n"
    "admin_listen: \"127.0.0.1:24001\"\n"
    "store:\n"
    "  intake: /data/intake\n"
    "s3: {endpoint: \"http://127.0.0.1:9000\", path_style: true, part_size: 16MiB}\n"
    "ack: SPOOL\n"
    "workers: 8\n"
    "batch:\n"
    "  max_bytes: 512KiB\n"
    "  max_age: 1m30s\n"
    "verbose: yes\n"
    "sample: 0.25\n"
    "label: 'it''s'\n"
    "shutdown_timeout:\n"; /* null: keeps the default */

static void test_yaml_values(void **state)
{
    (void)state;
    test_cfg c;
    char err[BF_CFG_ERRLEN];
    int rc = load(&c, full_yaml, err);
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(c.common.log_level, "debug");
    assert_string_equal(c.common.admin_listen, "127.0.0.1:24001");
    assert_string_equal(c.intake, "/data/intake");
    assert_string_equal(c.common.s3.endpoint, "http://127.0.0.1:9000");
    assert_true(c.common.s3.path_style);
    assert_int_equal(c.common.s3.part_size, 16 << 20);
    assert_string_equal(c.ack, "spool"); /* canonical spelling */
    assert_int_equal(c.workers, 8);
    assert_int_equal(c.max_bytes, 512 * 1024);
    assert_int_equal(c.max_age_ms, 90000);
    assert_true(c.verbose);
    assert_true(c.sample > 0.24 && c.sample < 0.26);
    assert_string_equal(c.label, "it's");
    assert_int_equal(c.common.shutdown_timeout_ms, 20000);
    bf_config_free(&schema, &c);
}

static void test_env_override_beats_file(void **state)
{
    (void)state;
    setenv("BYTEFREEZER_TESTD__WORKERS", "16", 1);
    setenv("BYTEFREEZER_TESTD__BATCH__MAX_BYTES", "2MiB", 1);
    test_cfg c;
    char err[BF_CFG_ERRLEN];
    int rc = load(&c, full_yaml, err);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.workers, 16);
    assert_int_equal(c.max_bytes, 2 << 20);
    assert_int_equal(c.max_age_ms, 90000); /* untouched */
    bf_config_free(&schema, &c);
}

static void test_alt_env(void **state)
{
    (void)state;
    test_cfg c;
    char err[BF_CFG_ERRLEN];
    const char *yaml = "control:\n  url: http://from-file\ns3:\n  region: eu-west-1\n";
    /* alt_env beats the file */
    setenv("CONTROL_URL", "http://from-alt", 1);
    assert_int_equal(load(&c, yaml, err), 0);
    assert_string_equal(c.common.control_url, "http://from-alt");
    assert_string_equal(c.common.s3.region, "eu-west-1");
    bf_config_free(&schema, &c);
    /* the BYTEFREEZER_ name beats alt_env */
    setenv("BYTEFREEZER_TESTD__CONTROL__URL", "http://from-bf", 1);
    assert_int_equal(load(&c, yaml, err), 0);
    assert_string_equal(c.common.control_url, "http://from-bf");
    bf_config_free(&schema, &c);
    /* an empty alt_env is ignored */
    unsetenv("BYTEFREEZER_TESTD__CONTROL__URL");
    setenv("CONTROL_URL", "", 1);
    setenv("AWS_REGION", "ap-south-1", 1);
    assert_int_equal(load(&c, yaml, err), 0);
    assert_string_equal(c.common.control_url, "http://from-file");
    assert_string_equal(c.common.s3.region, "ap-south-1");
    bf_config_free(&schema, &c);
}

static void test_secrets(void **state)
{
    (void)state;
    char path[700], yaml[1200], err[BF_CFG_ERRLEN];
    snprintf(path, sizeof path, "%s/secret.txt", tmpdir);
    assert_int_equal(bf_write_file_atomic(path, "s3cr3t-from-file\n", 17), 0);
    setenv("BF_TEST_TOKEN", "tok-from-env", 1);
    snprintf(yaml, sizeof yaml,
             "admin:\n  token: \"env:BF_TEST_TOKEN\"\ns3:\n  secret_key: \"file:%s\"\n  access_key: AKIA\n"
             "label: env:BF_TEST_TOKEN\n",
             path);
    test_cfg c;
    int rc = load(&c, yaml, err);
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(c.common.admin_token, "tok-from-env");
    assert_string_equal(c.common.s3.secret_key, "s3cr3t-from-file");
    assert_string_equal(c.common.s3.access_key, "AKIA");
    assert_string_equal(c.label, "tok-from-env"); /* every string, not only secrets */
    bf_config_free(&schema, &c);
    /* a secret reference given through the environment */
    setenv("BYTEFREEZER_TESTD__ADMIN__TOKEN", "env:BF_TEST_TOKEN", 1);
    assert_int_equal(load(&c, NULL, err), 0);
    assert_string_equal(c.common.admin_token, "tok-from-env");
    bf_config_free(&schema, &c);
    unsetenv("BYTEFREEZER_TESTD__ADMIN__TOKEN");
    /* missing variable and missing file are errors that say where the reference was */
    expect_error("log_level: info\nadmin:\n  token: env:BF_NOT_SET_ANYWHERE\n", "t.yaml:3:10: admin.token");
    expect_error("admin:\n  token: env:BF_NOT_SET_ANYWHERE\n", "BF_NOT_SET_ANYWHERE is not set");
    expect_error("admin:\n  token: file:/nonexistent/secret\n", "cannot read /nonexistent/secret");
    char *out;
    assert_int_equal(bf_config_resolve_secret("file:///etc/x.yaml", &out, err, sizeof err), 0);
    assert_string_equal(out, "file:///etc/x.yaml");
    free(out);
}

static char *capture_print(const test_cfg *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    bf_config_print(&schema, c, f);
    fclose(f);
    return text;
}

static void test_masked_print_and_json(void **state)
{
    (void)state;
    setenv("BF_TEST_TOKEN", "tok-from-env", 1);
    test_cfg c;
    char err[BF_CFG_ERRLEN];
    assert_int_equal(load(&c, "admin:\n  token: env:BF_TEST_TOKEN\ns3:\n  secret_key: hunter2\nworkers: 9\n", err), 0);
    char *text = capture_print(&c);
    assert_null(strstr(text, "tok-from-env"));
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "admin.token: \"****\"\n"));
    assert_non_null(strstr(text, "s3.secret_key: \"****\"\n"));
    assert_non_null(strstr(text, "s3.session_token: \"\"\n"));
    assert_non_null(strstr(text, "workers: 9\n"));
    assert_non_null(strstr(text, "batch.max_bytes: 8MiB\n"));
    assert_non_null(strstr(text, "batch.max_age: 1s\n"));
    assert_non_null(strstr(text, "shutdown_timeout: 20s\n"));
    assert_non_null(strstr(text, "ack: \"store\"\n"));
    free(text);

    char *js = bf_config_to_json(&schema, &c);
    assert_non_null(js);
    assert_null(strstr(js, "hunter2"));
    json_error_t jerr;
    json_t *o = json_loads(js, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "admin"), "token")), "****");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "batch"), "max_bytes")), 8 << 20);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "batch"), "max_age")), "1s");
    assert_int_equal(json_integer_value(json_object_get(o, "workers")), 9);
    assert_true(json_is_false(json_object_get(json_object_get(o, "s3"), "path_style")));
    json_decref(o);
    free(js);
    bf_config_free(&schema, &c);
}

static void test_errors_with_location(void **state)
{
    (void)state;
    expect_error("log_level: info\nstore:\n  intake: /x\n  bogus: 1\n", "t.yaml:4:3: unknown key store.bogus");
    expect_error("nonsense: 1\n", "t.yaml:1:1: unknown key nonsense");
    expect_error("workers: many\n", "t.yaml:1:10: workers: \"many\" is not an integer");
    expect_error("batch:\n  max_bytes: lots\n", "t.yaml:2:14: batch.max_bytes: \"lots\" is not a size");
    expect_error("batch: {max_age: 10}\n", "batch.max_age: \"10\" is not a duration");
    expect_error("verbose: maybe\n", "t.yaml:1:10: verbose: \"maybe\" is not a boolean");
    expect_error("sample: lots\n", "sample: \"lots\" is not a number");
    expect_error("workers: 0\n", "t.yaml:1:10: workers: 0 is out of range [1, 64]");
    expect_error("workers: 65\n", "out of range");
    expect_error("sample: 1.5\n", "sample: 1.5 is out of range");
    expect_error("batch:\n  max_bytes: 100\n", "batch.max_bytes: 100 is out of range");
    expect_error("ack: maybe\n", "t.yaml:1:6: ack: \"maybe\" is not one of store|spool");
    expect_error("ack: [store]\n", "t.yaml:1:6: ack: expected a enum value, found a sequence");
    expect_error("store: /x\n", "t.yaml:1:8: store: expected a mapping (section), found a scalar");
    expect_error("store:\n  - a\n", "store: expected a mapping (section), found a sequence");
    expect_error("workers: 1\nworkers: 2\n", "t.yaml:2:1: duplicate key workers");
    expect_error("s3:\n  region: a\ns3:\n  endpoint: b\n", "t.yaml:3:1: duplicate key s3");
    expect_error("s3.region: a\ns3:\n  region: b\n", "duplicate key s3.region");
    expect_error("workers: [1\n", "t.yaml:2:1: YAML error");
    expect_error("a: b: c\n", "YAML error");
    expect_error("\"unterminated\n", "YAML error");
    expect_error("- just\n- a list\n", "t.yaml:1:1: the top level must be a mapping");
    expect_error("? [a, b]\n: 1\n", "mapping keys must be plain names");
}

static void test_bad_env(void **state)
{
    (void)state;
    setenv("BYTEFREEZER_TESTD__WORKERS", "abc", 1);
    expect_error(NULL, "environment BYTEFREEZER_TESTD__WORKERS: workers: \"abc\" is not an integer");
    setenv("BYTEFREEZER_TESTD__WORKERS", "1000", 1);
    expect_error("workers: 2\n", "environment BYTEFREEZER_TESTD__WORKERS: workers: 1000 is out of range");
    unsetenv("BYTEFREEZER_TESTD__WORKERS");
    setenv("BYTEFREEZER_TESTD__LOG_LEVEL", "loud", 1);
    expect_error(NULL, "BYTEFREEZER_TESTD__LOG_LEVEL");
    unsetenv("BYTEFREEZER_TESTD__LOG_LEVEL");
    setenv("BYTEFREEZER_TESTD__BOGUS", "1", 1);
    expect_error(NULL, "environment BYTEFREEZER_TESTD__BOGUS: no such configuration key");
    unsetenv("BYTEFREEZER_TESTD__BOGUS");
    setenv("AWS_REGION", "", 1); /* empty alt_env: ignored, not an error */
    test_cfg c;
    char err[BF_CFG_ERRLEN];
    assert_int_equal(load(&c, NULL, err), 0);
    bf_config_free(&schema, &c);
}

static void test_file_load(void **state)
{
    (void)state;
    char path[700], err[BF_CFG_ERRLEN];
    snprintf(path, sizeof path, "%s/cfg.yaml", tmpdir);
    assert_int_equal(bf_write_file_atomic(path, "workers: 3\nlabel: x\nbad_key: 1\n", 31), 0);
    test_cfg c;
    memset(&c, 0, sizeof c);
    assert_int_equal(bf_config_load(&schema, &c, path, err, sizeof err), -EINVAL);
    char want[800];
    snprintf(want, sizeof want, "%s:3:1: unknown key bad_key", path);
    assert_string_equal(err, want);
    bf_config_free(&schema, &c);
    assert_int_equal(bf_write_file_atomic(path, "workers: 3\nlabel: x\n", 20), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(bf_config_load(&schema, &c, path, err, sizeof err), 0);
    assert_int_equal(c.workers, 3);
    assert_string_equal(c.label, "x");
    bf_config_free(&schema, &c);
    memset(&c, 0, sizeof c);
    snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
    assert_int_equal(bf_config_load(&schema, &c, path, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "missing.yaml"));
    bf_config_free(&schema, &c);
    /* an empty file and a comment-only file are fine */
    expect_error("workers: x\n", "not an integer"); /* sanity of the helper */
    assert_int_equal(load(&c, "", err), 0);
    bf_config_free(&schema, &c);
    assert_int_equal(load(&c, "# nothing\n", err), 0);
    bf_config_free(&schema, &c);
}

static char *capture(void (*fn)(const bf_config_schema *, FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fn(&schema, f);
    fclose(f);
    return text;
}

static void test_env_names_and_reference(void **state)
{
    (void)state;
    char name[256];
    bf_config_env_name("receiver", "store.intake", name, sizeof name);
    assert_string_equal(name, "BYTEFREEZER_RECEIVER__STORE__INTAKE");
    bf_config_env_name("packer", "s3.path_style", name, sizeof name);
    assert_string_equal(name, "BYTEFREEZER_PACKER__S3__PATH_STYLE");
    char *list = capture(bf_config_list_env);
    assert_non_null(strstr(list, "BYTEFREEZER_TESTD__BATCH__MAX_BYTES\n"));
    assert_non_null(strstr(list, "BYTEFREEZER_TESTD__LOG_LEVEL\n"));
    assert_non_null(strstr(list, "\nCONTROL_URL\n"));
    assert_non_null(strstr(list, "\nAWS_SECRET_ACCESS_KEY\n"));
    free(list);
    char *ref = capture(bf_config_print_reference);
    assert_true(strncmp(ref, "| Key | Type | Default |", 24) == 0);
    assert_non_null(strstr(ref, "| `batch.max_bytes` | size | `8MiB` | `BYTEFREEZER_TESTD__BATCH__MAX_BYTES` | batch size (range 1024..1073741824) |\n"));
    assert_non_null(strstr(ref, "| `ack` | enum (store\\|spool) |"));
    assert_non_null(strstr(ref, "sampling \\| ratio"));
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, each),
        cmocka_unit_test_setup(test_yaml_values, each),
        cmocka_unit_test_setup(test_env_override_beats_file, each),
        cmocka_unit_test_setup(test_alt_env, each),
        cmocka_unit_test_setup(test_secrets, each),
        cmocka_unit_test_setup(test_masked_print_and_json, each),
        cmocka_unit_test_setup(test_errors_with_location, each),
        cmocka_unit_test_setup(test_bad_env, each),
        cmocka_unit_test_setup(test_file_load, each),
        cmocka_unit_test_setup(test_env_names_and_reference, each),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
