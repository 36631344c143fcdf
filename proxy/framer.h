/* framer: splits a syslog/line TCP byte stream into messages. Mode is detected per connection from the
 * first byte: a digit starts RFC 6587 octet counting ("LEN SP MSG"), anything else LF framing
 * (trailing CR and NUL trimmed). Messages longer than max_msg are cut at max_msg (LF mode) or rejected
 * (octet mode: -EBADMSG, the caller closes the connection). Bounded memory: at most max_msg pending.
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
} framer;

void framer_init(framer *f, size_t max_msg, int force_lf);
void framer_free(framer *f);
/* Feed bytes; cb is called for each complete message. 0 or -EBADMSG / -ENOMEM. */
int framer_feed(framer *f, const char *data, size_t len, framer_cb cb, void *ud);
/* End of stream: emits a final unterminated LF-mode message, if any. */
void framer_finish(framer *f, framer_cb cb, void *ud);
#endif
