/* receiver config: the schema table of bytefreezer-receiver (DESIGN §3.2, §6) and its extra validation.
 * Ownership: strings are heap, owned by the struct; release with bf_config_free(&rcv_schema, cfg). */
#ifndef RCV_CONFIG_H
#define RCV_CONFIG_H
#include <stdint.h>
#include <stddef.h>
#include "bf_config.h"

typedef struct rcv_config {
    bf_common_config common;
    char *listen;                 /* data port "host:port" */
    char *store_intake;           /* store URI of the intake stage */
    char *ack;                    /* "store" | "spool" */
    char *spool_dir;
    int64_t spool_max_bytes;
    int64_t spool_retry_initial_ms;
    int64_t spool_retry_max_ms;
    int64_t max_body_bytes;       /* on the wire (compressed) */
    int64_t max_inflated_bytes;   /* after decompression */
    double max_inflate_ratio;
    int64_t read_timeout_ms;      /* whole request (headers + body) must arrive within this */
    int64_t max_connections;
    char *intake_codec;           /* codec for identity bodies: "zstd" | "gzip" */
    int64_t intake_level;         /* 0 = codec default */
    int64_t spill_threshold;      /* body bytes held in memory per request before spilling to a file */
    char *spill_dir;
    int64_t retry_after_ms;       /* Retry-After sent with 503 */
    char *tls_cert, *tls_key;     /* PEM file paths; both set = HTTPS on the data port */
    char *instance_id;            /* "" = bf_instance_id() */
    int64_t store_check_ms;       /* how often an idle receiver pings the store for health */
} rcv_config;

extern const bf_config_schema rcv_schema;

/* Checks across keys (tls pair, spool dir when ack: spool, retry bounds). 0 or -EINVAL with message. */
int rcv_config_validate(void *cfg, char *err, size_t errlen);
#endif
