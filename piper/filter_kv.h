/* filter_kv: key=value extraction {source_field="message", field_split=" ", value_split="=",
 * target_field, prefix, include_keys, exclude_keys, trim_key, trim_value (cut sets),
 * allow_duplicate=true (last wins; false keeps the first), default_values {k: v}, remove_field=false}.
 * Quoted values ("a b" or 'a b', backslash escapes) are respected, unlike the original. A field_split
 * of " " also swallows runs of blanks. The prefix applies with and without target_field. */
#ifndef PIPER_FILTER_KV_H
#define PIPER_FILTER_KV_H
#include <stddef.h>
#include <jansson.h>
#include "filter.h"

/* Parse text into obj (used by the kv input format too): pairs are added as strings. */
int kv_parse_into(const char *s, size_t len, const char *fsplit, const char *vsplit, json_t *obj);
#endif
