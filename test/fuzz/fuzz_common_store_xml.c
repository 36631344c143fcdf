/* Fuzz the S3 ListObjectsV2 answer parser (tags, entity decoding, continuation token). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "bf_store.h"
#include "bf_store_s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bf_store_list l;
    memset(&l, 0, sizeof l);
    bf_store_s3_parse_list((const char *)data, size, size > 0 && (data[0] & 1) ? "pre/" : "", &l);
    for (size_t i = 0; i < l.n; i++)
        if (!l.items[i].key) __builtin_trap();
    bf_store_list_free(&l);
    return 0;
}
