/* proxy config: the schema table of bytefreezer-proxy (DESIGN §3.2, §5) and its extra validation.
 * Ownership: strings are heap, owned by the struct; release with bf_config_free(&proxy_schema, cfg). */
#ifndef PROXY_CONFIG_H
#define PROXY_CONFIG_H
#include <stdint.h>
#include <stddef.h>
#include "bf_config.h"

typedef struct proxy_config {
    bf_common_config common;
    char *receiver_url;
    int64_t receiver_concurrency;
    int64_t receiver_timeout_ms;
    char *spool_dir;
    int64_t spool_max_bytes;
    int64_t dlq_max_bytes;
    int64_t spool_memory_bytes;
    int64_t batch_fast_level;
    int64_t batch_max_age_ms;
    int64_t batch_max_bytes;
    int64_t batch_max_records;
    char *batch_codec;            /* zstd | gzip | none */
    int64_t batch_level;          /* 0 = codec default */
    int64_t batch_max_pending;    /* sealed bytes waiting in memory before inputs are held back */
    int64_t batch_raw_backlog;    /* waiting sealed bytes at which batches go out uncompressed; 0 never */
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
    int64_t udp_rcvbuf;
    int64_t udp_batch;            /* recvmmsg vector length */
    int64_t udp_coalesce_us;      /* nap after a partial receive of >= 2 datagrams */
    int64_t max_message;          /* longest TCP/UDP message kept whole */
    int64_t tcp_max_connections;
    int64_t http_max_body;        /* decompressed request body cap */
    int64_t http_timeout_ms;      /* how long an HTTP request waits for its data to be durable */
} proxy_config;

extern const bf_config_schema proxy_schema;

/* Checks across keys (receiver URL scheme, retry.initial <= retry.max). 0 or -EINVAL with message. */
int proxy_config_validate(void *cfg, char *err, size_t errlen);
#endif
