/* timefmt: parse timestamps with a layout given in any of the three notations users bring:
 *   Go reference layouts ("2006-01-02 15:04:05", "02/Jan/2006:15:04:05 -0700") as the original piper,
 *   Joda/Logstash patterns ("yyyy-MM-dd HH:mm:ss.SSS", "dd/MMM/yyyy:HH:mm:ss Z"),
 *   strftime ("%Y-%m-%d %H:%M:%S"),
 * and the keywords ISO8601 / RFC3339 (flexible ISO 8601), UNIX, UNIX_MS, UNIX_US, UNIX_NS (any case),
 * plus Go's named layouts (RFC1123, RFC1123Z, RFC822, RFC822Z, RFC850, ANSIC, UnixDate, RubyDate).
 * Input without a zone is read in the given tz_zone (the original ignored its `timezone` here).
 * A year-less input (syslog "Jan  2 15:04:05") takes the year that puts it at most 7 days ahead of now.
 * Ownership: tf_compile allocates *out, tf_free releases; compiled layouts are immutable. */
#ifndef PIPER_TIMEFMT_H
#define PIPER_TIMEFMT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tz.h"

typedef struct tf_layout tf_layout;
typedef struct tf_time { int64_t sec; int32_t nsec; } tf_time;

int tf_compile(const char *fmt, tf_layout **out, char *err, size_t errlen);
void tf_free(tf_layout *l);
/* 0 or -EINVAL when s does not fit the layout. zone may be NULL (UTC). */
int tf_parse(const tf_layout *l, const char *s, size_t n, const tz_zone *zone, int64_t now_s, tf_time *out);
/* Number as epoch with the magnitude heuristic: <=1e12 s, <1e15 ms, <1e18 us, else ns. Negative fails. */
int tf_from_number(double v, tf_time *out);
int tf_from_integer(int64_t v, tf_time *out);
/* RFC 3339 in the zone's offset at t; milliseconds shown when t has a fraction. out >= 40 bytes. */
void tf_format_rfc3339(tf_time t, const tz_zone *zone, char *out, size_t outlen);
#endif
