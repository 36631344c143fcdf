/* bf_config: schema-driven YAML + environment configuration (see bf_config.h).
 *
 * Loading order: defaults, then the YAML document (libyaml document API, walked along the schema's
 * dotted paths), then alt_env names, then BYTEFREEZER_<DAEMON>__… names, then "env:"/"file:"
 * references in strings. Every value remembers where it came from so that errors raised late (a
 * missing secret) can still name the file line or environment variable responsible. */
#include "bf_config.h"
#include "bf_buf.h"
#include "bf_util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CFG_FILE_MAX (4u << 20)     /* a config file larger than this is certainly a mistake */
#define SECRET_FILE_MAX (1u << 20)

/* Where a key's current value came from. */
typedef enum { ORIG_DEFAULT = 0, ORIG_FILE, ORIG_ENV } orig_kind;
typedef struct {
    orig_kind kind;
    unsigned long line, col;     /* 1-based, ORIG_FILE */
    char env[256];               /* ORIG_ENV: variable name */
} origin;

/* One load in progress: everything the helpers need, so no state is global. */
typedef struct {
    const bf_config_schema *s;
    void *cfg;
    const char *name;            /* file name for messages */
    origin *orig;                /* one per key */
    char *err;
    size_t errlen;
} loader;

/* ---------- error formatting ---------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Prefix naming the origin: "file:3:5", "environment BYTEFREEZER_X__Y" or "default for y". */
static void origin_prefix(const loader *L, const origin *o, const bf_config_key *k, char *out, size_t n)
{
    if (o->kind == ORIG_FILE)
        snprintf(out, n, "%s:%lu:%lu", L->name, o->line, o->col);
    else if (o->kind == ORIG_ENV)
        snprintf(out, n, "environment %s", o->env);
    else
        snprintf(out, n, "default for %s", k->path);
}

/* ---------- typed values ---------- */

typedef int (*parse_fn)(const bf_config_key *k, const char *text, void *slot, char *msg, size_t msglen);
typedef void (*fmt_fn)(const bf_config_key *k, const void *slot, bf_buf *out);

static void set_string(void *slot, char *v)
{
    char **p = slot;
    free(*p);
    *p = v;
}

static int parse_string(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    (void)k;
    char *v = strdup(text);
    if (!v) {
        set_err(msg, n, "out of memory");
        return -ENOMEM;
    }
    set_string(slot, v);
    return 0;
}

static int check_range(const bf_config_key *k, double v, const char *text, char *msg, size_t n)
{
    if (k->min == 0 && k->max == 0)
        return 0;
    if (v < k->min || v > k->max) {
        set_err(msg, n, "%s: %s is out of range [%.15g, %.15g]", k->path, text, k->min, k->max);
        return -EINVAL;
    }
    return 0;
}

static int parse_int(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || errno) {
        set_err(msg, n, "%s: \"%s\" is not an integer", k->path, text);
        return -EINVAL;
    }
    if (check_range(k, (double)v, text, msg, n))
        return -EINVAL;
    *(int64_t *)slot = v;
    return 0;
}

static int parse_size(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    int64_t v;
    if (bf_parse_size(text, &v) != 0) {
        set_err(msg, n, "%s: \"%s\" is not a size (like 8MiB, 512KiB, 10GB or a byte count)", k->path, text);
        return -EINVAL;
    }
    if (check_range(k, (double)v, text, msg, n))
        return -EINVAL;
    *(int64_t *)slot = v;
    return 0;
}

static int parse_duration(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    int64_t v;
    if (bf_parse_duration_ms(text, &v) != 0) {
        set_err(msg, n, "%s: \"%s\" is not a duration (like 250ms, 1s, 5m, 2h, 1d)", k->path, text);
        return -EINVAL;
    }
    if (check_range(k, (double)v, text, msg, n))
        return -EINVAL;
    *(int64_t *)slot = v;
    return 0;
}

static const struct {
    const char *text;
    bool value;
} bool_words[] = {
    {"true", true}, {"yes", true}, {"on", true}, {"1", true},
    {"false", false}, {"no", false}, {"off", false}, {"0", false},
};

static int parse_bool(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++) {
        if (strcasecmp(text, bool_words[i].text) == 0) {
            *(bool *)slot = bool_words[i].value;
            return 0;
        }
    }
    set_err(msg, n, "%s: \"%s\" is not a boolean (true or false)", k->path, text);
    return -EINVAL;
}

/* Finds text in the '|'-separated choices; stores the canonical spelling. */
static int parse_enum(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    const char *c = k->choices ? k->choices : "";
    size_t tl = strlen(text);
    while (*c) {
        const char *bar = strchr(c, '|');
        size_t cl = bar ? (size_t)(bar - c) : strlen(c);
        if (cl == tl && strncasecmp(c, text, tl) == 0) {
            char *v = strndup(c, cl);
            if (!v) {
                set_err(msg, n, "out of memory");
                return -ENOMEM;
            }
            set_string(slot, v);
            return 0;
        }
        c += cl + (bar ? 1 : 0);
    }
    set_err(msg, n, "%s: \"%s\" is not one of %s", k->path, text, k->choices ? k->choices : "(none)");
    return -EINVAL;
}

static int parse_double(const bf_config_key *k, const char *text, void *slot, char *msg, size_t n)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v)) {
        set_err(msg, n, "%s: \"%s\" is not a number", k->path, text);
        return -EINVAL;
    }
    if (check_range(k, v, text, msg, n))
        return -EINVAL;
    *(double *)slot = v;
    return 0;
}

static void fmt_string(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    const char *v = *(char *const *)slot;
    bf_buf_json_str(out, v ? v : "", v ? strlen(v) : 0);
}

static void fmt_secret(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    const char *v = *(char *const *)slot;
    bf_buf_puts(out, v && *v ? "\"****\"" : "\"\"");
}

static void fmt_int(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    bf_buf_printf(out, "%lld", (long long)*(const int64_t *)slot);
}

typedef struct {
    const char *name;
    int64_t mult;
} unit;

/* Largest unit that divides the value exactly, so that printed values parse back identically. */
static void fmt_units(int64_t v, const unit *u, size_t n, const char *zero, bf_buf *out)
{
    if (v == 0) {
        bf_buf_puts(out, zero);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v % u[i].mult == 0) {
            bf_buf_printf(out, "%lld%s", (long long)(v / u[i].mult), u[i].name);
            return;
        }
    }
}

static const unit size_units[] = {
    {"TiB", 1LL << 40}, {"GiB", 1LL << 30}, {"MiB", 1LL << 20}, {"KiB", 1LL << 10}, {"", 1},
};
static const unit duration_units[] = {
    {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
};

static void fmt_size(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    fmt_units(*(const int64_t *)slot, size_units, sizeof size_units / sizeof size_units[0], "0", out);
}

static void fmt_duration(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    fmt_units(*(const int64_t *)slot, duration_units, sizeof duration_units / sizeof duration_units[0],
              "0s", out);
}

static void fmt_bool(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    bf_buf_puts(out, *(const bool *)slot ? "true" : "false");
}

static void fmt_double(const bf_config_key *k, const void *slot, bf_buf *out)
{
    (void)k;
    bf_buf_printf(out, "%.15g", *(const double *)slot);
}

/* Indexed by bf_ctype. */
static const struct {
    const char *name;
    parse_fn parse;
    fmt_fn fmt;
    bool is_string;     /* slot is a heap char * (freed by bf_config_free) */
} ctypes[] = {
    [BF_CT_STRING] = {"string", parse_string, fmt_string, true},
    [BF_CT_SECRET] = {"secret", parse_string, fmt_secret, true},
    [BF_CT_INT] = {"int", parse_int, fmt_int, false},
    [BF_CT_SIZE] = {"size", parse_size, fmt_size, false},
    [BF_CT_DURATION] = {"duration", parse_duration, fmt_duration, false},
    [BF_CT_BOOL] = {"bool", parse_bool, fmt_bool, false},
    [BF_CT_ENUM] = {"enum", parse_enum, fmt_string, true},
    [BF_CT_DOUBLE] = {"number", parse_double, fmt_double, false},
};
#define NCTYPES (sizeof ctypes / sizeof ctypes[0])

static void *slot_of(const bf_config_key *k, void *cfg)
{
    return (char *)cfg + k->offset;
}

static bool key_valid(const bf_config_key *k)
{
    return (size_t)k->type < NCTYPES && ctypes[k->type].parse;
}

/* Parses text into key i; on error err gets "<origin>: <message>". */
static int set_value(loader *L, size_t i, const char *text, const origin *o)
{
    const bf_config_key *k = &L->s->keys[i];
    char msg[BF_CFG_ERRLEN], where[300];
    if (!key_valid(k)) {
        set_err(L->err, L->errlen, "schema error: key %s has an unknown type", k->path);
        return -EINVAL;
    }
    int rc = ctypes[k->type].parse(k, text, slot_of(k, L->cfg), msg, sizeof msg);
    if (rc) {
        origin_prefix(L, o, k, where, sizeof where);
        set_err(L->err, L->errlen, "%s: %s", where, msg);
        return rc;
    }
    L->orig[i] = *o;
    return 0;
}

/* ---------- schema lookup ---------- */

static long find_key(const bf_config_schema *s, const char *path)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i].path, path) == 0)
            return (long)i;
    return -1;
}

/* True when path names a section: some key lies below "path.". */
static bool is_section(const bf_config_schema *s, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < s->nkeys; i++)
        if (strncmp(s->keys[i].path, path, n) == 0 && s->keys[i].path[n] == '.')
            return true;
    return false;
}

/* ---------- YAML walk ---------- */

static void node_err(loader *L, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void node_err(loader *L, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[BF_CFG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_err(L->err, L->errlen, "%s:%lu:%lu: %s", L->name, (unsigned long)n->start_mark.line + 1,
            (unsigned long)n->start_mark.column + 1, msg);
}

static const char *scalar_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain ~, null or empty scalar means "no value": the key keeps its default. */
static bool scalar_is_null(const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *t = scalar_text(n);
    return !*t || strcmp(t, "~") == 0 || strcasecmp(t, "null") == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
    return n->type == YAML_SEQUENCE_NODE ? "a sequence" : n->type == YAML_MAPPING_NODE ? "a mapping" : "a scalar";
}

static int walk_mapping(loader *L, yaml_document_t *doc, yaml_node_t *map, const char *prefix, int depth);

static int walk_leaf(loader *L, long ki, yaml_node_t *v, const char *path)
{
    if (v->type != YAML_SCALAR_NODE) {
        node_err(L, v, "%s: expected a %s value, found %s", path, ctypes[L->s->keys[ki].type].name,
                 node_kind(v));
        return -EINVAL;
    }
    if (scalar_is_null(v))
        return 0;
    origin o = {ORIG_FILE, (unsigned long)v->start_mark.line + 1, (unsigned long)v->start_mark.column + 1, ""};
    return set_value(L, (size_t)ki, scalar_text(v), &o);
}

static int walk_pair(loader *L, yaml_document_t *doc, yaml_node_pair_t *pair, const char *prefix, int depth)
{
    yaml_node_t *kn = yaml_document_get_node(doc, pair->key);
    yaml_node_t *vn = yaml_document_get_node(doc, pair->value);
    if (!kn || !vn)
        return -EINVAL;
    if (kn->type != YAML_SCALAR_NODE) {
        node_err(L, kn, "mapping keys must be plain names");
        return -EINVAL;
    }
    char path[256];
    int pl = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", scalar_text(kn));
    if (pl < 0 || (size_t)pl >= sizeof path) {
        node_err(L, kn, "key name too long");
        return -EINVAL;
    }
    long ki = find_key(L->s, path);
    if (ki >= 0) {
        if (L->orig[ki].kind == ORIG_FILE) {
            node_err(L, kn, "duplicate key %s (first set at line %lu)", path, L->orig[ki].line);
            return -EINVAL;
        }
        return walk_leaf(L, ki, vn, path);
    }
    if (is_section(L->s, path)) {
        if (vn->type == YAML_SCALAR_NODE && scalar_is_null(vn))
            return 0;
        if (vn->type != YAML_MAPPING_NODE) {
            node_err(L, vn, "%s: expected a mapping (section), found %s", path, node_kind(vn));
            return -EINVAL;
        }
        return walk_mapping(L, doc, vn, path, depth + 1);
    }
    node_err(L, kn, "unknown key %s", path);
    return -EINVAL;
}

/* Keys within one mapping must be distinct (YAML says so; libyaml does not check). */
static int check_duplicates(loader *L, yaml_document_t *doc, yaml_node_t *map)
{
    yaml_node_pair_t *b = map->data.mapping.pairs.start, *e = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = b; p < e; p++) {
        yaml_node_t *kp = yaml_document_get_node(doc, p->key);
        if (!kp || kp->type != YAML_SCALAR_NODE)
            continue;
        for (yaml_node_pair_t *q = b; q < p; q++) {
            yaml_node_t *kq = yaml_document_get_node(doc, q->key);
            if (kq && kq->type == YAML_SCALAR_NODE && strcmp(scalar_text(kp), scalar_text(kq)) == 0) {
                node_err(L, kp, "duplicate key %s (first at line %lu)", scalar_text(kp),
                         (unsigned long)kq->start_mark.line + 1);
                return -EINVAL;
            }
        }
    }
    return 0;
}

static int walk_mapping(loader *L, yaml_document_t *doc, yaml_node_t *map, const char *prefix, int depth)
{
    /* Depth is bounded by the schema (only known sections are entered); this guards a bad schema. */
    if (depth > 16) {
        node_err(L, map, "nesting too deep");
        return -EINVAL;
    }
    int rc = check_duplicates(L, doc, map);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; !rc && p < map->data.mapping.pairs.top; p++)
        rc = walk_pair(L, doc, p, prefix, depth);
    return rc;
}

static int load_yaml(loader *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        set_err(L->err, L->errlen, "%s: out of memory", L->name);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const char *what = parser.problem ? parser.problem : "syntax error";
        set_err(L->err, L->errlen, "%s:%lu:%lu: YAML error: %s%s%s", L->name,
                (unsigned long)parser.problem_mark.line + 1, (unsigned long)parser.problem_mark.column + 1,
                what, parser.context ? " " : "", parser.context ? parser.context : "");
        int rc = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        yaml_parser_delete(&parser);
        return rc;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE)
        rc = walk_mapping(L, &doc, root, "", 0);
    else if (root && !(root->type == YAML_SCALAR_NODE && scalar_is_null(root))) {
        node_err(L, root, "the top level must be a mapping of keys, found %s", node_kind(root));
        rc = -EINVAL;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* ---------- environment ---------- */

/* Appends c to out (capacity n, NUL kept) as an upper-case name character; others become '_'. */
static void env_putc(char *out, size_t n, size_t *pos, char c)
{
    if (*pos + 1 < n)
        out[(*pos)++] = isalnum((unsigned char)c) ? (char)toupper((unsigned char)c) : '_';
}

void bf_config_env_name(const char *daemon, const char *path, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    size_t pos = 0;
    for (const char *p = "BYTEFREEZER"; *p; p++)
        env_putc(out, outlen, &pos, *p);
    env_putc(out, outlen, &pos, '_');
    for (const char *p = daemon ? daemon : ""; *p; p++)
        env_putc(out, outlen, &pos, *p);
    for (const char *p = path ? path : ""; *p; p++) {
        /* each level starts with "__": the first one after the daemon, then one per '.' */
        if (p == path || *p == '.') {
            env_putc(out, outlen, &pos, '_');
            env_putc(out, outlen, &pos, '_');
        }
        if (*p != '.')
            env_putc(out, outlen, &pos, *p);
    }
    out[pos] = '\0';
}

static int apply_env(loader *L)
{
    /* alt_env first so that the BYTEFREEZER_ name, applied second, wins when both are set. */
    for (size_t i = 0; i < L->s->nkeys; i++) {
        const char *alt = L->s->keys[i].alt_env;
        const char *v = alt ? getenv(alt) : NULL;
        if (v && *v) {
            origin o = {ORIG_ENV, 0, 0, ""};
            snprintf(o.env, sizeof o.env, "%s", alt);
            int rc = set_value(L, i, v, &o);
            if (rc)
                return rc;
        }
    }
    for (size_t i = 0; i < L->s->nkeys; i++) {
        char name[256];
        bf_config_env_name(L->s->daemon, L->s->keys[i].path, name, sizeof name);
        const char *v = getenv(name);
        if (!v)
            continue;
        origin o = {ORIG_ENV, 0, 0, ""};
        snprintf(o.env, sizeof o.env, "%s", name);
        int rc = set_value(L, i, v, &o);
        if (rc)
            return rc;
    }
    return 0;
}

extern char **environ;

/* A BYTEFREEZER_<DAEMON>__ variable that names no key is a typo; say so rather than ignore it. */
static int check_unknown_env(loader *L)
{
    char prefix[128];
    bf_config_env_name(L->s->daemon, "", prefix, sizeof prefix);
    size_t pl = strlen(prefix);
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, prefix, pl) != 0 || strncmp(*e + pl, "__", 2) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t nl = eq ? (size_t)(eq - *e) : strlen(*e);
        bool known = false;
        for (size_t i = 0; i < L->s->nkeys && !known; i++) {
            char name[256];
            bf_config_env_name(L->s->daemon, L->s->keys[i].path, name, sizeof name);
            known = strlen(name) == nl && strncmp(name, *e, nl) == 0;
        }
        if (!known) {
            set_err(L->err, L->errlen, "environment %.*s: no such configuration key", (int)nl, *e);
            return -EINVAL;
        }
    }
    return 0;
}

/* ---------- secrets ---------- */

static void trim_newlines(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

int bf_config_resolve_secret(const char *in, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!in)
        in = "";
    if (strncmp(in, "env:", 4) == 0) {
        const char *v = getenv(in + 4);
        if (!in[4] || !v) {
            set_err(err, errlen, "environment variable %s is not set", in + 4);
            return -EINVAL;
        }
        *out = strdup(v);
    } else if (strncmp(in, "file:", 5) == 0 && strncmp(in, "file://", 7) != 0) {
        /* "file:/path" reads a secret; "file:///path" is a URI (e.g. the tenants source) and stays. */
        size_t len;
        int rc = bf_read_file(in + 5, SECRET_FILE_MAX, out, &len);
        if (rc) {
            set_err(err, errlen, "cannot read %s: %s", in + 5, strerror(-rc));
            return rc == -ENOMEM ? -ENOMEM : -EINVAL;
        }
        if (memchr(*out, '\0', len)) {
            free(*out);
            *out = NULL;
            set_err(err, errlen, "%s contains a NUL byte", in + 5);
            return -EINVAL;
        }
        trim_newlines(*out);
        return 0;
    } else {
        *out = strdup(in);
    }
    if (!*out) {
        set_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

static int resolve_strings(loader *L)
{
    for (size_t i = 0; i < L->s->nkeys; i++) {
        const bf_config_key *k = &L->s->keys[i];
        if (k->type != BF_CT_STRING && k->type != BF_CT_SECRET)
            continue;
        char **slot = slot_of(k, L->cfg);
        if (!*slot)
            continue;
        char *v, msg[BF_CFG_ERRLEN], where[300];
        int rc = bf_config_resolve_secret(*slot, &v, msg, sizeof msg);
        if (rc) {
            origin_prefix(L, &L->orig[i], k, where, sizeof where);
            set_err(L->err, L->errlen, "%s: %s: %s", where, k->path, msg);
            return rc;
        }
        set_string(slot, v);
    }
    return 0;
}

/* ---------- load ---------- */

static int apply_defaults(loader *L)
{
    for (size_t i = 0; i < L->s->nkeys; i++) {
        const bf_config_key *k = &L->s->keys[i];
        origin o = {ORIG_DEFAULT, 0, 0, ""};
        if (!key_valid(k)) {
            set_err(L->err, L->errlen, "schema error: key %s has an unknown type", k->path);
            return -EINVAL;
        }
        if (k->def) {
            int rc = set_value(L, i, k->def, &o);
            if (rc)
                return rc;
        } else if (ctypes[k->type].is_string) {
            /* Unset strings are "" rather than NULL so that users never need a NULL check. */
            int rc = set_value(L, i, "", &o);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int load_all(const bf_config_schema *s, void *cfg, const char *name, const char *text, size_t len,
                    char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    loader L = {.s = s, .cfg = cfg, .name = name ? name : "config", .err = err, .errlen = errlen};
    L.orig = calloc(s->nkeys ? s->nkeys : 1, sizeof *L.orig);
    if (!L.orig) {
        set_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = apply_defaults(&L);
    if (!rc && text)
        rc = load_yaml(&L, text, len);
    if (!rc)
        rc = check_unknown_env(&L);
    if (!rc)
        rc = apply_env(&L);
    if (!rc)
        rc = resolve_strings(&L);
    free(L.orig);
    return rc;
}

int bf_config_load_text(const bf_config_schema *s, void *cfg, const char *name, const char *text,
                        size_t len, char *err, size_t errlen)
{
    return load_all(s, cfg, name, text ? text : "", text ? len : 0, err, errlen);
}

int bf_config_load(const bf_config_schema *s, void *cfg, const char *path, char *err, size_t errlen)
{
    if (!path)
        return load_all(s, cfg, NULL, NULL, 0, err, errlen);
    char *text;
    size_t len;
    int rc = bf_read_file(path, CFG_FILE_MAX, &text, &len);
    if (rc) {
        set_err(err, errlen, "%s: %s", path, rc == -EFBIG ? "file too large" : strerror(-rc));
        return rc == -ENOENT || rc == -ENOMEM ? rc : -EINVAL;
    }
    rc = load_all(s, cfg, path, text, len, err, errlen);
    free(text);
    return rc;
}

void bf_config_free(const bf_config_schema *s, void *cfg)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        const bf_config_key *k = &s->keys[i];
        if (key_valid(k) && ctypes[k->type].is_string) {
            char **slot = slot_of(k, cfg);
            free(*slot);
            *slot = NULL;
        }
    }
}

/* ---------- output ---------- */

static void format_value(const bf_config_key *k, const void *cfg, bf_buf *out)
{
    if (key_valid(k))
        ctypes[k->type].fmt(k, (const char *)cfg + k->offset, out);
}

void bf_config_print(const bf_config_schema *s, const void *cfg, FILE *out)
{
    bf_buf b;
    bf_buf_init(&b, 0);
    for (size_t i = 0; i < s->nkeys; i++) {
        bf_buf_reset(&b);
        format_value(&s->keys[i], cfg, &b);
        fprintf(out, "%s: %s\n", s->keys[i].path, b.data ? b.data : "");
    }
    bf_buf_free(&b);
}

/* Returns the object for the parent sections of path (created on demand) and the leaf name. */
static json_t *json_parent(json_t *root, const char *path, const char **leaf)
{
    json_t *cur = root;
    const char *p = path;
    for (const char *dot; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
        char part[128];
        snprintf(part, sizeof part, "%.*s", (int)(dot - p), p);
        json_t *next = json_object_get(cur, part);
        if (!next) {
            next = json_object();
            if (!next || json_object_set_new(cur, part, next) != 0)
                return NULL;
        }
        if (!json_is_object(next))
            return NULL;
        cur = next;
    }
    *leaf = p;
    return cur;
}

char *bf_config_to_json(const bf_config_schema *s, const void *cfg)
{
    json_t *root = json_object();
    bf_buf b;
    bf_buf_init(&b, 0);
    bool ok = root != NULL;
    for (size_t i = 0; ok && i < s->nkeys; i++) {
        const bf_config_key *k = &s->keys[i];
        const char *leaf = k->path;
        json_t *parent = json_parent(root, k->path, &leaf);
        bf_buf_reset(&b);
        format_value(k, cfg, &b);
        /* Durations are shown as text ("20s"), everything else as its JSON value. */
        json_t *v;
        if (k->type == BF_CT_DURATION)
            v = json_string(b.data ? b.data : "");
        else if (k->type == BF_CT_SIZE)
            v = json_integer((json_int_t) * (const int64_t *)((const char *)cfg + k->offset));
        else
            v = json_loads(b.data ? b.data : "null", JSON_DECODE_ANY, NULL);
        ok = parent && v && json_object_set_new(parent, leaf, v) == 0;
        if (!parent && v)
            json_decref(v);
    }
    bf_buf_free(&b);
    char *text = ok ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return text;
}

void bf_config_list_env(const bf_config_schema *s, FILE *out)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        char name[256];
        bf_config_env_name(s->daemon, s->keys[i].path, name, sizeof name);
        fprintf(out, "%s\n", name);
    }
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].alt_env)
            fprintf(out, "%s\n", s->keys[i].alt_env);
}

/* Markdown cells must not contain '|' or newlines. */
static void md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++)
        fputs(*s == '|' ? "\\|" : *s == '\n' ? " " : (char[2]){*s, 0}, out);
}

void bf_config_print_reference(const bf_config_schema *s, FILE *out)
{
    fprintf(out, "| Key | Type | Default | Environment | Description |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < s->nkeys; i++) {
        const bf_config_key *k = &s->keys[i];
        char name[256];
        bf_config_env_name(s->daemon, k->path, name, sizeof name);
        fprintf(out, "| `%s` | %s", k->path, key_valid(k) ? ctypes[k->type].name : "?");
        if (k->type == BF_CT_ENUM && k->choices) {
            fputs(" (", out);
            md_cell(out, k->choices);
            fputs(")", out);
        }
        fputs(" | ", out);
        if (k->def && *k->def) {
            fputs("`", out);
            md_cell(out, k->def);
            fputs("`", out);
        }
        fprintf(out, " | `%s`", name);
        if (k->alt_env)
            fprintf(out, ", `%s`", k->alt_env);
        fputs(" | ", out);
        md_cell(out, k->help);
        if (!(k->min == 0 && k->max == 0))
            fprintf(out, " (range %.15g..%.15g)", k->min, k->max);
        fputs(" |\n", out);
    }
}
