/* bf_syslog: RFC 5424 / RFC 3164 (and common real-world variants) parser shared by the proxy's syslog
 * input and the piper's `syslog` format. Output is one JSON object (no trailing newline) appended to a
 * bf_buf, with the fields of DESIGN §5.1 in this order: BfTs, timestamp, source_ip, rfc, priority,
 * facility, severity, syslog_timestamp, hostname, app_name, proc_id, msg_id, structured_data, message.
 * Empty / "-" fields are omitted; invalid UTF-8 becomes U+FFFD. Never fails on content: anything that
 * is not syslog becomes {"rfc":"raw","message":<whole>}. Pure function: no allocation besides out.
 * Returns 0, or -ENOMEM / -E2BIG from the buffer.
 *
 * Details (see the comment at the top of bf_syslog.c for the reasoning):
 * - Trailing CR / LF / NUL of the message are ignored. Other control characters are JSON-escaped
 *   (NUL as \u0000, which is valid JSON; jansson needs JSON_ALLOW_NUL to read it).
 * - Missing PRI: like rsyslog, PRI 13 (user.notice) when the line still opens with a 3164 timestamp;
 *   otherwise rfc "raw" (BfTs, timestamp, source_ip and message only).
 * - syslog_timestamp: RFC 3339, normalised (upper-case T/Z, offset as "+hh:mm" as sent, fraction as sent);
 *   3164 times (no zone) are rendered as UTC with the year closest to recv_ms; an unparseable 5424
 *   timestamp is kept as sent.
 * - On error out is left exactly as it was (nothing partial is appended). With a capped out (max),
 *   -E2BIG comes only when the object does not fit, give or take 16 bytes of working space. */
#ifndef BF_SYSLOG_H
#define BF_SYSLOG_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

/* recv_ms: receive time (BfTs and timestamp); source_ip may be NULL (field omitted). */
int bf_syslog_parse(const char *msg, size_t len, int64_t recv_ms, const char *source_ip, bf_buf *out);
#endif
