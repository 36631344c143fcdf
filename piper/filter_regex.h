/* filter_regex: regex_replace {pattern, source_field="message", target_field=source, replacement="",
 * global=true}. $1 / ${name} expand in the replacement when global; with global=false the first match
 * is replaced (the original took the replacement literally there; we expand in both cases since that
 * is what users expect — documented difference). Non-string values are replaced on their %v text. */
#ifndef PIPER_FILTER_REGEX_H
#define PIPER_FILTER_REGEX_H
#include "filter.h"
#endif
