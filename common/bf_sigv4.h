/* bf_sigv4: AWS Signature Version 4 for S3 requests (header-based "Authorization: AWS4-HMAC-SHA256 …").
 * Pure functions over OpenSSL HMAC-SHA256 / SHA-256; no I/O, no global state, thread-safe.
 *
 * The caller builds the request as it will be sent:
 *   path   the URI path exactly as sent, already %-encoded (bf_sigv4_uri_encode with keep_slash=1);
 *          S3 does not double-encode it for the canonical request.
 *   query  the canonical query string (sorted by name, names and values fully %-encoded, '=' always
 *          present); bf_sigv4_canonical_query builds it from unsorted raw pairs. Send the same string.
 *   headers every header that is signed (names any case; values trimmed here). host, x-amz-date,
 *          x-amz-content-sha256 and (with a token) x-amz-security-token are added by the signer and must
 *          not be passed again.
 * Errors: 0, -EINVAL (bad arguments), -ENOMEM, -ENOSPC (output buffer too small). */
#ifndef BF_SIGV4_H
#define BF_SIGV4_H
#include <stddef.h>
#include <stdint.h>
#include "bf_buf.h"

#define BF_SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

typedef struct bf_sigv4_header { const char *name; const char *value; } bf_sigv4_header;

typedef struct bf_sigv4_request {
    const char *method;           /* "GET", "PUT", … */
    const char *host;             /* Host header value: "bucket.s3.amazonaws.com" or "127.0.0.1:8080" */
    const char *path;             /* encoded path, "/" at least */
    const char *query;            /* canonical query or "" / NULL */
    const bf_sigv4_header *headers; size_t nheaders;   /* extra signed headers (see above) */
    const char *payload_hash;     /* hex SHA-256 of the body, or BF_SIGV4_UNSIGNED */
    const char *region;           /* "us-east-1" */
    const char *service;          /* "s3" */
    int64_t unix_s;               /* request time */
    const char *access_key, *secret_key;
    const char *session_token;    /* NULL or "" when none */
} bf_sigv4_request;

/* Output: the three headers to send (besides the caller's own and host). */
typedef struct bf_sigv4_result {
    char amz_date[17];            /* 20261127T104500Z */
    char authorization[1024];     /* full header value */
} bf_sigv4_result;

int bf_sigv4_sign(const bf_sigv4_request *r, bf_sigv4_result *out);

/* RFC 3986 %-encoding of all bytes except unreserved A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash). */
int bf_sigv4_uri_encode(bf_buf *out, const char *s, size_t n, int keep_slash);

/* Canonical query from raw (unencoded) name/value pairs; value NULL means empty. Appends to out. */
int bf_sigv4_canonical_query(bf_buf *out, const bf_sigv4_header *params, size_t n);

/* Lowercase hex SHA-256 of data into out (65 bytes). */
void bf_sigv4_sha256_hex(const void *data, size_t len, char out[65]);
#endif
