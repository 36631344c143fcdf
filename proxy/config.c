/* proxy config schema (see config.h). One row per key: the table is the documentation. */
#include "config.h"
#include "bf_codec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define K(path, type, field, def, mn, mx, choices, help) \
    {path, type, offsetof(proxy_config, field), def, mn, mx, choices, NULL, help}

static const bf_config_key keys[] = {
    BF_COMMON_KEYS(proxy_config, "0.0.0.0:8008"),
    K("receiver.url", BF_CT_STRING, receiver_url, "http://127.0.0.1:8080", 0, 0, NULL,
      "receiver base URL; batches go to POST <url>/<tenant>/<dataset>"),
    K("receiver.concurrency", BF_CT_INT, receiver_concurrency, "4", 1, 256, NULL,
      "uploads in flight at once (at most one per dataset, to keep batch order)"),
    K("receiver.timeout", BF_CT_DURATION, receiver_timeout_ms, "30s", 100, 3600000, NULL,
      "per-upload timeout"),
    K("spool.dir", BF_CT_STRING, spool_dir, "/var/lib/bytefreezer-proxy/spool", 0, 0, NULL,
      "spool directory: <tenant>/<dataset>/{queue,retry,dlq}"),
    K("spool.max_bytes", BF_CT_SIZE, spool_max_bytes, "10GiB", 1048576, 1e15, NULL,
      "spool quota; when reached TCP stops reading, HTTP answers 503, UDP drops (counted)"),
    K("spool.memory_bytes", BF_CT_SIZE, spool_memory_bytes, "64MiB", 0, 1e15, NULL,
      "batches just written to the spool are also kept in memory up to this total, so that their first "
      "upload does not read them back from disk; 0 = always read"),
    K("dlq.max_bytes", BF_CT_SIZE, dlq_max_bytes, "1GiB", 0, 1e15, NULL,
      "dead-letter data kept; above it the oldest entries are evicted (counted, logged)"),
    K("batch.max_age", BF_CT_DURATION, batch_max_age_ms, "1s", 10, 3600000, NULL,
      "an open batch is sealed when its first record is this old"),
    K("batch.max_bytes", BF_CT_SIZE, batch_max_bytes, "8MiB", 1024, 268435456, NULL,
      "an open batch is sealed at this uncompressed size"),
    K("batch.max_records", BF_CT_INT, batch_max_records, "100000", 1, 100000000, NULL,
      "an open batch is sealed at this many records"),
    K("batch.codec", BF_CT_ENUM, batch_codec, "zstd", 0, 0, "zstd|gzip|none",
      "batch compression (gzip for the original Go receiver; none: uncompressed, for a receiver on a fast "
      "network, saves the edge's CPU)"),
    K("batch.level", BF_CT_INT, batch_level, "1", -7, 19, NULL,
      "compression level: gzip 1..9, zstd 1..19 or its faster -7..-1 (less compression); 1 by default (the "
      "edge has CPU to spare for inputs, not for codecs), 0 = codec default"),
    K("batch.fast_level", BF_CT_INT, batch_fast_level, "-5", -7, 19, NULL,
      "zstd level used instead of batch.level while a quarter of batch.raw_backlog of sealed data waits "
      "(less CPU per byte, larger uploads; 0 = never)"),
    K("batch.max_pending", BF_CT_SIZE, batch_max_pending, "64MiB", 1048576, 1e12, NULL,
      "sealed data waiting for the spool writer; above it inputs are held back"),
    K("batch.raw_backlog", BF_CT_SIZE, batch_raw_backlog, "16MiB", 0, 1e12, NULL,
      "when this much other sealed data waits for the spool writer, batches are spooled and sent uncompressed "
      "(the receiver compresses them) rather than lose datagrams to compression; 0 = always compress"),
    K("retry.initial", BF_CT_DURATION, retry_initial_ms, "1s", 10, 3600000, NULL,
      "first retry delay (doubles per failure, with jitter)"),
    K("retry.max", BF_CT_DURATION, retry_max_ms, "5m", 10, 86400000, NULL, "longest retry delay"),
    K("udp.rcvbuf", BF_CT_SIZE, udp_rcvbuf, "8MiB", 4096, 1073741824, NULL,
      "SO_RCVBUF for UDP inputs (a source may override with rcvbuf)"),
    K("udp.batch", BF_CT_INT, udp_batch, "64", 1, 1024, NULL, "datagrams per recvmmsg call"),
    K("udp.coalesce_us", BF_CT_INT, udp_coalesce_us, "1000", 0, 100000, NULL,
      "after a receive that found several datagrams, wait up to this long before the next one so that one "
      "wake-up serves more; never longer than the arrival rate takes to fill a quarter of the receive "
      "buffer (microseconds; 0 = off)"),
    K("input.max_message", BF_CT_SIZE, max_message, "64KiB", 256, 16777216, NULL,
      "longest TCP message kept whole (longer LF lines are cut, octet-counted ones close the connection)"),
    K("tcp.max_connections", BF_CT_INT, tcp_max_connections, "1000", 1, 1000000, NULL,
      "open connections per TCP input"),
    K("http.max_body", BF_CT_SIZE, http_max_body, "16MiB", 1024, 1073741824, NULL,
      "largest HTTP input body, after decompression (413 above)"),
    K("http.timeout", BF_CT_DURATION, http_timeout_ms, "30s", 100, 3600000, NULL,
      "how long an HTTP input request waits for its data to reach the spool (503 after)"),
};

const bf_config_schema proxy_schema = {"proxy", keys, sizeof keys / sizeof keys[0]};

int proxy_config_validate(void *vcfg, char *err, size_t errlen)
{
    proxy_config *c = vcfg;
    if (!c->receiver_url || (strncmp(c->receiver_url, "http://", 7) && strncmp(c->receiver_url, "https://", 8))) {
        snprintf(err, errlen, "receiver.url: must start with http:// or https://");
        return -EINVAL;
    }
    if (c->retry_initial_ms > c->retry_max_ms) {
        snprintf(err, errlen, "retry.initial must not exceed retry.max");
        return -EINVAL;
    }
    if (!c->spool_dir || !*c->spool_dir) {
        snprintf(err, errlen, "spool.dir: required");
        return -EINVAL;
    }
    if (c->batch_raw_backlog && c->batch_raw_backlog >= c->batch_max_pending) {
        snprintf(err, errlen, "batch.raw_backlog must be below batch.max_pending (or 0)");
        return -EINVAL;
    }
    bf_codec codec = BF_CODEC_ZSTD;
    bf_encoder *enc = NULL;
    if (bf_codec_parse(c->batch_codec, &codec) == 0 && bf_encoder_create(codec, (int)c->batch_level, &enc) == -EINVAL) {
        snprintf(err, errlen, "batch.level %lld is out of range for %s", (long long)c->batch_level, c->batch_codec);
        return -EINVAL;
    }
    bf_encoder_destroy(enc);
    if (c->batch_max_bytes * 2 > c->spool_max_bytes) {
        snprintf(err, errlen, "spool.max_bytes must be at least twice batch.max_bytes");
        return -EINVAL;
    }
    return 0;
}
