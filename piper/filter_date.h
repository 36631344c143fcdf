/* filter_date: date_parse {source_field="timestamp", target_field="@timestamp", formats [] | format,
 * timezone="UTC" (IANA name; zone-less input is read in it and the output is written in it),
 * locale (ignored), tag_on_failure="_dateparsefailure"} writes RFC 3339.
 * timestamp {field="timestamp", formats [] | format, timezone="UTC", target="BfTs"} sets the event
 * time as integer Unix milliseconds (what the packer partitions on).
 * Default formats: ISO8601, "2006-01-02 15:04:05", "02/Jan/2006:15:04:05 -0700", "Jan _2 15:04:05",
 * and numbers with the seconds/ms/us/ns magnitude rule. An unknown zone is a compile error. */
#ifndef PIPER_FILTER_DATE_H
#define PIPER_FILTER_DATE_H
#include <stdint.h>
#include <jansson.h>
#include "timefmt.h"
#include "filter.h"

typedef struct date_spec date_spec;
/* Shared by both filters and the worker (BfTs from formats): compile formats + zone from options. */
int date_spec_compile(const json_t *cfg, date_spec **out, char *err, size_t errlen);
void date_spec_free(date_spec *d);
/* Parse a JSON value (string or number): 0 or -EINVAL. */
int date_spec_parse(const date_spec *d, const json_t *v, int64_t now_s, tf_time *out);
#endif
