/* record: turns received lines into the NDJSON records of DESIGN §5.1 for the udp, tcp and http inputs.
 *   ndjson: a JSON object line passes through byte for byte; "BfTs":<ms> is inserted textually after '{'
 *           when the object has no top-level BfTs (no parse/re-serialise, so integers stay exact and
 *           key order is kept). A line that is not a JSON object is wrapped as text (never emits
 *           invalid JSON downstream).
 *   text:   {"BfTs":<ms>,"message":"<line>"} (invalid UTF-8 becomes U+FFFD).
 *   auto:   decided per line (object -> ndjson, else text).
 * Lines are trimmed of trailing CR and of NUL bytes at both ends; empty lines are skipped.
 * All functions append to the caller's bf_buf and return the number of records appended (>= 0) or
 * -ENOMEM / -E2BIG. */
#ifndef PROXY_RECORD_H
#define PROXY_RECORD_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

typedef enum { RECORD_NDJSON = 0, RECORD_TEXT, RECORD_AUTO } record_format;

int record_format_parse(const char *s, record_format *out);   /* 0 or -EINVAL */
/* One line (no '\n' inside expected; one is appended after the record). */
int record_line(record_format f, const char *line, size_t len, int64_t now_ms, bf_buf *out);
/* Many lines separated by '\n' (a datagram or a request body). */
int record_lines(record_format f, const char *data, size_t len, int64_t now_ms, bf_buf *out);
/* 1 when buf[0..len) is exactly one JSON object (whitespace around allowed); *has_bfts set when it has a
 * top-level key "BfTs". Depth is bounded by BF_JSON_MAX_DEPTH (deeper input is treated as not JSON). */
int record_is_object(const char *buf, size_t len, int *has_bfts);
#endif
