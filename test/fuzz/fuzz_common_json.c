/* Fuzz bf_json against jansson: whatever bf_json_object_check accepts, jansson must load as an object
 * (jansson's own limits aside: numbers beyond a double); whatever jansson loads as an object within
 * our depth bound, we must accept (unless it holds a NUL byte, which jansson's lexer misreads). bf_utf8_sanitize must always produce valid UTF-8 without NUL. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bf_json.h"

static int depth_of(const json_t *j)
{
    int d = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) { int c = depth_of(v); if (c > d) d = c; }
        return d + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) { int c = depth_of(v); if (c > d) d = c; }
        return d + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    bool has = false;
    int ours = bf_json_object_check(s, size, &has) == 0;
    json_error_t e;
    json_t *j = json_loadb(s, size, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    if (ours && !j && !strstr(e.text, "overflow")) abort();
    if (ours && j && !json_is_object(j)) abort();
    if (ours && j && has != (json_object_get(j, "BfTs") != NULL)) abort();
    /* jansson's lexer takes a NUL between tokens for the end of input; JSON does not */
    if (!ours && j && json_is_object(j) && depth_of(j) <= BF_JSON_MAX_DEPTH && !memchr(s, 0, size)) abort();
    json_decref(j);

    char *clean = malloc(3 * size + 1);
    if (!clean) return 0;
    size_t n = bf_utf8_sanitize(s, size, clean);
    if (!bf_utf8_valid(clean, n) || memchr(clean, 0, n)) abort();
    if (bf_utf8_valid(s, size) && !memchr(s, 0, size) && (n != size || memcmp(clean, s, size))) abort();
    free(clean);
    return 0;
}
