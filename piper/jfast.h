/* jfast: JSON text ↔ jansson values, faster than json_loadb/json_dump_callback on the hot path.
 * jfast_load validates with bf_json_object_check first (syntax + UTF-8), then builds values by walking the text
 * directly: strings without escapes are copied once, integers stay exact (beyond int64 they become
 * reals instead of failing), duplicate keys keep the last value (as jansson).
 * jfast_dump writes compact JSON in object insertion order with shortest round-trip reals (always
 * with a '.' or exponent, so a real stays a real) and jansson's escaping rules.
 * Ownership: *out is a new reference. Errors: -EINVAL (not one JSON object / too deep), -ENOMEM. */
#ifndef PIPER_JFAST_H
#define PIPER_JFAST_H
#include <stddef.h>
#include <jansson.h>
#include "bf_buf.h"

int jfast_load_object(const char *s, size_t n, json_t **out);
/* Same without the validation pass: only for text produced by a trusted JSON writer. */
int jfast_load_trusted(const char *s, size_t n, json_t **out);
int jfast_dump(const json_t *v, bf_buf *out);
#endif
