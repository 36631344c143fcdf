/* piper config: the schema table of bytefreezer-piper (DESIGN §3.2, §7) and its extra validation.
 * Ownership: strings are heap, owned by the struct; release with bf_config_free(&piper_schema, cfg). */
#ifndef PIPER_CONFIG_H
#define PIPER_CONFIG_H
#include <stdint.h>
#include <stddef.h>
#include "bf_config.h"

typedef struct piper_config {
    bf_common_config common;
    char *store_intake;           /* store URI read from */
    char *store_piper;            /* store URI written to */
    int64_t poll_interval_ms;
    int64_t workers;              /* 0 = one per core */
    char *lease_mode;             /* store | control | none */
    int64_t lease_ttl_ms;
    int64_t max_attempts;
    char *output_codec;           /* zstd | gzip */
    int64_t output_level;         /* 0 = codec default */
    int64_t max_line_bytes;
    int64_t max_object_bytes;     /* decompressed bytes per intake object (bomb guard) */
    char *geoip_city, *geoip_asn; /* local mmdb paths */
    char *geoip_uri;              /* store URI of a directory holding the mmdb files, synced when newer */
    int64_t geoip_sync_interval_ms;
    char *geoip_dir;              /* where synced files are kept */
    char *tmp_dir;                /* encoded output is staged here before the PUT */
    int64_t list_limit;           /* keys listed per dataset per poll */
    char *instance_id;            /* lease owner; "" = host identity */
    int64_t dns_cache_size;
} piper_config;

extern const bf_config_schema piper_schema;
int piper_config_validate(void *cfg, char *err, size_t errlen);
#endif
