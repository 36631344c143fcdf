/* partition: output layout (see partition.h). */
#include "partition.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct part_row { const char *name; pk_partitioning p; } part_row;
static const part_row PARTS[] = {
    { "hive_day", PK_PART_HIVE_DAY }, { "hive", PK_PART_HIVE_DAY }, { "hive_hour", PK_PART_HIVE_HOUR },
    { "date_hour", PK_PART_HIVE_HOUR }, { "date", PK_PART_DATE }, { "none", PK_PART_NONE },
};

int pk_partitioning_parse(const char *s, pk_partitioning *out)
{
    for (size_t i = 0; s && i < sizeof(PARTS) / sizeof(PARTS[0]); i++)
        if (!strcasecmp(s, PARTS[i].name)) {
            *out = PARTS[i].p;
            return 0;
        }
    return -EINVAL;
}

const char *pk_partitioning_name(pk_partitioning p)
{
    for (size_t i = 0; i < sizeof(PARTS) / sizeof(PARTS[0]); i++)
        if (PARTS[i].p == p)
            return PARTS[i].name;
    return "?";
}

/* civil date from days since 1970-01-01 (proleptic Gregorian) */
void pk_civil(int64_t t, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    *h = (int)(rem / 3600);
    *mi = (int)(rem / 60 % 60);
    *s = (int)(rem % 60);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*mo <= 2));
}

static int64_t floordiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

int64_t pk_partition_bucket(pk_partitioning p, int64_t us)
{
    switch (p) {
    case PK_PART_NONE: return 0;
    case PK_PART_HIVE_HOUR: return floordiv(us, 3600000000ll);
    default: return floordiv(us, 86400000000ll);
    }
}

void pk_partition_path(pk_partitioning p, int64_t us, char *out, size_t outlen)
{
    int y, mo, d, h, mi, s;
    pk_civil(floordiv(us, 1000000), &y, &mo, &d, &h, &mi, &s);
    switch (p) {
    case PK_PART_NONE: snprintf(out, outlen, "%s", ""); break;
    case PK_PART_HIVE_HOUR: snprintf(out, outlen, "year=%04d/month=%02d/day=%02d/hour=%02d", y, mo, d, h); break;
    case PK_PART_DATE: snprintf(out, outlen, "%04d/%02d/%02d", y, mo, d); break;
    default: snprintf(out, outlen, "year=%04d/month=%02d/day=%02d", y, mo, d);
    }
}

int pk_output_key(char *out, size_t outlen, const char *tenant, const char *dataset, const char *partition,
                  int64_t batch_ms, unsigned seq, const char *h12)
{
    int y, mo, d, h, mi, s;
    pk_civil(floordiv(batch_ms, 1000), &y, &mo, &d, &h, &mi, &s);
    int n = snprintf(out, outlen, "%s/%s/data/parquet/%s%s%s_%s_%04d%02d%02d_%02d%02d%02d_%03u_%.12s.parquet", tenant,
                     dataset, partition, *partition ? "/" : "", tenant, dataset, y, mo, d, h, mi, s, seq, h12);
    if (n < 0 || (size_t)n >= outlen)
        return -ENAMETOOLONG;
    return 0;
}
