/* bf_tenants: see bf_tenants.h.
 * Part 1: YAML -> jansson (libyaml event parser, explicit stack, bounded depth and size).
 * Part 2: registry validation and construction (DESIGN §3.1, original-proxy §6 id rules).
 * Part 3: sources (file://, s3://, control) with polling and atomic swap of refcounted registries. */
#include "bf_tenants.h"
#include "bf_control.h"
#include "bf_log.h"
#include "bf_store.h"
#include "bf_util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 1000000
#define REGISTRY_MAX_BYTES (64u << 20)

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ===================== Part 1: YAML -> JSON ===================== */

static int match_int(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return 0;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return 0;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end) return 0;
    if (errno == ERANGE) return -1;
    *out = (int64_t)v;
    return 1;
}

static int match_hex_oct(const char *s, int64_t *out)
{
    int base = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16;
    else if (s[0] == '0' && s[1] == 'o') base = 8;
    if (!base || !s[2]) return 0;
    for (const char *q = s + 2; *q; q++)
        if (base == 16 ? !isxdigit((unsigned char)*q) : (*q < '0' || *q > '7')) return 0;
    errno = 0;
    unsigned long long v = strtoull(s + 2, NULL, base);
    if (errno == ERANGE || v > INT64_MAX) return -1;
    *out = (int64_t)v;
    return 1;
}

/* YAML 1.2 core float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int match_float(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    size_t ip = strspn(p, "0123456789");
    p += ip;
    size_t fp = 0;
    if (*p == '.') { p++; fp = strspn(p, "0123456789"); p += fp; }
    if (!ip && !fp) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        size_t ep = strspn(p, "0123456789");
        if (!ep) return 0;
        p += ep;
    }
    if (*p) return 0;
    double d = strtod(s, NULL);
    if (!isfinite(d)) return -1;
    *out = d;
    return 1;
}

static const char *const true_words[] = {"true", "True", "TRUE"};
static const char *const false_words[] = {"false", "False", "FALSE"};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL"};

static int in_list(const char *s, const char *const *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, l[i]) == 0) return 1;
    return 0;
}
#define IN_LIST(s, l) in_list((s), (l), sizeof(l) / sizeof *(l))

/* A scalar event -> typed json; quoted/literal/tagged-str scalars stay strings. */
static json_t *scalar_value(const yaml_event_t *ev, const char **why)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(v, 0, len)) { *why = "NUL byte in scalar"; return NULL; }
    const char *tag = (const char *)ev->data.scalar.tag;
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
    if (!plain || (tag && strcmp(tag, YAML_STR_TAG) == 0)) {
        json_t *j = json_stringn(v, len);
        if (!j) *why = "invalid UTF-8 in string";
        return j;
    }
    if (IN_LIST(v, null_words)) return json_null();
    if (IN_LIST(v, true_words)) return json_true();
    if (IN_LIST(v, false_words)) return json_false();
    int64_t i;
    double d;
    int r = match_int(v, &i);
    if (r == 0) r = match_hex_oct(v, &i);
    if (r > 0) return json_integer(i);
    if (r < 0) { *why = "integer out of the 64-bit range"; return NULL; }
    r = match_float(v, &d);
    if (r > 0) return json_real(d);
    if (r < 0) { *why = "number out of range"; return NULL; }
    json_t *j = json_stringn(v, len);
    if (!j) *why = "invalid UTF-8 in string";
    return j;
}

typedef struct ystack {
    json_t *node[YAML_MAX_DEPTH];
    json_t *pending_key[YAML_MAX_DEPTH];   /* mapping: key waiting for its value */
    int depth;
} ystack;

/* Attach v (a new reference) to the current container, or make it the root. */
static int attach(ystack *st, json_t **root, json_t *v, const char **why)
{
    if (st->depth == 0) {
        if (*root) { json_decref(v); *why = "more than one document"; return -1; }
        *root = v;
        return 0;
    }
    json_t *top = st->node[st->depth - 1];
    if (json_is_array(top)) return json_array_append_new(top, v) ? (*why = "out of memory", -1) : 0;
    json_t *k = st->pending_key[st->depth - 1];
    if (!k) {
        if (!json_is_string(v)) { json_decref(v); *why = "mapping keys must be scalars"; return -1; }
        st->pending_key[st->depth - 1] = v;
        return 0;
    }
    st->pending_key[st->depth - 1] = NULL;
    const char *ks = json_string_value(k);
    int rc = 0;
    if (json_object_get(top, ks)) { *why = "duplicate key"; rc = -1; json_decref(v); }
    else if (json_object_set_new(top, ks, v) != 0) { *why = "out of memory"; rc = -1; }
    json_decref(k);
    return rc;
}

/* Mapping keys: any scalar becomes its text (so `1: x` gives key "1"). */
static json_t *key_or_value(ystack *st, const yaml_event_t *ev, const char **why)
{
    json_t *top = st->depth ? st->node[st->depth - 1] : NULL;
    if (top && json_is_object(top) && !st->pending_key[st->depth - 1]) {
        json_t *k = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
        if (!k) *why = "invalid key";
        return k;
    }
    return scalar_value(ev, why);
}

static int yaml_event_step(ystack *st, json_t **root, yaml_event_t *ev, size_t *nodes, const char **why)
{
    json_t *v = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        *why = "YAML aliases are not supported";
        return -1;
    case YAML_SCALAR_EVENT:
        if (!(v = key_or_value(st, ev, why))) return -1;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (st->depth >= YAML_MAX_DEPTH) { *why = "nesting too deep"; return -1; }
        v = ev->type == YAML_SEQUENCE_START_EVENT ? json_array() : json_object();
        if (!v) { *why = "out of memory"; return -1; }
        if (attach(st, root, json_incref(v), why)) { json_decref(v); return -1; }
        st->node[st->depth] = v;
        st->pending_key[st->depth] = NULL;
        st->depth++;
        ++*nodes;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        st->depth--;
        json_decref(st->pending_key[st->depth]);
        json_decref(st->node[st->depth]);
        return 0;
    default:
        return 0;
    }
    if (++*nodes > YAML_MAX_NODES) { json_decref(v); *why = "document too large"; return -1; }
    return attach(st, root, v, why);
}

int bf_yaml_to_json(const char *name, const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
    if (!name) name = "yaml";
    *out = NULL;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) { seterr(err, errlen, "%s: out of memory", name); return -ENOMEM; }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    ystack st = {.depth = 0};
    json_t *root = NULL;
    size_t nodes = 0;
    int rc = 0, done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            /* the context mark points at the construct that went wrong, the problem mark where it was noticed */
            if (p.context)
                seterr(err, errlen, "%s:%zu: %s %s (line %zu)", name, p.context_mark.line + 1,
                       p.problem ? p.problem : "syntax error", p.context, p.problem_mark.line + 1);
            else
                seterr(err, errlen, "%s:%zu: %s", name, p.problem_mark.line + 1, p.problem ? p.problem : "syntax error");
            rc = -EINVAL;
            break;
        }
        const char *why = NULL;
        size_t line = ev.start_mark.line + 1;
        if (ev.type == YAML_STREAM_END_EVENT) done = 1;
        if (yaml_event_step(&st, &root, &ev, &nodes, &why) != 0) {
            seterr(err, errlen, "%s:%zu: %s", name, line, why ? why : "invalid YAML");
            rc = strcmp(why ? why : "", "out of memory") == 0 ? -ENOMEM : -EINVAL;
            done = 1;
        }
        yaml_event_delete(&ev);
    }
    while (st.depth > 0) {   /* unwind after an error */
        st.depth--;
        json_decref(st.pending_key[st.depth]);
        json_decref(st.node[st.depth]);
    }
    yaml_parser_delete(&p);
    if (rc) { json_decref(root); return rc; }
    /* An empty document is an empty mapping: an empty config file means "all defaults". */
    if (!root || json_is_null(root)) { json_decref(root); root = json_object(); }
    if (!root) return -ENOMEM;
    *out = root;
    return 0;
}

/* ===================== Part 2: registry ===================== */

static const char *const reserved_ids[] = {
    "tmp", "temp", "cache", "log", "logs", "var", "etc", "bin", "usr", "opt", "udp", "tcp", "http", "https",
    "ftp", "ssh", "syslog", "proxy", "receiver", "piper", "api", "admin", "root", "system", "meta", "metadata",
    "config", "settings", "status", "health", "con", "prn", "aux", "nul",
    "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
    "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
};

bool bf_id_reserved(const char *id)
{
    if (!id) return false;
    for (size_t i = 0; i < sizeof reserved_ids / sizeof *reserved_ids; i++)
        if (strcasecmp(id, reserved_ids[i]) == 0) return true;
    return false;
}

bool bf_id_valid(const char *id)
{
    if (!id) return false;
    size_t n = strlen(id);
    if (n == 0 || n > 64) return false;
    if (!isalnum((unsigned char)id[0]) || !isalnum((unsigned char)id[n - 1])) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!(c < 128 && (isalnum(c) || c == '_' || c == '-'))) return false;
    }
    return !bf_id_reserved(id);
}

static void dataset_free(bf_dataset *d)
{
    free(d->id);
    free(d->format);
    json_decref(d->source);
    json_decref(d->pipeline);
    json_decref(d->output);
    json_decref(d->raw);
}

static void tenant_free(bf_tenant *t)
{
    for (size_t i = 0; i < t->ndatasets; i++) dataset_free(&t->datasets[i]);
    free(t->datasets);
    free(t->id);
    if (t->token) {
        explicit_bzero(t->token, strlen(t->token));
        free(t->token);
    }
}

static void registry_free(bf_registry *r)
{
    for (size_t i = 0; i < r->ntenants; i++) tenant_free(&r->tenants[i]);
    free(r->tenants);
    free(r);
}

bf_registry *bf_registry_ref(bf_registry *r)
{
    if (r) __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
    return r;
}

void bf_registry_unref(bf_registry *r)
{
    if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) registry_free(r);
}

const bf_tenant *bf_registry_tenant(const bf_registry *r, const char *id)
{
    if (!r || !id) return NULL;
    for (size_t i = 0; i < r->ntenants; i++)
        if (strcmp(r->tenants[i].id, id) == 0) return &r->tenants[i];
    return NULL;
}

const bf_dataset *bf_tenant_dataset(const bf_tenant *t, const char *id)
{
    if (!t || !id) return NULL;
    for (size_t i = 0; i < t->ndatasets; i++)
        if (strcmp(t->datasets[i].id, id) == 0) return &t->datasets[i];
    return NULL;
}

int bf_tenant_token_ok(const bf_tenant *t, const char *token, size_t len)
{
    if (!t || !t->has_token || !token) return 0;
    char hex[65];
    unsigned char got[32];
    bf_sha256_hex(token, len, hex);
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        got[i] = (unsigned char)v;
    }
    return bf_ct_equal(got, t->token_sha256, 32);
}

/* Validation context: names the place of an error, e.g. "tenants[1].datasets[0]". */
typedef struct vctx { const char *name; char *err; size_t errlen; } vctx;

static int hex_decode32(const char *s, unsigned char out[32])
{
    if (!s || strlen(s) != 64) return -1;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i])) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* Optional typed member: returns -1 on wrong type (message set). */
static int get_bool(vctx *v, const char *where, json_t *o, const char *key, bool def, bool *out)
{
    json_t *j = json_object_get(o, key);
    if (!j || json_is_null(j)) { *out = def; return 0; }
    if (!json_is_boolean(j)) { seterr(v->err, v->errlen, "%s: %s.%s: must be true or false", v->name, where, key); return -1; }
    *out = json_is_true(j);
    return 0;
}

static int get_obj(vctx *v, const char *where, json_t *o, const char *key, json_t **out)
{
    json_t *j = json_object_get(o, key);
    *out = NULL;
    if (!j || json_is_null(j)) return 0;
    if (!json_is_object(j)) { seterr(v->err, v->errlen, "%s: %s.%s: must be a mapping", v->name, where, key); return -1; }
    *out = json_incref(j);
    return 0;
}

static int check_id(vctx *v, const char *where, json_t *o, const char **out)
{
    json_t *j = json_object_get(o, "id");
    const char *id = json_string_value(j);
    if (!id) { seterr(v->err, v->errlen, "%s: %s: id is required and must be a string", v->name, where); return -1; }
    if (bf_id_reserved(id)) { seterr(v->err, v->errlen, "%s: %s: id \"%s\" is a reserved name", v->name, where, id); return -1; }
    if (strlen(id) > 64) {
        seterr(v->err, v->errlen, "%s: %s: id \"%.20s…\" is longer than 64 characters", v->name, where, id);
        return -1;
    }
    if (!bf_id_valid(id)) {
        seterr(v->err, v->errlen,
               "%s: %s: id \"%s\" is invalid (letters, digits, '_' and '-', starting and ending with a letter or digit)",
               v->name, where, id);
        return -1;
    }
    *out = id;
    return 0;
}

static int build_dataset(vctx *v, const char *twhere, const char *tenant_id, json_t *o, size_t idx, bf_dataset *d)
{
    char where[160];
    snprintf(where, sizeof where, "%s.datasets[%zu]", twhere, idx);
    if (!json_is_object(o)) { seterr(v->err, v->errlen, "%s: %s: must be a mapping", v->name, where); return -1; }
    const char *id;
    if (check_id(v, where, o, &id)) return -1;
    if (strcmp(id, tenant_id) == 0) {
        seterr(v->err, v->errlen, "%s: %s: dataset id \"%s\" must differ from its tenant id", v->name, where, id);
        return -1;
    }
    d->id = strdup(id);
    d->raw = json_incref(o);
    if (!d->id) { seterr(v->err, v->errlen, "out of memory"); return -1; }
    if (get_bool(v, where, o, "active", true, &d->active)) return -1;
    json_t *f = json_object_get(o, "format");
    if (f && !json_is_null(f) && (!json_is_string(f) || !*json_string_value(f))) {
        seterr(v->err, v->errlen, "%s: %s.format: must be a non-empty string", v->name, where);
        return -1;
    }
    d->format = strdup(f && json_is_string(f) ? json_string_value(f) : "ndjson");
    if (!d->format) { seterr(v->err, v->errlen, "out of memory"); return -1; }
    if (get_obj(v, where, o, "source", &d->source) || get_obj(v, where, o, "output", &d->output)) return -1;
    json_t *p = json_object_get(o, "pipeline");
    if (p && !json_is_null(p) && !json_is_array(p)) {
        seterr(v->err, v->errlen, "%s: %s.pipeline: must be a list", v->name, where);
        return -1;
    }
    d->pipeline = p && json_is_array(p) ? json_incref(p) : json_array();
    if (!d->pipeline) { seterr(v->err, v->errlen, "out of memory"); return -1; }
    return 0;
}

/* token: plaintext or "env:NAME"/"file:/path"; token_sha256: 64 hex. Both: they must agree. */
static int tenant_token(vctx *v, const char *where, json_t *o, bf_tenant *t)
{
    json_t *tok = json_object_get(o, "token"), *sha = json_object_get(o, "token_sha256");
    if (tok && !json_is_null(tok)) {
        if (!json_is_string(tok) || !*json_string_value(tok)) {
            seterr(v->err, v->errlen, "%s: %s.token: must be a non-empty string", v->name, where);
            return -1;
        }
        char e2[256] = "";
        if (bf_config_resolve_secret(json_string_value(tok), &t->token, e2, sizeof e2) != 0 || !t->token) {
            seterr(v->err, v->errlen, "%s: %s.token: %s", v->name, where, e2[0] ? e2 : "cannot resolve");
            return -1;
        }
        if (!*t->token) { seterr(v->err, v->errlen, "%s: %s.token: resolves to an empty value", v->name, where); return -1; }
        char hex[65];
        bf_sha256_hex(t->token, strlen(t->token), hex);
        hex_decode32(hex, t->token_sha256);
        t->has_token = true;
    }
    if (sha && !json_is_null(sha)) {
        unsigned char b[32];
        if (!json_is_string(sha) || hex_decode32(json_string_value(sha), b) != 0) {
            seterr(v->err, v->errlen, "%s: %s.token_sha256: must be 64 hexadecimal characters", v->name, where);
            return -1;
        }
        if (t->has_token && memcmp(b, t->token_sha256, 32) != 0) {
            seterr(v->err, v->errlen, "%s: %s: token and token_sha256 disagree", v->name, where);
            return -1;
        }
        memcpy(t->token_sha256, b, 32);
        t->has_token = true;
    }
    return 0;
}

static const char *const tenant_keys[] = {"id", "name", "description", "active", "token", "token_sha256", "datasets"};

static int build_tenant(vctx *v, json_t *o, size_t idx, bf_tenant *t)
{
    char where[64];
    snprintf(where, sizeof where, "tenants[%zu]", idx);
    if (!json_is_object(o)) { seterr(v->err, v->errlen, "%s: %s: must be a mapping", v->name, where); return -1; }
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val) {
        if (!IN_LIST(key, tenant_keys)) {
            seterr(v->err, v->errlen, "%s: %s: unknown key \"%s\"", v->name, where, key);
            return -1;
        }
    }
    const char *id;
    if (check_id(v, where, o, &id)) return -1;
    if (!(t->id = strdup(id))) { seterr(v->err, v->errlen, "out of memory"); return -1; }
    snprintf(where, sizeof where, "tenant \"%s\"", id);
    if (get_bool(v, where, o, "active", true, &t->active) || tenant_token(v, where, o, t)) return -1;
    json_t *ds = json_object_get(o, "datasets");
    if (ds && !json_is_null(ds) && !json_is_array(ds)) {
        seterr(v->err, v->errlen, "%s: %s.datasets: must be a list", v->name, where);
        return -1;
    }
    size_t n = ds && json_is_array(ds) ? json_array_size(ds) : 0;
    if (n && !(t->datasets = calloc(n, sizeof *t->datasets))) { seterr(v->err, v->errlen, "out of memory"); return -1; }
    for (size_t i = 0; i < n; i++) {
        bf_dataset *d = &t->datasets[t->ndatasets++];
        if (build_dataset(v, where, t->id, json_array_get(ds, i), i, d)) return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->datasets[j].id, d->id) == 0) {
                seterr(v->err, v->errlen, "%s: %s: duplicate dataset id \"%s\"", v->name, where, d->id);
                return -1;
            }
    }
    return 0;
}

static int registry_build(const char *name, json_t *root, const char *version_hex, bf_registry **out, char *err,
                          size_t errlen)
{
    vctx v = {name, err, errlen};
    json_t *ts = root;
    if (json_is_object(root)) {
        const char *key;
        json_t *val;
        json_object_foreach(root, key, val) {
            if (strcmp(key, "tenants") != 0) { seterr(err, errlen, "%s: unknown top-level key \"%s\"", name, key); return -EINVAL; }
        }
        ts = json_object_get(root, "tenants");
        if (!ts || json_is_null(ts)) ts = NULL;
    }
    if (ts && !json_is_array(ts)) { seterr(err, errlen, "%s: tenants: must be a list", name); return -EINVAL; }
    bf_registry *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->refs = 1;
    snprintf(r->version, sizeof r->version, "%s", version_hex);
    size_t n = ts ? json_array_size(ts) : 0;
    if (n && !(r->tenants = calloc(n, sizeof *r->tenants))) { free(r); return -ENOMEM; }
    for (size_t i = 0; i < n; i++) {
        bf_tenant *t = &r->tenants[r->ntenants++];
        if (build_tenant(&v, json_array_get(ts, i), i, t)) { registry_free(r); return -EINVAL; }
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->tenants[j].id, t->id) == 0) {
                seterr(err, errlen, "%s: duplicate tenant id \"%s\"", name, t->id);
                registry_free(r);
                return -EINVAL;
            }
    }
    *out = r;
    return 0;
}

int bf_registry_parse_yaml(const char *name, const char *text, size_t len, bf_registry **out, char *err, size_t errlen)
{
    if (!name) name = "tenants";
    json_t *root;
    int rc = bf_yaml_to_json(name, text, len, &root, err, errlen);
    if (rc) return rc;
    char ver[65];
    bf_sha256_hex(text, len, ver);
    rc = registry_build(name, root, ver, out, err, errlen);
    json_decref(root);
    return rc;
}

int bf_registry_from_json(json_t *tenants, bf_registry **out, char *err, size_t errlen)
{
    if (!tenants) return -EINVAL;
    char *s = json_dumps(tenants, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) return -ENOMEM;
    char ver[65];
    bf_sha256_hex(s, strlen(s), ver);
    free(s);
    return registry_build("control", tenants, ver, out, err, errlen);
}

/* ===================== Part 3: sources ===================== */

typedef enum { SRC_FILE = 0, SRC_S3, SRC_CONTROL } src_kind;

struct bf_tenants {
    src_kind kind;
    char *path;              /* file: local path; s3: key */
    char *daemon;
    bf_store *store;         /* s3 */
    bf_control *control;     /* control */
    pthread_mutex_t mu;      /* cur and the change markers */
    pthread_mutex_t load_mu; /* one load at a time */
    bf_registry *cur;
    int64_t mtime_ns;        /* file */
    int64_t size;
    char etag[80];           /* s3 */
};

/* Install r (owned) unless it has the same version. 1 installed, 0 unchanged. */
static int install(bf_tenants *t, bf_registry *r)
{
    pthread_mutex_lock(&t->mu);
    if (t->cur && strcmp(t->cur->version, r->version) == 0) {
        pthread_mutex_unlock(&t->mu);
        bf_registry_unref(r);
        return 0;
    }
    bf_registry *old = t->cur;
    t->cur = r;
    pthread_mutex_unlock(&t->mu);
    bf_registry_unref(old);   /* readers holding references keep theirs alive */
    return 1;
}

static int load_text(bf_tenants *t, const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    bf_registry *r;
    int rc = bf_registry_parse_yaml(name, text, len, &r, err, errlen);
    return rc ? rc : install(t, r);
}

static int load_file(bf_tenants *t, int force, char *err, size_t errlen)
{
    struct stat st;
    if (stat(t->path, &st) != 0) {
        int e = errno;
        seterr(err, errlen, "%s: %s", t->path, strerror(e));
        return -e;
    }
    int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    pthread_mutex_lock(&t->mu);
    int same = t->cur && mt == t->mtime_ns && (int64_t)st.st_size == t->size;
    pthread_mutex_unlock(&t->mu);
    if (same && !force) return 0;
    char *text = NULL;
    size_t len = 0;
    int rc = bf_read_file(t->path, REGISTRY_MAX_BYTES, &text, &len);
    if (rc) { seterr(err, errlen, "%s: cannot read: %s", t->path, strerror(-rc)); return rc; }
    rc = load_text(t, t->path, text, len, err, errlen);
    free(text);
    if (rc >= 0) {
        /* remember the markers only after a good load so a bad file is retried when it changes */
        pthread_mutex_lock(&t->mu);
        t->mtime_ns = mt;
        t->size = (int64_t)st.st_size;
        pthread_mutex_unlock(&t->mu);
    }
    return rc;
}

static int load_s3(bf_tenants *t, int force, char *err, size_t errlen)
{
    bf_store_info info = {0};
    int rc = bf_store_head(t->store, t->path, &info);
    if (rc) { seterr(err, errlen, "s3 %s: head: %s", t->path, bf_store_errmsg()); return rc; }
    char etag[80];
    snprintf(etag, sizeof etag, "%s", info.etag);
    bf_store_info_free(&info);
    pthread_mutex_lock(&t->mu);
    int same = t->cur && etag[0] && strcmp(etag, t->etag) == 0;
    pthread_mutex_unlock(&t->mu);
    if (same && !force) return 0;
    char *text = NULL;
    size_t len = 0;
    bf_store_info gi = {0};
    rc = bf_store_get_mem(t->store, t->path, REGISTRY_MAX_BYTES, &text, &len, &gi);
    if (rc) { seterr(err, errlen, "s3 %s: get: %s", t->path, bf_store_errmsg()); bf_store_info_free(&gi); return rc; }
    if (gi.etag[0]) snprintf(etag, sizeof etag, "%s", gi.etag);   /* the etag of what we actually read */
    bf_store_info_free(&gi);
    rc = load_text(t, t->path, text, len, err, errlen);
    free(text);
    if (rc >= 0) {
        pthread_mutex_lock(&t->mu);
        snprintf(t->etag, sizeof t->etag, "%s", etag);
        pthread_mutex_unlock(&t->mu);
    }
    return rc;
}

static int load_control(bf_tenants *t, int force, char *err, size_t errlen)
{
    (void)force;   /* the answer's version decides */
    bf_registry *r;
    int rc = bf_control_fetch_registry(t->control, t->daemon, &r, err, errlen);
    return rc ? rc : install(t, r);
}

typedef int (*load_fn)(bf_tenants *, int, char *, size_t);
static const load_fn loaders[] = {load_file, load_s3, load_control};

static int do_load(bf_tenants *t, int force, char *err, size_t errlen)
{
    pthread_mutex_lock(&t->load_mu);
    int rc = loaders[t->kind](t, force, err, errlen);
    pthread_mutex_unlock(&t->load_mu);
    return rc;
}

static int setup_s3(bf_tenants *t, const char *source, const bf_common_config *common, char *err, size_t errlen)
{
    const char *b = source + 5, *slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1]) {
        seterr(err, errlen, "tenants: %s: expected s3://bucket/key", source);
        return -EINVAL;
    }
    char uri[512];
    if (snprintf(uri, sizeof uri, "s3://%.*s", (int)(slash - b), b) >= (int)sizeof uri) return -EINVAL;
    if (!(t->path = strdup(slash + 1))) return -ENOMEM;
    return bf_store_open(uri, common ? &common->s3 : NULL, NULL, &t->store, err, errlen);
}

static int setup_control(bf_tenants *t, const bf_common_config *common, char *err, size_t errlen)
{
    if (!common || !common->control_url || !*common->control_url) {
        seterr(err, errlen, "tenants: control: control.url is not set");
        return -EINVAL;
    }
    int rc = bf_control_create(common->control_url, common->control_api_key, common->account_id,
                               common->state_dir, &t->control);
    if (rc) seterr(err, errlen, "tenants: control: cannot create client: %s", strerror(-rc));
    return rc;
}

static int setup(bf_tenants *t, const char *source, const bf_common_config *common, char *err, size_t errlen)
{
    if (strncmp(source, "file://", 7) == 0) {
        t->kind = SRC_FILE;
        if (source[7] != '/') { seterr(err, errlen, "tenants: %s: expected file:///absolute/path", source); return -EINVAL; }
        return (t->path = strdup(source + 7)) ? 0 : -ENOMEM;
    }
    if (strncmp(source, "s3://", 5) == 0) { t->kind = SRC_S3; return setup_s3(t, source, common, err, errlen); }
    if (strcmp(source, "control") == 0) { t->kind = SRC_CONTROL; return setup_control(t, common, err, errlen); }
    seterr(err, errlen, "tenants: unknown source \"%s\" (file:///path, s3://bucket/key or control)", source);
    return -EINVAL;
}

int bf_tenants_create(const char *source, const bf_common_config *common, const char *daemon, bf_tenants **out,
                      char *err, size_t errlen)
{
    if (!source || !out) return -EINVAL;
    bf_tenants *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    pthread_mutex_init(&t->mu, NULL);
    pthread_mutex_init(&t->load_mu, NULL);
    t->daemon = strdup(daemon ? daemon : "");
    int rc = t->daemon ? setup(t, source, common, err, errlen) : -ENOMEM;
    if (!rc) rc = do_load(t, 1, err, errlen);
    if (rc < 0) { bf_tenants_destroy(t); return rc; }
    *out = t;
    return 0;
}

void bf_tenants_destroy(bf_tenants *t)
{
    if (!t) return;
    bf_registry_unref(t->cur);
    bf_store_close(t->store);
    bf_control_destroy(t->control);
    free(t->path);
    free(t->daemon);
    pthread_mutex_destroy(&t->mu);
    pthread_mutex_destroy(&t->load_mu);
    free(t);
}

bf_registry *bf_tenants_get(bf_tenants *t)
{
    pthread_mutex_lock(&t->mu);
    bf_registry *r = bf_registry_ref(t->cur);
    pthread_mutex_unlock(&t->mu);
    return r;
}

int bf_tenants_poll(bf_tenants *t, char *err, size_t errlen) { return do_load(t, 0, err, errlen); }

int bf_tenants_reload(bf_tenants *t, char *err, size_t errlen) { return do_load(t, 1, err, errlen); }
