/* filter_defs: the pf_def of every filter, defined in the filter_*.c files and listed in the
 * registry table of pipeline.c. Option names follow reference/original-piper.md §4.3. */
#ifndef PIPER_FILTER_DEFS_H
#define PIPER_FILTER_DEFS_H
#include "filter.h"

/* filter_field.c */
extern const pf_def pf_add_field, pf_remove_field, pf_rename_field, pf_uppercase_keys, pf_passthrough,
    pf_enricher;
/* filter_regex.c */
extern const pf_def pf_regex_replace;
/* filter_date.c */
extern const pf_def pf_date_parse, pf_timestamp;
/* filter_logic.c */
extern const pf_def pf_conditional, pf_conditional_field, pf_drop, pf_include, pf_exclude, pf_sample;
/* filter_json.c */
extern const pf_def pf_json_validate, pf_json_flatten, pf_json_parse, pf_split;
/* filter_grok.c */
extern const pf_def pf_grok;
/* filter_mutate.c */
extern const pf_def pf_mutate;
/* filter_kv.c */
extern const pf_def pf_kv;
/* filter_net.c */
extern const pf_def pf_geoip, pf_dns;
/* filter_useragent.c */
extern const pf_def pf_useragent;
/* filter_fingerprint.c */
extern const pf_def pf_fingerprint;
#endif
