/* framer: LF / RFC 6587 octet-counting stream splitter (see framer.h).
 * Complete messages found inside one fed chunk are delivered straight from the caller's bytes; only a
 * message split across feeds is copied into `pending`, which is capped at max_msg. */
#include "framer.h"

#include <errno.h>
#include <string.h>

#define FRAMER_DEFAULT_MAX (64 * 1024)
#define OCTET_MAX_DIGITS 10

void framer_init(framer *f, size_t max_msg, int force_lf)
{
    memset(f, 0, sizeof *f);
    f->max_msg = max_msg ? max_msg : FRAMER_DEFAULT_MAX;
    f->force_lf = force_lf ? 1 : 0;
    bf_buf_init(&f->pending, f->max_msg);
}

void framer_free(framer *f)
{
    bf_buf_free(&f->pending);
}

/* Trailing CR and NUL always go; octet frames also lose a counted trailing LF. */
static void deliver(const char *p, size_t n, int trim_lf, framer_cb cb, void *ud)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\0' || (trim_lf && p[n - 1] == '\n')))
        n--;
    if (n)
        cb(ud, p, n);
}

static void deliver_pending(framer *f, int trim_lf, framer_cb cb, void *ud)
{
    deliver(f->pending.data, f->pending.len, trim_lf, cb, ud);
    bf_buf_reset(&f->pending);
}

static int feed_lf(framer *f, const char *p, const char *end, framer_cb cb, void *ud)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = (size_t)((nl ? nl : end) - p);
        if (f->discard) {
            if (!nl)
                return 0;
            f->discard = 0;
            p = nl + 1;
            continue;
        }
        if (!f->pending.len && nl) {  /* whole line in this chunk: no copy */
            deliver(p, seg < f->max_msg ? seg : f->max_msg, 0, cb, ud);
            p = nl + 1;
            continue;
        }
        size_t room = f->max_msg - f->pending.len;
        size_t take = seg < room ? seg : room;
        int rc = bf_buf_append(&f->pending, p, take);
        if (rc)
            return rc;
        if (nl && take == seg) {
            deliver_pending(f, 0, cb, ud);
            p = nl + 1;
        } else if (f->pending.len == f->max_msg) {  /* cut: the rest of the line is dropped */
            deliver_pending(f, 0, cb, ud);
            if (!nl) {
                f->discard = 1;
                return 0;
            }
            p = nl + 1;
        } else {
            return 0;  /* partial line kept for the next feed */
        }
    }
    return 0;
}

/* LEN header byte. Returns 0, or -EBADMSG for anything but "NONZERO-DIGIT *DIGIT SP" within max_msg. */
static int octet_header(framer *f, char c)
{
    if (!f->len_digits && (c == '\n' || c == '\r' || c == '\0'))
        return 0;  /* separators some senders put between frames */
    if (c >= '0' && c <= '9') {
        if (!f->len_digits && c == '0')
            return -EBADMSG;
        f->want = f->want * 10 + (size_t)(c - '0');
        if (++f->len_digits > OCTET_MAX_DIGITS || f->want > f->max_msg)
            return -EBADMSG;
        return 0;
    }
    if (c == ' ' && f->len_digits) {
        f->in_body = 1;
        f->len_digits = 0;
        return 0;
    }
    return -EBADMSG;
}

static int feed_octet(framer *f, const char *p, const char *end, framer_cb cb, void *ud)
{
    while (p < end) {
        if (!f->in_body) {
            int rc = octet_header(f, *p++);
            if (rc)
                return rc;
            continue;
        }
        size_t avail = (size_t)(end - p);
        if (!f->pending.len && avail >= f->want) {
            deliver(p, f->want, 1, cb, ud);
        } else {
            size_t take = avail < f->want ? avail : f->want;
            int rc = bf_buf_append(&f->pending, p, take);
            if (rc)
                return rc;
            if (take < f->want) {
                f->want -= take;
                return 0;
            }
            deliver_pending(f, 1, cb, ud);
        }
        p += f->want;
        f->want = 0;
        f->in_body = 0;
    }
    return 0;
}

int framer_feed(framer *f, const char *data, size_t len, framer_cb cb, void *ud)
{
    if (f->failed)
        return -EBADMSG;
    if (!len)
        return 0;
    if (f->mode == FRAMER_UNKNOWN)
        f->mode = !f->force_lf && data[0] >= '0' && data[0] <= '9' ? FRAMER_OCTET : FRAMER_LF;
    int rc = f->mode == FRAMER_OCTET ? feed_octet(f, data, data + len, cb, ud) : feed_lf(f, data, data + len, cb, ud);
    if (rc == -EBADMSG)
        f->failed = 1;
    return rc;
}

void framer_finish(framer *f, framer_cb cb, void *ud)
{
    if (f->mode == FRAMER_LF && !f->discard && f->pending.len)
        deliver_pending(f, 0, cb, ud);
    bf_buf_reset(&f->pending);
    f->mode = FRAMER_UNKNOWN;
    f->want = 0;
    f->in_body = f->len_digits = f->discard = f->failed = 0;
}
