/* Unit tests for bf_codec: round trips, detection, corrupt/truncated input, concatenation,
 * interoperability with the gzip and zstd tools, and decompression-bomb limits with bounded memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bf_buf.h"
#include "bf_codec.h"
#include "bf_util.h"

#define MiB (1024u * 1024u)

static char tmpdir[512];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_common_codec.%d", base, (int)getpid());
    return bf_mkdir_p(tmpdir, 0755);
}

static char *random_bytes(size_t n, uint64_t seed)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = bf_rand_next(&seed);
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
    return p;
}

/* Log-like text: compresses well but is not trivially repetitive. */
static char *compressible_bytes(size_t n, uint64_t seed)
{
    static const char *words[] = {"GET", "POST", "/api/v1/items", "200", "404", "user=alice", "user=bob",
                                  "latency_ms=", "host=web-01", "host=web-02", "{\"level\":\"info\"}"};
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    size_t i = 0;
    while (i < n) {
        uint64_t r = bf_rand_next(&seed);
        char tmp[64];
        int l = snprintf(tmp, sizeof tmp, "%s %u%c", words[r % 11], (unsigned)(r >> 40) % 1000,
                         (r >> 20) % 8 == 0 ? '\n' : ' ');
        for (int j = 0; j < l && i < n; j++)
            p[i++] = tmp[j];
    }
    return p;
}

static void roundtrip(bf_codec c, int level, const char *data, size_t len)
{
    char *comp, *plain;
    size_t clen, plen;
    assert_int_equal(bf_compress(c, level, data, len, &comp, &clen), 0);
    assert_int_equal(bf_codec_detect(comp, clen), c);
    assert_int_equal(bf_decompress(c, comp, clen, 0, 0, &plain, &plen), 0);
    assert_int_equal(plen, len);
    if (len)
        assert_memory_equal(plain, data, len);
    free(comp);
    free(plain);
}

static void test_roundtrip_small(void **state)
{
    (void)state;
    const bf_codec codecs[] = {BF_CODEC_GZIP, BF_CODEC_ZSTD};
    for (size_t i = 0; i < 2; i++) {
        roundtrip(codecs[i], 0, "", 0);
        roundtrip(codecs[i], 0, "x", 1);
        roundtrip(codecs[i], 1, "hello, world\n", 13);
        roundtrip(codecs[i], codecs[i] == BF_CODEC_GZIP ? 9 : 19, "hello, world\n", 13);
    }
}

static void test_roundtrip_10mb(void **state)
{
    (void)state;
    size_t n = 10 * MiB;
    char *rnd = random_bytes(n, 42), *txt = compressible_bytes(n, 7);
    const bf_codec codecs[] = {BF_CODEC_GZIP, BF_CODEC_ZSTD};
    for (size_t i = 0; i < 2; i++) {
        roundtrip(codecs[i], 1, rnd, n);
        roundtrip(codecs[i], 0, txt, n);
    }
    roundtrip(BF_CODEC_ZSTD, -7, rnd, n);   /* zstd's fast levels */
    roundtrip(BF_CODEC_ZSTD, -3, txt, n);
    /* compressible data does compress */
    char *comp;
    size_t clen;
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 3, txt, n, &comp, &clen), 0);
    assert_true(clen < n / 3);
    free(comp);
    free(rnd);
    free(txt);
}

static void test_detect_and_names(void **state)
{
    (void)state;
    assert_int_equal(bf_codec_detect("\x1f\x8b\x08", 3), BF_CODEC_GZIP);
    assert_int_equal(bf_codec_detect("\x28\xb5\x2f\xfd\x00", 5), BF_CODEC_ZSTD);
    assert_int_equal(bf_codec_detect("\x28\xb5\x2f", 3), BF_CODEC_NONE);
    assert_int_equal(bf_codec_detect("{\"a\":1}", 7), BF_CODEC_NONE);
    assert_int_equal(bf_codec_detect("", 0), BF_CODEC_NONE);
    bf_codec c;
    assert_int_equal(bf_codec_parse("gzip", &c), 0);
    assert_int_equal(c, BF_CODEC_GZIP);
    assert_int_equal(bf_codec_parse("ZST", &c), 0);
    assert_int_equal(c, BF_CODEC_ZSTD);
    assert_int_equal(bf_codec_parse("identity", &c), 0);
    assert_int_equal(c, BF_CODEC_NONE);
    assert_int_equal(bf_codec_parse("brotli", &c), -EINVAL);
    assert_string_equal(bf_codec_name(BF_CODEC_ZSTD), "zstd");
    assert_string_equal(bf_codec_name(BF_CODEC_NONE), "identity");
    assert_string_equal(bf_codec_ext(BF_CODEC_GZIP), "gz");
    assert_string_equal(bf_codec_ext(BF_CODEC_NONE), "");
    bf_encoder *e;
    assert_int_equal(bf_encoder_create(BF_CODEC_GZIP, 10, &e), -EINVAL);
    assert_int_equal(bf_encoder_create(BF_CODEC_ZSTD, 20, &e), -EINVAL);
    assert_int_equal(bf_encoder_create(BF_CODEC_ZSTD, -8, &e), -EINVAL);
    assert_int_equal(bf_encoder_create(BF_CODEC_GZIP, -1, &e), -EINVAL);
}

static void test_corrupt_gzip(void **state)
{
    (void)state;
    char *txt = compressible_bytes(200000, 3), *comp, *plain;
    size_t clen, plen;
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 6, txt, 200000, &comp, &clen), 0);
    /* CRC32 trailer damaged: the data inflates but the check fails */
    comp[clen - 6] ^= 0x55;
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, clen, 0, 0, &plain, &plen), -EBADMSG);
    assert_null(plain);
    comp[clen - 6] ^= 0x55;
    /* garbage instead of deflate data */
    memset(comp + 10, 0xff, 64);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, clen, 0, 0, &plain, &plen), -EBADMSG);
    /* not gzip at all */
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, "hello world", 11, 0, 0, &plain, &plen), -EBADMSG);
    /* empty input is not a gzip stream */
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, "", 0, 0, 0, &plain, &plen), -EBADMSG);
    /* trailing garbage after a valid member */
    char *c2;
    size_t c2len;
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 6, "abc", 3, &c2, &c2len), 0);
    char *c3 = malloc(c2len + 4);
    memcpy(c3, c2, c2len);
    memcpy(c3 + c2len, "junk", 4);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, c3, c2len + 4, 0, 0, &plain, &plen), -EBADMSG);
    free(c3);
    free(c2);
    free(comp);
    free(txt);
}

static void test_truncated(void **state)
{
    (void)state;
    char *txt = compressible_bytes(300000, 5), *comp, *plain;
    size_t clen, plen;
    const bf_codec codecs[] = {BF_CODEC_ZSTD, BF_CODEC_GZIP};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(bf_compress(codecs[i], 3, txt, 300000, &comp, &clen), 0);
        const size_t cuts[] = {1, 4, clen / 2, clen - 1};
        for (size_t k = 0; k < 4; k++) {
            bf_decoder *d;
            assert_int_equal(bf_decoder_create(codecs[i], 0, 0, &d), 0);
            assert_int_equal(bf_decoder_update(d, comp, cuts[k], NULL, NULL), 0);
            assert_int_equal(bf_decoder_finish(d, NULL, NULL), -EBADMSG);
            bf_decoder_destroy(d);
        }
        assert_int_equal(bf_decompress(codecs[i], comp, clen - 1, 0, 0, &plain, &plen), -EBADMSG);
        free(comp);
    }
    /* corrupt zstd content is caught (checksum or block error) */
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 3, txt, 300000, &comp, &clen), 0);
    for (size_t i = clen / 2; i < clen / 2 + 16; i++)
        comp[i] ^= 0xa5;
    assert_int_equal(bf_decompress(BF_CODEC_ZSTD, comp, clen, 0, 0, &plain, &plen), -EBADMSG);
    free(comp);
    free(txt);
}

/* Concatenated members/frames decode to the concatenation; fed one byte at a time as well. */
typedef struct {
    bf_buf out;
    size_t max_chunk;
    size_t calls;
} collect;

static int collect_sink(void *ud, const void *p, size_t n)
{
    collect *c = ud;
    c->calls++;
    if (n > c->max_chunk)
        c->max_chunk = n;
    return bf_buf_append(&c->out, p, n);
}

static void test_concatenated_bytewise(void **state)
{
    (void)state;
    const bf_codec codecs[] = {BF_CODEC_GZIP, BF_CODEC_ZSTD};
    for (size_t i = 0; i < 2; i++) {
        char *a, *b;
        size_t al, bl;
        assert_int_equal(bf_compress(codecs[i], 0, "first part\n", 11, &a, &al), 0);
        assert_int_equal(bf_compress(codecs[i], 0, "second part\n", 12, &b, &bl), 0);
        char *ab = malloc(al + bl);
        memcpy(ab, a, al);
        memcpy(ab + al, b, bl);
        collect c = {0};
        bf_buf_init(&c.out, 0);
        bf_decoder *d;
        assert_int_equal(bf_decoder_create(codecs[i], 0, 0, &d), 0);
        for (size_t k = 0; k < al + bl; k++)
            assert_int_equal(bf_decoder_update(d, ab + k, 1, collect_sink, &c), 0);
        assert_int_equal(bf_decoder_finish(d, collect_sink, &c), 0);
        assert_int_equal(bf_decoder_total_in(d), al + bl);
        assert_int_equal(bf_decoder_total_out(d), 23);
        assert_string_equal(c.out.data, "first part\nsecond part\n");
        bf_decoder_destroy(d);
        bf_buf_free(&c.out);
        free(a);
        free(b);
        free(ab);
    }
}

static void test_chunk_size(void **state)
{
    (void)state;
    size_t n = 3 * MiB;
    char *txt = compressible_bytes(n, 11), *comp;
    size_t clen;
    const bf_codec codecs[] = {BF_CODEC_GZIP, BF_CODEC_ZSTD};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(bf_compress(codecs[i], 1, txt, n, &comp, &clen), 0);
        collect c = {0};
        bf_buf_init(&c.out, 0);
        bf_decoder *d;
        assert_int_equal(bf_decoder_create(codecs[i], 0, 0, &d), 0);
        assert_int_equal(bf_decoder_update(d, comp, clen, collect_sink, &c), 0);
        assert_int_equal(bf_decoder_finish(d, collect_sink, &c), 0);
        assert_int_equal(c.out.len, n);
        assert_true(c.max_chunk <= 64 * 1024);
        assert_true(c.calls >= n / (64 * 1024));
        bf_decoder_destroy(d);
        bf_buf_free(&c.out);
        free(comp);
    }
    free(txt);
}

static int failing_sink(void *ud, const void *p, size_t n)
{
    (void)p;
    (void)n;
    int *count = ud;
    return ++*count >= 2 ? -ECANCELED : 0;
}

static void test_sink_error_aborts(void **state)
{
    (void)state;
    size_t n = 1 * MiB;
    char *txt = compressible_bytes(n, 13), *comp;
    size_t clen;
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 1, txt, n, &comp, &clen), 0);
    bf_decoder *d;
    int count = 0;
    assert_int_equal(bf_decoder_create(BF_CODEC_ZSTD, 0, 0, &d), 0);
    assert_int_equal(bf_decoder_update(d, comp, clen, failing_sink, &count), -ECANCELED);
    assert_int_equal(bf_decoder_finish(d, failing_sink, &count), -ECANCELED); /* sticky */
    bf_decoder_destroy(d);
    free(comp);
    free(txt);
}

/* Writes data to a file, runs a shell command on it, reads the result file back. */
static char *run_tool(const char *cmd_fmt, const char *data, size_t len, size_t *outlen)
{
    char in[700], out[700], cmd[2000];
    snprintf(in, sizeof in, "%s/tool.in", tmpdir);
    snprintf(out, sizeof out, "%s/tool.out", tmpdir);
    assert_int_equal(bf_write_file_atomic(in, data, len), 0);
    snprintf(cmd, sizeof cmd, cmd_fmt, in, out);
    assert_int_equal(system(cmd), 0);
    char *res;
    assert_int_equal(bf_read_file(out, 0, &res, outlen), 0);
    return res;
}

static void test_interop_with_tools(void **state)
{
    (void)state;
    size_t n = 2 * MiB, rl, cl;
    char *txt = compressible_bytes(n, 17), *comp, *res, *plain;
    /* ours -> tools */
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 6, txt, n, &comp, &cl), 0);
    res = run_tool("gzip -dc < %s > %s", comp, cl, &rl);
    assert_int_equal(rl, n);
    assert_memory_equal(res, txt, n);
    free(res);
    free(comp);
    assert_int_equal(bf_compress(BF_CODEC_ZSTD, 3, txt, n, &comp, &cl), 0);
    res = run_tool("zstd -q -dc < %s > %s", comp, cl, &rl);
    assert_int_equal(rl, n);
    assert_memory_equal(res, txt, n);
    free(res);
    free(comp);
    /* tools -> ours (zstd -19 checks the window cap is large enough for the tool's top level) */
    const struct {
        const char *cmd;
        bf_codec c;
    } tools[] = {
        {"gzip -9c < %s > %s", BF_CODEC_GZIP},
        {"zstd -q -19 -c < %s > %s", BF_CODEC_ZSTD},
        {"zstd -q -1 -c < %s > %s", BF_CODEC_ZSTD},
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        comp = run_tool(tools[i].cmd, txt, n, &cl);
        assert_int_equal(bf_decompress(tools[i].c, comp, cl, 0, 0, &plain, &rl), 0);
        assert_int_equal(rl, n);
        assert_memory_equal(plain, txt, n);
        free(plain);
        free(comp);
    }
    /* a frame that declares a 128 MiB window (zstd --long=27 through a pipe) is refused up front */
    comp = run_tool("cat %s | zstd -q --long=27 -c > %s", txt, 100000, &cl);
    assert_int_equal(bf_decompress(BF_CODEC_ZSTD, comp, cl, 0, 0, &plain, &rl), -EFBIG);
    free(comp);
    free(txt);
}

/* ---- bombs ---- */

static int buf_sink(void *ud, const void *p, size_t n)
{
    return bf_buf_append(ud, p, n);
}

/* gzip of `total` zero bytes, produced by streaming so that the zeros are never all in memory. */
static void make_zero_bomb(bf_codec c, uint64_t total, bf_buf *out)
{
    static char zeros[1 << 20];
    bf_encoder *e;
    assert_int_equal(bf_encoder_create(c, c == BF_CODEC_GZIP ? 9 : 19, &e), 0);
    for (uint64_t done = 0; done < total; done += sizeof zeros)
        assert_int_equal(bf_encoder_update(e, zeros, sizeof zeros, buf_sink, out), 0);
    assert_int_equal(bf_encoder_finish(e, buf_sink, out), 0);
    bf_encoder_destroy(e);
}

static int count_sink(void *ud, const void *p, size_t n)
{
    (void)p;
    *(uint64_t *)ud += n;
    return 0;
}

/* Valgrind's own memory counts in ru_maxrss, so the RSS bounds are only checked natively. */
static int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* BF_TEST_QUICK=1 (the valgrind run) shrinks the gzip bomb: deflating 1 GiB of zeros under valgrind
 * alone takes minutes, and 128 MiB against a 16 MiB limit exercises the same code paths. */
static int quick_mode(void)
{
    const char *q = getenv("BF_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

static void test_gzip_bomb(void **state)
{
    (void)state;
    const uint64_t total = quick_mode() ? 128ull * MiB : 1024ull * MiB;
    const size_t limit = quick_mode() ? 16 * MiB : 64 * MiB;
    bf_buf bomb;
    bf_buf_init(&bomb, 0);
    make_zero_bomb(BF_CODEC_GZIP, total, &bomb);
    /* deflate tops out near 1030:1 on zeros: about 1 MiB of gzip that would inflate to 1 GiB */
    assert_true(bomb.len > total / 2048 && bomb.len < total / 512);
    uint64_t seen = 0;
    bf_decoder *d;
    assert_int_equal(bf_decoder_create(BF_CODEC_GZIP, limit, 0, &d), 0);
    assert_int_equal(bf_decoder_update(d, bomb.data, bomb.len, count_sink, &seen), -EFBIG);
    /* stopped right at the limit, long before the end of the input */
    assert_true(seen <= limit);
    assert_true(bf_decoder_total_out(d) <= limit + 64 * 1024);
    assert_true(bf_decoder_total_in(d) < bomb.len / 4);
    bf_decoder_destroy(d);
    /* streaming: `limit` bytes went through a 64 KiB chunk; the process holds little more than the bomb */
    long rss_stream = max_rss_kb();
    print_message("gzip bomb (streaming): peak RSS %ld KiB\n", rss_stream);
    if (!under_valgrind())
        assert_true(rss_stream < 40 * 1024);
    /* the one-shot helper too, and its buffer never exceeds max_out */
    char *out;
    size_t outlen;
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, bomb.data, bomb.len, limit, 0, &out, &outlen), -EFBIG);
    assert_null(out);
    long rss = max_rss_kb();
    bf_buf_free(&bomb);
    print_message("gzip bomb: peak RSS %ld KiB\n", rss);
    if (!under_valgrind())
        assert_true(rss < 200 * 1024);
}

static void test_zstd_bomb_and_ratio(void **state)
{
    (void)state;
    bf_buf bomb;
    bf_buf_init(&bomb, 0);
    make_zero_bomb(BF_CODEC_ZSTD, 256ull * MiB, &bomb);
    assert_true(bomb.len < 64 * 1024);
    uint64_t seen = 0;
    bf_decoder *d;
    assert_int_equal(bf_decoder_create(BF_CODEC_ZSTD, 16 * MiB, 0, &d), 0);
    assert_int_equal(bf_decoder_update(d, bomb.data, bomb.len, count_sink, &seen), -EFBIG);
    assert_true(seen <= 16 * MiB);
    bf_decoder_destroy(d);
    /* ratio: 256 MiB from a few KiB exceeds 1000:1 as soon as 1 MiB is out */
    seen = 0;
    assert_int_equal(bf_decoder_create(BF_CODEC_ZSTD, 0, 1000, &d), 0);
    assert_int_equal(bf_decoder_update(d, bomb.data, bomb.len, count_sink, &seen), -EFBIG);
    assert_true(seen <= 2 * MiB);
    bf_decoder_destroy(d);
    bf_buf_free(&bomb);
    /* ordinary text (ratio ~5-10) passes a 100:1 limit; 10 MiB of zeros in gzip does not */
    size_t n = 4 * MiB;
    char *txt = compressible_bytes(n, 19), *comp, *plain;
    size_t cl, pl;
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 6, txt, n, &comp, &cl), 0);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, cl, 0, 100, &plain, &pl), 0);
    assert_int_equal(pl, n);
    free(plain);
    free(comp);
    free(txt);
    char *zeros = calloc(1, 10 * MiB);
    assert_int_equal(bf_compress(BF_CODEC_GZIP, 6, zeros, 10 * MiB, &comp, &cl), 0);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, cl, 0, 100, &plain, &pl), -EFBIG);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, cl, 0, 2000, &plain, &pl), 0);
    assert_int_equal(pl, 10 * MiB);
    free(plain);
    /* exact max_out is allowed, one byte less is not */
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, cl, 10 * MiB, 0, &plain, &pl), 0);
    free(plain);
    assert_int_equal(bf_decompress(BF_CODEC_GZIP, comp, cl, 10 * MiB - 1, 0, &plain, &pl), -EFBIG);
    free(comp);
    free(zeros);
}

static void test_identity(void **state)
{
    (void)state;
    char *out;
    size_t ol;
    assert_int_equal(bf_decompress(BF_CODEC_NONE, "plain", 5, 0, 0, &out, &ol), 0);
    assert_int_equal(ol, 5);
    assert_memory_equal(out, "plain", 5);
    free(out);
    assert_int_equal(bf_decompress(BF_CODEC_NONE, "plain", 5, 4, 0, &out, &ol), -EFBIG);
    assert_int_equal(bf_compress(BF_CODEC_NONE, 0, "abc", 3, &out, &ol), 0);
    assert_int_equal(ol, 3);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* the bomb runs first so that its peak RSS is not inflated by the other tests' buffers */
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_zstd_bomb_and_ratio),
        cmocka_unit_test(test_roundtrip_small),
        cmocka_unit_test(test_roundtrip_10mb),
        cmocka_unit_test(test_detect_and_names),
        cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_concatenated_bytewise),
        cmocka_unit_test(test_chunk_size),
        cmocka_unit_test(test_sink_error_aborts),
        cmocka_unit_test(test_interop_with_tools),
        cmocka_unit_test(test_identity),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
