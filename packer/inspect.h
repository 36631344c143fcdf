/* inspect: `bytefreezer-packer --inspect FILE.parquet [--rows N]`: prints the schema, the key/value
 * metadata, every row group with its column chunks (codec, encodings, sizes, statistics) and the
 * first rows as JSON lines. Returns 0, or a negative errno after printing the reason to err. */
#ifndef PK_INSPECT_H
#define PK_INSPECT_H
#include <stdio.h>

int pk_inspect(const char *path, size_t max_rows, FILE *out, FILE *err);
#endif
