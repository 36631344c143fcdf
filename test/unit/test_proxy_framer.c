/* framer: LF and octet-counting framing, trimming, cuts, errors, and chunking independence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../proxy/framer.h"

/* Messages collected as "<len>:<bytes>|" so that any difference shows. */
typedef struct { bf_buf log; int count; } sink;

static void collect(void *ud, const char *msg, size_t len)
{
    sink *s = ud;
    assert_true(len > 0);
    assert_int_equal(bf_buf_printf(&s->log, "%zu:", len), 0);
    assert_int_equal(bf_buf_append(&s->log, msg, len), 0);
    assert_int_equal(bf_buf_putc(&s->log, '|'), 0);
    s->count++;
}

static void sink_init(sink *s) { bf_buf_init(&s->log, 0); s->count = 0; }

static void expect_frames(const char *stream, size_t len, size_t max, int force_lf, const char *want)
{
    framer f;
    sink s;
    sink_init(&s);
    framer_init(&f, max, force_lf);
    assert_int_equal(framer_feed(&f, stream, len, collect, &s), 0);
    framer_finish(&f, collect, &s);
    assert_string_equal(s.log.data ? s.log.data : "", want);
    framer_free(&f);
    bf_buf_free(&s.log);
}

static void test_lf(void **st)
{
    (void)st;
    const char in[] = "a\nb\r\n\nc\0\nhello world\r\ntail";
    expect_frames(in, sizeof in - 1, 100, 0, "1:a|1:b|1:c|11:hello world|4:tail|");
}

static void test_lf_cut(void **st)
{
    (void)st;
    const char in[] = "abcdefghijklm\nxy\nabcdefgh\n";
    expect_frames(in, sizeof in - 1, 8, 0, "8:abcdefgh|2:xy|8:abcdefgh|");
}

static void test_octet(void **st)
{
    (void)st;
    const char in[] = "5 hello11 hello world\n3 ab\n\r\n4 <13>";
    expect_frames(in, sizeof in - 1, 100, 0, "5:hello|11:hello world|2:ab|4:<13>|");
}

static void test_force_lf(void **st)
{
    (void)st;
    const char in[] = "5 hello\n2026 log line\n";
    expect_frames(in, sizeof in - 1, 100, 1, "7:5 hello|13:2026 log line|");
}

static void test_octet_errors(void **st)
{
    (void)st;
    const char *bad[] = {"20 0123456789", "5x hello", "05 hello", "5 hello<13>x", "99999999999 x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        framer f;
        sink s;
        sink_init(&s);
        framer_init(&f, 8, 0);
        assert_int_equal(framer_feed(&f, bad[i], strlen(bad[i]), collect, &s), -EBADMSG);
        assert_int_equal(framer_feed(&f, "1 a", 3, collect, &s), -EBADMSG);  /* stays failed */
        framer_free(&f);
        bf_buf_free(&s.log);
    }
}

/* An incomplete octet frame is dropped at finish; the framer can then be reused (new detection). */
static void test_finish_reuse(void **st)
{
    (void)st;
    framer f;
    sink s;
    sink_init(&s);
    framer_init(&f, 100, 0);
    assert_int_equal(framer_feed(&f, "10 abc", 6, collect, &s), 0);
    framer_finish(&f, collect, &s);
    assert_int_equal(s.count, 0);
    assert_int_equal(framer_feed(&f, "line\n", 5, collect, &s), 0);
    assert_int_equal(f.mode, FRAMER_LF);
    assert_string_equal(s.log.data, "4:line|");
    framer_free(&f);
    bf_buf_free(&s.log);
}

/* Memory stays at max_msg whatever the line length. */
static void test_bounded(void **st)
{
    (void)st;
    framer f;
    sink s;
    sink_init(&s);
    framer_init(&f, 1024, 0);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 256; i++) {
        assert_int_equal(framer_feed(&f, i ? chunk : "y", i ? sizeof chunk : 1, collect, &s), 0);
        assert_true(f.pending.cap <= 1024);
    }
    assert_int_equal(framer_feed(&f, "\nok\n", 4, collect, &s), 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(strncmp(s.log.data, "1024:yxxx", 9), 0);
    framer_free(&f);
    bf_buf_free(&s.log);
}

static uint64_t rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Feeds stream in chunks of sizes drawn from [1, maxchunk]; returns the message log. */
static char *run_chunked(const char *stream, size_t len, size_t max, size_t maxchunk, uint64_t seed, int *rc_out)
{
    framer f;
    sink s;
    sink_init(&s);
    framer_init(&f, max, 0);
    int rc = 0;
    for (size_t off = 0; off < len && !rc;) {
        size_t n = maxchunk == 1 ? 1 : 1 + rng(&seed) % maxchunk;
        if (n > len - off)
            n = len - off;
        rc = framer_feed(&f, stream + off, n, collect, &s);
        off += n;
    }
    if (!rc)
        framer_finish(&f, collect, &s);
    *rc_out = rc;
    framer_free(&f);
    return bf_buf_steal(&s.log, NULL);
}

static void build_stream(bf_buf *b, int octet, uint64_t seed, size_t max)
{
    if (!octet)
        assert_int_equal(bf_buf_puts(b, "start line\n"), 0);  /* a non-digit first byte selects LF mode */
    for (int i = 0; i < 300; i++) {
        size_t n = rng(&seed) % (max + max / 2);  /* some over max (LF mode cuts them) */
        if (octet && n > max)
            n = max;
        char msg[2048];
        for (size_t k = 0; k < n; k++)
            msg[k] = (char)(' ' + rng(&seed) % 90);
        if (n && rng(&seed) % 5 == 0)
            msg[n - 1] = '\r';
        if (octet) {
            if (!n)
                continue;
            assert_int_equal(bf_buf_printf(b, "%zu ", n), 0);
            assert_int_equal(bf_buf_append(b, msg, n), 0);
            if (rng(&seed) % 4 == 0)
                assert_int_equal(bf_buf_putc(b, '\n'), 0);
        } else {
            assert_int_equal(bf_buf_append(b, msg, n), 0);
            assert_int_equal(bf_buf_putc(b, '\n'), 0);
        }
    }
    if (!octet)
        assert_int_equal(bf_buf_puts(b, "unterminated tail"), 0);
}

static void test_chunking_independent(void **st)
{
    (void)st;
    const size_t max = 700;
    for (int octet = 0; octet <= 1; octet++) {
        bf_buf stream;
        bf_buf_init(&stream, 0);
        build_stream(&stream, octet, 0x9E3779B97F4A7C15ULL + (uint64_t)octet, max);
        int rc;
        char *whole = run_chunked(stream.data, stream.len, max, stream.len, 1, &rc);
        assert_int_equal(rc, 0);
        assert_true(strlen(whole) > 1000);
        char *bytewise = run_chunked(stream.data, stream.len, max, 1, 1, &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(whole, bytewise);
        for (uint64_t seed = 1; seed < 20; seed++) {
            char *chunked = run_chunked(stream.data, stream.len, max, 1 + seed * 97, seed, &rc);
            assert_int_equal(rc, 0);
            assert_string_equal(whole, chunked);
            free(chunked);
        }
        free(whole);
        free(bytewise);
        bf_buf_free(&stream);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf),
        cmocka_unit_test(test_lf_cut),
        cmocka_unit_test(test_octet),
        cmocka_unit_test(test_force_lf),
        cmocka_unit_test(test_octet_errors),
        cmocka_unit_test(test_finish_reuse),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_chunking_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
