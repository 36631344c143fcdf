/* Fuzz bf_syslog_parse: it must never fail on content, and its output must always be one valid JSON
 * object (jansson is the oracle; \u0000 is valid JSON, hence JSON_ALLOW_NUL). A second parse into a
 * capped buffer must either give the same bytes or fail with -E2BIG leaving the buffer untouched. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bf_syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bf_buf out;
    bf_buf_init(&out, 0);
    /* Heap copy of exactly size bytes so ASan sees any read past the end. */
    char *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    if (bf_syslog_parse(msg, size, 1770314400000LL, "192.0.2.1", &out) != 0)
        abort();
    json_error_t err;
    json_t *j = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &err);
    if (!j || !json_is_object(j) || !json_is_string(json_object_get(j, "rfc")))
        abort();
    json_decref(j);

    /* cap somewhere around the real size, after a 3-byte prefix that must survive a failure */
    size_t cap = 3 + (size ? out.len - out.len / (1 + data[0] % 8) : 0) + (size > 1 ? data[1] % 24 : 0);
    bf_buf capped;
    bf_buf_init(&capped, cap);
    if (bf_buf_puts(&capped, "pre"))
        abort();
    int rc = bf_syslog_parse(msg, size, 1770314400000LL, "192.0.2.1", &capped);
    if (rc == 0) {
        if (capped.len != out.len + 3 || memcmp(capped.data + 3, out.data, out.len))
            abort();
    } else if (rc != -E2BIG || capped.len != 3 || memcmp(capped.data, "pre", 4)) {
        abort();
    }
    bf_buf_free(&capped);
    free(msg);
    bf_buf_free(&out);
    return 0;
}
