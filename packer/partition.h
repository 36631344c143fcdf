/* partition: output layout of Parquet files (DESIGN §8).
 *   <uri>/<tenant>/<dataset>/data/parquet/<partition>/<tenant>_<dataset>_<YYYYMMDD>_<HHMMSS>_<seq>_<h12>.parquet
 * partitions by event time (UTC): hive_day year=YYYY/month=MM/day=DD, hive_hour …/hour=HH,
 * date YYYY/MM/DD, none (no directory). Errors: 0 or -EINVAL / -ENAMETOOLONG. */
#ifndef PK_PARTITION_H
#define PK_PARTITION_H
#include <stddef.h>
#include <stdint.h>

typedef enum { PK_PART_HIVE_DAY = 0, PK_PART_HIVE_HOUR, PK_PART_DATE, PK_PART_NONE } pk_partitioning;

/* "hive_day" (also "hive"), "hive_hour" (also "date_hour"), "date", "none" */
int pk_partitioning_parse(const char *s, pk_partitioning *out);
const char *pk_partitioning_name(pk_partitioning p);
/* The bucket of a time: equal buckets <=> same partition directory. */
int64_t pk_partition_bucket(pk_partitioning p, int64_t us);
/* Partition directory for a time (µs since epoch, UTC) into out (>= 48 bytes); "" for none. */
void pk_partition_path(pk_partitioning p, int64_t us, char *out, size_t outlen);
/* UTC calendar fields of a Unix second. */
void pk_civil(int64_t unix_s, int *y, int *mo, int *d, int *h, int *mi, int *s);
/* Full key (relative to the output store) of output file seq of a batch. h12 = 12 hex chars. */
int pk_output_key(char *out, size_t outlen, const char *tenant, const char *dataset, const char *partition,
                  int64_t batch_ms, unsigned seq, const char *h12);
#endif
