/* fopts: see fopts.h. */
#include "fopts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int fo_str(const json_t *cfg, const char *key, const char *def, const char **out, char *err, size_t errlen)
{
    *out = def;
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v))
        return -ENOENT;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "option %s: expected a string", key);
        return -EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

int fo_req_str(const json_t *cfg, const char *key, const char **out, char *err, size_t errlen)
{
    int rc = fo_str(cfg, key, NULL, out, err, errlen);
    if (rc == -EINVAL)
        return rc;
    if (rc == -ENOENT || !*out || !**out) {
        snprintf(err, errlen, "option %s is required", key);
        return -EINVAL;
    }
    return 0;
}

int fo_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True", "yes", "on"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

int fo_bool(const json_t *cfg, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    *out = def;
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v))
        return -ENOENT;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_string(v) && fo_parse_bool(json_string_value(v), out) == 0)
        return 0;
    snprintf(err, errlen, "option %s: expected a boolean", key);
    return -EINVAL;
}

int fo_value_num(const json_t *v, double *out)
{
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        while (*end == ' ')
            end++;
        if (end != s && !*end && !errno && isfinite(d)) {
            *out = d;
            return 0;
        }
    }
    return -EINVAL;
}

int fo_num(const json_t *cfg, const char *key, double def, double min, double max, double *out,
           char *err, size_t errlen)
{
    *out = def;
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v))
        return -ENOENT;
    double d;
    if (fo_value_num(v, &d)) {
        snprintf(err, errlen, "option %s: expected a number", key);
        return -EINVAL;
    }
    if (min < max && (d < min || d > max)) {
        snprintf(err, errlen, "option %s: %g is out of range [%g, %g]", key, d, min, max);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

int fo_strlist(const json_t *cfg, const char *key, const char ***out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v))
        return -ENOENT;
    if (json_is_string(v)) {
        *out = malloc(sizeof **out);
        if (!*out)
            return -ENOMEM;
        (*out)[0] = json_string_value(v);
        *n = 1;
        return 0;
    }
    if (!json_is_array(v)) {
        snprintf(err, errlen, "option %s: expected a list of strings", key);
        return -EINVAL;
    }
    size_t cnt = json_array_size(v);
    *out = calloc(cnt ? cnt : 1, sizeof **out);
    if (!*out)
        return -ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            free(*out);
            *out = NULL;
            snprintf(err, errlen, "option %s: element %zu is not a string", key, i);
            return -EINVAL;
        }
        (*out)[i] = json_string_value(e);
    }
    *n = cnt;
    return 0;
}

/* Shortest text that reads back as the same double (Go's %v for float64). */
static void real_text(double d, char *buf, size_t len)
{
    if (d == floor(d) && fabs(d) < 1e21) {
        snprintf(buf, len, "%.0f", d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

const char *fo_value_cstr(const json_t *v, char *buf, size_t buflen)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, buflen, "%lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        real_text(json_real_value(v), buf, buflen);
        return buf;
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "<nil>";
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, buflen, "%s", s ? s : "");
        free(s);
        return buf;
    }
    }
}

int fo_value_text(const json_t *v, bf_buf *out)
{
    if (json_is_string(v))
        return bf_buf_append(out, json_string_value(v), json_string_length(v));
    if (json_is_object(v) || json_is_array(v)) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            return -ENOMEM;
        int rc = bf_buf_puts(out, s);
        free(s);
        return rc;
    }
    char tmp[64];
    return bf_buf_puts(out, fo_value_cstr(v, tmp, sizeof tmp));
}

bool fo_value_equal_text(const json_t *v, const char *text)
{
    if (!v)
        return false;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), text);
    char tmp[128];
    if (json_is_object(v) || json_is_array(v)) {
        json_t *o = json_loads(text, JSON_DECODE_ANY, NULL);
        bool eq = o && json_equal(o, (json_t *)v);
        json_decref(o);
        return eq;
    }
    if (json_is_number(v)) {
        /* numbers compare by value so "200" equals 200 and 200.0 */
        char *end;
        double b = strtod(text, &end);
        double a;
        if (end != text && !*end && fo_value_num(v, &a) == 0)
            return a == b;
    }
    return !strcmp(fo_value_cstr(v, tmp, sizeof tmp), text);
}
