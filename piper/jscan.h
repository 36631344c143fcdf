/* jscan: a validating JSON scanner that builds nothing (the empty-pipeline fast path, DESIGN §2):
 * checks that a line is exactly one JSON object with valid syntax and valid UTF-8, and reports
 * whether it has a top-level "BfTs" key. Depth is bounded (256). Pure function, no allocation. */
#ifndef PIPER_JSCAN_H
#define PIPER_JSCAN_H
#include <stdbool.h>
#include <stddef.h>

/* 0 when s[0..n) is one object (surrounding blanks allowed), else -EINVAL. */
int jscan_object(const char *s, size_t n, bool *has_bfts);
/* Is s[0..n) valid UTF-8? */
bool utf8_valid(const char *s, size_t n);
/* Copy s into out replacing each invalid byte with U+FFFD; out must hold 3*n bytes. Returns length. */
size_t utf8_sanitize(const char *s, size_t n, char *out);
#endif
