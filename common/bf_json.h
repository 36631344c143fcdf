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
/* Length (1..4) of the valid UTF-8 sequence that starts p[0..n), 0 when it is invalid or truncated.
 * Inline: the packer's string quoting calls it per non-ASCII byte. Byte ranges per RFC 3629 §4. */
static inline size_t bf_utf8_seq(const void *s, size_t n)
{
    const unsigned char *p = s;
    if (!n) return 0;
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) return 0;   /* overlong, surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) return 0;   /* overlong, > U+10FFFF */
        return 4;
    }
    return 0;
}
/* Length of the longest valid UTF-8 prefix of p[0..n); n when all of it is valid. */
size_t bf_utf8_valid_prefix(const void *p, size_t n);
static inline bool bf_utf8_valid(const char *s, size_t n) { return bf_utf8_valid_prefix(s, n) == n; }
/* Copy s[0..n) to out replacing each invalid byte and each NUL with U+FFFD; out holds >= 3*n bytes.
 * Returns the length written. */
size_t bf_utf8_sanitize(const char *s, size_t n, char *out);
#endif
