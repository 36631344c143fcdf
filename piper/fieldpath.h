/* fieldpath: compiled field references into jansson records (DESIGN §7.3: nested fields "a.b.c";
 * Logstash-style "[a][b]" also accepted). A literal top-level key equal to the whole text wins over
 * the nested walk, so keys that contain dots (after json_flatten) stay addressable.
 * Ownership: fpath_compile allocates; fpath_free releases. Lookups return borrowed references. */
#ifndef PIPER_FIELDPATH_H
#define PIPER_FIELDPATH_H
#include <stddef.h>
#include <jansson.h>

typedef struct fpath {
    char *text;      /* the path as written */
    char **seg;      /* segments */
    size_t nseg;
} fpath;

/* 0, -EINVAL (empty path / empty segment / bad brackets) or -ENOMEM. */
int fpath_compile(const char *text, fpath *out);
void fpath_free(fpath *p);
/* Borrowed value or NULL. Numeric segments index arrays. */
json_t *fpath_get(const fpath *p, json_t *rec);
/* Sets (steals v, also on failure). Intermediate objects are created; -ENOTDIR when a non-object is
 * in the way. */
int fpath_set(const fpath *p, json_t *rec, json_t *v);
/* Removes; returns 1 when something was removed, 0 when absent. */
int fpath_del(const fpath *p, json_t *rec);
/* Removes and returns the value (new reference) or NULL. */
json_t *fpath_take(const fpath *p, json_t *rec);

/* Convenience for one-off paths (compiles per call; avoid on hot paths). */
json_t *fpath_get_str(json_t *rec, const char *path);
#endif
