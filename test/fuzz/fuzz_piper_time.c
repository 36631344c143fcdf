/* Fuzz time layouts and timestamps: "<layout>\n<timestamp>" is compiled and parsed in a real zone
 * (with DST rules) and the result formatted; plus the numeric epoch heuristics. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../piper/timefmt.h"
#include "../../piper/tz.h"

static tz_zone *zone;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!zone && tz_load("America/New_York", &zone))
        abort();
    if (size > 2048)
        return 0;
    const char *nl = memchr(data, '\n', size);
    size_t fl = nl ? (size_t)(nl - (const char *)data) : size;
    char *fmtx = strndup((const char *)data, fl);
    if (!fmtx)
        return 0;
    char err[128];
    tf_layout *l = NULL;
    if (tf_compile(fmtx, &l, err, sizeof err) == 0) {
        const char *s = nl ? nl + 1 : "";
        size_t sl = nl ? size - fl - 1 : 0;
        tf_time t;
        if (tf_parse(l, s, sl, zone, 1764237600, &t) == 0) {
            char out[64];
            tf_format_rfc3339(t, zone, out, sizeof out);
        }
        tf_free(l);
    }
    free(fmtx);
    if (size >= 8) {
        int64_t v;
        memcpy(&v, data, 8);
        tf_time t;
        if (tf_from_integer(v, &t) == 0) {
            char out[64];
            tf_format_rfc3339(t, zone, out, sizeof out);
        }
        double d;
        memcpy(&d, data, 8);
        tf_from_number(d, &t);
        tz_offset_for_local(zone, v / 4);
        tz_offset_at_utc(zone, v / 4);
    }
    return 0;
}
