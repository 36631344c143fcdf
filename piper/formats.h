/* formats: the table of input formats (DESIGN §7.2) turning one intake line into one record:
 *   ndjson (json)   a JSON object; anything else becomes {"message": line} tagged _jsonparsefailure
 *   syslog          RFC 5424 / 3164 via bf_syslog (same fields as the proxy)
 *   text            {"message": line}
 *   csv, tsv        RFC 4180 quoting; header from the first line of each object, or `columns`
 *                   (dataset options: columns [..], delimiter, header: true|false)
 *   kv (logfmt)     key=value pairs, quoted values respected
 *   cef             ArcSight CEF (optionally behind a syslog header): header fields + extensions{}
 *   leef            IBM LEEF 1.0 (tab separated) and 2.0 (declared delimiter): header + attributes{}
 *   clf, combined   Apache/nginx common and combined access logs
 *   auto            per line: JSON object, then syslog, then text
 * Records built here start with BfTs (the receive time given) except ndjson, where the worker adds it
 * only when absent. Lines are made valid UTF-8 first (invalid bytes → U+FFFD).
 * Ownership: fmt_create/fmt_free; a fmt_state per object (csv header) with fmt_state_create/free. */
#ifndef PIPER_FORMATS_H
#define PIPER_FORMATS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef struct fmt fmt;
typedef struct fmt_state fmt_state;

/* opts: the dataset object (or NULL): reads "columns", "delimiter", "header". */
int fmt_create(const char *name, const json_t *opts, fmt **out, char *err, size_t errlen);
void fmt_free(fmt *f);
const char *fmt_name(const fmt *f);
bool fmt_is_ndjson(const fmt *f);
/* Every format name, NULL-terminated. */
const char *const *fmt_names(void);

int fmt_state_create(const fmt *f, fmt_state **out);
void fmt_state_free(fmt_state *s);

enum { FMT_OK = 0, FMT_SKIP = 1, FMT_FALLBACK = 2 };
/* Parse one line (no trailing newline). FMT_OK: *out is the record. FMT_SKIP: no record (csv header).
 * FMT_FALLBACK: the line did not fit the format; *out is {"message": line} with a failure tag (the
 * caller counts it as an error but keeps the data). Negative: -ENOMEM. */
int fmt_parse(fmt_state *s, const char *line, size_t len, int64_t recv_ms, json_t **out);
#endif
