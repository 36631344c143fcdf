/* tz: see tz.h. TZif layout per RFC 8536; footer per POSIX TZ (only the M.m.w.d rule form, which is
 * what every zone in the tz database uses). */
#include "tz.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_util.h"

typedef struct rule { int month, week, wday; int32_t secs; } rule;

struct tz_zone {
    char name[128];
    int64_t *trans;      /* transition instants (UTC) */
    uint8_t *idx;        /* type index per transition */
    size_t ntrans;
    int32_t *offs;       /* utoff per type */
    size_t ntypes;
    int32_t first_off;   /* before the first transition */
    /* footer */
    bool has_footer, has_dst;
    int32_t std_off, dst_off;   /* seconds east */
    rule start, end;
};

int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void tz_free(tz_zone *z)
{
    if (!z)
        return;
    free(z->trans);
    free(z->idx);
    free(z->offs);
    free(z);
}

const char *tz_name(const tz_zone *z) { return z->name; }

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* ---- POSIX TZ footer ---- */

static const char *parse_tzname(const char *p)
{
    if (*p == '<') {
        const char *e = strchr(p, '>');
        return e ? e + 1 : NULL;
    }
    const char *s = p;
    while (isalpha((unsigned char)*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return NULL;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        while (isdigit((unsigned char)*p))
            v[i] = v[i] * 10 + (*p++ - '0');
        if (i < 2 && *p == ':' && isdigit((unsigned char)p[1]))
            p++;
        else
            break;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *parse_rule(const char *p, rule *r)
{
    if (*p != 'M')
        return NULL;
    char *e;
    r->month = (int)strtol(p + 1, &e, 10);
    if (*e != '.')
        return NULL;
    r->week = (int)strtol(e + 1, &e, 10);
    if (*e != '.')
        return NULL;
    r->wday = (int)strtol(e + 1, &e, 10);
    r->secs = 7200;
    p = e;
    if (*p == '/' && !(p = parse_hms(p + 1, &r->secs)))
        return NULL;
    return (r->month >= 1 && r->month <= 12 && r->week >= 1 && r->week <= 5 && r->wday >= 0 && r->wday <= 6) ? p : NULL;
}

static int parse_footer(tz_zone *z, const char *s)
{
    int32_t off;
    const char *p = parse_tzname(s);
    if (!p || !(p = parse_hms(p, &off)))
        return -EINVAL;
    z->std_off = -off;
    z->has_footer = true;
    if (!*p)
        return 0;
    if (!(p = parse_tzname(p)))
        return -EINVAL;
    z->dst_off = z->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &off)))
            return -EINVAL;
        z->dst_off = -off;
    }
    if (*p != ',' || !(p = parse_rule(p + 1, &z->start)) || *p != ',' || !(p = parse_rule(p + 1, &z->end)))
        return -EINVAL;
    z->has_dst = true;
    return 0;
}

/* Local seconds of the rule's moment in year y (in the offset in force before it). */
static int64_t rule_local(const rule *r, int64_t y)
{
    int64_t first = tz_days_from_civil(y, (unsigned)r->month, 1);
    int wd_first = (int)(((first % 7) + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + ((r->wday - wd_first + 7) % 7) + 7 * (r->week - 1);
    unsigned dim_m = (unsigned)r->month == 12 ? 1 : (unsigned)r->month + 1;
    int64_t next = tz_days_from_civil(dim_m == 1 ? y + 1 : y, dim_m, 1);
    while (day >= next)
        day -= 7;
    return day * 86400 + r->secs;
}

static int32_t footer_offset(const tz_zone *z, int64_t utc_s)
{
    if (!z->has_dst)
        return z->std_off;
    int64_t y;
    unsigned m, d;
    tz_civil_from_days((utc_s + z->std_off) / 86400 - ((utc_s + z->std_off) % 86400 < 0), &y, &m, &d);
    int64_t start = rule_local(&z->start, y) - z->std_off;   /* start is given in standard time */
    int64_t end = rule_local(&z->end, y) - z->dst_off;       /* end is given in daylight time */
    bool in_dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
    return in_dst ? z->dst_off : z->std_off;
}

/* ---- TZif ---- */

static int parse_tzif(tz_zone *z, const unsigned char *b, size_t len)
{
    if (len < 44 || memcmp(b, "TZif", 4))
        return -EINVAL;
    int ver = b[4];
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(b + 20 + 4 * i);
    size_t v1 = (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    const unsigned char *p = b + 44;
    size_t tsz = 4;
    if (ver >= '2') {
        if (44 + v1 + 44 > len)
            return -EINVAL;
        p = b + 44 + v1;
        if (memcmp(p, "TZif", 4))
            return -EINVAL;
        for (int i = 0; i < 6; i++)
            c[i] = be32(p + 20 + 4 * i);
        p += 44;
        tsz = 8;
    }
    size_t need = (size_t)c[3] * (tsz + 1) + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * (tsz + 4) + c[1] + c[0];
    if ((size_t)(p - b) + need > len || c[4] == 0 || c[4] > 256)
        return -EINVAL;
    z->ntrans = c[3];
    z->ntypes = c[4];
    z->trans = calloc(z->ntrans ? z->ntrans : 1, sizeof *z->trans);
    z->idx = calloc(z->ntrans ? z->ntrans : 1, 1);
    z->offs = calloc(z->ntypes, sizeof *z->offs);
    if (!z->trans || !z->idx || !z->offs)
        return -ENOMEM;
    for (size_t i = 0; i < z->ntrans; i++)
        z->trans[i] = tsz == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
    p += z->ntrans * tsz;
    for (size_t i = 0; i < z->ntrans; i++)
        if ((z->idx[i] = p[i]) >= z->ntypes)
            return -EINVAL;
    p += z->ntrans;
    for (size_t i = 0; i < z->ntypes; i++)
        z->offs[i] = (int32_t)be32(p + 6 * i);
    z->first_off = z->offs[0];
    p += z->ntypes * 6 + c[5] + (size_t)c[2] * (tsz + 4) + c[1] + c[0];
    if (ver >= '2' && (size_t)(p - b) < len && *p == '\n') {
        char foot[128];
        size_t n = 0;
        for (p++; (size_t)(p - b) < len && *p != '\n' && n + 1 < sizeof foot; p++)
            foot[n++] = (char)*p;
        foot[n] = 0;
        if (n)
            parse_footer(z, foot);   /* a bad footer only loses the future rule */
    }
    return 0;
}

static int fixed_zone(const char *name, tz_zone *z)
{
    static const char *const utc[] = {"UTC", "Z", "GMT", "Etc/UTC", "Local", "local", "utc", "Zulu", "UCT"};
    for (size_t i = 0; i < sizeof utc / sizeof *utc; i++)
        if (!strcmp(name, utc[i]))
            return 0;
    if ((name[0] == '+' || name[0] == '-') && isdigit((unsigned char)name[1])) {
        char buf[16];
        size_t n = strlen(name);
        if (n == 5 && isdigit((unsigned char)name[4])) {   /* +hhmm */
            snprintf(buf, sizeof buf, "%.3s:%.2s", name, name + 3);
            name = buf;
        }
        int32_t off;
        const char *e = parse_hms(name, &off);
        if (e && !*e && off > -18 * 3600 && off < 18 * 3600) {
            z->first_off = z->std_off = off;
            return 0;
        }
        return -EINVAL;
    }
    return -ENOENT;
}

int tz_load(const char *name, tz_zone **out)
{
    *out = NULL;
    if (!name || !*name || strlen(name) >= 128 || strstr(name, ".."))
        return -EINVAL;
    tz_zone *z = calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    snprintf(z->name, sizeof z->name, "%s", name);
    int rc = fixed_zone(name, z);
    if (rc == -ENOENT) {
        const char *dir = getenv("TZDIR");
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
        char *data = NULL;
        size_t len = 0;
        rc = bf_read_file(path, 1 << 20, &data, &len);
        if (rc == 0)
            rc = parse_tzif(z, (unsigned char *)data, len);
        else
            rc = -ENOENT;
        free(data);
    } else if (rc == 0) {
        z->has_footer = true;
    }
    if (rc) {
        tz_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

int32_t tz_offset_at_utc(const tz_zone *z, int64_t utc_s)
{
    if (z->ntrans == 0 || utc_s < z->trans[0])
        return z->ntrans == 0 && z->has_footer ? footer_offset(z, utc_s) : z->first_off;
    if (utc_s >= z->trans[z->ntrans - 1] && z->has_footer)
        return footer_offset(z, utc_s);
    size_t lo = 0, hi = z->ntrans;   /* last transition <= utc_s */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->trans[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return z->offs[z->idx[lo]];
}

int32_t tz_offset_for_local(const tz_zone *z, int64_t local_s)
{
    /* two rounds settle every real zone: guess with the offset a day before, then correct */
    int32_t off = tz_offset_at_utc(z, local_s - 86400);
    int32_t off2 = tz_offset_at_utc(z, local_s - off);
    if (off2 == off)
        return off;
    int32_t off3 = tz_offset_at_utc(z, local_s - off2);
    return off3 == off2 ? off2 : off;
}
