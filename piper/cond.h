/* cond: condition expressions evaluated before a filter (DESIGN §7.3 `condition`).
 * Grammar:  expr := and ("or"|"||" and)* ;  and := unary ("and"|"&&" unary)* ;
 *           unary := ("not"|"!") unary | "(" expr ")" | FIELD [OP VALUE]
 * OP: == != eq ne equals not_equals > < >= <= gt lt gte lte contains not_contains starts_with
 *     ends_with matches =~ !~ exists not_exists in (VALUE a [a, b] list)
 * VALUE: 'quoted' | "quoted" | number | true | false | null | bare word. A FIELD alone is true when
 * it exists and is not false/null/"". Numbers compare numerically (gt/lt only for numbers), others
 * by their text. The object form {field, operator, value} of the original `conditional` is accepted.
 * Ownership: cond_compile allocates *out; cond_free releases. Immutable after compile (thread-safe). */
#ifndef PIPER_COND_H
#define PIPER_COND_H
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "rx.h"

typedef struct cond cond;
/* spec: JSON string (expression) or object. 0 or -EINVAL with err, -ENOMEM. */
int cond_compile(const json_t *spec, cond **out, char *err, size_t errlen);
int cond_compile_str(const char *expr, cond **out, char *err, size_t errlen);
void cond_free(cond *c);
bool cond_eval(const cond *c, json_t *rec, rx_scratch *s);

/* The comparison core, shared with filters that take field/operator/value options.
 * op names as above; returns -EINVAL for an unknown op. */
typedef struct cond_cmp cond_cmp;
int cond_cmp_create(const char *field, const char *op, const json_t *value, cond_cmp **out, char *err,
                    size_t errlen);
bool cond_cmp_eval(const cond_cmp *c, json_t *rec, rx_scratch *s);
/* Field missing? (for filters whose action differs when absent) */
bool cond_cmp_field_present(const cond_cmp *c, json_t *rec);
void cond_cmp_free(cond_cmp *c);
#endif
