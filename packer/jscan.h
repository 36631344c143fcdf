/* jscan: a streaming scanner for NDJSON records that never builds a DOM.
 *
 * A record is a JSON object; js_begin() positions on it and js_next() returns its top-level members
 * one by one: the key (decoded), the value's type and raw text span. Strings are decoded on demand
 * with js_string() (escapes resolved, invalid UTF-8 replaced by U+FFFD); numbers are classified
 * (exact int64, double, or an integer beyond int64) and parsed; nested objects and arrays are
 * validated and skipped, their raw text being the value. Whitespace around tokens is allowed.
 * The scanner holds no pointers after the record; returned pointers point into the line or into
 * the scanner's scratch buffers and stay valid until the next js_next()/js_string() call.
 * Errors: -EBADMSG (not a well-formed object), -ENOMEM. */
#ifndef PK_JSCAN_H
#define PK_JSCAN_H
#include <stddef.h>
#include <stdint.h>
#include "pkbuf.h"

typedef enum { JS_NULL = 0, JS_FALSE, JS_TRUE, JS_INT, JS_DOUBLE, JS_BIGINT, JS_STRING, JS_OBJECT, JS_ARRAY } js_type;

typedef struct js_field {
    const char *key;
    size_t klen;
    js_type type;
    const char *raw;      /* the value's text (strings include the quotes) */
    size_t rawlen;
    int64_t i;            /* JS_INT */
    double d;             /* JS_DOUBLE, JS_BIGINT */
    int str_plain;        /* JS_STRING: 1 when raw[1..rawlen-1) is already the decoded text (no escapes, ASCII/valid UTF-8) */
    int raw_ascii;        /* raw text is pure ASCII (so valid UTF-8 as is) */
} js_field;

typedef struct js_scanner {
    const char *p, *end;
    int started;
    pk_buf kbuf, sbuf, rbuf;   /* scratch: key, string value, sanitised raw */
    int max_depth;             /* nesting limit for skipped values (default 512) */
} js_scanner;

void js_init(js_scanner *s);
void js_free(js_scanner *s);
/* Position on the object in line[0..len); -EBADMSG when it does not start with '{'. */
int js_begin(js_scanner *s, const char *line, size_t len);
/* 1 = a member in *f, 0 = end of the object (nothing but whitespace may follow), <0 error. */
int js_next(js_scanner *s, js_field *f);
/* Decoded text of a JS_STRING field. */
int js_string(js_scanner *s, const js_field *f, const char **out, size_t *outlen);
/* The raw text of any value as valid UTF-8 (invalid bytes replaced). */
int js_raw_utf8(js_scanner *s, const js_field *f, const char **out, size_t *outlen);
/* Append s[0..n) as a JSON string literal (quotes, escapes, invalid UTF-8 -> U+FFFD). */
int js_quote(pk_buf *out, const char *s, size_t n);
/* Copy p[0..n) replacing invalid UTF-8 sequences with U+FFFD. */
int js_utf8_sanitize(pk_buf *out, const uint8_t *p, size_t n);
#endif
