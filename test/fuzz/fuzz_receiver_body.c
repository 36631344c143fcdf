/* Fuzz target for the receiver's request-body path (receiver/body.c): codec detection, streaming
 * decompression with bomb limits, line counting, identity compression and hashing.
 * Input: byte 0 picks the Content-Encoding (low 2 bits) and the chunk size (high bits); the rest is the body.
 * Properties checked besides "no crash": on success the stored bytes equal the body (compressed bodies)
 * or decompress to it (identity); a body the streaming path accepts decodes one-shot to the same size and
 * line count. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf_codec.h"
#include "../../receiver/body.h"

#define MAX_OUT (8u << 20)

static uint64_t count_lines(const char *p, size_t n)
{
    rcv_linecount lc = {0};
    rcv_linecount_feed(&lc, p, n);
    return rcv_linecount_finish(&lc);
}

static void check_stored(rcv_body *b, const uint8_t *body, size_t n, bf_codec wire)
{
    char *stored = NULL, *plain = NULL;
    size_t slen = 0, plen = 0;
    if (rcv_body_copy(b, &stored, &slen))
        return;
    if (wire != BF_CODEC_NONE) {
        if (slen != n || memcmp(stored, body, n))
            abort();                                  /* compressed bodies are stored as received */
    } else if (bf_decompress(rcv_body_stored_codec(b), stored, slen, 0, 0, &plain, &plen) == 0) {
        if (plen != n || memcmp(plain, body, n) || count_lines(plain, plen) != rcv_body_lines(b))
            abort();                                  /* identity: stored form decodes to the body */
    } else {
        abort();
    }
    free(plain);
    free(stored);
}

static void check_reference(int rc, rcv_body *b, const uint8_t *body, size_t n, bf_codec wire)
{
    char *out = NULL;
    size_t outlen = 0;
    if (wire == BF_CODEC_NONE)
        return;
    if (rc != 0)
        return;   /* what we reject needs no second opinion (bf_decompress accepts legacy zstd frames we refuse) */
    int ref = bf_decompress(wire, body, n, MAX_OUT, 0, &out, &outlen);
    if (ref != 0)
        abort();                                      /* accepted by streaming, rejected by one-shot */
    if (outlen != rcv_body_inflated_bytes(b) || count_lines(out, outlen) != rcv_body_lines(b))
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rcv_encoding encs[] = {RCV_ENC_ABSENT, RCV_ENC_IDENTITY, RCV_ENC_GZIP, RCV_ENC_ZSTD};
    if (size < 1)
        return 0;
    rcv_encoding enc = encs[data[0] & 3];
    size_t chunk = (size_t)(data[0] >> 2) * 7 + 1;
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    rcv_body_limits lim = {.max_body = 1 << 20, .max_inflated = MAX_OUT, .max_ratio = 0,
                           .identity_codec = (data[0] & 0x80) ? BF_CODEC_GZIP : BF_CODEC_ZSTD,
                           .identity_level = 1, .spill_threshold = (data[0] & 0x40) ? 512 : 0, .spill_dir = "/tmp"};
    rcv_body *b = NULL;
    if (rcv_body_create(&lim, enc, &b))
        return 0;
    int rc = 0;
    for (size_t off = 0; off < n && !rc; off += chunk)
        rc = rcv_body_feed(b, body + off, n - off < chunk ? n - off : chunk);
    if (!rc)
        rc = rcv_body_finish(b);
    bf_codec wire = enc == RCV_ENC_GZIP ? BF_CODEC_GZIP : enc == RCV_ENC_ZSTD ? BF_CODEC_ZSTD
                  : enc == RCV_ENC_IDENTITY ? BF_CODEC_NONE : bf_codec_detect(body, n);
    if (rc == 0)
        check_stored(b, body, n, wire);
    if (rc != -ENOMEM)
        check_reference(rc, b, body, n, wire);
    rcv_body_destroy(b);
    return 0;
}
