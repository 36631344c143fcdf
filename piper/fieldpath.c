/* fieldpath: see fieldpath.h. */
#include "fieldpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int push_seg(fpath *p, const char *s, size_t n)
{
    if (n == 0)
        return -EINVAL;
    char **ns = realloc(p->seg, (p->nseg + 1) * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    p->seg = ns;
    p->seg[p->nseg] = strndup(s, n);
    if (!p->seg[p->nseg])
        return -ENOMEM;
    p->nseg++;
    return 0;
}

static int parse_brackets(fpath *p, const char *t)
{
    while (*t) {
        if (*t != '[')
            return -EINVAL;
        const char *e = strchr(t, ']');
        if (!e)
            return -EINVAL;
        int rc = push_seg(p, t + 1, (size_t)(e - t - 1));
        if (rc)
            return rc;
        t = e + 1;
    }
    return 0;
}

static int parse_dots(fpath *p, const char *t)
{
    for (;;) {
        const char *d = strchr(t, '.');
        size_t n = d ? (size_t)(d - t) : strlen(t);
        int rc = push_seg(p, t, n);
        if (rc || !d)
            return rc;
        t = d + 1;
    }
}

int fpath_compile(const char *text, fpath *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return -EINVAL;
    out->text = strdup(text);
    if (!out->text)
        return -ENOMEM;
    int rc = text[0] == '[' ? parse_brackets(out, text) : parse_dots(out, text);
    if (rc)
        fpath_free(out);
    return rc;
}

void fpath_free(fpath *p)
{
    for (size_t i = 0; i < p->nseg; i++)
        free(p->seg[i]);
    free(p->seg);
    free(p->text);
    memset(p, 0, sizeof *p);
}

static json_t *child(json_t *v, const char *seg)
{
    if (json_is_object(v))
        return json_object_get(v, seg);
    if (json_is_array(v)) {
        char *end;
        long i = strtol(seg, &end, 10);
        if (*end || end == seg || i < 0)
            return NULL;
        return json_array_get(v, (size_t)i);
    }
    return NULL;
}

json_t *fpath_get(const fpath *p, json_t *rec)
{
    if (!json_is_object(rec) || p->nseg == 0)
        return NULL;
    if (p->nseg > 1) {
        json_t *lit = json_object_get(rec, p->text);
        if (lit)
            return lit;
    }
    json_t *v = rec;
    for (size_t i = 0; i < p->nseg && v; i++)
        v = child(v, p->seg[i]);
    return v;
}

/* The object that holds the last segment; creates intermediates when create is set. */
static json_t *parent_of(const fpath *p, json_t *rec, int create)
{
    json_t *v = rec;
    for (size_t i = 0; i + 1 < p->nseg; i++) {
        json_t *c = child(v, p->seg[i]);
        if (!c) {
            if (!create || !json_is_object(v))
                return NULL;
            c = json_object();
            if (!c || json_object_set_new(v, p->seg[i], c))
                return NULL;
        }
        v = c;
    }
    return json_is_object(v) ? v : NULL;
}

int fpath_set(const fpath *p, json_t *rec, json_t *v)
{
    if (!v)
        return -ENOMEM;
    if (!json_is_object(rec) || p->nseg == 0) {
        json_decref(v);
        return -EINVAL;
    }
    if (p->nseg > 1 && json_object_get(rec, p->text))
        return json_object_set_new(rec, p->text, v) ? -ENOMEM : 0;
    json_t *par = parent_of(p, rec, 1);
    if (!par) {
        json_decref(v);
        return -ENOTDIR;
    }
    return json_object_set_new(par, p->seg[p->nseg - 1], v) ? -ENOMEM : 0;
}

json_t *fpath_take(const fpath *p, json_t *rec)
{
    if (!json_is_object(rec) || p->nseg == 0)
        return NULL;
    json_t *par = rec;
    const char *key = p->text;
    if (!(p->nseg > 1 && json_object_get(rec, p->text))) {
        par = parent_of(p, rec, 0);
        key = p->seg[p->nseg - 1];
    }
    json_t *v = par ? json_object_get(par, key) : NULL;
    if (!v)
        return NULL;
    json_incref(v);
    json_object_del(par, key);
    return v;
}

int fpath_del(const fpath *p, json_t *rec)
{
    json_t *v = fpath_take(p, rec);
    if (!v)
        return 0;
    json_decref(v);
    return 1;
}

json_t *fpath_get_str(json_t *rec, const char *path)
{
    fpath p;
    if (fpath_compile(path, &p))
        return NULL;
    json_t *v = fpath_get(&p, rec);
    fpath_free(&p);
    return v;
}
