/* config: packer configuration schema (see config.h). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "parquet.h"
#include "partition.h"

static const bf_config_key KEYS[] = {
    BF_COMMON_KEYS(pk_config, "0.0.0.0:8083"),
    { "store.piper", BF_CT_STRING, offsetof(pk_config, store_piper), "file:///var/lib/bytefreezer/store/piper", 0, 0,
      NULL, NULL, "where piper's NDJSON objects are read from (also holds _leases/packer and _manifests/packer)" },
    { "store.packer", BF_CT_STRING, offsetof(pk_config, store_packer), "file:///var/lib/bytefreezer/store/packer", 0, 0,
      NULL, NULL, "default Parquet destination (a dataset's output.uri overrides it)" },
    { "target_bytes", BF_CT_SIZE, offsetof(pk_config, target_bytes), "128MiB", 1, 1099511627776.0, NULL, NULL,
      "pack a dataset once this much input (stored bytes) is waiting" },
    { "max_wait", BF_CT_DURATION, offsetof(pk_config, max_wait_ms), "5m", 0, 86400000.0 * 7, NULL, NULL,
      "pack a dataset once its oldest waiting object is this old" },
    { "poll_interval", BF_CT_DURATION, offsetof(pk_config, poll_interval_ms), "2s", 10, 3600000, NULL, NULL,
      "how often each dataset is looked at" },
    { "row_group_bytes", BF_CT_SIZE, offsetof(pk_config, row_group_bytes), "64MiB", 65536, 4294967296.0, NULL, NULL,
      "Parquet row group size (buffered values)" },
    { "page_bytes", BF_CT_SIZE, offsetof(pk_config, page_bytes), "1MiB", 4096, 268435456, NULL, NULL,
      "Parquet data page size" },
    { "max_memory", BF_CT_SIZE, offsetof(pk_config, max_memory), "1GiB", 16777216, 1099511627776.0, NULL, NULL,
      "memory budget; row groups shrink to fit it" },
    { "compression", BF_CT_ENUM, offsetof(pk_config, compression), "zstd", 0, 0, "zstd|gzip|snappy|none", NULL,
      "default Parquet codec (dataset output.compression overrides it)" },
    { "compression_level", BF_CT_INT, offsetof(pk_config, compression_level), "0", 0, 22, NULL, NULL,
      "codec level (0 = default: zstd 3, gzip 6)" },
    { "partitioning", BF_CT_ENUM, offsetof(pk_config, partitioning), "hive_day", 0, 0, "hive_day|hive_hour|date|none",
      NULL, "default partition layout by event time" },
    { "time_field", BF_CT_STRING, offsetof(pk_config, time_field), "BfTs", 0, 0, NULL, NULL,
      "default event-time field used for partitions" },
    { "spill_dir", BF_CT_STRING, offsetof(pk_config, spill_dir), "/var/lib/bytefreezer/packer-spill", 0, 0, NULL, NULL,
      "local scratch for the two-pass conversion (needs about one batch of uncompressed input)" },
    { "lease.ttl", BF_CT_DURATION, offsetof(pk_config, lease_ttl_ms), "5m", 1000, 86400000, NULL, NULL,
      "per-dataset lease lifetime (renewed while working)" },
    { "max_line_bytes", BF_CT_SIZE, offsetof(pk_config, max_line_bytes), "16MiB", 1024, 1073741824, NULL, NULL,
      "longer lines are kept truncated in _unparsed" },
    { "max_columns", BF_CT_INT, offsetof(pk_config, max_columns), "2000", 2, 100000, NULL, NULL,
      "distinct keys per file; further keys go into the _overflow JSON column" },
    { "max_batch_objects", BF_CT_INT, offsetof(pk_config, max_batch_objects), "10000", 1, 1000000, NULL, NULL,
      "input objects per batch" },
};

static const bf_config_schema SCHEMA = { "packer", KEYS, sizeof(KEYS) / sizeof(KEYS[0]) };

const bf_config_schema *pk_config_schema(void) { return &SCHEMA; }

int pk_config_validate(void *cfg, char *err, size_t errlen)
{
    pk_config *c = cfg;
    pq_codec codec;
    pk_partitioning p;
    if (pq_codec_parse(c->compression, &codec) < 0) {
        snprintf(err, errlen, "compression: %s is not available in this build", c->compression);
        return -EINVAL;
    }
    if (pk_partitioning_parse(c->partitioning, &p) < 0) {
        snprintf(err, errlen, "partitioning: unknown value %s", c->partitioning);
        return -EINVAL;
    }
    if (!c->store_piper || !*c->store_piper) {
        snprintf(err, errlen, "store.piper is required");
        return -EINVAL;
    }
    if (!c->spill_dir || !*c->spill_dir) {
        snprintf(err, errlen, "spill_dir is required");
        return -EINVAL;
    }
    if (c->max_line_bytes > c->max_memory / 8) {
        snprintf(err, errlen, "max_line_bytes must be at most max_memory/8");
        return -EINVAL;
    }
    return 0;
}

int64_t pk_config_row_group_bytes(const pk_config *c)
{
    int64_t cap = c->max_memory / 4;
    return c->row_group_bytes < cap ? c->row_group_bytes : cap;
}

uint64_t pk_config_spill_memory(const pk_config *c)
{
    int64_t m = c->max_memory / 2 - pk_config_row_group_bytes(c);
    return m > 0 ? (uint64_t)m : 0;
}
