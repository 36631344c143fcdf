/* bf_buf: a growable byte buffer with a hard cap.
 * Ownership: the caller owns the bf_buf struct; bf_buf_free releases data.
 * Errors: append functions return 0 or -ENOMEM (allocation failed) or -E2BIG (cap exceeded). */
#ifndef BF_BUF_H
#define BF_BUF_H
#include <stddef.h>
#include <stdarg.h>

typedef struct bf_buf {
    char *data;   /* always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;
    size_t cap;
    size_t max;   /* 0 = unlimited, else appends past max fail with -E2BIG */
} bf_buf;

void bf_buf_init(bf_buf *b, size_t max);
void bf_buf_free(bf_buf *b);
void bf_buf_reset(bf_buf *b);                     /* len = 0, keeps memory */
int bf_buf_reserve(bf_buf *b, size_t extra);
int bf_buf_append(bf_buf *b, const void *p, size_t n);
int bf_buf_puts(bf_buf *b, const char *s);
int bf_buf_putc(bf_buf *b, char c);
int bf_buf_printf(bf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bf_buf_vprintf(bf_buf *b, const char *fmt, va_list ap);
/* JSON string escaping (quotes included); invalid UTF-8 bytes become U+FFFD. */
int bf_buf_json_str(bf_buf *b, const char *s, size_t n);
/* Detach: returns data (caller frees) and leaves b empty. */
char *bf_buf_steal(bf_buf *b, size_t *len);
#endif
