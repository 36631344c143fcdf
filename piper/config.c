/* piper config schema (see config.h). One row per key: the table is the documentation. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define K(path, type, field, def, mn, mx, choices, help) \
    {path, type, offsetof(piper_config, field), def, mn, mx, choices, NULL, help}

static const bf_config_key keys[] = {
    BF_COMMON_KEYS(piper_config, "0.0.0.0:8082"),
    K("store.intake", BF_CT_STRING, store_intake, "file:///var/lib/bytefreezer/store/intake", 0, 0, NULL,
      "where the receiver's batches are read from (file:///dir or s3://bucket/prefix)"),
    K("store.piper", BF_CT_STRING, store_piper, "file:///var/lib/bytefreezer/store/piper", 0, 0, NULL,
      "where processed NDJSON objects are written"),
    K("poll_interval", BF_CT_DURATION, poll_interval_ms, "2s", 10, 3600000, NULL,
      "how often each active dataset's intake prefix is listed"),
    K("workers", BF_CT_INT, workers, "0", 0, 1024, NULL, "processing threads (0 = one per core)"),
    K("lease.mode", BF_CT_ENUM, lease_mode, "store", 0, 0, "store|control|none",
      "claiming: store (create-exclusive under _leases/piper in store.intake), control (control service locks), none (single instance)"),
    K("lease.ttl", BF_CT_DURATION, lease_ttl_ms, "60s", 1000, 86400000, NULL,
      "lease lifetime; renewed while an object is processed, taken over after expiry"),
    K("max_attempts", BF_CT_INT, max_attempts, "5", 1, 1000, NULL,
      "failures before an object moves to <intake>/_dlq/ with an error record"),
    K("output.codec", BF_CT_ENUM, output_codec, "zstd", 0, 0, "zstd|gzip", "codec of the output NDJSON objects"),
    K("output.level", BF_CT_INT, output_level, "0", 0, 19, NULL, "compression level, 0 = codec default"),
    K("max_line_bytes", BF_CT_SIZE, max_line_bytes, "1MiB", 64, 268435456, NULL,
      "longer lines are cut to this length and tagged _line_truncated"),
    K("max_object_bytes", BF_CT_SIZE, max_object_bytes, "16GiB", 1024, 1e15, NULL,
      "decompressed size limit per intake object (larger objects fail and end in the DLQ)"),
    K("geoip.city", BF_CT_STRING, geoip_city, NULL, 0, 0, NULL, "GeoIP City mmdb path"),
    K("geoip.asn", BF_CT_STRING, geoip_asn, NULL, 0, 0, NULL, "GeoIP ASN mmdb path"),
    K("geoip.uri", BF_CT_STRING, geoip_uri, NULL, 0, 0, NULL,
      "store URI holding GeoLite2-City.mmdb / GeoLite2-ASN.mmdb, downloaded when newer"),
    K("geoip.sync_interval", BF_CT_DURATION, geoip_sync_interval_ms, "1h", 1000, 604800000, NULL,
      "how often geoip.uri is checked"),
    K("geoip.dir", BF_CT_STRING, geoip_dir, "/var/lib/bytefreezer/geoip", 0, 0, NULL,
      "where databases synced from geoip.uri are stored"),
    K("tmp_dir", BF_CT_STRING, tmp_dir, "/tmp", 0, 0, NULL, "staging directory for encoded output"),
    K("list_limit", BF_CT_INT, list_limit, "10000", 1, 10000000, NULL, "keys listed per dataset per poll"),
    K("instance_id", BF_CT_STRING, instance_id, NULL, 0, 0, NULL, "lease owner name (empty: host identity)"),
    K("dns.cache_size", BF_CT_INT, dns_cache_size, "10000", 1, 10000000, NULL, "entries of the shared DNS cache"),
};

const bf_config_schema piper_schema = {"piper", keys, sizeof keys / sizeof keys[0]};

int piper_config_validate(void *vcfg, char *err, size_t errlen)
{
    piper_config *c = vcfg;
    if (!c->store_intake || !*c->store_intake || !c->store_piper || !*c->store_piper) {
        snprintf(err, errlen, "store.intake and store.piper are required");
        return -EINVAL;
    }
    if (!strcmp(c->store_intake, c->store_piper)) {
        snprintf(err, errlen, "store.intake and store.piper must differ");
        return -EINVAL;
    }
    if (!strcmp(c->lease_mode, "control") && strcmp(c->common.tenants ? c->common.tenants : "", "control") &&
        !(c->common.control_url && *c->common.control_url)) {
        snprintf(err, errlen, "lease.mode control needs control.url");
        return -EINVAL;
    }
    return 0;
}
