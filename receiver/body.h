/* body: the request-body pipeline of the receiver (DESIGN §6), independent of HTTP so that it can be
 * unit-tested and fuzzed. Bytes are fed as they arrive on the wire:
 *   gzip/zstd body -> kept as is (that is what gets stored) and inflated to verify integrity and count
 *                     lines; the inflated data is never held. While the body is in memory it is
 *                     inflated in one pass at finish (cache-friendly); once spilled, chunk by chunk
 *                     as it arrives. Either way the verdict (and error) is the same.
 *   identity body  -> lines counted, then compressed with the configured codec; the compressed form is
 *                     what gets stored.
 * The stored bytes are held in memory up to spill_threshold, then in a temp file (unlinked by destroy),
 * and hashed with SHA-256 as they are produced (the key's <h>).
 * Lines: the number of non-empty '\n'-separated lines (a last line without '\n' counts).
 * Errors of feed/finish: -E2BIG wire bytes over max_body, -EFBIG inflated size or ratio over the limits,
 * -EBADMSG corrupt or truncated compressed data, -ENODATA empty body, -ENOMEM, -EIO/-errno spill I/O.
 * After an error the body is failed: further feed/finish return the same error.
 * Not thread-safe (one request = one body). */
#ifndef RCV_BODY_H
#define RCV_BODY_H
#include <stddef.h>
#include <stdint.h>
#include "bf_codec.h"

typedef struct rcv_body_limits {
    uint64_t max_body;          /* wire bytes; 0 = unlimited */
    uint64_t max_inflated;      /* 0 = unlimited */
    double max_ratio;           /* 0 = unlimited */
    bf_codec identity_codec;    /* BF_CODEC_GZIP or BF_CODEC_ZSTD */
    int identity_level;         /* 0 = codec default */
    uint64_t spill_threshold;   /* 0 = never spill */
    const char *spill_dir;      /* borrowed for the body's life; NULL = "/tmp" */
} rcv_body_limits;

/* How the client labelled the body (Content-Encoding). */
typedef enum {
    RCV_ENC_ABSENT = 0,   /* no header: decided by magic bytes */
    RCV_ENC_IDENTITY,
    RCV_ENC_GZIP,
    RCV_ENC_ZSTD,
} rcv_encoding;

/* Map a Content-Encoding value (NULL = absent) to rcv_encoding; -EINVAL for codings we do not accept. */
int rcv_encoding_parse(const char *header, rcv_encoding *out);

typedef struct rcv_body rcv_body;
int rcv_body_create(const rcv_body_limits *lim, rcv_encoding enc, rcv_body **out);
/* Optional hint: the client announced wire_len body bytes (Content-Length). The in-memory buffer for the
 * stored bytes is sized once for it (when it will not spill; at most RCV_BODY_EXPECT_MAX) instead of
 * growing by doubling. A wrong hint only costs memory or a regrowth. 0 or -ENOMEM. */
#define RCV_BODY_EXPECT_MAX (16u << 20)
int rcv_body_expect(rcv_body *b, uint64_t wire_len);
int rcv_body_feed(rcv_body *b, const void *data, size_t len);
int rcv_body_finish(rcv_body *b);
void rcv_body_destroy(rcv_body *b);

/* Results, valid after a successful finish. */
uint64_t rcv_body_lines(const rcv_body *b);
uint64_t rcv_body_wire_bytes(const rcv_body *b);
uint64_t rcv_body_inflated_bytes(const rcv_body *b);
uint64_t rcv_body_stored_bytes(const rcv_body *b);
bf_codec rcv_body_stored_codec(const rcv_body *b);   /* GZIP or ZSTD */
const char *rcv_body_hash16(const rcv_body *b);      /* 16 lowercase hex digits */
/* The stored bytes: in memory (returns the pointer, *len set; owned by the body) or NULL when spilled. */
const void *rcv_body_mem(const rcv_body *b, size_t *len);
/* Path of the spill file, or NULL when in memory. Owned by the body. */
const char *rcv_body_path(const rcv_body *b);
/* The stored bytes in a new malloc'd buffer (reads the spill file back). Caller frees *out. */
int rcv_body_copy(const rcv_body *b, char **out, size_t *len);

/* Count non-empty lines incrementally (also used by tests and the fuzz target). */
typedef struct rcv_linecount { uint64_t lines; int in_line; } rcv_linecount;
void rcv_linecount_feed(rcv_linecount *lc, const void *data, size_t len);
uint64_t rcv_linecount_finish(const rcv_linecount *lc);
#endif
