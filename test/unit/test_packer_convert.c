/* convert + schema: NDJSON -> Parquet through the two passes, read back with our reader.
 * Widening (int -> double -> string), late fields backfilled with nulls, BfTs first and injected
 * when absent, invalid lines kept, exact big integers, time detection, partitions, column cap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../packer/convert.h"
#include "../../packer/pqread.h"
#include "../../packer/schema.h"

typedef struct got { char dump[8][4096]; char parts[8][64]; uint64_t rows[8]; int n; } got;

/* One line per row: col=value|… with the column's type letter, nulls omitted. */
static void dump(const char *path, char *out, size_t outlen)
{
    pqr_file *f;
    assert_int_equal(pqr_open(path, &f), 0);
    size_t o = 0;
    o += (size_t)snprintf(out + o, outlen - o, "schema:");
    for (size_t c = 0; c < f->ncols; c++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s:%s", c ? "," : "", f->cols[c].name, pq_type_name(f->cols[c].type));
    o += (size_t)snprintf(out + o, outlen - o, "\n");
    for (size_t rg = 0; rg < f->nrg; rg++) {
        pqr_column *cols = calloc(f->ncols, sizeof(pqr_column));
        for (size_t c = 0; c < f->ncols; c++)
            assert_int_equal(pqr_read_column(f, rg, c, &cols[c]), 0);
        for (size_t r = 0; r < cols[0].n; r++) {
            for (size_t c = 0; c < f->ncols; c++) {
                if (!cols[c].defined[r])
                    continue;
                o += (size_t)snprintf(out + o, outlen - o, "%s=", f->cols[c].name);
                switch (f->cols[c].type) {
                case PQ_DOUBLE: o += (size_t)snprintf(out + o, outlen - o, "%g", cols[c].f64[r]); break;
                case PQ_STRING:
                case PQ_JSON:
                    o += (size_t)snprintf(out + o, outlen - o, "'%.*s'", (int)cols[c].len[r], cols[c].bytes + cols[c].off[r]);
                    break;
                default: o += (size_t)snprintf(out + o, outlen - o, "%" PRId64, cols[c].i64[r]);
                }
                o += (size_t)snprintf(out + o, outlen - o, "|");
            }
            o += (size_t)snprintf(out + o, outlen - o, "\n");
        }
        for (size_t c = 0; c < f->ncols; c++)
            pqr_column_free(&cols[c]);
        free(cols);
    }
    pqr_close(f);
}

static int on_part(void *ud, const pk_part_out *p)
{
    got *g = ud;
    assert_true(g->n < 8);
    dump(p->path, g->dump[g->n], sizeof(g->dump[0]));
    snprintf(g->parts[g->n], sizeof(g->parts[0]), "%s", p->partition);
    g->rows[g->n] = p->rows;
    g->n++;
    return 0;
}

static void run(const pk_conv_opts *base, const char *input, size_t chunk, got *g, pk_conv_stats *st)
{
    pk_conv_opts o = *base;
    o.spill_dir = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    pk_conv *c;
    assert_int_equal(pk_conv_create(&o, &c), 0);
    pk_conv_set_recv_ms(c, 1764237600000);   /* 2025-11-27T10:00:00Z */
    size_t n = strlen(input);
    for (size_t i = 0; i < n; i += chunk)
        assert_int_equal(pk_conv_feed(c, input + i, n - i < chunk ? n - i : chunk), 0);
    memset(g, 0, sizeof(*g));
    assert_int_equal(pk_conv_finish(c, on_part, g), 0);
    if (st)
        pk_conv_get_stats(c, st);
    pk_conv_destroy(c);
}

static void test_widening_backfill_invalid(void **s)
{
    (void)s;
    const char *in = "{\"BfTs\":1764237600001,\"a\":1}\n"
                     "\n"
                     "{\"BfTs\":1764237600002,\"a\":2.5,\"b\":\"x\"}\n"
                     "{\"a\":\"s\",\"c\":{\"x\":[1,\"\xc3\xbc\"]}}\n"
                     "not json \xff\n"
                     "{\"BfTs\":1764237600003,\"d\":true,\"a\":null,\"b\":\"\"}";
    pk_conv_opts o = { .partitioning = PK_PART_NONE };
    /* spill to disk only, memory then disk (mid-partition switch), memory only */
    static const uint64_t spill_mem[] = { 0, 100, 1 << 20 };
    for (size_t chunk = 1, v = 0; chunk <= 256; chunk *= 4, v++) {
        got g;
        pk_conv_stats st;
        o.spill_memory = spill_mem[v % 3];
        run(&o, in, chunk, &g, &st);
        assert_int_equal(g.n, 1);
        assert_int_equal(st.invalid, 1);
        assert_int_equal(st.lines, 5);
        const char *want =
            "schema:BfTs:TIMESTAMP,a:STRING,b:STRING,c:JSON,_unparsed:STRING,d:BOOLEAN\n"
            "BfTs=1764237600001000|a='1'|\n"
            "BfTs=1764237600002000|a='2.5'|b='x'|\n"
            "BfTs=1764237600000000|a='s'|c='{\"x\":[1,\"\xc3\xbc\"]}'|\n"
            "BfTs=1764237600000000|_unparsed='not json \xef\xbf\xbd'|\n"
            "BfTs=1764237600003000|b=''|d=1|\n";
        assert_string_equal(g.dump[0], want);
    }
}

static void test_exact_ints_and_doubles(void **s)
{
    (void)s;
    const char *in = "{\"BfTs\":1764237600000,\"i\":4611686018427387905,\"d\":1}\n"
                     "{\"BfTs\":1764237600000,\"i\":9223372036854775807,\"d\":0.5}\n"
                     "{\"BfTs\":1764237600000,\"i\":-9223372036854775808,\"d\":-2e3}\n";
    pk_conv_opts o = { .partitioning = PK_PART_HIVE_DAY };
    got g;
    run(&o, in, 1 << 20, &g, NULL);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.parts[0], "year=2025/month=11/day=27");
    assert_string_equal(g.dump[0], "schema:BfTs:TIMESTAMP,i:INT64,d:DOUBLE\n"
                                   "BfTs=1764237600000000|i=4611686018427387905|d=1|\n"
                                   "BfTs=1764237600000000|i=9223372036854775807|d=0.5|\n"
                                   "BfTs=1764237600000000|i=-9223372036854775808|d=-2000|\n");
}

static void test_partitions_and_time_field(void **s)
{
    (void)s;
    /* time_field "ts" decides the partition; BfTs stays the first column */
    const char *in = "{\"msg\":\"a\",\"ts\":\"2025-11-27T11:30:00+01:00\",\"BfTs\":1764237600000}\n"
                     "{\"msg\":\"b\",\"ts\":\"2025-11-27T12:59:59.5Z\",\"BfTs\":1764237600000}\n"
                     "{\"msg\":\"c\",\"ts\":1764208800,\"BfTs\":1764237600000}\n"
                     "{\"msg\":\"d\",\"BfTs\":1764244800000}\n";
    pk_conv_opts o = { .partitioning = PK_PART_HIVE_HOUR, .time_field = "ts", .spill_memory = 150 };
    got g;
    run(&o, in, 7, &g, NULL);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.parts[0], "year=2025/month=11/day=27/hour=02");
    assert_string_equal(g.parts[1], "year=2025/month=11/day=27/hour=10");
    assert_string_equal(g.parts[2], "year=2025/month=11/day=27/hour=12");
    assert_int_equal(g.rows[1], 1);
    assert_string_equal(g.dump[1], "schema:BfTs:TIMESTAMP,msg:STRING,ts:TIMESTAMP\n"
                                   "BfTs=1764237600000000|msg='a'|ts=1764239400000000|\n");
    assert_string_equal(g.dump[2], "schema:BfTs:TIMESTAMP,msg:STRING,ts:TIMESTAMP\n"
                                   "BfTs=1764237600000000|msg='b'|ts=1764248399500000|\n"
                                   "BfTs=1764244800000000|msg='d'|\n");
}

static void test_time_detection(void **s)
{
    (void)s;
    const char *in = "{\"t\":\"2025-11-27T10:00:00Z\",\"u\":\"2025-11-27T10:00:00Z\",\"v\":\"2025-11-27 10:00:00\"}\n"
                     "{\"t\":\"2025-11-27T10:00:01.250Z\",\"u\":\"yesterday\",\"v\":null}\n";
    pk_conv_opts o = { .partitioning = PK_PART_NONE };
    got g;
    run(&o, in, 1 << 20, &g, NULL);
    assert_string_equal(g.dump[0], "schema:BfTs:TIMESTAMP,t:TIMESTAMP,u:STRING,v:STRING\n"
                                   "BfTs=1764237600000000|t=1764237600000000|u='2025-11-27T10:00:00Z'|v='2025-11-27 10:00:00'|\n"
                                   "BfTs=1764237600000000|t=1764237601250000|u='yesterday'|\n");
}

static void test_column_cap_and_long_lines(void **s)
{
    (void)s;
    char in[4096];
    snprintf(in, sizeof(in), "{\"BfTs\":1764237600000,\"a\":1,\"b\":2,\"c\":3,\"d\":\"x\"}\n{\"BfTs\":1764237600000,\"a\":1,\"e\":\"%0300d\"}\n", 7);
    pk_conv_opts o = { .partitioning = PK_PART_NONE, .max_columns = 3, .max_line_bytes = 200 };
    got g;
    pk_conv_stats st;
    run(&o, in, 13, &g, &st);
    assert_int_equal(st.invalid, 1);
    assert_int_equal(st.overflow_fields, 2);
    /* the long line is kept (truncated) as _unparsed; c and d overflow into one JSON column */
    assert_non_null(strstr(g.dump[0], "schema:BfTs:TIMESTAMP,a:INT64,b:INT64,_overflow:JSON,_unparsed:STRING\n"));
    assert_non_null(strstr(g.dump[0], "BfTs=1764237600000000|a=1|b=2|_overflow='{\"c\":3,\"d\":\"x\"}'|\n"));
    assert_non_null(strstr(g.dump[0], "_unparsed='{\"BfTs\":1764237600000,\"a\":1,\"e\":\"000"));
}

static void test_kind_join_and_time_parse(void **s)
{
    (void)s;
    assert_int_equal(pk_kind_join(PK_K_INT, PK_K_DOUBLE), PK_K_DOUBLE);
    assert_int_equal(pk_kind_join(PK_K_DOUBLE, PK_K_STRING), PK_K_STRING);
    assert_int_equal(pk_kind_join(PK_K_NONE, PK_K_BOOL), PK_K_BOOL);
    assert_int_equal(pk_kind_join(PK_K_BOOL, PK_K_INT), PK_K_STRING);
    assert_int_equal(pk_kind_join(PK_K_JSON, PK_K_INT), PK_K_JSON);
    assert_int_equal(pk_kind_join(PK_K_JSON, PK_K_STRING), PK_K_STRING);
    assert_int_equal(pk_kind_join(PK_K_TIME, PK_K_INT), PK_K_STRING);
    int64_t us;
    assert_int_equal(pk_parse_time("2024-02-29T23:59:59.999999Z", 27, 1, &us), 0);
    assert_true(us == 1709251199999999ll);
    assert_int_equal(pk_parse_time("1969-12-31T23:59:59-00:30", 25, 1, &us), 0);
    assert_true(us == 1799000000ll);
    assert_int_not_equal(pk_parse_time("2023-02-29T00:00:00Z", 20, 1, &us), 0);
    assert_int_not_equal(pk_parse_time("2023-01-01T00:00:00", 19, 1, &us), 0);
    assert_int_equal(pk_parse_time("2023-01-01T00:00:00", 19, 0, &us), 0);
    assert_true(pk_epoch_us(1764237600) == 1764237600000000ll);
    assert_true(pk_epoch_us(1764237600000) == 1764237600000000ll);
    assert_true(pk_epoch_us(1764237600000000) == 1764237600000000ll);
    assert_true(pk_epoch_us(1764237600000000000) == 1764237600000000ll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widening_backfill_invalid),
        cmocka_unit_test(test_exact_ints_and_doubles),
        cmocka_unit_test(test_partitions_and_time_field),
        cmocka_unit_test(test_time_detection),
        cmocka_unit_test(test_column_cap_and_long_lines),
        cmocka_unit_test(test_kind_join_and_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
