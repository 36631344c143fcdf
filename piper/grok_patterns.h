/* grok_patterns: our built-in grok pattern library, written for ByteFreezer after the Logstash core
 * set (names as users know them): base, network, paths/URIs, dates, syslog, HTTP/Apache/nginx and
 * common firewall lines (Cisco ASA, iptables), plus the original piper's BYTEFREEZER_* names.
 * Field names inside composite patterns follow the original piper (client, method, status, bytes…). */
#ifndef PIPER_GROK_PATTERNS_H
#define PIPER_GROK_PATTERNS_H
#include <stddef.h>

typedef struct grok_pattern { const char *name; const char *regex; } grok_pattern;

/* The table and its size (names unique). */
extern const grok_pattern grok_builtin[];
extern const size_t grok_builtin_count;
/* NULL when unknown. */
const char *grok_builtin_find(const char *name);
#endif
