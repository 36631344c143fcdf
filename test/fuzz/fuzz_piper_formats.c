/* Fuzz every piper input format parser (first byte picks the format), the JSON scanner/builder and
 * the serialiser: no crash, no leak, and whatever parses must serialise to JSON jansson accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "../../piper/formats.h"
#include "../../piper/jfast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *const *names = fmt_names();
    size_t nn = 0;
    while (names[nn])
        nn++;
    const char *name = names[data[0] % nn];
    json_t *opts = json_pack("{s:[s,s,s]}", "columns", "a", "b", "c");
    char err[128];
    fmt *f = NULL;
    if (fmt_create(name, data[0] & 0x80 ? opts : NULL, &f, err, sizeof err) == 0) {
        fmt_state *st = NULL;
        if (fmt_state_create(f, &st) == 0) {
            /* two lines: the first may be a csv header */
            const char *line = (const char *)data + 1;
            size_t len = size - 1;
            for (int i = 0; i < 2; i++) {
                json_t *rec = NULL;
                int rc = fmt_parse(st, line, len, 1764237600000LL, &rec);
                if (rc >= 0 && rec) {
                    bf_buf out;
                    bf_buf_init(&out, 0);
                    if (jfast_dump(rec, &out) == 0) {
                        json_t *back = json_loadb(out.data, out.len, JSON_ALLOW_NUL, NULL);
                        if (!back)
                            abort();
                        json_decref(back);
                    }
                    bf_buf_free(&out);
                }
                json_decref(rec);
            }
            fmt_state_free(st);
        }
        fmt_free(f);
    }
    json_decref(opts);
    json_t *o = NULL;
    if (jfast_load_object((const char *)data, size, &o) == 0) {
        json_t *j = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
        /* jansson rejects integers beyond int64 that we keep as reals; otherwise both must agree */
        if (j && !json_equal(j, o))
            abort();
        json_decref(j);
    }
    json_decref(o);
    return 0;
}
