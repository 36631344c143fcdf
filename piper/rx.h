/* rx: PCRE2 (JIT) regular expressions compiled once and matched from many threads.
 * A compiled rx is immutable and shareable; each thread matches with its own rx_scratch (match data
 * + JIT stack), which the worker owns and passes down through the filter context.
 * Ownership: rx_compile allocates *out; rx_free releases. rx_scratch_create / rx_scratch_free pair. */
#ifndef PIPER_RX_H
#define PIPER_RX_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include "bf_buf.h"

typedef struct rx {
    pcre2_code *code;
    uint32_t ncap;       /* capture groups */
} rx;

typedef struct rx_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    int last_rc;         /* pcre2_match result of the last rx_search: groups >= this are not valid */
} rx_scratch;

#define RX_MAX_PAIRS 512

/* flags: PCRE2_CASELESS etc. Patterns are UTF-8 with invalid subjects tolerated (PCRE2_MATCH_INVALID_UTF). */
int rx_compile(const char *pattern, uint32_t flags, rx **out, char *err, size_t errlen);
void rx_free(rx *r);
int rx_scratch_create(rx_scratch **out);
void rx_scratch_free(rx_scratch *s);
/* Unanchored search from offset; >0 on match (ovector in s->md), 0 no match, <0 error. */
int rx_search(const rx *r, rx_scratch *s, const char *subj, size_t len, size_t offset);
/* Convenience: does it match anywhere? (uses s, which may be NULL: then a temporary is made) */
bool rx_test(const rx *r, rx_scratch *s, const char *subj, size_t len);
/* Replace the first (global=false) or every match; replacement supports $1, ${1}, ${name} and $$ when
 * expand is set, else it is literal. Result appended to out. Returns number of replacements or <0. */
int rx_replace(const rx *r, rx_scratch *s, const char *subj, size_t len, const char *repl, bool global,
               bool expand, bf_buf *out);
#endif
