/* bf_syslog: RFC 5424 / RFC 3164 (and common real-world variants) parser shared by the proxy's syslog
 * input and the piper's `syslog` format. Output is one JSON object (no trailing newline) appended to a
 * bf_buf, with the fields of DESIGN §5.1 in this order: BfTs, timestamp, source_ip, rfc, priority,
 * facility, severity, syslog_timestamp, hostname, app_name, proc_id, msg_id, structured_data, message.
 * Empty / "-" fields are omitted; invalid UTF-8 becomes U+FFFD. Never fails on content: anything that
 * is not syslog becomes {"rfc":"raw","message":<whole>}. Pure function: no allocation besides out.
 * Returns 0, or -ENOMEM / -E2BIG from the buffer. */
#ifndef BF_SYSLOG_H
#define BF_SYSLOG_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

/* recv_ms: receive time (BfTs and timestamp); source_ip may be NULL (field omitted). */
int bf_syslog_parse(const char *msg, size_t len, int64_t recv_ms, const char *source_ip, bf_buf *out);
#endif
