/* fopts: typed access to a filter's JSON options with defaults and clear errors, plus the value
 * helpers every filter shares (Go-like %v stringification so comparisons match the original).
 * Getters return 0, -ENOENT when absent (out keeps the default), or -EINVAL with a message in err. */
#ifndef PIPER_FOPTS_H
#define PIPER_FOPTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "bf_buf.h"

/* String option (borrowed from the JSON; valid while cfg lives). Numbers are not accepted. */
int fo_str(const json_t *cfg, const char *key, const char *def, const char **out, char *err, size_t errlen);
/* Required string: -EINVAL when absent or empty. */
int fo_req_str(const json_t *cfg, const char *key, const char **out, char *err, size_t errlen);
/* Bool: JSON true/false, or "true"/"false" strings. */
int fo_bool(const json_t *cfg, const char *key, bool def, bool *out, char *err, size_t errlen);
/* Number: JSON int/real or a numeric string; range checked when min < max. */
int fo_num(const json_t *cfg, const char *key, double def, double min, double max, double *out,
           char *err, size_t errlen);
/* Array of strings, or a single string taken as a one-element list. Caller frees *out (array of
 * borrowed pointers) with free(). */
int fo_strlist(const json_t *cfg, const char *key, const char ***out, size_t *n, char *err, size_t errlen);

/* Append the Go %v text of a value: strings raw, integers exact, reals shortest round-trip ("200" for
 * 200.0), true/false, "<nil>" for null, compact JSON for objects/arrays. 0 or -ENOMEM. */
int fo_value_text(const json_t *v, bf_buf *out);
/* Same into a caller buffer for scalars (truncates); returns the string. */
const char *fo_value_cstr(const json_t *v, char *buf, size_t buflen);
/* Numeric value of a JSON number or numeric string; 0 on success, -EINVAL otherwise. */
int fo_value_num(const json_t *v, double *out);
/* Go-style equality used by the original: same JSON value, or equal %v text. */
bool fo_value_equal_text(const json_t *v, const char *text);
/* Parse "true"/"false"/"1"/"0"/"t"/"f" (Go ParseBool). */
int fo_parse_bool(const char *s, bool *out);
#endif
