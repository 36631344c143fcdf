/* config: the packer's configuration schema (DESIGN §3.2, §8) and its validation.
 * Ownership: strings in pk_config are owned by it (bf_config_free with pk_config_schema()). */
#ifndef PK_CONFIG_H
#define PK_CONFIG_H
#include <stdint.h>
#include "bf_config.h"

typedef struct pk_config {
    bf_common_config common;
    char *store_piper, *store_packer;
    int64_t target_bytes;
    int64_t max_wait_ms;
    int64_t poll_interval_ms;
    int64_t row_group_bytes;
    int64_t page_bytes;
    int64_t max_memory;
    char *compression;
    int64_t compression_level;
    char *partitioning;
    char *time_field;
    char *spill_dir;
    int64_t lease_ttl_ms;
    int64_t max_line_bytes;
    int64_t max_columns;
    int64_t max_batch_objects;
} pk_config;

const bf_config_schema *pk_config_schema(void);
/* Cross-key checks (codec known, partitioning known, sizes coherent). 0 or -EINVAL with err. */
int pk_config_validate(void *cfg, char *err, size_t errlen);
/* row_group_bytes bounded by max_memory (a row group and its dictionaries must fit four times over). */
int64_t pk_config_row_group_bytes(const pk_config *c);
/* Pass-1 lines kept in memory: half of max_memory minus a row group (the rest spills to spill_dir). */
uint64_t pk_config_spill_memory(const pk_config *c);
#endif
