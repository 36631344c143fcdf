/* fuzz_packer_roundtrip: random JSON records -> packer converter -> Parquet -> our reader, checking that
 * every record comes back: row count, and every member's value under the column type that schema
 * inference chose (ints exact, doubles equal, strings byte-equal after UTF-8 repair, nested values as
 * their JSON text, nulls/absent as null, non-JSON lines in _unparsed). Writer options (codec, tiny row
 * groups and pages, dictionary on/off) come from the input too. Inputs starting with "PAR1" are also
 * opened as Parquet files to exercise the reader against hostile footers and pages. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../packer/convert.h"
#include "../../packer/jscan.h"
#include "../../packer/pqread.h"

#define MAXREC 64
#define MAXF 6
static const char *KEYS[] = { "a", "b", "c", "d", "BfTs", "e\\u00e9" };
static const char *KEYS_DEC[] = { "a", "b", "c", "d", "BfTs", "e\xc3\xa9" };
static const char *NESTED[] = { "{\"x\":[1,2]}", "[]", "{}", "[\"s\",{\"k\":null}]", "[true,false]" };
static const char *DOUBLES[] = { "1.5", "-0.25", "1e3", "2.5E-3", "-7.0" };

typedef enum { V_NULL, V_INT, V_DBL, V_BOOL, V_STR, V_NEST } vkind;
typedef struct field { int key; vkind k; int64_t i; double d; int b; char raw[160]; size_t rawlen; pk_buf dec; } field;
typedef struct rec { int invalid; char line[1400]; size_t linelen; field f[MAXF]; int nf; } rec;

typedef struct src { const uint8_t *p; size_t n, pos; } src;
static uint8_t take(src *s) { return s->pos < s->n ? s->p[s->pos++] : 0; }

static void gen_string(src *s, field *f)
{
    /* raw JSON string text and the decoded bytes we expect back */
    size_t n = take(s) % 24;
    pk_buf raw = { 0 };
    pk_buf_u8(&raw, '"');
    pk_buf tmp = { 0 };
    for (size_t i = 0; i < n; i++) {
        uint8_t c = take(s);
        switch (c % 8) {
        case 0: pk_buf_put(&raw, "\\n", 2); pk_buf_u8(&tmp, '\n'); break;
        case 1: pk_buf_put(&raw, "\\u00fc", 6); pk_buf_put(&tmp, "\xc3\xbc", 2); break;
        case 2: pk_buf_put(&raw, "\\\"", 2); pk_buf_u8(&tmp, '"'); break;
        case 3: pk_buf_u8(&raw, c | 0x80); pk_buf_u8(&tmp, c | 0x80); break;   /* maybe invalid UTF-8 */
        default: {
            uint8_t a = (uint8_t)(' ' + 1 + c % 90);
            if (a == '"' || a == '\\')
                a = 'x';
            pk_buf_u8(&raw, a);
            pk_buf_u8(&tmp, a);
        }
        }
    }
    pk_buf_u8(&raw, '"');
    size_t m = raw.n < sizeof(f->raw) ? raw.n : 0;
    memcpy(f->raw, raw.p, m);
    f->rawlen = m;
    f->dec.n = 0;
    js_utf8_sanitize(&f->dec, tmp.p, tmp.n);
    pk_buf_free(&raw);
    pk_buf_free(&tmp);
}

static void gen_record(src *s, rec *r)
{
    memset(r->f, 0, sizeof(r->f));
    r->nf = 0;
    r->invalid = take(s) % 16 == 0;
    if (r->invalid) {
        size_t n = take(s) % 40;
        for (size_t i = 0; i < n; i++) {
            uint8_t c = take(s);
            r->line[i] = (char)(c == '\n' || c == '\r' || c == 0 ? '#' : c);
        }
        /* starts with a letter: never blank (blank lines are not records), never an object */
        r->line[0] = 'x';
        r->linelen = n ? n : 1;
        return;
    }
    int nf = take(s) % (MAXF + 1);
    size_t o = 0;
    r->line[o++] = '{';
    for (int i = 0; i < nf; i++) {
        field *f = &r->f[i];
        f->key = take(s) % 6;
        f->k = (vkind)(take(s) % 6);
        uint8_t c = take(s);
        switch (f->k) {
        case V_NULL: f->rawlen = (size_t)sprintf(f->raw, "null"); break;
        case V_INT: {
            int64_t v = 0;
            for (int b = 0; b < 8; b++)
                v = (int64_t)((uint64_t)v << 8 | take(s));
            if (c % 2)
                v %= 1000;
            f->i = v;
            f->rawlen = (size_t)sprintf(f->raw, "%lld", (long long)v);
            break;
        }
        case V_DBL:
            f->rawlen = (size_t)sprintf(f->raw, "%s", DOUBLES[c % 5]);
            f->d = strtod(f->raw, NULL);
            break;
        case V_BOOL: f->b = c % 2; f->rawlen = (size_t)sprintf(f->raw, f->b ? "true" : "false"); break;
        case V_STR: gen_string(s, f); break;
        default: f->rawlen = (size_t)sprintf(f->raw, "%s", NESTED[c % 5]);
        }
        o += (size_t)sprintf(r->line + o, "%s\"%s\":%.*s", i ? "," : "", KEYS[f->key], (int)f->rawlen, f->raw);
    }
    r->line[o++] = '}';
    r->linelen = o;
    r->nf = nf;
}

typedef struct check { rec *recs; int n; int64_t recv_ms; uint64_t rows; } check;

/* the member with this key in the record: a repeated key keeps its first non-null value */
static const field *member(const rec *r, const char *name)
{
    const field *null = NULL;
    for (int i = 0; i < r->nf; i++)
        if (!strcmp(KEYS_DEC[r->f[i].key], name)) {
            if (r->f[i].k != V_NULL)
                return &r->f[i];
            null = &r->f[i];
        }
    return null;
}

static int same(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (an == 0 || !memcmp(a, b, an));
}

static void verify_value(const pqr_col *col, const pqr_column *v, size_t row, const field *f)
{
    if (!f || f->k == V_NULL) {
        if (v->defined[row])
            abort();
        return;
    }
    if (!v->defined[row])
        abort();
    const uint8_t *b = v->bytes + v->off[row];
    size_t bl = v->len[row];
    switch (col->type) {
    case PQ_INT64: if (f->k != V_INT || v->i64[row] != f->i) abort(); break;
    case PQ_DOUBLE: if (v->f64[row] != (f->k == V_INT ? (double)f->i : f->d)) abort(); break;
    case PQ_BOOL: if (f->k != V_BOOL || v->i64[row] != f->b) abort(); break;
    case PQ_TIMESTAMP: break;   /* a string that happened to be a date, or BfTs numbers */
    case PQ_STRING:
        /* strings decoded; numbers, bools and nested values as their JSON text */
        if (f->k == V_STR ? !same(b, bl, f->dec.p, f->dec.n) : !same(b, bl, f->raw, f->rawlen))
            abort();
        break;
    case PQ_JSON:
        if (f->k == V_STR) {
            pk_buf want = { 0 };
            js_utf8_sanitize(&want, (const uint8_t *)f->raw, f->rawlen);
            if (!same(b, bl, want.p, want.n))
                abort();
            pk_buf_free(&want);
        } else if (!same(b, bl, f->raw, f->rawlen)) {
            abort();
        }
        break;
    }
}

static int on_part(void *ud, const pk_part_out *p)
{
    check *ck = ud;
    pqr_file *f;
    if (pqr_open(p->path, &f) != 0)
        abort();
    if ((int64_t)p->rows != f->nrows || strcmp(f->cols[0].name, "BfTs"))
        abort();
    size_t base = 0;
    for (size_t rg = 0; rg < f->nrg; rg++) {
        pqr_column *cols = calloc(f->ncols, sizeof(pqr_column));
        for (size_t c = 0; c < f->ncols; c++)
            if (pqr_read_column(f, rg, c, &cols[c]) != 0)
                abort();
        for (size_t r = 0; r < cols[0].n; r++) {
            const rec *rc = &ck->recs[base + r];
            for (size_t c = 0; c < f->ncols; c++) {
                const char *name = f->cols[c].name;
                if (rc->invalid) {
                    if (!strcmp(name, "_unparsed")) {
                        pk_buf want = { 0 };
                        js_utf8_sanitize(&want, (const uint8_t *)rc->line, rc->linelen);
                        if (!cols[c].defined[r] || !same(cols[c].bytes + cols[c].off[r], cols[c].len[r], want.p, want.n)) {
                            if (getenv("FUZZ_DEBUG"))
                                fprintf(stderr, "want [%.*s] got [%.*s]\n", (int)want.n, want.p, (int)cols[c].len[r],
                                        cols[c].bytes + cols[c].off[r]);
                            abort();
                        }
                        pk_buf_free(&want);
                    } else if (strcmp(name, "BfTs") && cols[c].defined[r]) {
                        abort();
                    }
                    continue;
                }
                const field *m = member(rc, name);
                if (!strcmp(name, "BfTs") && !m) {
                    /* injected receive time */
                    if (!cols[c].defined[r] || (f->cols[c].type == PQ_TIMESTAMP && cols[c].i64[r] != ck->recv_ms * 1000))
                        abort();
                    continue;
                }
                if (!strcmp(name, "_unparsed")) {
                    if (cols[c].defined[r])
                        abort();
                    continue;
                }
                verify_value(&f->cols[c], &cols[c], r, m);
            }
        }
        base += cols[0].n;
        for (size_t c = 0; c < f->ncols; c++)
            pqr_column_free(&cols[c]);
        free(cols);
    }
    ck->rows += base;
    pqr_close(f);
    return 0;
}

static void reader_only(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_packer_pq_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return;
    }
    close(fd);
    pqr_file *f;
    if (pqr_open(path, &f) == 0) {
        for (size_t rg = 0; rg < f->nrg && rg < 4; rg++)
            for (size_t c = 0; c < f->ncols && c < 16; c++) {
                pqr_column col;
                if (pqr_read_column(f, rg, c, &col) == 0)
                    pqr_column_free(&col);
            }
        pqr_close(f);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4 && !memcmp(data, "PAR1", 4)) {
        reader_only(data, size);
        return 0;
    }
    src s = { data, size, 0 };
    uint8_t opt = take(&s);
    pk_conv_opts o = { .spill_dir = "/tmp", .partitioning = PK_PART_NONE };
    static const pq_codec codecs[] = { PQ_CODEC_ZSTD, PQ_CODEC_GZIP, PQ_CODEC_NONE, PQ_CODEC_ZSTD };
    o.pq.codec = codecs[opt & 3];
    o.pq.no_dictionary = opt >> 2 & 1;
    o.spill_memory = opt >> 7 ? 300 : 0;   /* memory then disk, or disk only */
    if (opt >> 3 & 1) {
        o.pq.row_group_bytes = 200;   /* many row groups and pages */
        o.pq.page_bytes = 64;
    }
    int nrec = take(&s) % MAXREC;
    rec *recs = calloc((size_t)nrec + 1, sizeof(rec));
    pk_buf text = { 0 };
    for (int i = 0; i < nrec; i++) {
        gen_record(&s, &recs[i]);
        pk_buf_put(&text, recs[i].line, recs[i].linelen);
        pk_buf_u8(&text, '\n');
    }
    check ck = { .recs = recs, .n = nrec, .recv_ms = 1764237600000 };
    pk_conv *c;
    if (pk_conv_create(&o, &c) != 0)
        abort();
    pk_conv_set_recv_ms(c, ck.recv_ms);
    size_t chunk = 1 + (opt >> 4) * 7;
    for (size_t i = 0; i < text.n; i += chunk)
        if (pk_conv_feed(c, text.p + i, text.n - i < chunk ? text.n - i : chunk) != 0)
            abort();
    if (pk_conv_finish(c, on_part, &ck) != 0)
        abort();
    pk_conv_destroy(c);
    if (ck.rows != (uint64_t)nrec)
        abort();
    for (int i = 0; i < nrec; i++)
        for (int j = 0; j < MAXF; j++)
            pk_buf_free(&recs[i].f[j].dec);
    free(recs);
    pk_buf_free(&text);
    return 0;
}
