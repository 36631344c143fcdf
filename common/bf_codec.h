/* bf_codec: streaming gzip and zstd encoding/decoding with bomb limits.
 * Decoders never hold the whole output: they call the sink with chunks (<= 64 KiB).
 * Errors: -EBADMSG corrupt or truncated input, -EFBIG output over max_out or ratio over max_ratio,
 * -ENOMEM, or whatever the sink returned (negative) which aborts the stream.
 * Errors are sticky: after one, every later update/finish on that decoder returns it.
 * Memory per decoder is bounded: one 64 KiB output chunk plus the codec state; zstd frames that need a
 * window above 16 MiB (zstd --long, --ultra -20..22) are refused with -EFBIG.
 * Empty input is not a valid gzip/zstd stream (-EBADMSG at finish); trailing garbage after a gzip
 * member is -EBADMSG. Encoders write gzip (RFC 1952 wrapper) and zstd frames with a content checksum. */
#ifndef BF_CODEC_H
#define BF_CODEC_H
#include <stddef.h>
#include <stdint.h>

typedef enum { BF_CODEC_NONE = 0, BF_CODEC_GZIP, BF_CODEC_ZSTD } bf_codec;

/* By magic bytes (1f 8b -> gzip, 28 b5 2f fd -> zstd), else NONE. */
bf_codec bf_codec_detect(const void *buf, size_t len);
int bf_codec_parse(const char *name, bf_codec *out);   /* "gzip"/"gz", "zstd"/"zst", "none"/"identity" */
const char *bf_codec_name(bf_codec c);                 /* "gzip", "zstd", "identity" */
const char *bf_codec_ext(bf_codec c);                  /* "gz", "zst", "" */

typedef int (*bf_sink_fn)(void *ud, const void *data, size_t len);  /* 0 or negative to abort */

typedef struct bf_decoder bf_decoder;
/* max_out: 0 = unlimited; max_ratio: 0 = unlimited (checked as out > in * ratio once out > 1 MiB). */
int bf_decoder_create(bf_codec c, uint64_t max_out, double max_ratio, bf_decoder **out);
int bf_decoder_update(bf_decoder *d, const void *in, size_t len, bf_sink_fn sink, void *ud);
/* Call at end of input: -EBADMSG when the stream is incomplete. Concatenated gzip members / zstd frames ok. */
int bf_decoder_finish(bf_decoder *d, bf_sink_fn sink, void *ud);
uint64_t bf_decoder_total_in(const bf_decoder *d);
uint64_t bf_decoder_total_out(const bf_decoder *d);
void bf_decoder_destroy(bf_decoder *d);

typedef struct bf_encoder bf_encoder;
/* level: gzip 1..9, zstd -7..-1 (fast) and 1..19; 0 = codec default (gzip 6, zstd 3). */
int bf_encoder_create(bf_codec c, int level, bf_encoder **out);
int bf_encoder_update(bf_encoder *e, const void *in, size_t len, bf_sink_fn sink, void *ud);
int bf_encoder_finish(bf_encoder *e, bf_sink_fn sink, void *ud);
void bf_encoder_destroy(bf_encoder *e);

/* One-shot helpers into malloc'd buffers (caller frees *out). */
int bf_compress(bf_codec c, int level, const void *in, size_t len, char **out, size_t *outlen);
int bf_decompress(bf_codec c, const void *in, size_t len, uint64_t max_out, double max_ratio,
                  char **out, size_t *outlen);
#endif
