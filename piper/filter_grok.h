/* filter_grok: grok {pattern | patterns [] (patterns wins) | match {field: pattern|[patterns]},
 * source_field="message", break_on_match=true, keep_empty_captures=false, overwrite_keys=true,
 * target_field="" (captures go under this object when set), custom_patterns {NAME: regex},
 * tag_on_failure=["_grokparsefailure"], named_captures_only (accepted, always true)}.
 * Non-string sources are matched on their text. */
#ifndef PIPER_FILTER_GROK_H
#define PIPER_FILTER_GROK_H
#include "filter.h"
#endif
