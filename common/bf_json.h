/* bf_json: JSON and UTF-8 checks that build nothing, for the hot paths of the proxy (is a line one
 * object, does it carry BfTs) and piper (the empty-pipeline fast path), and UTF-8 validation for the
 * packer's own member scanner. Pure functions, no allocation, no state.
 * Grammar: RFC 8259 with valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF);
 * containers nest at most BF_JSON_MAX_DEPTH deep (deeper input is refused, never a crash). */
#ifndef BF_JSON_H
#define BF_JSON_H
#include <stdbool.h>
#include <stddef.h>

#define BF_JSON_MAX_DEPTH 256

/* 0 when s[0..n) is exactly one JSON object (blanks around it allowed), else -EINVAL. *has_bfts
 * (optional) tells whether the object has a top-level "BfTs" key. */
int bf_json_object_check(const char *s, size_t n, bool *has_bfts);
/* Length (1..4) of the valid UTF-8 sequence that starts p[0..n), 0 when it is invalid or truncated. */
size_t bf_utf8_seq(const void *p, size_t n);
/* Length of the longest valid UTF-8 prefix of p[0..n); n when all of it is valid. */
size_t bf_utf8_valid_prefix(const void *p, size_t n);
static inline bool bf_utf8_valid(const char *s, size_t n) { return bf_utf8_valid_prefix(s, n) == n; }
/* Copy s[0..n) to out replacing each invalid byte and each NUL with U+FFFD; out holds >= 3*n bytes.
 * Returns the length written. */
size_t bf_utf8_sanitize(const char *s, size_t n, char *out);
#endif
