/* Unit tests of the receiver's CPU fast paths: the vectorised line counter (against a byte-by-byte
 * reference), the Content-Length reservation, and the buffer-less zstd decoder of bf_codec (fed in
 * arbitrary pieces, with concatenated and skippable frames, against libzstd's own one-shot decoder). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zstd.h>

#include "bf_buf.h"
#include "bf_codec.h"
#include "bf_util.h"
#include "../../receiver/body.h"

/* The definition in body.h, one byte at a time. */
static uint64_t ref_lines(const unsigned char *s, size_t n)
{
    uint64_t lines = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            lines += in;
            in = 0;
        } else {
            in = 1;
        }
    }
    return lines + (uint64_t)in;
}

/* Count s[0..n) fed in random pieces (0..max_piece bytes). */
static uint64_t pieces_lines(const unsigned char *s, size_t n, size_t max_piece, uint64_t *seed)
{
    rcv_linecount lc = {0};
    size_t off = 0;
    while (off < n) {
        size_t k = (size_t)(bf_rand_next(seed) % (max_piece + 1));
        if (k > n - off)
            k = n - off;
        rcv_linecount_feed(&lc, s + off, k);
        off += k;
    }
    return rcv_linecount_finish(&lc);
}

static void test_linecount_random(void **st)
{
    (void)st;
    uint64_t seed = 42;
    size_t cap = 300000;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    for (int it = 0; it < 3000; it++) {
        size_t n = (size_t)(bf_rand_next(&seed) % (it % 10 == 0 ? cap : 700));
        unsigned density = (unsigned)(bf_rand_next(&seed) % 5);   /* 0: no newlines … 4: many */
        for (size_t i = 0; i < n; i++) {
            unsigned r = (unsigned)(bf_rand_next(&seed) % 16);
            buf[i] = r < density ? '\n' : r == 15 ? '\r' : (unsigned char)('a' + r);
        }
        if (it % 7 == 0)
            memset(buf, '\n', n / 3);   /* long runs of empty lines */
        size_t max_piece = it % 3 == 0 ? 100 : it % 3 == 1 ? 5000 : cap;
        assert_int_equal(pieces_lines(buf, n, max_piece, &seed), ref_lines(buf, n));
    }
    /* one line end in every byte lane for far more than 255 steps: the byte counters must not wrap */
    for (size_t i = 0; i < cap; i++)
        buf[i] = (i % 2) ? '\n' : 'x';
    rcv_linecount lc = {0};
    rcv_linecount_feed(&lc, buf, cap);
    assert_int_equal(rcv_linecount_finish(&lc), cap / 2);
    free(buf);
}

static void test_expect(void **st)
{
    (void)st;
    rcv_body_limits lim = {.max_body = 64 << 20, .identity_codec = BF_CODEC_ZSTD, .spill_threshold = 1 << 20};
    rcv_body *b = NULL;
    assert_int_equal(rcv_body_create(&lim, RCV_ENC_ABSENT, &b), 0);
    assert_int_equal(rcv_body_expect(b, 900000), 0);
    assert_int_equal(rcv_body_expect(b, 5u << 20), 0);   /* will spill: ignored */
    size_t n, zn = 0;
    char *text = malloc(200000), *z = NULL;
    assert_non_null(text);
    n = 0;
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(text + n, "{\"i\":%d}\n", i);
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 0, text, n, &z, &zn), 0);
    assert_int_equal(rcv_body_feed(b, z, zn), 0);
    assert_int_equal(rcv_body_finish(b), 0);
    assert_int_equal(rcv_body_lines(b), 5000);
    size_t len = 0;
    const void *mem = rcv_body_mem(b, &len);
    assert_non_null(mem);
    assert_int_equal(len, zn);
    assert_memory_equal(mem, z, zn);
    rcv_body_destroy(b);
    free(z);
    free(text);
}

static int collect(void *ud, const void *p, size_t n)
{
    if (n > 64 * 1024)
        return -ERANGE;   /* bf_codec.h: sinks get at most 64 KiB at a time */
    return bf_buf_append(ud, p, n);
}

static size_t put_skippable(unsigned char *o, size_t n)
{
    static const unsigned char magic[4] = {0x50, 0x2a, 0x4d, 0x18};
    memcpy(o, magic, 4);
    for (int i = 0; i < 4; i++)
        o[4 + i] = (unsigned char)(n >> (8 * i));
    memset(o + 8, 'S', n);
    return n + 8;
}

/* Concatenated frames with various window logs, checksum and size flags, and skippable frames. */
static size_t make_stream(unsigned char *comp, size_t ccap, char *plain, size_t *plen, uint64_t *seed)
{
    size_t clen = 0, total = 0;
    int frames = 1 + (int)(bf_rand_next(seed) % 3);
    for (int f = 0; f < frames; f++) {
        if (bf_rand_next(seed) % 4 == 0)
            clen += put_skippable(comp + clen, (size_t)(bf_rand_next(seed) % 70000));
        size_t n = (size_t)(bf_rand_next(seed) % 600000);
        unsigned alpha = 1 + (unsigned)(bf_rand_next(seed) % 8);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = bf_rand_next(seed);
            plain[total + i] = r % 9 == 0 ? '\n' : (char)('a' + (r >> 8) % alpha);
        }
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        assert_non_null(cc);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1 + (int)(bf_rand_next(seed) % 5));
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, (int)(bf_rand_next(seed) % 2));
        ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, (int)(bf_rand_next(seed) % 2));
        ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 10 + (int)(bf_rand_next(seed) % 12));
        /* streamed (no declared size, round buffer wraps) or one shot */
        ZSTD_inBuffer ib = {plain + total, n, 0};
        ZSTD_outBuffer ob = {comp + clen, ccap - clen, 0};
        size_t r;
        do
            r = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
        while (r != 0 && !ZSTD_isError(r));
        assert_false(ZSTD_isError(r));
        ZSTD_freeCCtx(cc);
        clen += ob.pos;
        total += n;
    }
    *plen = total;
    return clen;
}

static int decode_pieces(const unsigned char *c, size_t n, bf_buf *out, uint64_t *seed, uint64_t *in)
{
    bf_decoder *d = NULL;
    assert_int_equal(bf_decoder_create(BF_CODEC_ZSTD, 0, 0, &d), 0);
    int rc = 0;
    size_t off = 0;
    while (off < n && !rc) {
        size_t k = bf_rand_next(seed) % 3 == 0 ? (size_t)(bf_rand_next(seed) % 9) : (size_t)(bf_rand_next(seed) % 150000);
        if (k > n - off)
            k = n - off;
        rc = bf_decoder_update(d, c + off, k, collect, out);
        off += k;
    }
    if (!rc)
        rc = bf_decoder_finish(d, collect, out);
    *in = bf_decoder_total_in(d);
    bf_decoder_destroy(d);
    return rc;
}

static void test_zstd_pieces(void **st)
{
    (void)st;
    uint64_t seed = 7;
    size_t cap = 2 << 20;
    char *plain = malloc(cap);
    unsigned char *comp = malloc(2 * cap);
    assert_non_null(plain);
    assert_non_null(comp);
    for (int it = 0; it < 60; it++) {
        size_t plen = 0, clen = make_stream(comp, 2 * cap, plain, &plen, &seed);
        bf_buf out;
        bf_buf_init(&out, 0);
        uint64_t in = 0;
        assert_int_equal(decode_pieces(comp, clen, &out, &seed, &in), 0);
        assert_int_equal(out.len, plen);
        if (plen)
            assert_memory_equal(out.data, plain, plen);
        assert_int_equal(in, clen);
        bf_buf_free(&out);
        /* cut inside the last frame: refused */
        bf_buf_init(&out, 0);
        assert_int_equal(decode_pieces(comp, clen - 1 - (size_t)(bf_rand_next(&seed) % 3), &out, &seed, &in), -EBADMSG);
        bf_buf_free(&out);
    }
    free(plain);
    free(comp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linecount_random),
        cmocka_unit_test(test_expect),
        cmocka_unit_test(test_zstd_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
