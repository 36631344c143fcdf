/* receiver config schema (see config.h). One row per key: the table is the documentation. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define K(path, type, field, def, mn, mx, choices, help) \
    {path, type, offsetof(rcv_config, field), def, mn, mx, choices, NULL, help}

static const bf_config_key keys[] = {
    BF_COMMON_KEYS(rcv_config, "0.0.0.0:8081"),
    K("listen", BF_CT_STRING, listen, "0.0.0.0:8080", 0, 0, NULL,
      "data port: POST /<tenant>/<dataset>, POST /webhook/<tenant>/<dataset>, GET /health"),
    K("store.intake", BF_CT_STRING, store_intake, "file:///var/lib/bytefreezer/store/intake", 0, 0, NULL,
      "where accepted batches go (file:///dir or s3://bucket/prefix)"),
    K("ack", BF_CT_ENUM, ack, "store", 0, 0, "store|spool",
      "store: 200 after the object is in the store; spool: 200 after fsync to the local spool"),
    K("spool.dir", BF_CT_STRING, spool_dir, "/var/lib/bytefreezer/receiver-spool", 0, 0, NULL,
      "local spool for ack: spool (<tenant>/<dataset>/queue/…)"),
    K("spool.max_bytes", BF_CT_SIZE, spool_max_bytes, "10GiB", 1048576, 1e15, NULL,
      "spool quota; when full, requests get 503 with Retry-After"),
    K("spool.retry_initial", BF_CT_DURATION, spool_retry_initial_ms, "1s", 10, 3600000, NULL,
      "first delay after a failed background upload (doubles per failure, with jitter)"),
    K("spool.retry_max", BF_CT_DURATION, spool_retry_max_ms, "1m", 10, 86400000, NULL,
      "longest delay between background upload attempts"),
    K("max_body_bytes", BF_CT_SIZE, max_body_bytes, "64MiB", 1, 5368709120.0, NULL,
      "largest request body on the wire (413 above; checked on Content-Length and while streaming)"),
    K("max_inflated_bytes", BF_CT_SIZE, max_inflated_bytes, "1GiB", 1, 1e13, NULL,
      "largest decompressed body (413 above)"),
    K("max_inflate_ratio", BF_CT_DOUBLE, max_inflate_ratio, "100", 1, 1e6, NULL,
      "largest decompressed/compressed ratio (413 above; checked once past 1 MiB)"),
    K("read_timeout", BF_CT_DURATION, read_timeout_ms, "30s", 1000, 3600000, NULL,
      "a request (headers and body) must arrive within this; slower clients are cut"),
    K("max_connections", BF_CT_INT, max_connections, "1024", 1, 65536, NULL,
      "open connections on the data port"),
    K("intake.codec", BF_CT_ENUM, intake_codec, "zstd", 0, 0, "zstd|gzip",
      "codec used to store identity (uncompressed) bodies"),
    K("intake.level", BF_CT_INT, intake_level, "0", 0, 19, NULL,
      "compression level for identity bodies, 0 = codec default"),
    K("spill.threshold", BF_CT_SIZE, spill_threshold, "8MiB", 0, 5368709120.0, NULL,
      "request body bytes kept in memory; larger bodies spill to a temp file (0 = always memory)"),
    K("spill.dir", BF_CT_STRING, spill_dir, "/tmp", 0, 0, NULL, "directory for spilled request bodies"),
    K("retry_after", BF_CT_DURATION, retry_after_ms, "5s", 1000, 3600000, NULL,
      "Retry-After sent with 503 when the store is down or the spool is full"),
    K("tls.cert", BF_CT_STRING, tls_cert, NULL, 0, 0, NULL, "PEM certificate file: HTTPS on the data port"),
    K("tls.key", BF_CT_STRING, tls_key, NULL, 0, 0, NULL, "PEM private key file for tls.cert"),
    K("instance_id", BF_CT_STRING, instance_id, NULL, 0, 0, NULL,
      "receiver-instance metadata value (empty: host name)"),
    K("store_check", BF_CT_DURATION, store_check_ms, "30s", 100, 3600000, NULL,
      "how often the store is pinged for health when no request touched it"),
};

const bf_config_schema rcv_schema = {"receiver", keys, sizeof keys / sizeof keys[0]};

static int set_err(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -EINVAL;
}

int rcv_config_validate(void *vcfg, char *err, size_t errlen)
{
    rcv_config *c = vcfg;
    int has_cert = c->tls_cert && *c->tls_cert, has_key = c->tls_key && *c->tls_key;
    if (has_cert != has_key)
        return set_err(err, errlen, "tls.cert and tls.key must be set together");
    if (!c->store_intake || !*c->store_intake)
        return set_err(err, errlen, "store.intake: required");
    if (!strcmp(c->ack, "spool") && (!c->spool_dir || !*c->spool_dir))
        return set_err(err, errlen, "spool.dir: required with ack: spool");
    if (c->spool_retry_initial_ms > c->spool_retry_max_ms)
        return set_err(err, errlen, "spool.retry_initial must not exceed spool.retry_max");
    if (!strcmp(c->ack, "spool") && c->spool_max_bytes < c->max_body_bytes)
        return set_err(err, errlen, "spool.max_bytes must be at least max_body_bytes");
    if (!strcmp(c->intake_codec, "gzip") && c->intake_level > 9)
        return set_err(err, errlen, "intake.level: gzip levels are 1..9 (0 = default)");
    if (!c->listen || !*c->listen)
        return set_err(err, errlen, "listen: required");
    return 0;
}
