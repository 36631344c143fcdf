/* bf_syslog: single-pass RFC 5424 / RFC 3164 parser (see bf_syslog.h for the output contract).
 *
 * Design: the message is scanned once into spans (pointers into the input, nothing copied or
 * allocated), then the JSON object is written through a raw pointer into out, reserving per field
 * rather than checking per byte. No regex, no malloc besides out's growth.
 *
 * Decisions worth knowing (documented here because they change field values):
 * - Missing PRI: rsyslog assumes PRI 13 (user.notice). We do the same when the rest still parses as
 *   a 3164 line with a timestamp; a line with neither PRI nor timestamp is not syslog → rfc "raw".
 * - A valid PRI followed by text without a recognisable header is still 3164: priority fields are
 *   kept, the tag is taken when one is present ("app:" / "app[pid]:"), the rest is the message.
 * - 3164 hostname vs tag: the first token after the timestamp is the tag when it contains '[' or ends
 *   with ':' ("<13>Feb  5 17:32:18 app[12]: msg" has no hostname), a hostname when it is made only of
 *   hostname characters, else the start of the message.
 * - Cisco: a leading "123: " sequence number is skipped (there is no field for it), '*' / '.' clock
 *   markers before the timestamp are ignored, a " UTC:"-style zone and the ':' after the timestamp are
 *   skipped; "%FAC-SEV-MNEMONIC:" becomes app_name "FAC-SEV-MNEMONIC".
 * - 3164 timestamps carry no zone: they are taken as UTC, with the year (when absent) that puts the
 *   time closest to the receive time.
 * - RFC 5424 with a malformed STRUCTURED-DATA keeps the header fields, omits structured_data and
 *   keeps the unparsed text at the start of message (nothing is lost); so does SD with more than 64
 *   elements. Repeated SD-IDs are merged into one object; repeated PARAM-NAMEs (allowed by the RFC)
 *   appear as repeated keys (jansson keeps the last).
 */
#include "bf_syslog.h"

#include <errno.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct { const char *p; size_t n; } span;

#define SD_MAX_ELEMENTS 64
#define TS_MAX 48

typedef struct {
    span id;
    span params;    /* from the first SP after the id up to (excluding) ']' */
} sd_elem;

typedef struct {
    const char *rfc;        /* "5424", "3164" or "raw" */
    int pri;                /* -1: none */
    char ts[TS_MAX];        /* normalised RFC 3339, ts_len 0 when absent */
    size_t ts_len;
    span ts_raw;            /* timestamp as sent, used when it does not parse */
    span host, app, procid, msgid, msg;
    sd_elem sd[SD_MAX_ELEMENTS];
    int nsd;
} sl_fields;

/* ---------- time arithmetic (proleptic Gregorian, days since 1970-01-01) ---------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

static int valid_date_time(int y, int mo, int d, int h, int mi, int s)
{
    return y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h <= 23 &&
           mi <= 59 && s <= 60;
}

static inline int isdig(char c) { return c >= '0' && c <= '9'; }

/* n fixed digits at p (caller checked bounds); -1 when one is not a digit. */
static int fixed_num(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdig(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v in 0..99 */
static char *put2(char *o, int v) { memcpy(o, digit_pairs + 2 * v, 2); return o + 2; }

static char *put_date_time(char *o, int y, int mo, int d, int h, int mi, int s)
{
    o = put2(o, y / 100); o = put2(o, y % 100); *o++ = '-';
    o = put2(o, mo); *o++ = '-'; o = put2(o, d); *o++ = 'T';
    o = put2(o, h); *o++ = ':'; o = put2(o, mi); *o++ = ':';
    return put2(o, s);
}

/* RFC 3339 (also "2026-02-05 17:32:18" with a space, lowercase t/z, "+hhmm" offsets, no offset).
 * On success writes the normalised form (uppercase T/Z, "+hh:mm", fraction kept as sent, missing
 * offset → Z: a timestamp without zone is taken as UTC) and returns the bytes consumed; else 0. */
static size_t parse_rfc3339(const char *p, size_t n, char *out, size_t *out_len)
{
    if (n < 19 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || p[13] != ':' ||
        p[16] != ':')
        return 0;
    int y = fixed_num(p, 4), mo = fixed_num(p + 5, 2), d = fixed_num(p + 8, 2);
    int h = fixed_num(p + 11, 2), mi = fixed_num(p + 14, 2), s = fixed_num(p + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || !valid_date_time(y, mo, d, h, mi, s))
        return 0;
    char *o = put_date_time(out, y, mo, d, h, mi, s);
    size_t i = 19;
    if (i < n && p[i] == '.') {
        size_t f = i + 1;
        while (f < n && isdig(p[f]) && f - i <= 9)
            f++;
        if (f == i + 1 || (f < n && isdig(p[f])))
            return 0;
        memcpy(o, p + i, f - i);
        o += f - i;
        i = f;
    }
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        *o++ = 'Z';
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        int oh, om;
        if (i + 6 <= n && p[i + 3] == ':') {
            oh = fixed_num(p + i + 1, 2); om = fixed_num(p + i + 4, 2);
            if (oh < 0 || om < 0 || oh > 23 || om > 59)
                return 0;
        } else if (i + 5 <= n) {
            oh = fixed_num(p + i + 1, 2); om = fixed_num(p + i + 3, 2);
            if (oh < 0 || om < 0 || oh > 23 || om > 59 || (i + 5 < n && isdig(p[i + 5])))
                return 0;
        } else {
            return 0;
        }
        *o++ = p[i];
        o = put2(o, oh); *o++ = ':'; o = put2(o, om);
        i += p[i + 3] == ':' ? 6 : 5;
    } else {
        *o++ = 'Z';
    }
    *out_len = (size_t)(o - out);
    return i;
}

static const char month_names[12][3] = {
    {'J', 'a', 'n'}, {'F', 'e', 'b'}, {'M', 'a', 'r'}, {'A', 'p', 'r'}, {'M', 'a', 'y'}, {'J', 'u', 'n'},
    {'J', 'u', 'l'}, {'A', 'u', 'g'}, {'S', 'e', 'p'}, {'O', 'c', 't'}, {'N', 'o', 'v'}, {'D', 'e', 'c'},
};

static int month_of(const char *p)
{
    for (int i = 0; i < 12; i++) {
        if ((p[0] | 0x20) == (month_names[i][0] | 0x20) && (p[1] | 0x20) == month_names[i][1] &&
            (p[2] | 0x20) == month_names[i][2])
            return i + 1;
    }
    return 0;
}

/* Year for a 3164 "Mmm dd hh:mm:ss" closest to the receive time (Dec 31 received on Jan 1 is last year's). */
static int closest_year(int64_t recv_ms, int mo, int d, int h, int mi, int s)
{
    int64_t recv_s = recv_ms / 1000;
    int ry, rm, rd;
    civil_from_days(recv_s / 86400 - (recv_s % 86400 < 0), &ry, &rm, &rd);
    /* usual case first: within half a year of the receive date in its own year, no other year can be
     * closer (the same date one year away is >= 365 days off) */
    if (valid_date_time(ry, mo, d, h, mi, s)) {
        int64_t t = days_from_civil(ry, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        if ((t > recv_s ? t - recv_s : recv_s - t) <= 182 * 86400)
            return ry;
    }
    int best = 0;
    int64_t best_diff = INT64_MAX;
    for (int y = ry - 1; y <= ry + 1; y++) {
        if (!valid_date_time(y, mo, d, h, mi, s))
            continue;
        int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        int64_t diff = t > recv_s ? t - recv_s : recv_s - t;
        if (diff < best_diff) {
            best_diff = diff;
            best = y;
        }
    }
    return best;
}

/* BSD timestamp: "Mmm dd hh:mm:ss", "Mmm d hh:mm:ss", "Mmm dd yyyy hh:mm:ss", optional ".fff" (Cisco).
 * Rendered as UTC (3164 carries no zone). Returns bytes consumed or 0. */
static size_t parse_bsd(const char *p, size_t n, int64_t recv_ms, char *out, size_t *out_len)
{
    if (n < 14 || p[3] != ' ')
        return 0;
    int mo = month_of(p);
    if (!mo)
        return 0;
    size_t i = 4;
    if (p[i] == ' ')
        i++;
    int d = 0;
    if (!isdig(p[i]))
        return 0;
    d = p[i++] - '0';
    if (i < n && isdig(p[i]))
        d = d * 10 + (p[i++] - '0');
    if (i >= n || p[i] != ' ')
        return 0;
    i++;
    int y = 0;
    if (i + 5 <= n && p[i + 4] == ' ' && (y = fixed_num(p + i, 4)) >= 0) {
        i += 5;
    } else {
        y = 0;
    }
    if (i + 8 > n || p[i + 2] != ':' || p[i + 5] != ':')
        return 0;
    int h = fixed_num(p + i, 2), mi = fixed_num(p + i + 3, 2), s = fixed_num(p + i + 6, 2);
    if (h < 0 || mi < 0 || s < 0)
        return 0;
    i += 8;
    size_t fs = i, fe = i;
    if (i + 1 < n && p[i] == '.' && isdig(p[i + 1])) {
        fe = i + 1;
        while (fe < n && isdig(p[fe]) && fe - fs <= 9)
            fe++;
        if (fe < n && isdig(p[fe]))
            return 0;
        i = fe;
    }
    if (i < n && p[i] != ' ' && p[i] != ':')
        return 0;
    if (!y)
        y = closest_year(recv_ms, mo, d, h, mi, s);
    if (!valid_date_time(y, mo, d, h, mi, s))
        return 0;
    char *o = put_date_time(out, y, mo, d, h, mi, s);
    memcpy(o, p + fs, fe - fs);
    o += fe - fs;
    *o++ = 'Z';
    *out_len = (size_t)(o - out);
    return i;
}

/* ---------- JSON output ---------- */

/* 0: copy as is; 1: escape (control, '"', '\\'); 2: start of a multi-byte UTF-8 sequence (validated). */
static const unsigned char json_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Length of a valid UTF-8 sequence at s (no overlongs, surrogates or > U+10FFFF), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

static const char hexd[] = "0123456789abcdef";

/* Plain-text scanning, many bytes at a time: messages are mostly plain ASCII, and the table loop costs
 * ~5 instructions a byte. SCAN_WORD bytes at s need care when one is a control, '"', '\\' or >= 0x80.
 * SSE2 (always there on x86-64): a signed compare below 0x20 catches controls and bytes >= 0x80 at once.
 * Elsewhere eight at a time: "has a byte below n" is (x - n*0x01..) & ~x & 0x80.., exact for n <= 128. */
#ifdef __SSE2__
#define SCAN_WORD 16
static inline int word_needs_care(const unsigned char *s)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
    return _mm_movemask_epi8(bad) != 0;
}
#else
#define SCAN_WORD 8
static inline int word_needs_care(const unsigned char *s)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t t = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x;
    return (t & high) != 0;
}
#endif

/* Output writer: writes through a raw pointer into out's reserved space, reserving per field (or per
 * 1 KiB of escaped text) instead of checking on every byte. Sticky error. */
typedef struct {
    bf_buf *b;
    char *p, *e;
    int rc;
} wr;

static int w_grow(wr *w, size_t n)
{
    if (w->rc)
        return w->rc;
    w->b->len = (size_t)(w->p - w->b->data);
    w->rc = bf_buf_reserve(w->b, n);
    if (w->rc)
        return w->rc;
    w->p = w->b->data + w->b->len;
    w->e = w->b->data + w->b->cap;
    return 0;
}

static inline int w_need(wr *w, size_t n) { return (size_t)(w->e - w->p) >= n && !w->rc ? 0 : w_grow(w, n); }

static inline void w_put(wr *w, const char *s, size_t n)
{
    if (!w_need(w, n)) {
        memcpy(w->p, s, n);
        w->p += n;
    }
}
#define W_LIT(w, s) w_put((w), (s), sizeof(s) - 1)

/* JSON string body (no quotes): escapes, invalid UTF-8 → U+FFFD; the same rules as bf_buf_json_str,
 * but usable on pieces of one string (SD values are written between their escapes).
 * Space: every input byte gives at least one output byte, so "rest of the chunk + 8" is reserved, and
 * re-checked only where an escape makes the output longer than the input. Thus a capped out fails with
 * -E2BIG only when the text really does not fit (within a few bytes). */
static void w_json_body(wr *w, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n && !w->rc) {
        size_t lim = n - i < 1024 ? n : i + 1024;
        if (w_need(w, (lim - i) + 8))
            return;
        char *o = w->p;
        while (i < lim) {
            size_t st = i;
            while (i + SCAN_WORD <= lim && !word_needs_care(s + i))
                i += SCAN_WORD;
            while (i < lim && !json_class[s[i]])
                i++;
            memcpy(o, s + st, i - st);
            o += i - st;
            if (i >= lim)
                break;
            if ((size_t)(w->e - o) < (lim - i) + 8) {  /* an escape needs up to 6 bytes for 1 */
                w->p = o;
                if (w_grow(w, (lim - i) + 8))
                    return;
                o = w->p;
            }
            unsigned c = s[i];
            if (json_class[c] == 2) {
                size_t l = utf8_len(s + i, n - i);
                if (l) {  /* may run up to 3 bytes past lim: covered by the 8 spare bytes */
                    memcpy(o, s + i, l);
                    o += l;
                    i += l;
                } else {
                    memcpy(o, "\xEF\xBF\xBD", 3);
                    o += 3;
                    i++;
                }
                continue;
            }
            i++;
            *o++ = '\\';
            if (c == '"' || c == '\\') {
                *o++ = (char)c;
            } else if (c == '\n') {
                *o++ = 'n';
            } else if (c == '\t') {
                *o++ = 't';
            } else if (c == '\r') {
                *o++ = 'r';
            } else {
                memcpy(o, "u00", 3);
                o[3] = hexd[c >> 4];
                o[4] = hexd[c & 15];
                o += 5;
            }
        }
        w->p = o;
    }
}

/* Whether n bytes at s need no JSON escaping and no UTF-8 check. */
static int plain_text(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + SCAN_WORD <= n; i += SCAN_WORD)
        if (word_needs_care(s + i))
            return 0;
    if (i < n && n >= SCAN_WORD)   /* the tail as one overlapping word */
        return !word_needs_care(s + n - SCAN_WORD);
    for (; i < n; i++)
        if (json_class[s[i]])
            return 0;
    return 1;
}

#define PLAIN_MAX 2048   /* longer values go straight to the escaping writer (scanned once, not twice) */

/* key (a literal, may be empty) then "value". Most values are plain text: one reservation and two
 * copies, instead of a bounds check per piece. */
static void w_key_jstr(wr *w, const char *key, size_t key_len, const char *s, size_t n)
{
    if (n <= PLAIN_MAX && !w_need(w, key_len + n + 2) && plain_text((const unsigned char *)s, n)) {
        char *o = w->p;
        memcpy(o, key, key_len);
        o += key_len;
        *o++ = '"';
        memcpy(o, s, n);
        o += n;
        *o++ = '"';
        w->p = o;
        return;
    }
    w_put(w, key, key_len);
    w_put(w, "\"", 1);
    w_json_body(w, s, n);
    w_put(w, "\"", 1);
}

static void w_jstr(wr *w, const char *s, size_t n) { w_key_jstr(w, "", 0, s, n); }


/* Decimal, two digits per division (BfTs has 13 digits and is written for every message). */
static void w_i64(wr *w, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *o = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) {
        o -= 2;
        memcpy(o, digit_pairs + (u % 100) * 2, 2);
        u /= 100;
    }
    if (u >= 10) {
        o -= 2;
        memcpy(o, digit_pairs + u * 2, 2);
    } else {
        *--o = (char)('0' + u);
    }
    if (v < 0)
        *--o = '-';
    w_put(w, o, (size_t)(e - o));
}

/* ,"key":"value" for a non-empty, non-nil span. */
static void w_field(wr *w, const char *key_lit, size_t key_len, span v)
{
    if (!v.n || (v.n == 1 && v.p[0] == '-'))
        return;
    w_key_jstr(w, key_lit, key_len, v.p, v.n);
}
#define W_FIELD(w, k, v) w_field((w), (k), sizeof(k) - 1, (v))

/* One SD PARAM-VALUE, unescaping \" \\ \] (any other backslash is literal, RFC 5424 §6.3.3). */
static void w_sd_value(wr *w, const char *p, size_t n)
{
    w_put(w, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n && (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']')) {
            w_json_body(w, p + start, i - start);
            start = ++i;  /* the escaped char starts the next piece */
        }
    }
    w_json_body(w, p + start, n - start);
    w_put(w, "\"", 1);
}

/* The params text of one element: (SP name="value")*, already validated by parse_sd. */
static void w_sd_params(wr *w, span params, int *first)
{
    const char *p = params.p, *end = params.p + params.n;
    while (p < end) {
        p++;  /* SP */
        const char *name = p;
        while (*p != '=')
            p++;
        size_t name_n = (size_t)(p - name);
        p += 2;  /* =" */
        const char *val = p;
        while (*p != '"')
            p += *p == '\\' ? 2 : 1;
        if (!*first)
            w_put(w, ",", 1);
        *first = 0;
        w_jstr(w, name, name_n);
        w_put(w, ":", 1);
        w_sd_value(w, val, (size_t)(p - val));
        p++;  /* closing quote */
    }
}

static int span_eq(span a, span b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

static void w_sd(wr *w, const sl_fields *f)
{
    if (!f->nsd)
        return;
    W_LIT(w, ",\"structured_data\":{");
    int first_el = 1;
    for (int i = 0; i < f->nsd; i++) {
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = span_eq(f->sd[i].id, f->sd[j].id);
        if (dup)
            continue;  /* merged into the first element with this id */
        if (!first_el)
            w_put(w, ",", 1);
        first_el = 0;
        w_jstr(w, f->sd[i].id.p, f->sd[i].id.n);
        W_LIT(w, ":{");
        int first = 1;
        for (int k = i; k < f->nsd; k++) {
            if (k == i || span_eq(f->sd[i].id, f->sd[k].id))
                w_sd_params(w, f->sd[k].params, &first);
        }
        w_put(w, "}", 1);
    }
    w_put(w, "}", 1);
}

/* recv time as RFC 3339 UTC with milliseconds, written without libc time functions (hot path). */
static void w_recv_time(wr *w, int64_t ms)
{
    int64_t s = ms / 1000, msr = ms % 1000;
    if (msr < 0) {
        msr += 1000;
        s--;
    }
    int64_t days = s / 86400, sod = s % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y < 0 || y > 9999)
        y = 0;
    char t[32], *o = t;
    *o++ = '"';
    o = put_date_time(o, y, mo, d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    *o++ = '.';
    *o++ = (char)('0' + msr / 100);
    o = put2(o, (int)(msr % 100));
    *o++ = 'Z';
    *o++ = '"';
    w_put(w, t, (size_t)(o - t));
}

static int emit(bf_buf *b, const sl_fields *f, int64_t recv_ms, const char *source_ip)
{
    wr w = {b, NULL, NULL, bf_buf_reserve(b, 64)};
    if (w.rc)
        return w.rc;
    w.p = b->data + b->len;
    w.e = b->data + b->cap;
    W_LIT(&w, "{\"BfTs\":");
    w_i64(&w, recv_ms);
    W_LIT(&w, ",\"timestamp\":");
    w_recv_time(&w, recv_ms);
    if (source_ip && *source_ip) {
        w_key_jstr(&w, ",\"source_ip\":", sizeof ",\"source_ip\":" - 1, source_ip, strlen(source_ip));
    }
    W_LIT(&w, ",\"rfc\":\"");
    w_put(&w, f->rfc, 4 - (f->rfc[0] == 'r'));
    w_put(&w, "\"", 1);
    if (f->pri >= 0) {
        W_LIT(&w, ",\"priority\":");
        w_i64(&w, f->pri);
        W_LIT(&w, ",\"facility\":");
        w_i64(&w, f->pri >> 3);
        W_LIT(&w, ",\"severity\":");
        w_i64(&w, f->pri & 7);
    }
    span ts = f->ts_len ? (span){f->ts, f->ts_len} : f->ts_raw;
    W_FIELD(&w, ",\"syslog_timestamp\":", ts);
    W_FIELD(&w, ",\"hostname\":", f->host);
    W_FIELD(&w, ",\"app_name\":", f->app);
    W_FIELD(&w, ",\"proc_id\":", f->procid);
    W_FIELD(&w, ",\"msg_id\":", f->msgid);
    w_sd(&w, f);
    /* message is data, not a field that can be nil: "-" is kept */
    if (f->msg.n) {
        w_key_jstr(&w, ",\"message\":", sizeof ",\"message\":" - 1, f->msg.p, f->msg.n);
    }
    w_put(&w, "}", 1);
    if (!w.rc) {
        b->len = (size_t)(w.p - b->data);
        b->data[b->len] = '\0';
    }
    return w.rc;
}

/* ---------- parsing ---------- */

/* "<PRI>": 1-3 digits, 0..191. Returns bytes consumed (0: no valid PRI). */
static size_t parse_pri(const char *p, size_t n, int *pri)
{
    if (n < 3 || p[0] != '<')
        return 0;
    int v = 0;
    size_t i = 1;
    while (i < n && i <= 3 && isdig(p[i]))
        v = v * 10 + (p[i++] - '0');
    if (i == 1 || i >= n || p[i] != '>' || v > 191)
        return 0;
    *pri = v;
    return i + 1;
}

/* Token up to the next SP (or end). */
static span token(const char *p, const char *end)
{
    const char *q = memchr(p, ' ', (size_t)(end - p));
    return (span){p, (size_t)((q ? q : end) - p)};
}

static int sd_name_char(unsigned char c) { return c > 32 && c < 127 && c != '=' && c != ']' && c != '"'; }

/* STRUCTURED-DATA at p: "-" or one or more elements. Returns the end, or NULL when malformed. */
static const char *parse_sd(const char *p, const char *end, sl_fields *f)
{
    if (p < end && *p == '-')
        return p + 1;
    f->nsd = 0;
    while (p < end && *p == '[') {
        if (f->nsd == SD_MAX_ELEMENTS)
            return NULL;
        sd_elem *e = &f->sd[f->nsd];
        const char *id = ++p;
        while (p < end && sd_name_char((unsigned char)*p))
            p++;
        if (p == id)
            return NULL;
        e->id = (span){id, (size_t)(p - id)};
        const char *params = p;
        for (;;) {
            if (p >= end)
                return NULL;
            if (*p == ']')
                break;
            if (*p++ != ' ')
                return NULL;
            const char *name = p;
            while (p < end && sd_name_char((unsigned char)*p))
                p++;
            if (p == name || end - p < 2 || p[0] != '=' || p[1] != '"')
                return NULL;
            p += 2;
            while (p < end && *p != '"')
                p += *p == '\\' ? 2 : 1;
            if (p >= end)
                return NULL;
            p++;
        }
        e->params = (span){params, (size_t)(p - params)};
        p++;
        f->nsd++;
    }
    return f->nsd ? p : NULL;
}

/* RFC 5424 after "<PRI>". Returns 0 when the header is not 5424 (caller falls back to 3164). */
static int parse_5424(const char *p, const char *end, sl_fields *f)
{
    if (p >= end || *p < '1' || *p > '9')
        return 0;
    p++;
    if (p < end && isdig(*p))
        p++;
    if (p >= end || *p != ' ')
        return 0;
    p++;
    span ts = token(p, end);
    if (!ts.n || (!isdig(ts.p[0]) && !(ts.n == 1 && ts.p[0] == '-')))
        return 0;
    span *fields[4] = {&f->host, &f->app, &f->procid, &f->msgid};
    const char *q = ts.p + ts.n;
    for (int i = 0; i < 4; i++) {
        if (q >= end)
            return 0;
        *fields[i] = token(q + 1, end);
        if (!fields[i]->n)
            return 0;
        q = fields[i]->p + fields[i]->n;
    }
    if (q >= end)
        return 0;  /* STRUCTURED-DATA is mandatory */
    q++;
    if (ts.p[0] != '-') {
        size_t used = parse_rfc3339(ts.p, ts.n, f->ts, &f->ts_len);
        if (used != ts.n) {
            f->ts_len = 0;
            f->ts_raw = ts;
        }
    }
    f->rfc = "5424";
    const char *m = parse_sd(q, end, f);
    if (m && m < end && *m != ' ')
        m = NULL;
    if (!m) {
        f->nsd = 0;  /* malformed SD: keep its text in message */
        m = q;
    } else if (m < end) {
        m++;
    }
    if (end - m >= 3 && (unsigned char)m[0] == 0xEF && (unsigned char)m[1] == 0xBB && (unsigned char)m[2] == 0xBF)
        m += 3;
    f->msg = (span){m, (size_t)(end - m)};
    return 1;
}

/* Tag "app:", "app[pid]:", "app[pid]", "%ASA-6-302013:" at p; sets app/procid and message. */
static void parse_tag(const char *p, const char *end, sl_fields *f)
{
    const char *t = p;
    while (t < end && t - p < 48 && *t != ' ' && *t != ':' && *t != '[' && *t != '\t')
        t++;
    int ok = 0;
    span app = {p, (size_t)(t - p)}, pid = {NULL, 0};
    if (t > p && t < end && *t == '[') {
        const char *ps = t + 1, *pe = ps;
        while (pe < end && pe - ps < 128 && *pe != ']' && *pe != ' ')
            pe++;
        if (pe < end && *pe == ']' && pe > ps) {
            pid = (span){ps, (size_t)(pe - ps)};
            t = pe + 1;
            ok = 1;
        }
    }
    if (t > p && t < end && *t == ':' && (pid.n || t + 1 == end || t[1] == ' ')) {
        t++;
        ok = 1;
    } else if (ok && t < end && *t != ' ') {
        ok = 0;  /* "app[1]x": not a tag */
    }
    if (!ok) {
        f->msg = (span){p, (size_t)(end - p)};
        return;
    }
    if (app.n > 1 && app.p[0] == '%') {  /* Cisco %FAC-SEV-MNEMONIC */
        app.p++;
        app.n--;
    }
    f->app = app;
    f->procid = pid;
    if (t < end && *t == ' ')
        t++;
    f->msg = (span){t, (size_t)(end - t)};
}

static int hostname_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isdig((char)c) || c == '.' || c == '-' || c == '_' ||
           c == ':';
}

/* Zone names Cisco IOS prints after the timestamp ("clock timezone"); only these are skipped, so that
 * an upper-case tag such as "CRON:" is never mistaken for a zone. */
static const char zone_names[][5] = {"UTC", "GMT", "CET", "CEST", "EET", "EEST", "WET", "BST", "EST", "EDT",
                                      "CST", "CDT", "MST", "MDT", "PST", "PDT", "JST", "IST", "AEST", "MSK"};

/* Timestamp at p (BSD or RFC 3339). Returns the position after it (and Cisco's zone/colon), or NULL. */
static const char *parse_3164_ts(const char *p, const char *end, int64_t recv_ms, sl_fields *f)
{
    if (p < end && (*p == '*' || *p == '.'))
        p++;  /* Cisco: '*' clock not synchronised, '.' synchronised once */
    size_t n = (size_t)(end - p), used = 0;
    if (n && isdig(*p))
        used = parse_rfc3339(p, n, f->ts, &f->ts_len);
    else if (n)
        used = parse_bsd(p, n, recv_ms, f->ts, &f->ts_len);
    if (!used || (used < n && p[used] != ' ' && p[used] != ':')) {
        f->ts_len = 0;
        return NULL;
    }
    p += used;
    /* Cisco " UTC:" / " CET:" zone: skipped (abbreviations are ambiguous, the time stays UTC) */
    if (end - p >= 5 && p[0] == ' ' && p[1] >= 'A' && p[1] <= 'Z') {   /* every zone name is upper case */
        for (size_t i = 0; i < sizeof zone_names / sizeof zone_names[0]; i++) {
            size_t zl = zone_names[i][3] ? 4 : 3;
            if ((size_t)(end - p) > zl + 1 && p[zl + 1] == ':' && memcmp(p + 1, zone_names[i], zl) == 0) {
                p += zl + 1;
                break;
            }
        }
    }
    if (p < end && *p == ':')
        p++;
    while (p < end && *p == ' ')
        p++;
    return p;
}

/* Cisco sequence number "123: " at p: returns the position after it, or p. */
static const char *skip_cisco_seq(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && isdig(*q) && q - p < 10)
        q++;
    return q > p && end - q >= 2 && q[0] == ':' && q[1] == ' ' ? q + 2 : p;
}

/* Token made only of hostname characters (at most 255). */
static int is_hostname(span t)
{
    if (!t.n || t.n > 255)
        return 0;
    for (size_t i = 0; i < t.n; i++)
        if (!hostname_char((unsigned char)t.p[i]))
            return 0;
    return 1;
}

/* After the sender's hostname, a relayed Cisco line repeats "seq: *time:" before the mnemonic
 * ("... router1 123: *Feb  5 17:32:18.123: %SYS-5-CONFIG_I: ..."): both are skipped, the outer
 * timestamp is kept. */
static const char *skip_inner_cisco(const char *p, const char *end, int64_t recv_ms)
{
    const char *q = skip_cisco_seq(p, end);
    if (q == p)
        return p;
    sl_fields scratch;
    scratch.ts_len = 0;
    const char *after = parse_3164_ts(q, end, recv_ms, &scratch);
    return after ? after : p;  /* "host 404: not found" keeps its text */
}

static void parse_3164(const char *p, const char *end, int64_t recv_ms, sl_fields *f)
{
    f->rfc = "3164";
    p = skip_cisco_seq(p, end);
    const char *after = parse_3164_ts(p, end, recv_ms, f);
    if (!after) {
        /* Cisco "123: router1: *Mar  1 00:00:00.123: %SYS-...": origin hostname before the time */
        span h = token(p, end);
        if (h.n > 1 && h.p[h.n - 1] == ':' && h.p + h.n < end) {
            h.n--;
            if (is_hostname(h) && (after = parse_3164_ts(h.p + h.n + 2, end, recv_ms, f)) != NULL) {
                f->host = h;
                parse_tag(after, end, f);
                return;
            }
        }
        parse_tag(p, end, f);
        return;
    }
    p = after;
    span t = token(p, end);
    if (!t.n || t.p[0] == '%' || t.p[t.n - 1] == ':' || memchr(t.p, '[', t.n) || !is_hostname(t)) {
        parse_tag(p, end, f);
        return;
    }
    f->host = t;
    p = t.p + t.n;
    while (p < end && *p == ' ')
        p++;
    if (end - p >= 2 && p[0] == ':' && p[1] == ' ')
        p += 2;  /* ASA "fw01 : %ASA-..." */
    parse_tag(skip_inner_cisco(p, end, recv_ms), end, f);
}

static void parse(const char *msg, size_t len, int64_t recv_ms, sl_fields *f)
{
    const char *end = msg + len;
    while (end > msg && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\0'))
        end--;
    size_t n = (size_t)(end - msg);
    size_t pl = parse_pri(msg, n, &f->pri);
    if (pl) {
        if (!parse_5424(msg + pl, end, f)) {
            f->host = f->app = f->procid = f->msgid = f->msg = (span){NULL, 0};
            f->ts_len = 0;
            f->ts_raw = (span){NULL, 0};
            f->nsd = 0;
            parse_3164(msg + pl, end, recv_ms, f);
        }
        return;
    }
    /* No PRI: syslog only if a 3164 timestamp opens the line; rsyslog's default PRI 13 then applies. */
    if (n && parse_3164_ts(msg, end, recv_ms, f)) {
        f->pri = 13;
        parse_3164(msg, end, recv_ms, f);
        return;
    }
    f->rfc = "raw";
    f->msg = (span){msg, n};
}

int bf_syslog_parse(const char *msg, size_t len, int64_t recv_ms, const char *source_ip, bf_buf *out)
{
    sl_fields f;
    f.rfc = "raw";
    f.pri = -1;
    f.ts_len = 0;
    f.ts_raw = (span){NULL, 0};
    f.host = f.app = f.procid = f.msgid = f.msg = (span){NULL, 0};
    f.nsd = 0;
    if (!msg)
        len = 0;
    else
        parse(msg, len, recv_ms, &f);
    size_t mark = out->len;
    int rc = emit(out, &f, recv_ms, source_ip);
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}
