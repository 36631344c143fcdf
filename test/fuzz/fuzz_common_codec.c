/* libFuzzer target: arbitrary bytes decoded as gzip and as zstd under limits (max_out 16 MiB,
 * ratio 1000), fed in pieces split where the input says; then the input is compressed with both
 * codecs and must decode back to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf_codec.h"

static int count_sink(void *ud, const void *p, size_t n)
{
    if (n > 64 * 1024)
        abort(); /* chunks are bounded */
    (void)p;
    *(uint64_t *)ud += n;
    return 0;
}

static void decode_split(bf_codec c, const uint8_t *data, size_t size, double ratio)
{
    bf_decoder *d;
    if (bf_decoder_create(c, 16u << 20, ratio, &d) != 0)
        abort();
    uint64_t seen = 0;
    size_t split = size ? data[0] % (size + 1) : 0;
    int rc = bf_decoder_update(d, data, split, count_sink, &seen);
    if (!rc)
        rc = bf_decoder_update(d, data + split, size - split, count_sink, &seen);
    if (!rc)
        rc = bf_decoder_finish(d, count_sink, &seen);
    if (seen > (16u << 20) || bf_decoder_total_in(d) > size)
        abort();
    if (rc == 0 && bf_decoder_total_out(d) != seen)
        abort();
    bf_decoder_destroy(d);
}

static void roundtrip(bf_codec c, const uint8_t *data, size_t size)
{
    char *comp, *plain;
    size_t cl, pl;
    if (bf_compress(c, 1, data, size, &comp, &cl) != 0)
        abort();
    if (bf_decompress(c, comp, cl, 0, 0, &plain, &pl) != 0 || pl != size || (size && memcmp(plain, data, size)))
        abort();
    free(comp);
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)bf_codec_detect(data, size);
    decode_split(BF_CODEC_GZIP, data, size, 0);
    decode_split(BF_CODEC_ZSTD, data, size, 0);
    decode_split(BF_CODEC_GZIP, data, size, 1000);
    decode_split(BF_CODEC_ZSTD, data, size, 1000);
    if (size < 4096) {
        roundtrip(BF_CODEC_GZIP, data, size);
        roundtrip(BF_CODEC_ZSTD, data, size);
    }
    return 0;
}
