/* filter_logic: record selection filters: conditional, conditional_field, drop, include, exclude,
 * sample. Fixes over the original (§4.3/§11): gt/lt/gte/lte compare numbers; drop with only unless_*
 * drops every record except the matching ones; conditional_field keep_record drops records whose
 * field is missing and not_exists works; sample honours `seed` (deterministic: the decision is a hash
 * of the seed and the record's content, so a reprocessed object samples the same records). */
#ifndef PIPER_FILTER_LOGIC_H
#define PIPER_FILTER_LOGIC_H
#include "filter.h"
#endif
