/* filter_json: json_validate {source_field="message", fail_on_invalid=true},
 * json_flatten {source_field="" (whole record), target_field="@flatten", separator="."},
 * json_parse {source_field="message", target_field (absent: merge an object into the record),
 *   remove_source=false} (invalid JSON tags "_jsonparsefailure"),
 * split {field="message", terminator="\n" for strings, target=field}: emits one record per element
 *   (the original only annotated the record). */
#ifndef PIPER_FILTER_JSON_H
#define PIPER_FILTER_JSON_H
#include "filter.h"
#endif
