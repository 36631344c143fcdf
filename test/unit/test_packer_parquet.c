/* Parquet writer + reader round trips: thrift compact, RLE hybrid, every type and codec, nulls,
 * dictionary and its PLAIN fallback, several row groups and pages, statistics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../packer/parquet.h"
#include "../../packer/pqread.h"
#include "../../packer/thrift.h"

static void test_thrift_roundtrip(void **state)
{
    (void)state;
    pk_buf b = { 0 };
    tc_w w;
    tc_w_init(&w, &b);
    tc_struct_begin(&w);
    tc_field_i32(&w, 1, -5);
    tc_field_i64(&w, 3, INT64_MIN);
    tc_field_i64(&w, 40, INT64_MAX);      /* long-form field id */
    tc_field_str(&w, 41, "hé");
    tc_field_bool(&w, 42, 1);
    tc_field_list(&w, 43, TC_I32, 20);
    for (int i = 0; i < 20; i++)
        tc_elem_i32(&w, i * 1000 - 7);
    tc_field_struct(&w, 44);
    tc_field_bool(&w, 1, 0);
    tc_field_i16(&w, 2, -300);
    tc_struct_end(&w);
    tc_field_i32(&w, 2, 7);               /* going backwards uses the long form */
    tc_struct_end(&w);
    assert_int_equal(w.err, 0);
    tc_doc d;
    assert_int_equal(tc_parse(b.p, b.n, 0, &d), 0);
    assert_int_equal(d.used, b.n);
    assert_int_equal(tc_get_int(&d.root, 1, 0), -5);
    assert_true(tc_get_int(&d.root, 3, 0) == INT64_MIN);
    assert_true(tc_get_int(&d.root, 40, 0) == INT64_MAX);
    const tc_val *s = tc_get(&d.root, 41);
    assert_non_null(s);
    assert_int_equal(s->n, 3);
    assert_memory_equal(s->u.bin, "hé", 3);
    assert_int_equal(tc_get_int(&d.root, 42, 0), 1);
    const tc_val *l = tc_get(&d.root, 43);
    assert_int_equal(l->n, 20);
    assert_int_equal(l->u.kids[19].u.i, 19 * 1000 - 7);
    const tc_val *st = tc_get(&d.root, 44);
    assert_int_equal(tc_get_int(st, 1, 9), 0);
    assert_int_equal(tc_get_int(st, 2, 0), -300);
    assert_int_equal(tc_get_int(&d.root, 2, 0), 7);
    tc_doc_free(&d);
    /* every truncation of the encoding is rejected, never read past the end */
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *cp = malloc(n + 1);
        memcpy(cp, b.p, n);
        assert_int_not_equal(tc_parse(cp, n, 0, &d), 0);
        free(cp);
    }
    pk_buf_free(&b);
}

static void test_rle_roundtrip(void **state)
{
    (void)state;
    uint64_t s = 88172645463325252ull;
    for (int bw = 0; bw <= 20; bw++) {
        for (int pattern = 0; pattern < 4; pattern++) {
            size_t n = 1 + (size_t)(s % 3000);
            uint32_t *v = malloc(n * sizeof(uint32_t)), *o = malloc(n * sizeof(uint32_t));
            uint32_t mask = bw ? (uint32_t)((1ull << bw) - 1) : 0;
            for (size_t i = 0; i < n; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                switch (pattern) {
                case 0: v[i] = (uint32_t)s & mask; break;                       /* random */
                case 1: v[i] = (uint32_t)(i / 37) & mask; break;               /* runs */
                case 2: v[i] = (i % 100 < 9 ? (uint32_t)s : 1u) & mask; break; /* mixed */
                default: v[i] = mask; break;                                    /* constant */
                }
            }
            pk_buf b = { 0 };
            assert_int_equal(pq_rle_encode(&b, v, n, bw), 0);
            assert_int_equal(pqr_rle_decode(b.p, b.n, bw, o, n), 0);
            assert_memory_equal(v, o, n * sizeof(uint32_t));
            if (pattern == 3)
                assert_true(b.n <= 8);   /* a constant is one RLE run */
            pk_buf_free(&b);
            free(v);
            free(o);
        }
    }
}

typedef struct expect {
    int null;
    int64_t i;
    double d;
    char s[48];
} expect;

static const char *tmpfile_path(char *buf, size_t n, const char *tag)
{
    const char *dir = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    snprintf(buf, n, "%s/test_packer_parquet_%d_%s.parquet", dir, (int)getpid(), tag);
    return buf;
}

/* Write nrows rows of 6 columns under the given options, read back and compare everything. */
static void roundtrip(pq_codec codec, int64_t rg_bytes, int64_t page_bytes, int no_dict, size_t nrows, int card)
{
    pq_coldef cols[] = { { "BfTs", PQ_TIMESTAMP }, { "n", PQ_INT64 }, { "d", PQ_DOUBLE },
                         { "b", PQ_BOOL }, { "s", PQ_STRING }, { "j", PQ_JSON } };
    char path[512];
    tmpfile_path(path, sizeof(path), "rt");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    pq_options o = { .codec = codec, .row_group_bytes = rg_bytes, .page_bytes = page_bytes, .no_dictionary = no_dict };
    pq_writer *w;
    assert_int_equal(pq_writer_create(fd, &o, cols, 6, &w), 0);
    expect *e = calloc(nrows * 6, sizeof(expect));
    for (size_t r = 0; r < nrows; r++) {
        expect *x = &e[r * 6];
        x[0].i = 1764237600000000ll + (int64_t)r;
        assert_int_equal(pq_set_i64(w, 0, x[0].i), 0);
        x[1].null = r % 3 == 0;
        x[1].i = r == 1 ? (1ll << 62) + 1 : r == 2 ? INT64_MAX : r == 4 ? INT64_MIN : (int64_t)r * 7;
        if (!x[1].null)
            assert_int_equal(pq_set_i64(w, 1, x[1].i), 0);
        x[2].null = r % 5 == 1;
        x[2].d = (double)r / 8.0 - 3;
        if (!x[2].null)
            assert_int_equal(pq_set_double(w, 2, x[2].d), 0);
        x[3].i = r % 2;
        assert_int_equal(pq_set_bool(w, 3, (int)x[3].i), 0);
        x[4].null = r % 7 == 3;
        if (r % 11 == 0)
            x[4].s[0] = 0;   /* empty string, not null */
        else
            snprintf(x[4].s, sizeof(x[4].s), "v-ü-%d", (int)(r % (size_t)card));
        if (!x[4].null)
            assert_int_equal(pq_set_bytes(w, 4, x[4].s, strlen(x[4].s)), 0);
        x[5].null = r % 13 != 0;
        snprintf(x[5].s, sizeof(x[5].s), "{\"k\":[%d]}", (int)r);
        if (!x[5].null)
            assert_int_equal(pq_set_bytes(w, 5, x[5].s, strlen(x[5].s)), 0);
        /* a second set of the same column in a row is ignored */
        assert_int_equal(pq_set_i64(w, 0, 5), 0);
        assert_int_equal(pq_end_row(w), 0);
    }
    assert_int_equal(pq_set_bytes(w, 1, "x", 1), -EINVAL);   /* wrong type */
    pq_kv kv[] = { { "bytefreezer.manifest", "m-1" } };
    uint64_t size = 0;
    assert_int_equal(pq_writer_finish(w, kv, 1, &size), 0);
    pq_writer_destroy(w);
    close(fd);

    pqr_file *f;
    assert_int_equal(pqr_open(path, &f), 0);
    assert_int_equal(f->size, size);
    assert_int_equal(f->nrows, (int64_t)nrows);
    assert_int_equal(f->ncols, 6);
    assert_int_equal(f->cols[0].type, PQ_TIMESTAMP);
    assert_int_equal(f->cols[1].type, PQ_INT64);
    assert_int_equal(f->cols[4].type, PQ_STRING);
    assert_int_equal(f->cols[5].type, PQ_JSON);
    const char *v;
    assert_int_equal(pqr_kv(f, "bytefreezer.manifest", &v), 3);
    assert_memory_equal(v, "m-1", 3);
    size_t base = 0;
    for (size_t rg = 0; rg < f->nrg; rg++) {
        size_t rows = (size_t)pqr_rg_rows(f, rg);
        for (size_t c = 0; c < 6; c++) {
            pqr_column col;
            assert_int_equal(pqr_read_column(f, rg, c, &col), 0);
            assert_int_equal(col.n, rows);
            int64_t nulls = 0;
            for (size_t r = 0; r < rows; r++) {
                expect *x = &e[(base + r) * 6 + c];
                assert_int_equal(col.defined[r], !x->null);
                nulls += x->null;
                if (x->null)
                    continue;
                if (c == 2)
                    assert_true(col.f64[r] == x->d);
                else if (c >= 4) {
                    assert_int_equal(col.len[r], strlen(x->s));
                    assert_memory_equal(col.bytes + col.off[r], x->s, col.len[r]);
                } else
                    assert_true(col.i64[r] == x->i);
            }
            const tc_val *md = pqr_chunk_meta(f, rg, c);
            assert_int_equal(tc_get_int(md, 4, -1), codec);
            const tc_val *st = tc_get(md, 12);
            assert_non_null(st);
            assert_int_equal(tc_get_int(st, 3, -1), nulls);
            pqr_column_free(&col);
        }
        base += rows;
    }
    assert_int_equal(base, nrows);
    /* int64 stats of the first row group include 2^63-1 and -2^63 */
    const tc_val *st = tc_get(pqr_chunk_meta(f, 0, 1), 12);
    const tc_val *mx = tc_get(st, 5), *mn = tc_get(st, 6);
    int64_t mxv, mnv;
    memcpy(&mxv, mx->u.bin, 8);
    memcpy(&mnv, mn->u.bin, 8);
    assert_true(mxv == INT64_MAX);
    assert_true(mnv == INT64_MIN);
    pqr_close(f);
    free(e);
    unlink(path);
}

static void test_roundtrip_zstd_dict(void **s) { (void)s; roundtrip(PQ_CODEC_ZSTD, 0, 0, 0, 5000, 10); }
static void test_roundtrip_gzip_many_groups(void **s) { (void)s; roundtrip(PQ_CODEC_GZIP, 64 << 10, 4096, 0, 20000, 50); }
static void test_roundtrip_none_plain(void **s) { (void)s; roundtrip(PQ_CODEC_NONE, 256 << 10, 8192, 1, 7000, 1000000); }
static void test_roundtrip_dict_fallback(void **s) { (void)s; roundtrip(PQ_CODEC_ZSTD, 0, 0, 0, 30000, 1000000); }
#ifdef BF_HAVE_SNAPPY
static void test_roundtrip_snappy(void **s) { (void)s; roundtrip(PQ_CODEC_SNAPPY, 128 << 10, 16384, 0, 9000, 300); }
#endif

static void test_string_stats_truncated(void **state)
{
    (void)state;
    pq_coldef cols[] = { { "s", PQ_STRING } };
    char path[512];
    tmpfile_path(path, sizeof(path), "st");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pq_writer *w;
    assert_int_equal(pq_writer_create(fd, NULL, cols, 1, &w), 0);
    char big[300];
    memset(big, 'm', sizeof(big));
    assert_int_equal(pq_set_bytes(w, 0, big, sizeof(big)), 0);
    assert_int_equal(pq_end_row(w), 0);
    assert_int_equal(pq_set_bytes(w, 0, "\xc3\xa9t\xc3\xa9", 5), 0);   /* "été" sorts after 'm' as bytes */
    assert_int_equal(pq_end_row(w), 0);
    assert_int_equal(pq_end_row(w), 0);                              /* a null row */
    assert_int_equal(pq_writer_finish(w, NULL, 0, NULL), 0);
    pq_writer_destroy(w);
    close(fd);
    pqr_file *f;
    assert_int_equal(pqr_open(path, &f), 0);
    const tc_val *st = tc_get(pqr_chunk_meta(f, 0, 0), 12);
    const tc_val *mx = tc_get(st, 5), *mn = tc_get(st, 6);
    assert_int_equal(tc_get_int(st, 3, -1), 1);
    assert_int_equal(mx->n, 5);
    assert_memory_equal(mx->u.bin, "\xc3\xa9t\xc3\xa9", 5);
    assert_int_equal(mn->n, 64);                       /* truncated lower bound */
    assert_int_equal(tc_get_int(st, 8, 1), 0);         /* is_min_value_exact = false */
    pqr_close(f);
    unlink(path);
}

static void test_reader_rejects_garbage(void **state)
{
    (void)state;
    char path[512];
    tmpfile_path(path, sizeof(path), "bad");
    FILE *fp = fopen(path, "w");
    fputs("PAR1\x05\x00\x00\x00PAR1", fp);
    fclose(fp);
    pqr_file *f;
    assert_int_not_equal(pqr_open(path, &f), 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_roundtrip),
        cmocka_unit_test(test_rle_roundtrip),
        cmocka_unit_test(test_roundtrip_zstd_dict),
        cmocka_unit_test(test_roundtrip_gzip_many_groups),
        cmocka_unit_test(test_roundtrip_none_plain),
        cmocka_unit_test(test_roundtrip_dict_fallback),
#ifdef BF_HAVE_SNAPPY
        cmocka_unit_test(test_roundtrip_snappy),
#endif
        cmocka_unit_test(test_string_stats_truncated),
        cmocka_unit_test(test_reader_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
