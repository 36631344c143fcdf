/* filter_field: add_field, remove_field, rename_field, uppercase_keys, passthrough, enricher.
 * Also the template expansion add_field uses (shared with mutate): ${timestamp} ${tenant_id}
 * ${dataset_id} ${line_number}, ${field} and %{field} read the record (nested paths allowed). */
#ifndef PIPER_FILTER_FIELD_H
#define PIPER_FILTER_FIELD_H
#include <stdbool.h>
#include "bf_buf.h"
#include "filter.h"

bool ff_has_template(const char *s);
/* Expand s into out (appends). 0 or -ENOMEM. */
int ff_expand(const char *s, json_t *rec, const pf_ctx *ctx, bf_buf *out);
#endif
