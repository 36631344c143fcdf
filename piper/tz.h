/* tz: IANA time zones read from the TZif files under /usr/share/zoneinfo (or $TZDIR) by our own
 * parser, including the POSIX-TZ footer rule for instants after the last transition. Nothing here
 * touches the process's TZ/localtime state, so zones are safe to use from any thread.
 * A tz_zone is immutable after tz_load: filters load their zone at compile time and share it.
 * Also accepted as names: "UTC", "Z", "GMT", "Local" (= UTC here: daemons run in UTC) and fixed
 * offsets "+05:30", "-0800". Errors: -ENOENT unknown zone, -EINVAL bad name/file, -ENOMEM. */
#ifndef PIPER_TZ_H
#define PIPER_TZ_H
#include <stdint.h>

typedef struct tz_zone tz_zone;
int tz_load(const char *name, tz_zone **out);
void tz_free(tz_zone *z);
const char *tz_name(const tz_zone *z);
/* UTC offset (seconds east) in effect at a UTC instant. */
int32_t tz_offset_at_utc(const tz_zone *z, int64_t utc_s);
/* UTC offset for a wall-clock time in the zone (for gaps/overlaps: the offset before the change). */
int32_t tz_offset_for_local(const tz_zone *z, int64_t local_s);

/* Civil date helpers (proleptic Gregorian). */
int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void tz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
#endif
