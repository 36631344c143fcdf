/* Fuzz the framer: the first byte picks max_msg and the chunk size; the stream must give the same
 * messages (and the same result code) fed whole and fed in chunks, and pending never exceeds max_msg. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/framer.h"

static void collect(void *ud, const char *msg, size_t len)
{
    bf_buf *b = ud;
    if (!len)
        abort();
    char hdr[24];
    int n = 0;
    size_t v = len;
    do { hdr[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    bf_buf_append(b, hdr, (size_t)n);
    bf_buf_putc(b, ':');
    bf_buf_append(b, msg, len);
}

static int run(const uint8_t *d, size_t n, size_t max, size_t chunk, bf_buf *log)
{
    framer f;
    framer_init(&f, max, 0);
    int rc = 0;
    for (size_t off = 0; off < n && !rc; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        rc = framer_feed(&f, (const char *)d + off, k, collect, log);
        if (f.pending.len > max)
            abort();
    }
    if (!rc)
        framer_finish(&f, collect, log);
    framer_free(&f);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max = 1 + (data[0] & 0x3f);
    size_t chunk = 1 + (data[0] >> 6);
    bf_buf a, b;
    bf_buf_init(&a, 0);
    bf_buf_init(&b, 0);
    int ra = run(data + 1, size - 1, max, size, &a);
    int rb = run(data + 1, size - 1, max, chunk, &b);
    if (ra != rb || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
        abort();
    bf_buf_free(&a);
    bf_buf_free(&b);
    return 0;
}
