/* inspect: human-readable dump of a Parquet file (see inspect.h). */
#include "inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "partition.h"
#include "pqread.h"

static const char *ENCODINGS[] = { "PLAIN", "?", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
                                   "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY",
                                   "BYTE_STREAM_SPLIT" };
static const char *CODECS[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW" };

static void print_time_us(FILE *out, int64_t us)
{
    int y, mo, d, h, mi, s;
    int64_t sec = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        sec--;
    }
    pk_civil(sec, &y, &mo, &d, &h, &mi, &s);
    fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, d, h, mi, s, (int)frac);
}

static void print_json_str(FILE *out, const uint8_t *p, size_t n)
{
    pk_buf b = { 0 };
    if (js_quote(&b, (const char *)p, n) == 0)
        fwrite(b.p, 1, b.n, out);
    pk_buf_free(&b);
}

static void print_stat(FILE *out, const pqr_col *c, const tc_val *v)
{
    if (!v || v->type != TC_BINARY) {
        fputs("-", out);
        return;
    }
    if ((c->type == PQ_INT64 || c->type == PQ_TIMESTAMP || c->type == PQ_DOUBLE) && v->n == 8) {
        int64_t i;
        double d;
        memcpy(&i, v->u.bin, 8);
        memcpy(&d, v->u.bin, 8);
        if (c->type == PQ_INT64)
            fprintf(out, "%" PRId64, i);
        else if (c->type == PQ_DOUBLE)
            fprintf(out, "%.17g", d);
        else
            print_time_us(out, i);
    } else if (c->type == PQ_BOOL && v->n == 1) {
        fputs(v->u.bin[0] ? "true" : "false", out);
    } else {
        print_json_str(out, v->u.bin, v->n);
    }
}

static void print_chunks(const pqr_file *f, FILE *out)
{
    for (size_t rg = 0; rg < f->nrg; rg++) {
        fprintf(out, "row group %zu: rows=%" PRId64 " bytes=%" PRId64 " compressed=%" PRId64 "\n", rg,
                pqr_rg_rows(f, rg), tc_get_int(&f->rgs[rg], 2, 0), tc_get_int(&f->rgs[rg], 6, 0));
        for (size_t c = 0; c < f->ncols; c++) {
            const tc_val *md = pqr_chunk_meta(f, rg, c);
            if (!md)
                continue;
            int64_t codec = tc_get_int(md, 4, 0);
            fprintf(out, "  %-24s %-12s", f->cols[c].name, codec >= 0 && codec < 8 ? CODECS[codec] : "?");
            const tc_val *enc = tc_get(md, 2);
            fputs(" enc=", out);
            for (uint32_t i = 0; enc && enc->type == TC_LIST && i < enc->n; i++) {
                int64_t e = enc->u.kids[i].u.i;
                fprintf(out, "%s%s", i ? "," : "", e >= 0 && e < 10 ? ENCODINGS[e] : "?");
            }
            fprintf(out, " size=%" PRId64 "/%" PRId64, tc_get_int(md, 7, 0), tc_get_int(md, 6, 0));
            const tc_val *st = tc_get(md, 12);
            if (st) {
                fprintf(out, " nulls=%" PRId64 " min=", tc_get_int(st, 3, 0));
                print_stat(out, &f->cols[c], tc_get(st, 6));
                fputs(" max=", out);
                print_stat(out, &f->cols[c], tc_get(st, 5));
            }
            fputc('\n', out);
        }
    }
}

static void print_value(FILE *out, const pqr_col *c, const pqr_column *v, size_t r)
{
    if (!v->defined[r]) {
        fputs("null", out);
        return;
    }
    switch (c->type) {
    case PQ_BOOL: fputs(v->i64[r] ? "true" : "false", out); break;
    case PQ_INT64: fprintf(out, "%" PRId64, v->i64[r]); break;
    case PQ_DOUBLE: fprintf(out, "%.17g", v->f64[r]); break;
    case PQ_TIMESTAMP:
        fputc('"', out);
        print_time_us(out, v->i64[r]);
        fputc('"', out);
        break;
    case PQ_JSON: fwrite(v->bytes + v->off[r], 1, v->len[r], out); break;
    default: print_json_str(out, v->bytes + v->off[r], v->len[r]);
    }
}

static int print_rows(pqr_file *f, size_t max_rows, FILE *out, FILE *err)
{
    size_t shown = 0;
    for (size_t rg = 0; rg < f->nrg && shown < max_rows; rg++) {
        pqr_column *cols = calloc(f->ncols, sizeof(pqr_column));
        if (!cols)
            return -ENOMEM;
        int rc = 0;
        for (size_t c = 0; c < f->ncols && rc == 0; c++)
            if ((rc = pqr_read_column(f, rg, c, &cols[c])) < 0)
                fprintf(err, "cannot decode column %s of row group %zu: %s\n", f->cols[c].name, rg, strerror(-rc));
        for (size_t r = 0; rc == 0 && r < cols[0].n && shown < max_rows; r++, shown++) {
            fputc('{', out);
            for (size_t c = 0; c < f->ncols; c++) {
                if (c)
                    fputc(',', out);
                print_json_str(out, (const uint8_t *)f->cols[c].name, strlen(f->cols[c].name));
                fputc(':', out);
                print_value(out, &f->cols[c], &cols[c], r);
            }
            fputs("}\n", out);
        }
        for (size_t c = 0; c < f->ncols; c++)
            pqr_column_free(&cols[c]);
        free(cols);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pk_inspect(const char *path, size_t max_rows, FILE *out, FILE *err)
{
    pqr_file *f;
    int rc = pqr_open(path, &f);
    if (rc < 0) {
        fprintf(err, "%s: not a readable Parquet file (%s)\n", path, strerror(-rc));
        return rc;
    }
    fprintf(out, "file: %s\nsize: %" PRIu64 "\nrows: %" PRId64 "\nrow groups: %zu\ncreated_by: %.*s\n", path, f->size,
            f->nrows, f->nrg, (int)f->created_by_len, f->created_by ? f->created_by : "");
    fprintf(out, "schema (%zu columns):\n", f->ncols);
    for (size_t c = 0; c < f->ncols; c++)
        fprintf(out, "  %-24s %-10s %s\n", f->cols[c].name, pq_type_name(f->cols[c].type),
                f->cols[c].repetition == 1 ? "OPTIONAL" : "REQUIRED");
    const tc_val *kv = tc_get(&f->meta.root, 5);
    for (uint32_t i = 0; kv && kv->type == TC_LIST && i < kv->n; i++) {
        const tc_val *k = tc_get(&kv->u.kids[i], 1), *v = tc_get(&kv->u.kids[i], 2);
        if (k && k->type == TC_BINARY)
            fprintf(out, "metadata %.*s: %.*s\n", (int)k->n, k->u.bin, v && v->type == TC_BINARY ? (int)v->n : 0,
                    v && v->type == TC_BINARY ? (const char *)v->u.bin : "");
    }
    print_chunks(f, out);
    fprintf(out, "first rows:\n");
    rc = print_rows(f, max_rows, out, err);
    pqr_close(f);
    return rc;
}
