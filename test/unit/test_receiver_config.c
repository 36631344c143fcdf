/* Unit tests of receiver/config.c: defaults of the contract keys (DESIGN §3.2) and cross-key validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "../../receiver/config.h"

static int load(const char *yaml, rcv_config *c, char *err)
{
    memset(c, 0, sizeof *c);
    int rc = bf_config_load_text(&rcv_schema, c, "test.yaml", yaml, strlen(yaml), err, BF_CFG_ERRLEN);
    if (!rc)
        rc = rcv_config_validate(c, err, BF_CFG_ERRLEN);
    return rc;
}

static void test_defaults(void **st)
{
    (void)st;
    rcv_config c;
    char err[BF_CFG_ERRLEN] = "";
    assert_int_equal(load("{}\n", &c, err), 0);
    assert_string_equal(c.listen, "0.0.0.0:8080");
    assert_string_equal(c.common.admin_listen, "0.0.0.0:8081");
    assert_string_equal(c.store_intake, "file:///var/lib/bytefreezer/store/intake");
    assert_string_equal(c.ack, "store");
    assert_true(c.max_body_bytes == 64LL << 20);
    assert_true(c.max_inflated_bytes == 1LL << 30);
    assert_true(c.max_inflate_ratio == 100.0);
    assert_true(c.read_timeout_ms == 30000);
    assert_string_equal(c.intake_codec, "zstd");
    assert_string_equal(c.common.tenants, "file:///etc/bytefreezer/tenants.yaml");
    bf_config_free(&rcv_schema, &c);
}

static void test_values(void **st)
{
    (void)st;
    rcv_config c;
    char err[BF_CFG_ERRLEN] = "";
    const char *y = "listen: \"127.0.0.1:9000\"\nack: spool\nspool: {dir: /tmp/x, max_bytes: 2GiB}\n"
                    "max_body_bytes: 8MiB\nread_timeout: 5s\nintake: {codec: gzip}\nmax_inflate_ratio: 250.5\n";
    assert_int_equal(load(y, &c, err), 0);
    assert_string_equal(c.ack, "spool");
    assert_true(c.spool_max_bytes == 2LL << 30);
    assert_true(c.max_body_bytes == 8LL << 20);
    assert_true(c.read_timeout_ms == 5000);
    assert_string_equal(c.intake_codec, "gzip");
    assert_true(c.max_inflate_ratio == 250.5);
    bf_config_free(&rcv_schema, &c);
}

static void test_invalid(void **st)
{
    (void)st;
    static const char *bad[] = {
        "ack: maybe\n",                                     /* enum */
        "intake: {codec: lz4}\n",
        "intake: {codec: gzip, level: 12}\n",              /* gzip stops at 9 */
        "tls: {cert: /a.pem}\n",                            /* cert without key */
        "tls: {key: /a.pem}\n",
        "spool: {retry_initial: 2m, retry_max: 1m}\n",
        "ack: spool\nspool: {max_bytes: 2MiB}\nmax_body_bytes: 64MiB\n",   /* spool smaller than one body */
        "max_connections: 0\n",
        "read_timeout: 10ms\n",
        "no_such_key: 1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcv_config c;
        char err[BF_CFG_ERRLEN] = "";
        assert_int_equal(load(bad[i], &c, err), -EINVAL);
        assert_true(strlen(err) > 0);
        bf_config_free(&rcv_schema, &c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_values), cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
