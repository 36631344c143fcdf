/* grok: compiles grok expressions (%{NAME}, %{NAME:field}, %{NAME:field:type}) into one PCRE2 regex
 * and extracts typed captures. Fields may be nested ("a.b" or "[a][b]"); types: int/integer/long,
 * float/double, bool/boolean, string (default). Raw named groups (?<x>…) / (?P<x>…) capture too.
 * Unknown pattern names and recursive definitions are compile errors (the original silently used \S+).
 * Ownership: grok_compile allocates *out; grok_free releases. A compiled grok is immutable and
 * thread-safe; matching uses the caller's rx_scratch. */
#ifndef PIPER_GROK_H
#define PIPER_GROK_H
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "rx.h"

typedef struct grok grok;

/* custom: optional object {NAME: regex} consulted before the built-in library. */
int grok_compile(const char *expr, const json_t *custom, grok **out, char *err, size_t errlen);
void grok_free(grok *g);
/* The expanded regex (for diagnostics and tests). */
const char *grok_regex(const grok *g);

typedef struct grok_opts {
    bool keep_empty;      /* keep_empty_captures */
    bool overwrite;       /* overwrite_keys: replace existing fields */
} grok_opts;
/* Search subj; on a match write the captures into dst (an object) and return 1; 0 no match; <0 error. */
int grok_match(const grok *g, rx_scratch *s, const char *subj, size_t len, json_t *dst, const grok_opts *o);
#endif
