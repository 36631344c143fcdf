/* schema: column inference and time parsing (see schema.h). */
#include "schema.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = PK_K_NONE, B = PK_K_BOOL, I = PK_K_INT, D = PK_K_DOUBLE, T = PK_K_TIME, S = PK_K_STRING, J = PK_K_JSON };
/* JOIN[a][b]: the widening lattice */
static const uint8_t JOIN[PK_K__N][PK_K__N] = {
    /*        N  B  I  D  T  S  J */
    /* N */ { N, B, I, D, T, S, J },
    /* B */ { B, B, S, S, S, S, J },
    /* I */ { I, S, I, D, S, S, J },
    /* D */ { D, S, D, D, S, S, J },
    /* T */ { T, S, S, S, T, S, S },
    /* S */ { S, S, S, S, S, S, S },
    /* J */ { J, J, J, J, S, S, J },
};

typedef struct kind_row { const char *name; pq_type pq; } kind_row;
static const kind_row KINDS[PK_K__N] = {
    [PK_K_NONE] = { "null", PQ_STRING }, [PK_K_BOOL] = { "boolean", PQ_BOOL },
    [PK_K_INT] = { "int64", PQ_INT64 }, [PK_K_DOUBLE] = { "double", PQ_DOUBLE },
    [PK_K_TIME] = { "timestamp", PQ_TIMESTAMP }, [PK_K_STRING] = { "string", PQ_STRING },
    [PK_K_JSON] = { "json", PQ_JSON },
};

pk_kind pk_kind_join(pk_kind a, pk_kind b) { return (pk_kind)JOIN[a][b]; }
pq_type pk_kind_pqtype(pk_kind k) { return KINDS[k].pq; }
const char *pk_kind_name(pk_kind k) { return KINDS[k].name; }

/* 8 bytes per step: keys are hashed for every member of every record */
uint32_t pk_hash(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n, w;
    while (n >= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

void pk_schema_free(pk_schema *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->cols[i].name);
    free(s->cols);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

int pk_schema_find(const pk_schema *s, const char *name, size_t len, uint32_t hash)
{
    if (!s->slots)
        return -1;
    for (uint32_t k = hash & s->mask;; k = (k + 1) & s->mask) {
        uint32_t e = s->slots[k];
        if (!e)
            return -1;
        const pk_scol *c = &s->cols[e - 1];
        if (c->hash == hash && c->len == len && !memcmp(c->name, name, len))
            return (int)(e - 1);
    }
}

static int rehash(pk_schema *s)
{
    uint32_t ns = s->mask ? (s->mask + 1) * 2 : 64;
    uint32_t *sl = calloc(ns, sizeof(uint32_t));
    if (!sl)
        return -ENOMEM;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t k = s->cols[i].hash & (ns - 1);
        while (sl[k])
            k = (k + 1) & (ns - 1);
        sl[k] = i + 1;
    }
    free(s->slots);
    s->slots = sl;
    s->mask = ns - 1;
    return 0;
}

int pk_schema_add(pk_schema *s, const char *name, size_t len, uint32_t hash, int is_time)
{
    if (s->n >= 1000000)
        return -E2BIG;
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 16;
        pk_scol *c = realloc(s->cols, nc * sizeof(pk_scol));
        if (!c)
            return -ENOMEM;
        s->cols = c;
        s->cap = nc;
    }
    if ((s->n + 1) * 2 > (s->mask ? s->mask + 1 : 0) && rehash(s) < 0)
        return -ENOMEM;
    pk_scol *c = &s->cols[s->n];
    c->name = malloc(len + 1);
    if (!c->name)
        return -ENOMEM;
    memcpy(c->name, name, len);
    c->name[len] = 0;
    c->len = (uint32_t)len;
    c->hash = hash;
    c->kind = PK_K_NONE;
    c->is_time = is_time;
    uint32_t k = hash & s->mask;
    while (s->slots[k])
        k = (k + 1) & s->mask;
    s->slots[k] = s->n + 1;
    return (int)s->n++;
}

int pk_schema_json(const pk_schema *s, pk_buf *out)
{
    int rc = pk_buf_u8(out, '[');
    for (uint32_t i = 0; rc == 0 && i < s->n; i++) {
        if (i)
            rc = pk_buf_u8(out, ',');
        if (rc == 0)
            rc = pk_buf_put(out, "{\"name\":", 8);
        if (rc == 0)
            rc = js_quote(out, s->cols[i].name, s->cols[i].len);
        if (rc == 0)
            rc = pk_buf_put(out, ",\"type\":\"", 9);
        if (rc == 0)
            rc = pk_buf_put(out, KINDS[s->cols[i].kind].name, strlen(KINDS[s->cols[i].kind].name));
        if (rc == 0)
            rc = pk_buf_put(out, "\"}", 2);
    }
    return rc == 0 ? pk_buf_u8(out, ']') : rc;
}

/* ---------------- time ---------------- */

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static const uint8_t MDAYS[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

int pk_parse_time(const char *s, size_t n, int require_zone, int64_t *us)
{
    int Y, M, D, h, m, sec;
    if (n < 19 || n > 40 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > MDAYS[M - 1] || h > 23 || m > 59 || sec > 60)
        return -EINVAL;
    if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
        return -EINVAL;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6)
                frac = frac * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0 || nd > 9)
            return -EINVAL;
        for (int k = nd; k < 6; k++)
            frac *= 10;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (n - i != 6 || digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -EINVAL;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else if (require_zone) {
        return -EINVAL;
    }
    if (i != n)
        return -EINVAL;
    if (sec == 60)   /* leap second: clamp, a timestamp cannot hold it */
        sec = 59;
    int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - off;
    *us = t * 1000000 + frac;
    return 0;
}

int64_t pk_epoch_us(int64_t v)
{
    int64_t a = v < 0 ? -(v + 1) : v;
    if (a < 100000000000ll)
        return v * 1000000;
    if (a < 100000000000000ll)
        return v * 1000;
    if (a < 100000000000000000ll)
        return v;
    return v / 1000;
}

int pk_epoch_us_double(double v, int64_t *us)
{
    if (!isfinite(v))
        return -ERANGE;
    double a = fabs(v), r;
    if (a < 1e11)
        r = v * 1e6;
    else if (a < 1e14)
        r = v * 1e3;
    else if (a < 1e17)
        r = v;
    else
        r = v / 1e3;
    if (r >= 9.2e18 || r <= -9.2e18)
        return -ERANGE;
    *us = (int64_t)llround(r);
    return 0;
}

pk_kind pk_classify(js_scanner *js, const js_field *f, pk_kind cur, int is_time)
{
    switch (f->type) {
    case JS_NULL:
        return PK_K_NONE;
    case JS_TRUE:
    case JS_FALSE:
        return PK_K_BOOL;
    case JS_INT:
        return is_time ? PK_K_TIME : PK_K_INT;
    case JS_DOUBLE:
    case JS_BIGINT: {
        int64_t us;
        return is_time && pk_epoch_us_double(f->d, &us) == 0 ? PK_K_TIME : PK_K_DOUBLE;
    }
    case JS_STRING: {
        if (cur != PK_K_NONE && cur != PK_K_TIME)
            return PK_K_STRING;
        if (f->rawlen < 21 || f->rawlen > 42 || f->raw[5] != '-')
            return PK_K_STRING;
        const char *s;
        size_t n;
        int64_t us;
        if (js_string(js, f, &s, &n) < 0 || pk_parse_time(s, n, !is_time, &us) < 0)
            return PK_K_STRING;
        return PK_K_TIME;
    }
    default:
        return PK_K_JSON;
    }
}
