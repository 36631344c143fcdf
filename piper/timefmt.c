/* timefmt: see timefmt.h. */
#include "timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    T_LIT, T_SPACE, T_YEAR4, T_YEAR2, T_MONTH_NAME, T_MONTH_NUM, T_DAY, T_WDAY, T_HOUR24, T_HOUR12, T_MIN,
    T_SEC, T_FRAC_DOT, T_FRAC_DIGITS, T_AMPM, T_ZONE_NUM, T_ZONE_ABBR, T_UNIX, T_UNIX_MS, T_UNIX_US, T_UNIX_NS,
    T_ISO
} tok_kind;

typedef struct tok { tok_kind k; char lit; } tok;
struct tf_layout { tok *t; size_t n; };

static int push(tf_layout *l, tok_kind k, char lit)
{
    tok *nt = realloc(l->t, (l->n + 1) * sizeof *nt);
    if (!nt)
        return -ENOMEM;
    l->t = nt;
    l->t[l->n].k = k;
    l->t[l->n++].lit = lit;
    return 0;
}

typedef struct tmap { const char *s; tok_kind k; } tmap;

/* Longest-first tables for the three notations. */
static const tmap GO[] = {
    {"January", T_MONTH_NAME}, {"Monday", T_WDAY}, {"-07:00:00", T_ZONE_NUM}, {"Z07:00", T_ZONE_NUM},
    {"-07:00", T_ZONE_NUM}, {"Z0700", T_ZONE_NUM}, {"-0700", T_ZONE_NUM}, {".000000000", T_FRAC_DOT},
    {".999999999", T_FRAC_DOT}, {".000000", T_FRAC_DOT}, {".999999", T_FRAC_DOT}, {"2006", T_YEAR4},
    {"Jan", T_MONTH_NAME}, {"Mon", T_WDAY}, {"MST", T_ZONE_ABBR}, {".000", T_FRAC_DOT}, {".999", T_FRAC_DOT},
    {",000", T_FRAC_DOT}, {"Z07", T_ZONE_NUM}, {"-07", T_ZONE_NUM}, {".00", T_FRAC_DOT}, {".99", T_FRAC_DOT},
    {".0", T_FRAC_DOT}, {".9", T_FRAC_DOT}, {"01", T_MONTH_NUM}, {"02", T_DAY}, {"_2", T_DAY},
    {"03", T_HOUR12}, {"04", T_MIN}, {"05", T_SEC}, {"06", T_YEAR2}, {"15", T_HOUR24}, {"PM", T_AMPM},
    {"pm", T_AMPM}, {"1", T_MONTH_NUM}, {"2", T_DAY}, {"3", T_HOUR12}, {"4", T_MIN}, {"5", T_SEC},
};
static const tmap JODA[] = {
    {"yyyy", T_YEAR4}, {"YYYY", T_YEAR4}, {"uuuu", T_YEAR4}, {"EEEE", T_WDAY}, {"MMMM", T_MONTH_NAME},
    {"MMM", T_MONTH_NAME}, {"EEE", T_WDAY}, {"ZZZ", T_ZONE_ABBR}, {"XXX", T_ZONE_NUM}, {"yy", T_YEAR2},
    {"MM", T_MONTH_NUM}, {"dd", T_DAY}, {"HH", T_HOUR24}, {"hh", T_HOUR12}, {"mm", T_MIN}, {"ss", T_SEC},
    {"ZZ", T_ZONE_NUM}, {"XX", T_ZONE_NUM}, {"M", T_MONTH_NUM}, {"d", T_DAY}, {"H", T_HOUR24},
    {"h", T_HOUR12}, {"m", T_MIN}, {"s", T_SEC}, {"a", T_AMPM}, {"Z", T_ZONE_NUM}, {"X", T_ZONE_NUM},
    {"z", T_ZONE_ABBR}, {"E", T_WDAY},
};
static const struct { char c; const char *expand; tok_kind k; } STRF[] = {
    {'Y', NULL, T_YEAR4}, {'y', NULL, T_YEAR2}, {'m', NULL, T_MONTH_NUM}, {'d', NULL, T_DAY},
    {'e', NULL, T_DAY}, {'H', NULL, T_HOUR24}, {'I', NULL, T_HOUR12}, {'M', NULL, T_MIN}, {'S', NULL, T_SEC},
    {'f', NULL, T_FRAC_DIGITS}, {'p', NULL, T_AMPM}, {'z', NULL, T_ZONE_NUM}, {'Z', NULL, T_ZONE_ABBR},
    {'b', NULL, T_MONTH_NAME}, {'h', NULL, T_MONTH_NAME}, {'B', NULL, T_MONTH_NAME}, {'a', NULL, T_WDAY},
    {'A', NULL, T_WDAY}, {'s', NULL, T_UNIX}, {'T', "%H:%M:%S", T_LIT}, {'F', "%Y-%m-%d", T_LIT},
};
static const struct { const char *name; const char *go; } NAMED[] = {
    {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"}, {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
    {"RFC822", "02 Jan 06 15:04 MST"}, {"RFC822Z", "02 Jan 06 15:04 -0700"},
    {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"}, {"ANSIC", "Mon Jan _2 15:04:05 2006"},
    {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"}, {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"},
    {"Stamp", "Jan _2 15:04:05"}, {"DateTime", "2006-01-02 15:04:05"},
};
static const struct { const char *name; tok_kind k; } KEYWORDS[] = {
    {"ISO8601", T_ISO}, {"RFC3339", T_ISO}, {"RFC3339Nano", T_ISO}, {"UNIX", T_UNIX}, {"UNIX_MS", T_UNIX_MS},
    {"UNIX_US", T_UNIX_US}, {"UNIX_NS", T_UNIX_NS},
};

static int lit_or_space(tf_layout *l, char c)
{
    return push(l, c == ' ' ? T_SPACE : T_LIT, c);
}

static int compile_table(tf_layout *l, const char *f, const tmap *tab, size_t ntab, bool quotes)
{
    while (*f) {
        if (quotes && *f == '\'') {
            const char *e = strchr(f + 1, '\'');
            if (!e)
                return -EINVAL;
            if (e == f + 1 && push(l, T_LIT, '\''))
                return -ENOMEM;
            for (const char *c = f + 1; c < e; c++)
                if (lit_or_space(l, *c))
                    return -ENOMEM;
            f = e + 1;
            continue;
        }
        if (quotes && *f == 'S') {   /* Joda fraction digits: any count of S */
            while (*f == 'S')
                f++;
            if (push(l, T_FRAC_DIGITS, 0))
                return -ENOMEM;
            continue;
        }
        size_t i;
        for (i = 0; i < ntab; i++) {
            size_t n = strlen(tab[i].s);
            if (!strncmp(f, tab[i].s, n)) {
                if (push(l, tab[i].k, tab[i].s[0]))
                    return -ENOMEM;
                f += n;
                break;
            }
        }
        if (i == ntab && lit_or_space(l, *f++))
            return -ENOMEM;
    }
    return 0;
}

static int compile_strf(tf_layout *l, const char *f, int depth)
{
    for (; *f; f++) {
        if (*f != '%' || !f[1]) {
            if (lit_or_space(l, *f))
                return -ENOMEM;
            continue;
        }
        f++;
        if (*f == '%') {
            if (push(l, T_LIT, '%'))
                return -ENOMEM;
            continue;
        }
        size_t i;
        for (i = 0; i < sizeof STRF / sizeof *STRF; i++)
            if (STRF[i].c == *f)
                break;
        if (i == sizeof STRF / sizeof *STRF)
            return -EINVAL;
        int rc = STRF[i].expand ? (depth ? -EINVAL : compile_strf(l, STRF[i].expand, 1)) : push(l, STRF[i].k, 0);
        if (rc)
            return rc;
    }
    return 0;
}

void tf_free(tf_layout *l)
{
    if (l) {
        free(l->t);
        free(l);
    }
}

int tf_compile(const char *fmt, tf_layout **out, char *err, size_t errlen)
{
    *out = NULL;
    tf_layout *l = calloc(1, sizeof *l);
    if (!l || !fmt)
        return l ? (free(l), -EINVAL) : -ENOMEM;
    int rc = 1;
    for (size_t i = 0; rc == 1 && i < sizeof KEYWORDS / sizeof *KEYWORDS; i++)
        if (!strcasecmp(fmt, KEYWORDS[i].name))
            rc = push(l, KEYWORDS[i].k, 0);
    for (size_t i = 0; rc == 1 && i < sizeof NAMED / sizeof *NAMED; i++)
        if (!strcmp(fmt, NAMED[i].name))
            rc = compile_table(l, NAMED[i].go, GO, sizeof GO / sizeof *GO, false);
    if (rc == 1) {
        if (strchr(fmt, '%'))
            rc = compile_strf(l, fmt, 0);
        else if (strstr(fmt, "yy") || strstr(fmt, "dd") || strstr(fmt, "HH") || strstr(fmt, "mm") || strstr(fmt, "YY"))
            rc = compile_table(l, fmt, JODA, sizeof JODA / sizeof *JODA, true);
        else
            rc = compile_table(l, fmt, GO, sizeof GO / sizeof *GO, false);
    }
    if (rc || l->n == 0) {
        snprintf(err, errlen, "bad time format '%s'", fmt);
        tf_free(l);
        return rc == -ENOMEM ? rc : -EINVAL;
    }
    *out = l;
    return 0;
}

/* ---------------- parsing ---------------- */

typedef struct fields {
    int64_t year;
    int mon, day, hour, min, sec, nsec;
    bool has_year, pm, has_ampm, has_zone;
    int32_t off;
} fields;

static const char *const MONTHS[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const MONTHS_LONG[] = {"january", "february", "march", "april", "may", "june", "july",
                                          "august", "september", "october", "november", "december"};
static const char *const WDAYS_LONG[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
static const struct { const char *abbr; int32_t off; } ZABBR[] = {
    {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"UT", 0}, {"EST", -18000}, {"EDT", -14400}, {"CST", -21600},
    {"CDT", -18000}, {"MST", -25200}, {"MDT", -21600}, {"PST", -28800}, {"PDT", -25200}, {"CET", 3600},
    {"CEST", 7200}, {"BST", 3600}, {"IST", 19800}, {"JST", 32400},
};

/* Up to max digits (at least min); returns chars consumed or 0. */
static size_t digits(const char *s, size_t n, size_t min, size_t max, int64_t *v)
{
    size_t i = 0;
    *v = 0;
    while (i < n && i < max && isdigit((unsigned char)s[i]))
        *v = *v * 10 + (s[i++] - '0');
    return i >= min ? i : 0;
}

static size_t word_match(const char *s, size_t n, const char *const *tab, size_t ntab, const char *const *longtab,
                         int *idx)
{
    for (size_t i = 0; longtab && i < ntab; i++) {
        size_t l = strlen(longtab[i]);
        if (l <= n && !strncasecmp(s, longtab[i], l)) {
            *idx = (int)i;
            return l;
        }
    }
    for (size_t i = 0; tab && i < ntab; i++) {
        size_t l = strlen(tab[i]);
        if (l <= n && !strncasecmp(s, tab[i], l)) {
            *idx = (int)i;
            return l;
        }
    }
    return 0;
}

static size_t parse_zone_num(const char *s, size_t n, fields *f)
{
    if (n && (s[0] == 'Z' || s[0] == 'z')) {
        f->has_zone = true;
        f->off = 0;
        return 1;
    }
    if (!n || (s[0] != '+' && s[0] != '-'))
        return 0;
    int64_t h, m = 0;
    size_t i = 1, c = digits(s + 1, n - 1, 2, 2, &h);
    if (!c)
        return 0;
    i += c;
    if (i < n && s[i] == ':')
        i++;
    c = digits(s + i, n - i, 2, 2, &m);
    i += c;
    if (h > 18 || m > 59)
        return 0;
    f->has_zone = true;
    f->off = (int32_t)((s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60));
    return i;
}

static size_t parse_frac(const char *s, size_t n, fields *f)
{
    size_t i = 0;
    int64_t ns = 0;
    int nd = 0;
    while (i < n && isdigit((unsigned char)s[i])) {
        if (nd < 9) {
            ns = ns * 10 + (s[i] - '0');
            nd++;
        }
        i++;
    }
    while (nd++ < 9)
        ns *= 10;
    f->nsec = (int)ns;
    return i;
}

/* Flexible ISO 8601 / RFC 3339. */
static size_t parse_iso(const char *s, size_t n, fields *f)
{
    int64_t v;
    size_t i = 0, c;
    if (!(c = digits(s, n, 4, 4, &v)))
        return 0;
    f->year = v;
    f->has_year = true;
    i += c;
    if (i >= n || s[i] != '-' || !(c = digits(s + i + 1, n - i - 1, 1, 2, &v)))
        return 0;
    f->mon = (int)v;
    i += c + 1;
    if (i >= n || s[i] != '-' || !(c = digits(s + i + 1, n - i - 1, 1, 2, &v)))
        return 0;
    f->day = (int)v;
    i += c + 1;
    if (i >= n || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return i;
    i++;
    if (!(c = digits(s + i, n - i, 1, 2, &v)))
        return 0;
    f->hour = (int)v;
    i += c;
    if (i >= n || s[i] != ':' || !(c = digits(s + i + 1, n - i - 1, 2, 2, &v)))
        return 0;
    f->min = (int)v;
    i += c + 1;
    if (i < n && s[i] == ':' && (c = digits(s + i + 1, n - i - 1, 2, 2, &v))) {
        f->sec = (int)v;
        i += c + 1;
        if (i + 1 < n && (s[i] == '.' || s[i] == ',') && isdigit((unsigned char)s[i + 1]))
            i += 1 + parse_frac(s + i + 1, n - i - 1, f);
    }
    if (i < n && s[i] == ' ' && i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-' || s[i + 1] == 'Z'))
        i++;
    return i + parse_zone_num(s + i, n - i, f);
}

static int parse_tok(const tok *t, const char *s, size_t n, size_t *pos, fields *f)
{
    const char *p = s + *pos;
    size_t rem = n - *pos, c = 0;
    int64_t v;
    int idx;
    switch (t->k) {
    case T_LIT: c = rem && *p == t->lit; break;
    case T_SPACE: while (c < rem && p[c] == ' ') c++; break;
    case T_YEAR4: if ((c = digits(p, rem, 4, 4, &v))) { f->year = v; f->has_year = true; } break;
    case T_YEAR2: if ((c = digits(p, rem, 2, 2, &v))) { f->year = v < 69 ? 2000 + v : 1900 + v; f->has_year = true; } break;
    case T_MONTH_NAME: if ((c = word_match(p, rem, MONTHS, 12, MONTHS_LONG, &idx))) f->mon = idx + 1; break;
    case T_MONTH_NUM: if ((c = digits(p, rem, 1, 2, &v))) f->mon = (int)v; break;
    case T_DAY:
        while (c < rem && p[c] == ' ') c++;   /* "_2": space-padded day */
        { size_t d = digits(p + c, rem - c, 1, 2, &v); c = d ? c + d : 0; if (d) f->day = (int)v; }
        break;
    case T_WDAY: {
        static const char *const wd[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
        c = word_match(p, rem, wd, 7, WDAYS_LONG, &idx);
        break;
    }
    case T_HOUR24: case T_HOUR12: if ((c = digits(p, rem, 1, 2, &v))) f->hour = (int)v; break;
    case T_MIN: if ((c = digits(p, rem, 1, 2, &v))) f->min = (int)v; break;
    case T_SEC:
        if ((c = digits(p, rem, 1, 2, &v))) {
            f->sec = (int)v;
            /* Go accepts a fraction after seconds even when the layout has none */
            if (c + 1 < rem && (p[c] == '.' || p[c] == ',') && isdigit((unsigned char)p[c + 1]) && !(t[1].k == T_FRAC_DOT || t[1].k == T_LIT))
                c += 1 + parse_frac(p + c + 1, rem - c - 1, f);
        }
        break;
    case T_FRAC_DOT:
        if (rem && (*p == '.' || *p == ',')) c = 1 + parse_frac(p + 1, rem - 1, f);
        else c = 0, *pos += 0;
        if (!c) return 0;   /* optional */
        break;
    case T_FRAC_DIGITS: c = parse_frac(p, rem, f); break;
    case T_AMPM:
        if (rem >= 2 && (p[1] == 'M' || p[1] == 'm') && strchr("AaPp", p[0])) {
            c = 2; f->has_ampm = true; f->pm = p[0] == 'P' || p[0] == 'p';
        }
        break;
    case T_ZONE_NUM: c = parse_zone_num(p, rem, f); break;
    case T_ZONE_ABBR:
        for (size_t i = 0; i < sizeof ZABBR / sizeof *ZABBR; i++) {
            size_t l = strlen(ZABBR[i].abbr);
            if (l <= rem && !strncmp(p, ZABBR[i].abbr, l) && (l == rem || !isalpha((unsigned char)p[l]))) {
                c = l; f->has_zone = true; f->off = ZABBR[i].off; break;
            }
        }
        if (!c) while (c < rem && (isalpha((unsigned char)p[c]))) c++;   /* unknown abbreviation: skip */
        break;
    case T_ISO: c = parse_iso(p, rem, f); break;
    default: return -EINVAL;
    }
    if (!c && t->k != T_SPACE)
        return -EINVAL;
    *pos += c;
    return 0;
}

static int unix_parse(const tok *t, const char *s, size_t n, tf_time *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    if (t->k == T_UNIX) {
        double d = strtod(buf, &end);
        if (*end || end == buf || d < 0 || d > 1e11)
            return -EINVAL;
        out->sec = (int64_t)d;
        out->nsec = (int32_t)((d - (double)out->sec) * 1e9 + 0.5);
        if (out->nsec >= 1000000000) { out->sec++; out->nsec -= 1000000000; }
        return 0;
    }
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end || end == buf || errno || v < 0)
        return -EINVAL;
    int64_t div = t->k == T_UNIX_MS ? 1000 : t->k == T_UNIX_US ? 1000000 : 1000000000;
    out->sec = v / div;
    out->nsec = (int32_t)((v % div) * (1000000000 / div));
    return 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static int assemble(fields *f, const tz_zone *zone, int64_t now_s, tf_time *out)
{
    if (f->has_ampm) {
        if (f->hour < 1 || f->hour > 12)
            return -EINVAL;
        f->hour = f->hour % 12 + (f->pm ? 12 : 0);
    }
    if (f->mon < 1 || f->mon > 12 || f->hour > 23 || f->min > 59 || f->sec > 60 || f->day < 1)
        return -EINVAL;
    bool guess_year = !f->has_year;
    if (guess_year) {
        int64_t y; unsigned m, d;
        tz_civil_from_days(now_s / 86400, &y, &m, &d);
        f->year = y;
    }
    if (f->day > days_in_month(f->year, f->mon))
        return -EINVAL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int64_t local = tz_days_from_civil(f->year, (unsigned)f->mon, (unsigned)f->day) * 86400 +
                        f->hour * 3600 + f->min * 60 + f->sec;
        int32_t off = f->has_zone ? f->off : zone ? tz_offset_for_local(zone, local) : 0;
        out->sec = local - off;
        out->nsec = f->nsec;
        if (!guess_year || out->sec <= now_s + 7 * 86400)
            break;
        f->year--;   /* "Dec 31" read on Jan 1 belongs to last year */
    }
    return 0;
}

int tf_parse(const tf_layout *l, const char *s, size_t n, const tz_zone *zone, int64_t now_s, tf_time *out)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (l->n == 1 && l->t[0].k >= T_UNIX && l->t[0].k <= T_UNIX_NS)
        return unix_parse(&l->t[0], s, n, out);
    fields f = {.mon = 1, .day = 1};
    size_t pos = 0;
    /* the token array gets a virtual terminator so T_SEC can peek at t[1] */
    for (size_t i = 0; i < l->n; i++) {
        tok cur[2] = {l->t[i], i + 1 < l->n ? l->t[i + 1] : (tok){T_SPACE, 0}};
        if (parse_tok(cur, s, n, &pos, &f))
            return -EINVAL;
    }
    if (pos != n)
        return -EINVAL;
    return assemble(&f, zone, now_s, out);
}

int tf_from_integer(int64_t v, tf_time *out)
{
    if (v < 0)
        return -EINVAL;
    int64_t div = v <= 1000000000000LL ? 1 : v < 1000000000000000LL ? 1000 : v < 1000000000000000000LL ? 1000000 : 1000000000;
    out->sec = v / div;
    out->nsec = (int32_t)((v % div) * (1000000000 / div));
    return 0;
}

int tf_from_number(double v, tf_time *out)
{
    if (!(v >= 0) || v > 9.2e18)
        return -EINVAL;
    if (v <= 1e12) {
        out->sec = (int64_t)v;
        out->nsec = (int32_t)((v - (double)out->sec) * 1e9);
        return 0;
    }
    return tf_from_integer((int64_t)v, out);
}

void tf_format_rfc3339(tf_time t, const tz_zone *zone, char *out, size_t outlen)
{
    int32_t off = zone ? tz_offset_at_utc(zone, t.sec) : 0;
    int64_t local = t.sec + off;
    int64_t days = local / 86400 - (local % 86400 < 0);
    int64_t sod = local - days * 86400;
    int64_t y; unsigned m, d;
    tz_civil_from_days(days, &y, &m, &d);
    char frac[8] = "", zs[8] = "Z";
    if (t.nsec)
        snprintf(frac, sizeof frac, ".%03d", t.nsec / 1000000);
    if (off) {
        int32_t a = off < 0 ? -off : off;
        snprintf(zs, sizeof zs, "%c%02d:%02d", off < 0 ? '-' : '+', (a / 3600) % 100, (a / 60) % 60);
    }
    snprintf(out, outlen, "%04lld-%02u-%02uT%02d:%02d:%02d%s%s", (long long)y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), frac, zs);
}
