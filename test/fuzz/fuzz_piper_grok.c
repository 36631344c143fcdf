/* Fuzz the grok compiler and matcher, and the condition expression parser: input is
 * "<expression>\n<subject>"; compile errors are fine, crashes and leaks are not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "../../piper/cond.h"
#include "../../piper/grok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *nl = memchr(data, '\n', size);
    size_t el = nl ? (size_t)(nl - (const char *)data) : size;
    char *expr = strndup((const char *)data, el);
    const char *subj = nl ? nl + 1 : "";
    size_t sl = nl ? size - el - 1 : 0;
    rx_scratch *rx = NULL;
    if (!expr || rx_scratch_create(&rx)) {
        free(expr);
        return 0;
    }
    char err[256];
    json_t *custom = json_pack("{s:s, s:s}", "MINE", "[a-z]+%{INT}", "LOOP", "%{LOOP}");
    grok *g = NULL;
    if (grok_compile(expr, custom, &g, err, sizeof err) == 0) {
        json_t *dst = json_object();
        grok_opts o = {.keep_empty = (size & 1) != 0, .overwrite = (size & 2) != 0};
        grok_match(g, rx, subj, sl, dst, &o);
        json_decref(dst);
        grok_free(g);
    }
    cond *c = NULL;
    if (cond_compile_str(expr, &c, err, sizeof err) == 0) {
        json_t *rec = json_pack("{s:s#, s:i, s:{s:s}}", "message", subj, (int)sl, "n", (int)size, "a", "b", "x");
        cond_eval(c, rec, rx);
        json_decref(rec);
        cond_free(c);
    }
    json_decref(custom);
    rx_scratch_free(rx);
    free(expr);
    return 0;
}
