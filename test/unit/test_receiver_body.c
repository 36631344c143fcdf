/* Unit tests of receiver/body.c: streaming verification, line counting, limits, spilling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bf_codec.h"
#include "bf_util.h"
#include "../../receiver/body.h"

static rcv_body_limits limits(void)
{
    return (rcv_body_limits){.max_body = 64 << 20, .max_inflated = 256 << 20, .max_ratio = 100,
                             .identity_codec = BF_CODEC_ZSTD, .spill_threshold = 0, .spill_dir = "/tmp"};
}

/* NDJSON text with n lines (caller frees). */
static char *make_lines(size_t n, size_t *len)
{
    char *s = malloc(n * 64 + 1);
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off += (size_t)sprintf(s + off, "{\"n\":%zu,\"msg\":\"line %zu\"}\n", i, i * 7);
    *len = off;
    return s;
}

/* Feed in chunks of varying size (1, 2, 3 … up to 4099 bytes) to cover split magic bytes and frames. */
static int feed_chunked(rcv_body *b, const char *p, size_t n)
{
    size_t step = 1, off = 0;
    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        int rc = rcv_body_feed(b, p + off, k);
        if (rc)
            return rc;
        off += k;
        step = step * 3 % 4099 + 1;
    }
    return 0;
}

static void check_stored_equals(rcv_body *b, const char *want, size_t wantlen)
{
    char *copy = NULL, hex[65];
    size_t len = 0;
    assert_int_equal(rcv_body_copy(b, &copy, &len), 0);
    assert_int_equal(len, wantlen);
    assert_memory_equal(copy, want, wantlen);
    bf_sha256_hex(want, wantlen, hex);
    assert_memory_equal(rcv_body_hash16(b), hex, 16);
    assert_int_equal(strlen(rcv_body_hash16(b)), 16);
    free(copy);
}

static void compressed_roundtrip(bf_codec c, rcv_encoding enc)
{
    size_t n;
    char *text = make_lines(5000, &n), *z = NULL;
    size_t zn = 0;
    assert_int_equal(bf_compress(c, 0, text, n, &z, &zn), 0);
    rcv_body_limits lim = limits();
    rcv_body *b = NULL;
    assert_int_equal(rcv_body_create(&lim, enc, &b), 0);
    assert_int_equal(feed_chunked(b, z, zn), 0);
    assert_int_equal(rcv_body_finish(b), 0);
    assert_int_equal(rcv_body_lines(b), 5000);
    assert_int_equal(rcv_body_inflated_bytes(b), n);
    assert_int_equal(rcv_body_wire_bytes(b), zn);
    assert_int_equal(rcv_body_stored_codec(b), c);
    check_stored_equals(b, z, zn);
    rcv_body_destroy(b);
    free(z);
    free(text);
}

static void test_gzip(void **st) { (void)st; compressed_roundtrip(BF_CODEC_GZIP, RCV_ENC_GZIP); }
static void test_zstd(void **st) { (void)st; compressed_roundtrip(BF_CODEC_ZSTD, RCV_ENC_ZSTD); }
static void test_sniffed(void **st)
{
    (void)st;
    compressed_roundtrip(BF_CODEC_GZIP, RCV_ENC_ABSENT);
    compressed_roundtrip(BF_CODEC_ZSTD, RCV_ENC_ABSENT);
}

static void test_identity(void **st)
{
    (void)st;
    size_t n;
    char *text = make_lines(300, &n), *copy = NULL, *plain = NULL;
    size_t len = 0, plen = 0;
    rcv_body_limits lim = limits();
    lim.identity_codec = BF_CODEC_GZIP;
    rcv_body *b = NULL;
    assert_int_equal(rcv_body_create(&lim, RCV_ENC_ABSENT, &b), 0);
    assert_int_equal(feed_chunked(b, text, n), 0);
    assert_int_equal(rcv_body_finish(b), 0);
    assert_int_equal(rcv_body_lines(b), 300);
    assert_int_equal(rcv_body_stored_codec(b), BF_CODEC_GZIP);
    assert_int_equal(rcv_body_copy(b, &copy, &len), 0);
    assert_int_equal(len, rcv_body_stored_bytes(b));
    assert_int_equal(bf_codec_detect(copy, len), BF_CODEC_GZIP);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, copy, len, 0, 0, &plain, &plen), 0);
    assert_int_equal(plen, n);
    assert_memory_equal(plain, text, n);
    check_stored_equals(b, copy, len);
    rcv_body_destroy(b);
    free(copy);
    free(plain);
    free(text);
}

static uint64_t count(const char *s)
{
    rcv_linecount lc = {0};
    rcv_linecount_feed(&lc, s, strlen(s));
    return rcv_linecount_finish(&lc);
}

static void test_linecount(void **st)
{
    (void)st;
    assert_int_equal(count(""), 0);
    assert_int_equal(count("a"), 1);
    assert_int_equal(count("a\n"), 1);
    assert_int_equal(count("a\n\nb"), 2);
    assert_int_equal(count("\n\n\n"), 0);
    assert_int_equal(count("a\nb\nc\n"), 3);
    /* a line split across chunks counts once */
    rcv_linecount lc = {0};
    rcv_linecount_feed(&lc, "ab", 2);
    rcv_linecount_feed(&lc, "c\n", 2);
    rcv_linecount_feed(&lc, "\n", 1);
    rcv_linecount_feed(&lc, "d", 1);
    assert_int_equal(rcv_linecount_finish(&lc), 2);
}

static int run_body(rcv_body_limits lim, rcv_encoding enc, const void *p, size_t n)
{
    rcv_body *b = NULL;
    assert_int_equal(rcv_body_create(&lim, enc, &b), 0);
    int rc = rcv_body_feed(b, p, n);
    if (!rc)
        rc = rcv_body_finish(b);
    /* errors are sticky */
    if (rc)
        assert_int_equal(rcv_body_finish(b), rc);
    rcv_body_destroy(b);
    return rc;
}

static void test_errors(void **st)
{
    (void)st;
    size_t n, zn = 0;
    char *text = make_lines(2000, &n), *z = NULL;
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 0, text, n, &z, &zn), 0);
    rcv_body_limits lim = limits();

    rcv_body_limits small = lim;
    small.max_body = zn - 1;
    assert_int_equal(run_body(small, RCV_ENC_GZIP, z, zn), -E2BIG);

    z[zn / 2] ^= 0x55;
    z[zn / 2 + 1] ^= 0x55;
    assert_int_equal(run_body(lim, RCV_ENC_GZIP, z, zn), -EBADMSG);
    z[zn / 2] ^= 0x55;
    z[zn / 2 + 1] ^= 0x55;
    assert_int_equal(run_body(lim, RCV_ENC_GZIP, z, zn - 10), -EBADMSG);      /* truncated */
    assert_int_equal(run_body(lim, RCV_ENC_ZSTD, z, zn), -EBADMSG);           /* labelled zstd, is gzip */
    assert_int_equal(run_body(lim, RCV_ENC_ABSENT, "", 0), -ENODATA);
    free(z);

    /* bomb: 64 MiB of zeros */
    char *zeros = calloc(1, 64 << 20);
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 0, zeros, 64 << 20, &z, &zn), 0);
    assert_int_equal(run_body(lim, RCV_ENC_ABSENT, z, zn), -EFBIG);           /* ratio */
    rcv_body_limits cap = lim;
    cap.max_ratio = 0;
    cap.max_inflated = 1 << 20;
    assert_int_equal(run_body(cap, RCV_ENC_ABSENT, z, zn), -EFBIG);           /* size */
    cap.max_inflated = 0;
    assert_int_equal(run_body(cap, RCV_ENC_ABSENT, z, zn), 0);                /* unlimited */
    rcv_body_limits id = lim;
    id.max_inflated = 100;
    assert_int_equal(run_body(id, RCV_ENC_IDENTITY, text, n), -EFBIG);        /* identity counts too */
    free(z);
    free(zeros);
    free(text);
}

static void test_tiny_identity(void **st)
{
    (void)st;
    rcv_body_limits lim = limits();
    rcv_body *b = NULL;
    assert_int_equal(rcv_body_create(&lim, RCV_ENC_ABSENT, &b), 0);
    assert_int_equal(rcv_body_feed(b, "ab", 2), 0);
    assert_int_equal(rcv_body_finish(b), 0);
    assert_int_equal(rcv_body_lines(b), 1);
    assert_int_equal(rcv_body_stored_codec(b), BF_CODEC_ZSTD);
    rcv_body_destroy(b);
}

static void test_spill(void **st)
{
    (void)st;
    size_t n, zn = 0;
    char *text = make_lines(20000, &n), *z = NULL;
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 1, text, n, &z, &zn), 0);
    rcv_body_limits lim = limits();
    lim.spill_threshold = 4096;
    rcv_body *b = NULL;
    assert_int_equal(rcv_body_create(&lim, RCV_ENC_GZIP, &b), 0);
    assert_int_equal(feed_chunked(b, z, zn), 0);
    assert_int_equal(rcv_body_finish(b), 0);
    size_t ml = 0;
    assert_null(rcv_body_mem(b, &ml));
    char path[4096];
    snprintf(path, sizeof path, "%s", rcv_body_path(b));
    assert_int_equal(strncmp(path, "/tmp/", 5), 0);
    assert_int_equal(access(path, F_OK), 0);
    check_stored_equals(b, z, zn);
    assert_int_equal(rcv_body_lines(b), 20000);
    rcv_body_destroy(b);
    assert_int_equal(access(path, F_OK), -1);    /* destroy removes the spill file */
    free(z);
    free(text);
}

static void test_encoding_parse(void **st)
{
    (void)st;
    rcv_encoding e;
    assert_int_equal(rcv_encoding_parse(NULL, &e), 0);
    assert_int_equal(e, RCV_ENC_ABSENT);
    assert_int_equal(rcv_encoding_parse("GZIP", &e), 0);
    assert_int_equal(e, RCV_ENC_GZIP);
    assert_int_equal(rcv_encoding_parse("zstd", &e), 0);
    assert_int_equal(e, RCV_ENC_ZSTD);
    assert_int_equal(rcv_encoding_parse("identity", &e), 0);
    assert_int_equal(e, RCV_ENC_IDENTITY);
    assert_int_equal(rcv_encoding_parse("br", &e), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip), cmocka_unit_test(test_zstd), cmocka_unit_test(test_sniffed),
        cmocka_unit_test(test_identity), cmocka_unit_test(test_linecount), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tiny_identity), cmocka_unit_test(test_spill), cmocka_unit_test(test_encoding_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
