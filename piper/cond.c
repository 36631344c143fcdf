/* cond: see cond.h. */
#include "cond.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldpath.h"
#include "fopts.h"

typedef enum {
    OP_TRUTHY, OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_CONTAINS, OP_NOT_CONTAINS,
    OP_STARTS, OP_ENDS, OP_MATCHES, OP_NOT_MATCHES, OP_EXISTS, OP_NOT_EXISTS, OP_IN
} op_kind;

static const struct { const char *name; op_kind op; bool needs_value; } OPS[] = {
    {"==", OP_EQ, true}, {"=", OP_EQ, true}, {"eq", OP_EQ, true}, {"equals", OP_EQ, true},
    {"!=", OP_NE, true}, {"ne", OP_NE, true}, {"not_equals", OP_NE, true},
    {">", OP_GT, true}, {"gt", OP_GT, true}, {"<", OP_LT, true}, {"lt", OP_LT, true},
    {">=", OP_GE, true}, {"gte", OP_GE, true}, {"ge", OP_GE, true},
    {"<=", OP_LE, true}, {"lte", OP_LE, true}, {"le", OP_LE, true},
    {"contains", OP_CONTAINS, true}, {"not_contains", OP_NOT_CONTAINS, true},
    {"starts_with", OP_STARTS, true}, {"ends_with", OP_ENDS, true},
    {"matches", OP_MATCHES, true}, {"=~", OP_MATCHES, true}, {"!~", OP_NOT_MATCHES, true},
    {"not_matches", OP_NOT_MATCHES, true},
    {"exists", OP_EXISTS, false}, {"not_exists", OP_NOT_EXISTS, false}, {"in", OP_IN, true},
};

struct cond_cmp {
    fpath field;
    op_kind op;
    json_t *value;     /* owned */
    char *text;        /* %v of value */
    double num;
    bool is_num;
    rx *re;
};

static int op_find(const char *name, op_kind *op, bool *needs)
{
    for (size_t i = 0; i < sizeof OPS / sizeof *OPS; i++)
        if (!strcmp(OPS[i].name, name)) {
            *op = OPS[i].op;
            *needs = OPS[i].needs_value;
            return 0;
        }
    return -EINVAL;
}

void cond_cmp_free(cond_cmp *c)
{
    if (!c)
        return;
    fpath_free(&c->field);
    json_decref(c->value);
    free(c->text);
    rx_free(c->re);
    free(c);
}

static int cmp_init_value(cond_cmp *c, const json_t *value, char *err, size_t errlen)
{
    c->value = value ? json_deep_copy(value) : json_null();
    bf_buf b;
    bf_buf_init(&b, 0);
    if (!c->value || fo_value_text(c->value, &b) || bf_buf_putc(&b, 0)) {
        bf_buf_free(&b);
        return -ENOMEM;
    }
    c->text = bf_buf_steal(&b, NULL);
    c->is_num = fo_value_num(c->value, &c->num) == 0;
    if (c->op == OP_MATCHES || c->op == OP_NOT_MATCHES)
        return rx_compile(c->text, 0, &c->re, err, errlen);
    if (c->op == OP_IN && !json_is_array(c->value)) {
        snprintf(err, errlen, "operator in needs a list value");
        return -EINVAL;
    }
    return 0;
}

int cond_cmp_create(const char *field, const char *op, const json_t *value, cond_cmp **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    cond_cmp *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    bool needs = false;
    int rc = 0;
    if (op && op_find(op, &c->op, &needs)) {
        snprintf(err, errlen, "unknown operator '%s'", op);
        rc = -EINVAL;
    } else if (!op) {
        c->op = OP_TRUTHY;
    }
    if (!rc && fpath_compile(field, &c->field)) {
        snprintf(err, errlen, "bad field name '%s'", field ? field : "");
        rc = -EINVAL;
    }
    if (!rc && needs && (!value || json_is_null(value)) && c->op != OP_EQ && c->op != OP_NE) {
        snprintf(err, errlen, "operator %s needs a value", op);
        rc = -EINVAL;
    }
    if (!rc)
        rc = cmp_init_value(c, value, err, errlen);
    if (rc) {
        cond_cmp_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

bool cond_cmp_field_present(const cond_cmp *c, json_t *rec)
{
    return fpath_get(&c->field, rec) != NULL;
}

static bool truthy(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    return true;
}

static bool num_cmp(const cond_cmp *c, const json_t *v, op_kind op)
{
    double a;
    if (!c->is_num || fo_value_num(v, &a))
        return false;
    switch (op) {
    case OP_GT: return a > c->num;
    case OP_LT: return a < c->num;
    case OP_GE: return a >= c->num;
    default: return a <= c->num;
    }
}

static bool text_op(const cond_cmp *c, const json_t *v, rx_scratch *s)
{
    char tmp[128];
    bf_buf b;
    bf_buf_init(&b, 0);
    const char *t;
    if (json_is_object(v) || json_is_array(v)) {
        if (fo_value_text(v, &b))
            return false;
        t = b.data ? b.data : "";
    } else {
        t = fo_value_cstr(v, tmp, sizeof tmp);
    }
    bool r = false;
    size_t tl = strlen(t), vl = strlen(c->text);
    switch (c->op) {
    case OP_CONTAINS: r = strstr(t, c->text) != NULL; break;
    case OP_NOT_CONTAINS: r = strstr(t, c->text) == NULL; break;
    case OP_STARTS: r = tl >= vl && !memcmp(t, c->text, vl); break;
    case OP_ENDS: r = tl >= vl && !memcmp(t + tl - vl, c->text, vl); break;
    case OP_MATCHES: r = rx_test(c->re, s, t, tl); break;
    case OP_NOT_MATCHES: r = !rx_test(c->re, s, t, tl); break;
    default: break;
    }
    bf_buf_free(&b);
    return r;
}

static bool value_eq(const cond_cmp *c, const json_t *v)
{
    if (json_is_null(c->value))
        return json_is_null(v);
    double a;
    /* numbers compare by value whether they arrive as numbers or numeric text ("042" == 42) */
    if (c->is_num && !json_is_boolean(v) && fo_value_num(v, &a) == 0)
        return a == c->num;
    return fo_value_equal_text(v, c->text);
}

static bool in_list(const cond_cmp *c, const json_t *v)
{
    size_t i;
    json_t *e;
    char tmp[128];
    json_array_foreach(c->value, i, e) {
        if (fo_value_equal_text(v, fo_value_cstr(e, tmp, sizeof tmp)))
            return true;
    }
    return false;
}

bool cond_cmp_eval(const cond_cmp *c, json_t *rec, rx_scratch *s)
{
    json_t *v = fpath_get(&c->field, rec);
    switch (c->op) {
    case OP_EXISTS: return v != NULL;
    case OP_NOT_EXISTS: return v == NULL;
    case OP_TRUTHY: return truthy(v);
    case OP_NE: return !v || !value_eq(c, v);
    default: break;
    }
    if (!v)
        return c->op == OP_NOT_CONTAINS || c->op == OP_NOT_MATCHES;
    switch (c->op) {
    case OP_EQ: return value_eq(c, v);
    case OP_GT: case OP_LT: case OP_GE: case OP_LE: return num_cmp(c, v, c->op);
    case OP_IN: return in_list(c, v);
    default: return text_op(c, v, s);
    }
}

/* ---------------- expression parser ---------------- */

typedef enum { N_CMP, N_AND, N_OR, N_NOT } node_kind;
struct cond {
    node_kind kind;
    cond_cmp *cmp;
    struct cond *a, *b;
};

void cond_free(cond *c)
{
    if (!c)
        return;
    cond_cmp_free(c->cmp);
    cond_free(c->a);
    cond_free(c->b);
    free(c);
}

bool cond_eval(const cond *c, json_t *rec, rx_scratch *s)
{
    switch (c->kind) {
    case N_CMP: return cond_cmp_eval(c->cmp, rec, s);
    case N_AND: return cond_eval(c->a, rec, s) && cond_eval(c->b, rec, s);
    case N_OR: return cond_eval(c->a, rec, s) || cond_eval(c->b, rec, s);
    default: return !cond_eval(c->a, rec, s);
    }
}

typedef struct lexer {
    const char *p;
    char tok[1024];
    bool quoted;       /* current token came from quotes */
    bool eof;
    int depth;
    char *err;
    size_t errlen;
} lexer;

static bool is_word(char ch)
{
    return isalnum((unsigned char)ch) || strchr("_.@[]-+:/*$", ch) || (unsigned char)ch >= 0x80;
}

/* Read the next token into lx->tok. Quoted strings support \" and \\ escapes. */
static int lex_next(lexer *lx)
{
    while (isspace((unsigned char)*lx->p))
        lx->p++;
    lx->quoted = false;
    lx->tok[0] = 0;
    lx->eof = !*lx->p;
    if (lx->eof)
        return 0;
    size_t n = 0;
    char ch = *lx->p;
    if (ch == '"' || ch == '\'') {
        lx->p++;
        while (*lx->p && *lx->p != ch) {
            if (*lx->p == '\\' && lx->p[1])
                lx->p++;
            if (n + 1 >= sizeof lx->tok)
                return -EINVAL;
            lx->tok[n++] = *lx->p++;
        }
        if (*lx->p != ch) {
            snprintf(lx->err, lx->errlen, "unterminated string in condition");
            return -EINVAL;
        }
        lx->p++;
        lx->tok[n] = 0;
        lx->quoted = true;
        return 0;
    }
    static const char *const punct[] = {"==", "!=", ">=", "<=", "=~", "!~", "&&", "||", "(", ")", ">", "<",
                                        "!", "=", ","};
    for (size_t i = 0; i < sizeof punct / sizeof *punct; i++) {
        size_t l = strlen(punct[i]);
        if (!strncmp(lx->p, punct[i], l)) {
            memcpy(lx->tok, punct[i], l + 1);
            lx->p += l;
            return 0;
        }
    }
    /* a list literal for `in`: keep brackets together */
    if (ch == '[' && lx->p[1] != '\0' && strchr(lx->p, ']') && lx->tok[0] == 0) {
        /* field paths like [a][b] are words too; a list has a comma or a quote inside */
        const char *e = strchr(lx->p, ']');
        if (memchr(lx->p, ',', (size_t)(e - lx->p)) || memchr(lx->p, '"', (size_t)(e - lx->p)) ||
            memchr(lx->p, '\'', (size_t)(e - lx->p))) {
            n = (size_t)(e - lx->p + 1);
            if (n >= sizeof lx->tok)
                return -EINVAL;
            memcpy(lx->tok, lx->p, n);
            lx->tok[n] = 0;
            lx->p = e + 1;
            return 0;
        }
    }
    while (*lx->p && is_word(*lx->p)) {
        if (n + 1 >= sizeof lx->tok)
            return -EINVAL;
        lx->tok[n++] = *lx->p++;
    }
    if (n == 0) {
        snprintf(lx->err, lx->errlen, "unexpected character '%c' in condition", ch);
        return -EINVAL;
    }
    lx->tok[n] = 0;
    return 0;
}

static bool tok_is(const lexer *lx, const char *a, const char *b)
{
    return !lx->quoted && !lx->eof && (!strcmp(lx->tok, a) || (b && !strcmp(lx->tok, b)));
}

static int parse_or(lexer *lx, cond **out);

/* A value token -> JSON: numbers, booleans, null typed; quoted text and bare words are strings. */
static json_t *value_json(const lexer *lx)
{
    if (lx->quoted)
        return json_string(lx->tok);
    if (lx->tok[0] == '[') {
        json_t *a = json_loads(lx->tok, 0, NULL);
        if (a)
            return a;
        /* single-quoted list: swap quotes */
        char tmp[sizeof lx->tok];
        snprintf(tmp, sizeof tmp, "%s", lx->tok);
        for (char *q = tmp; *q; q++)
            if (*q == '\'')
                *q = '"';
        return json_loads(tmp, 0, NULL);
    }
    if (!strcmp(lx->tok, "true"))
        return json_true();
    if (!strcmp(lx->tok, "false"))
        return json_false();
    if (!strcmp(lx->tok, "null"))
        return json_null();
    char *end;
    long long i = strtoll(lx->tok, &end, 10);
    if (!*end && end != lx->tok)
        return json_integer(i);
    double d = strtod(lx->tok, &end);
    if (!*end && end != lx->tok)
        return json_real(d);
    return json_string(lx->tok);
}

static int new_node(node_kind k, cond *a, cond *b, cond **out)
{
    cond *n = calloc(1, sizeof *n);
    if (!n) {
        cond_free(a);
        cond_free(b);
        return -ENOMEM;
    }
    n->kind = k;
    n->a = a;
    n->b = b;
    *out = n;
    return 0;
}

static int parse_cmp(lexer *lx, cond **out)
{
    if (lx->eof || tok_is(lx, ")", NULL)) {
        snprintf(lx->err, lx->errlen, "condition: expected a field name");
        return -EINVAL;
    }
    char field[sizeof lx->tok];
    memcpy(field, lx->tok, sizeof field);
    int rc = lex_next(lx);
    if (rc)
        return rc;
    op_kind op;
    bool needs = false;
    cond_cmp *cmp = NULL;
    if (!lx->eof && !lx->quoted && op_find(lx->tok, &op, &needs) == 0) {
        char opname[16] = {0};
        memcpy(opname, lx->tok, strnlen(lx->tok, sizeof opname - 1));
        json_t *val = NULL;
        if (needs) {
            if ((rc = lex_next(lx)))
                return rc;
            if (lx->eof) {
                snprintf(lx->err, lx->errlen, "condition: operator %s needs a value", opname);
                return -EINVAL;
            }
            val = value_json(lx);
            if (!val) {
                snprintf(lx->err, lx->errlen, "condition: bad value '%s'", lx->tok);
                return -EINVAL;
            }
        }
        rc = cond_cmp_create(field, opname, val, &cmp, lx->err, lx->errlen);
        json_decref(val);
        if (!rc)
            rc = lex_next(lx);
    } else {
        rc = cond_cmp_create(field, NULL, NULL, &cmp, lx->err, lx->errlen);
    }
    if (rc) {
        cond_cmp_free(cmp);
        return rc;
    }
    if ((rc = new_node(N_CMP, NULL, NULL, out))) {
        cond_cmp_free(cmp);
        return rc;
    }
    (*out)->cmp = cmp;
    return 0;
}

static int parse_unary(lexer *lx, cond **out)
{
    if (++lx->depth > 64) {
        snprintf(lx->err, lx->errlen, "condition nested too deeply");
        return -EINVAL;
    }
    int rc;
    if (tok_is(lx, "not", "!")) {
        cond *a = NULL;
        if ((rc = lex_next(lx)) || (rc = parse_unary(lx, &a)))
            return rc;
        rc = new_node(N_NOT, a, NULL, out);
    } else if (tok_is(lx, "(", NULL)) {
        if ((rc = lex_next(lx)) || (rc = parse_or(lx, out)))
            return rc;
        if (!tok_is(lx, ")", NULL)) {
            snprintf(lx->err, lx->errlen, "condition: missing ')'");
            cond_free(*out);
            *out = NULL;
            return -EINVAL;
        }
        if ((rc = lex_next(lx))) {
            cond_free(*out);
            *out = NULL;
        }
    } else {
        rc = parse_cmp(lx, out);
    }
    lx->depth--;
    return rc;
}

static int parse_bin(lexer *lx, cond **out, node_kind k, const char *w1, const char *w2,
                     int (*sub)(lexer *, cond **))
{
    cond *a = NULL;
    int rc = sub(lx, &a);
    if (rc)
        return rc;
    while (tok_is(lx, w1, w2)) {
        cond *b = NULL;
        if ((rc = lex_next(lx)) || (rc = sub(lx, &b)) || (rc = new_node(k, a, b, &a))) {
            if (rc != -ENOMEM)
                cond_free(a);
            return rc;
        }
    }
    *out = a;
    return 0;
}

static int parse_and(lexer *lx, cond **out)
{
    return parse_bin(lx, out, N_AND, "and", "&&", parse_unary);
}

static int parse_or(lexer *lx, cond **out)
{
    return parse_bin(lx, out, N_OR, "or", "||", parse_and);
}

int cond_compile_str(const char *expr, cond **out, char *err, size_t errlen)
{
    *out = NULL;
    lexer lx = {.p = expr, .err = err, .errlen = errlen};
    int rc = lex_next(&lx);
    if (rc)
        return rc;
    if ((rc = parse_or(&lx, out)))
        return rc;
    if (!lx.eof) {
        snprintf(err, errlen, "condition: unexpected '%s'", lx.tok);
        cond_free(*out);
        *out = NULL;
        return -EINVAL;
    }
    return 0;
}

int cond_compile(const json_t *spec, cond **out, char *err, size_t errlen)
{
    *out = NULL;
    if (json_is_string(spec))
        return cond_compile_str(json_string_value(spec), out, err, errlen);
    if (!json_is_object(spec)) {
        snprintf(err, errlen, "condition must be a string or an object");
        return -EINVAL;
    }
    const char *field = json_string_value(json_object_get(spec, "field"));
    const char *op = json_string_value(json_object_get(spec, "operator"));
    if (!op)
        op = json_string_value(json_object_get(spec, "op"));
    cond_cmp *cmp = NULL;
    int rc = cond_cmp_create(field, op ? op : "exists", json_object_get(spec, "value"), &cmp, err, errlen);
    if (rc)
        return rc;
    if ((rc = new_node(N_CMP, NULL, NULL, out))) {
        cond_cmp_free(cmp);
        return rc;
    }
    (*out)->cmp = cmp;
    return 0;
}
