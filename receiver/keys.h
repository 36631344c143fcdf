/* keys: the intake object key of DESIGN §6, derived from X-Proxy-Filename and the stored body:
 *   <tenant>/<dataset>/<tenant>--<dataset>--<unix_ns>--<hint>--<h>.<gz|zst>
 * <unix_ns> and <hint> come from a valid X-Proxy-Filename (<tenant>--<dataset>--<unix_ns>--<hint>.<gz|zst>
 * whose tenant and dataset match the URL), else the receive time and "raw"; <h> is the first 16 hex
 * digits of SHA-256 of the stored body, so a retried batch lands on the same key.
 * Pure functions, no allocation. Errors: -EINVAL (invalid input), -ENAMETOOLONG (output too small). */
#ifndef RCV_KEYS_H
#define RCV_KEYS_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define RCV_HINT_MAX 32          /* longest hint kept from a filename */
#define RCV_KEY_MAX 512          /* enough for any key this module builds */

/* Is s[0..n) a hint we keep: 1..32 of [A-Za-z0-9_.-], starting and ending alphanumeric, no "--" or "..". */
bool rcv_hint_valid(const char *s, size_t n);

/* Parse an X-Proxy-Filename for the URL's tenant and dataset. On success fills *unix_ns (> 0) and hint
 * (NUL-terminated, hintlen >= RCV_HINT_MAX + 1) and returns 0; -EINVAL when name is NULL or invalid. */
int rcv_filename_parse(const char *name, const char *tenant, const char *dataset, int64_t *unix_ns,
                       char *hint, size_t hintlen);

/* Build the key. h16: 16 lowercase hex digits; ext: "gz" or "zst". */
int rcv_object_key(const char *tenant, const char *dataset, int64_t unix_ns, const char *hint,
                   const char *h16, const char *ext, char *out, size_t outlen);

/* Copy an untrusted header value into out as metadata-safe text: [A-Za-z0-9._:+-] kept, other bytes
 * become '_', cut at outlen-1. NULL or empty gives "unknown". */
void rcv_meta_sanitize(const char *in, char *out, size_t outlen);
#endif
