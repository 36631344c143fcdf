/* manifest + partition: manifest JSON round trip (ids derive from the inputs, the uploaded flag), piper
 * key times, partition directories and output keys, partitioning and codec names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../packer/manifest.h"
#include "../../packer/parquet.h"
#include "../../packer/partition.h"

static void test_manifest_roundtrip(void **s)
{
    (void)s;
    pk_input in[2] = { { "acme/fw/acme--fw--1764237600123456789--h--ab--ndjson.zst", 10, 1 },
                       { "acme/fw/b\"quote--ndjson.gz", 20, 2 } };
    pk_manifest m, m2, m3;
    assert_int_equal(pk_manifest_new("acme", "fw", "host/1", 1764237600000, in, 2, &m), 0);
    assert_int_equal(strlen(m.h12), 12);
    assert_string_equal(strchr(m.id, '-') + 1, m.h12);
    /* same inputs -> same hash; other inputs -> another one */
    assert_int_equal(pk_manifest_new("acme", "fw", "other", 1, in, 2, &m2), 0);
    assert_string_equal(m.h12, m2.h12);
    pk_manifest_free(&m2);
    assert_int_equal(pk_manifest_new("acme", "fw", "host/1", 1, in, 1, &m2), 0);
    assert_string_not_equal(m.h12, m2.h12);
    pk_manifest_free(&m2);
    m.uploaded = 1;
    char *json;
    size_t len;
    assert_int_equal(pk_manifest_to_json(&m, &json, &len), 0);
    assert_int_equal(pk_manifest_parse(json, len, &m3), 0);
    assert_string_equal(m3.id, m.id);
    assert_string_equal(m3.h12, m.h12);
    assert_int_equal(m3.uploaded, 1);
    assert_int_equal(m3.ninputs, 2);
    assert_string_equal(m3.inputs[1].key, in[1].key);
    assert_int_equal(m3.inputs[1].size, 20);
    char key[512];
    assert_int_equal(pk_manifest_key(&m3, key, sizeof(key)), 0);
    assert_memory_equal(key + strlen(key) - strlen(m.id) - 5, m.id, strlen(m.id));
    assert_string_equal(key + strlen(key) - 5, ".json");
    assert_memory_equal(key, "_manifests/packer/acme/fw/", 26);
    free(json);
    pk_manifest_free(&m3);
    pk_manifest_free(&m);
    assert_int_not_equal(pk_manifest_parse("{\"id\":1}", 8, &m), 0);
    assert_int_not_equal(pk_manifest_parse("not json", 8, &m), 0);
}

static void test_key_time(void **s)
{
    (void)s;
    assert_true(pk_key_time_ms("acme/fw/acme--fw--1764237600123456789--h--ab--ndjson.zst", 5) == 1764237600123ll);
    assert_true(pk_key_time_ms("acme/fw/whatever.ndjson", 5) == 5);
    assert_true(pk_key_time_ms("acme/fw/a--b--notanumber--x", 7) == 7);
}

static void test_partitions_and_keys(void **s)
{
    (void)s;
    char p[64], key[512];
    int64_t us = 1764244799000000ll;   /* 2025-11-27T11:59:59Z */
    pk_partition_path(PK_PART_HIVE_DAY, us, p, sizeof(p));
    assert_string_equal(p, "year=2025/month=11/day=27");
    pk_partition_path(PK_PART_HIVE_HOUR, us, p, sizeof(p));
    assert_string_equal(p, "year=2025/month=11/day=27/hour=11");
    pk_partition_path(PK_PART_DATE, us, p, sizeof(p));
    assert_string_equal(p, "2025/11/27");
    pk_partition_path(PK_PART_NONE, us, p, sizeof(p));
    assert_string_equal(p, "");
    pk_partition_path(PK_PART_HIVE_DAY, -1, p, sizeof(p));   /* before the epoch */
    assert_string_equal(p, "year=1969/month=12/day=31");
    assert_true(pk_partition_bucket(PK_PART_HIVE_HOUR, us) != pk_partition_bucket(PK_PART_HIVE_HOUR, us + 1000000));
    assert_int_equal(pk_output_key(key, sizeof(key), "acme", "fw", "year=2025/month=11/day=27", 1764237605000, 3,
                                   "0123456789abcdef"), 0);
    assert_string_equal(key, "acme/fw/data/parquet/year=2025/month=11/day=27/acme_fw_20251127_100005_003_0123456789ab.parquet");
    assert_int_equal(pk_output_key(key, sizeof(key), "acme", "fw", "", 1764237605000, 0, "0123456789ab"), 0);
    assert_string_equal(key, "acme/fw/data/parquet/acme_fw_20251127_100005_000_0123456789ab.parquet");
    assert_int_equal(pk_output_key(key, 20, "acme", "fw", "", 0, 0, "0123456789ab"), -ENAMETOOLONG);
    pk_partitioning pp;
    assert_int_equal(pk_partitioning_parse("date_hour", &pp), 0);
    assert_int_equal(pp, PK_PART_HIVE_HOUR);
    assert_int_not_equal(pk_partitioning_parse("weekly", &pp), 0);
    pq_codec c;
    assert_int_equal(pq_codec_parse("ZSTD", &c), 0);
    assert_int_equal(c, PQ_CODEC_ZSTD);
    assert_int_not_equal(pq_codec_parse("lz4", &c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_roundtrip),
        cmocka_unit_test(test_key_time),
        cmocka_unit_test(test_partitions_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
