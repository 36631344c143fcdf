/* filter_mutate: the original's 13 operations, always in this order whatever the JSON order:
 * copy {src: dst}, rename {old: new}, convert {field: string|integer|int|float|boolean|bool},
 * split {field, separator, target} or {field: separator}, join {field, separator, target} or
 * {field: separator}, gsub [{field, pattern, replacement}] or [field, pattern, replacement, …],
 * lowercase [], uppercase [], strip [], merge [{source, target}] or {target: source},
 * update {f: v} (only when f exists), replace {f: v} (always), remove [] (alias remove_field).
 * Values of update/replace expand %{field} templates. Fields may be nested paths. Never drops. */
#ifndef PIPER_FILTER_MUTATE_H
#define PIPER_FILTER_MUTATE_H
#include "filter.h"
#endif
