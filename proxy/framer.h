/* framer: splits a syslog/line TCP byte stream into messages. Mode is detected per connection from the
 * first byte: a digit starts RFC 6587 octet counting ("LEN SP MSG"), anything else LF framing
 * (trailing CR and NUL trimmed). Messages longer than max_msg are cut at max_msg (LF mode) or rejected
 * (octet mode: -EBADMSG, the caller closes the connection). Bounded memory: at most max_msg pending.
 * Empty messages (after trimming) are not delivered. Feeding the same stream byte by byte or in any
 * chunking yields the same messages. In octet mode, CR/LF/NUL between frames are tolerated and the
 * trailing CR/LF/NUL of a frame (some senders count the newline) are trimmed.
 * The msg pointer given to cb is valid only during the callback.
 * Ownership: the caller owns the struct; framer_free releases its buffer. */
#ifndef PROXY_FRAMER_H
#define PROXY_FRAMER_H
#include <stddef.h>
#include "bf_buf.h"

typedef enum { FRAMER_UNKNOWN = 0, FRAMER_LF, FRAMER_OCTET } framer_mode;
typedef void (*framer_cb)(void *ud, const char *msg, size_t len);

typedef struct framer {
    framer_mode mode;
    int force_lf;          /* 1 for plain line inputs (udp/tcp type): never octet counting */
    size_t max_msg;
    size_t want;           /* octet mode: bytes still expected for the current message */
    bf_buf pending;
    /* private state (added; the fields above are unchanged) */
    int in_body;           /* octet mode: 1 while reading MSG, 0 while reading the LEN header */
    int len_digits;        /* octet mode: digits of LEN seen so far */
    int discard;           /* LF mode: skipping the rest of an over-long line until LF */
    int failed;            /* octet mode: a bad frame header was seen */
} framer;

void framer_init(framer *f, size_t max_msg, int force_lf);
void framer_free(framer *f);
/* Feed bytes; cb is called for each complete message. 0 or -EBADMSG / -ENOMEM.
 * After -EBADMSG the framer stays failed (every later feed returns -EBADMSG). */
int framer_feed(framer *f, const char *data, size_t len, framer_cb cb, void *ud);
/* End of stream: emits a final unterminated LF-mode message, if any (an incomplete octet-counted
 * frame is dropped), and resets the framer for reuse. */
void framer_finish(framer *f, framer_cb cb, void *ud);
#endif
