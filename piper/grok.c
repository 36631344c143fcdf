/* grok: see grok.h. */
#include "grok.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_buf.h"
#include "fieldpath.h"
#include "fopts.h"
#include "grok_patterns.h"

typedef enum { GT_STRING, GT_INT, GT_FLOAT, GT_BOOL } gtype;
static const struct { const char *name; gtype t; } GTYPES[] = {
    {"string", GT_STRING}, {"str", GT_STRING}, {"int", GT_INT}, {"integer", GT_INT}, {"long", GT_INT},
    {"float", GT_FLOAT}, {"double", GT_FLOAT}, {"number", GT_FLOAT}, {"bool", GT_BOOL}, {"boolean", GT_BOOL},
};

typedef struct gcap {
    uint32_t group;     /* PCRE2 group number */
    fpath field;
    gtype type;
} gcap;

struct grok {
    rx *re;
    char *regex;
    gcap *caps;
    size_t ncaps;
};

typedef struct gbuild {
    bf_buf out;
    const json_t *custom;
    char **names;       /* generated group name -> field spec, index = generation order */
    char **fields;
    gtype *types;
    size_t n;
    const char *stack[64];
    int depth;
    char *err;
    size_t errlen;
} gbuild;

static const char *lookup(gbuild *b, const char *name)
{
    const char *c = json_string_value(json_object_get(b->custom, name));
    return c ? c : grok_builtin_find(name);
}

static int expand(gbuild *b, const char *expr);

static int add_field(gbuild *b, const char *field, const char *type)
{
    gtype t = GT_STRING;
    if (type) {
        size_t i;
        for (i = 0; i < sizeof GTYPES / sizeof *GTYPES; i++)
            if (!strcmp(GTYPES[i].name, type))
                break;
        if (i == sizeof GTYPES / sizeof *GTYPES) {
            snprintf(b->err, b->errlen, "grok: unknown type '%s' for field %s", type, field);
            return -EINVAL;
        }
        t = GTYPES[i].t;
    }
    char **nf = realloc(b->fields, (b->n + 1) * sizeof *nf);
    if (!nf)
        return -ENOMEM;
    b->fields = nf;
    gtype *nt = realloc(b->types, (b->n + 1) * sizeof *nt);
    if (!nt)
        return -ENOMEM;
    b->types = nt;
    if (!(b->fields[b->n] = strdup(field)))
        return -ENOMEM;
    b->types[b->n++] = t;
    return 0;
}

/* One %{NAME[:field[:type]]} reference. */
static int expand_ref(gbuild *b, const char *ref, size_t len)
{
    char spec[512];
    if (len >= sizeof spec) {
        snprintf(b->err, b->errlen, "grok: reference too long");
        return -EINVAL;
    }
    memcpy(spec, ref, len);
    spec[len] = 0;
    char *field = strchr(spec, ':');
    char *type = NULL;
    if (field) {
        *field++ = 0;
        type = strchr(field, ':');
        if (type)
            *type++ = 0;
    }
    const char *def = lookup(b, spec);
    if (!def) {
        snprintf(b->err, b->errlen, "grok: unknown pattern %%{%s}", spec);
        return -EINVAL;
    }
    for (int i = 0; i < b->depth; i++)
        if (!strcmp(b->stack[i], spec)) {
            snprintf(b->err, b->errlen, "grok: pattern %s refers to itself", spec);
            return -ELOOP;
        }
    if (b->depth >= 63) {
        snprintf(b->err, b->errlen, "grok: patterns nested too deeply");
        return -ELOOP;
    }
    int rc;
    if (field && *field) {
        if ((rc = bf_buf_printf(&b->out, "(?<_grk%zu>", b->n)) || (rc = add_field(b, field, type)))
            return rc;
    } else if ((rc = bf_buf_puts(&b->out, "(?:"))) {
        return rc;
    }
    /* the stack holds names by pointer into this frame: valid while the recursion below runs */
    b->stack[b->depth++] = spec;
    rc = expand(b, def);
    b->depth--;
    return rc ? rc : bf_buf_putc(&b->out, ')');
}

static int expand(gbuild *b, const char *expr)
{
    for (const char *p = expr; *p;) {
        if (p[0] == '\\' && p[1]) {
            if (bf_buf_append(&b->out, p, 2))
                return -ENOMEM;
            p += 2;
            continue;
        }
        if (p[0] == '%' && p[1] == '{') {
            const char *e = strchr(p + 2, '}');
            /* only a real reference: NAME starts with a letter or underscore */
            if (e && (isalpha((unsigned char)p[2]) || p[2] == '_')) {
                int rc = expand_ref(b, p + 2, (size_t)(e - p - 2));
                if (rc)
                    return rc;
                p = e + 1;
                continue;
            }
        }
        if (bf_buf_putc(&b->out, *p++))
            return -ENOMEM;
    }
    return 0;
}

void grok_free(grok *g)
{
    if (!g)
        return;
    rx_free(g->re);
    free(g->regex);
    for (size_t i = 0; i < g->ncaps; i++)
        fpath_free(&g->caps[i].field);
    free(g->caps);
    free(g);
}

const char *grok_regex(const grok *g) { return g->regex; }

/* Map PCRE2's name table to capture entries: our _grkN names and the user's own named groups. */
static int collect_caps(grok *g, gbuild *b, char *err, size_t errlen)
{
    uint32_t count, esize;
    PCRE2_SPTR table;
    pcre2_pattern_info(g->re->code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(g->re->code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(g->re->code, PCRE2_INFO_NAMETABLE, &table);
    g->caps = calloc(count ? count : 1, sizeof *g->caps);
    if (!g->caps)
        return -ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR ent = table + i * esize;
        uint32_t group = ((uint32_t)ent[0] << 8) | ent[1];
        const char *name = (const char *)ent + 2;
        const char *field = name;
        gtype t = GT_STRING;
        if (!strncmp(name, "_grk", 4) && isdigit((unsigned char)name[4])) {
            size_t idx = strtoul(name + 4, NULL, 10);
            if (idx >= b->n)
                continue;
            field = b->fields[idx];
            t = b->types[idx];
        }
        gcap *c = &g->caps[g->ncaps];
        c->group = group;
        c->type = t;
        if (fpath_compile(field, &c->field)) {
            snprintf(err, errlen, "grok: bad field name '%s'", field);
            return -EINVAL;
        }
        g->ncaps++;
    }
    return 0;
}

int grok_compile(const char *expr, const json_t *custom, grok **out, char *err, size_t errlen)
{
    *out = NULL;
    gbuild b = {.custom = custom, .err = err, .errlen = errlen};
    bf_buf_init(&b.out, 1 << 20);
    grok *g = calloc(1, sizeof *g);
    int rc = g ? expand(&b, expr) : -ENOMEM;
    if (!rc && bf_buf_putc(&b.out, 0))
        rc = -ENOMEM;
    if (!rc) {
        g->regex = bf_buf_steal(&b.out, NULL);
        rc = rx_compile(g->regex, PCRE2_DUPNAMES, &g->re, err, errlen);
    }
    if (!rc)
        rc = collect_caps(g, &b, err, errlen);
    for (size_t i = 0; i < b.n; i++)
        free(b.fields[i]);
    free(b.fields);
    free(b.types);
    bf_buf_free(&b.out);
    if (rc) {
        grok_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

static json_t *typed(const char *s, size_t n, gtype t)
{
    char buf[64];
    if (t == GT_STRING || n >= sizeof buf)
        return json_stringn(s, n);
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    if (t == GT_INT) {
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (!*end && end != buf && !errno)
            return json_integer(v);
        double d = strtod(buf, &end);
        return (!*end && end != buf && d > -9.2e18 && d < 9.2e18) ? json_integer((json_int_t)d) : json_stringn(s, n);
    }
    if (t == GT_FLOAT) {
        double d = strtod(buf, &end);
        return (!*end && end != buf) ? json_real(d) : json_stringn(s, n);
    }
    bool b;
    return fo_parse_bool(buf, &b) == 0 ? json_boolean(b) : json_stringn(s, n);
}

int grok_match(const grok *g, rx_scratch *s, const char *subj, size_t len, json_t *dst, const grok_opts *o)
{
    int m = rx_search(g->re, s, subj, len, 0);
    if (m <= 0)
        return m;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    for (size_t i = 0; i < g->ncaps; i++) {
        const gcap *c = &g->caps[i];
        if (ov[2 * c->group] == PCRE2_UNSET)
            continue;
        size_t a = ov[2 * c->group], e = ov[2 * c->group + 1];
        if (a == e && !o->keep_empty)
            continue;
        if (!o->overwrite && fpath_get(&c->field, dst))
            continue;
        int rc = fpath_set(&c->field, dst, typed(subj + a, e - a, c->type));
        if (rc)
            return rc;
    }
    return 1;
}
