/* input_tcp: TCP listeners on the loop (syslog over TCP with LF or RFC 6587 octet-counted framing
 * auto-detected per connection, and plain line input), optionally over TLS (tls_cert/tls_key in the
 * source: RFC 5425 syslog over TLS; the handshake runs through memory BIOs, see tls.h). Backpressure: while batcher_pressure() is set,
 * connections stop reading (uv_read_stop), so the kernel window closes and senders block; a timer
 * resumes them when the spool has room. Nothing read is dropped.
 * Lifetime: the listener state (tcp_impl) outlives its input until every handle is closed. */
#include "inputs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bf_log.h"
#include "bf_util.h"
#include "framer.h"
#include "tls.h"

#define RESUME_MS 50

typedef struct tcp_conn {
    uv_tcp_t h;
    struct tcp_impl *t;
    framer fr;
    bf_buf out;
    size_t records;
    int64_t now;
    int paused, closing, frame_err;
    tls_conn *tls;
    char ip[64];
    struct tcp_conn *prev, *next;
    char rbuf[65536];
} tcp_conn;

typedef struct tcp_impl {
    uv_tcp_t server;
    uv_timer_t resume;
    /* copies of what the connections need, so the input may go first */
    const input_kind *kind;
    bstream *st;
    batcher *b;
    record_format fmt;
    size_t max_msg;
    int64_t max_conns, nconns;
    char dataset[65];
    int open_handles, stopping;
    tls_server *tls;
    tcp_conn *conns;
    bf_counter *c_conns;
} tcp_impl;

static void impl_unref(tcp_impl *t)
{
    if (--t->open_handles) return;
    tls_server_free(t->tls);
    free(t);
}

static void conn_closed(uv_handle_t *h)
{
    tcp_conn *c = h->data;
    tcp_impl *t = c->t;
    framer_free(&c->fr);
    bf_buf_free(&c->out);
    tls_conn_free(c->tls);
    free(c);
    impl_unref(t);
}

static void frame_cb(void *ud, const char *msg, size_t len)
{
    tcp_conn *c = ud;
    int rc = c->t->kind->make(NULL, msg, len, c->ip, c->now, c->t->fmt, &c->out);
    if (rc > 0) c->records += (size_t)rc;
}

static void flush_conn(tcp_conn *c)
{
    if (!c->out.len) return;
    if (batcher_append(c->t->st, c->out.data, c->out.len, c->records, NULL))
        bf_log_kv(BF_LOG_ERROR, "tcp input: out of memory, records lost", "dataset", c->t->dataset, NULL);
    bf_buf_reset(&c->out);
    c->records = 0;
}

static void conn_close(tcp_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    c->now = bf_now_ms();
    framer_finish(&c->fr, frame_cb, c);
    flush_conn(c);
    tcp_impl *t = c->t;
    if (c->prev) c->prev->next = c->next;
    else t->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    t->nconns--;
    uv_close((uv_handle_t *)&c->h, conn_closed);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    tcp_conn *c = h->data;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

/* plaintext (from the socket, or out of TLS) -> framer */
static void plain_cb(void *ud, const char *data, size_t len)
{
    tcp_conn *c = ud;
    if (!c->frame_err) c->frame_err = framer_feed(&c->fr, data, len, frame_cb, c);
}

static void write_done(uv_write_t *w, int status)
{
    (void)status;
    free(w);   /* the data lives in the same allocation */
}

/* Send what the TLS handshake produced (the input itself never sends data). */
static void tls_flush(tcp_conn *c)
{
    for (;;) {
        uv_write_t *w = malloc(sizeof *w + 16384);
        if (!w) return;
        char *data = (char *)(w + 1);
        size_t n = tls_conn_pending(c->tls, data, 16384);
        if (!n) {
            free(w);
            return;
        }
        uv_buf_t b = uv_buf_init(data, (unsigned)n);
        if (uv_write(w, (uv_stream_t *)&c->h, &b, 1, write_done)) {
            free(w);
            return;
        }
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tcp_conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0) return;
    c->now = bf_now_ms();
    int tls_rc = 0;
    if (c->tls) {
        tls_rc = tls_conn_feed(c->tls, buf->base, (size_t)nread, plain_cb, c);
        tls_flush(c);
    } else {
        plain_cb(c, buf->base, (size_t)nread);
    }
    flush_conn(c);
    if (c->frame_err || tls_rc) {
        bf_log_kv(BF_LOG_WARN, tls_rc ? "tcp input: TLS error, closing connection"
                                      : "tcp input: bad framing, closing connection",
                  "dataset", c->t->dataset, "peer", c->ip, NULL);
        conn_close(c);
        return;
    }
    if (batcher_pressure(c->t->b)) {
        uv_read_stop(s);
        c->paused = 1;   /* resume_cb (a repeating timer) restarts it when there is room */
    }
}

static void resume_cb(uv_timer_t *tm)
{
    tcp_impl *t = tm->data;
    if (batcher_pressure(t->b)) return;
    for (tcp_conn *c = t->conns; c; c = c->next)
        if (c->paused && !c->closing) {
            c->paused = 0;
            uv_read_start((uv_stream_t *)&c->h, alloc_cb, read_cb);
        }
}

static void on_conn(uv_stream_t *server, int status)
{
    tcp_impl *t = server->data;
    if (status < 0 || t->stopping) return;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    uv_tcp_init(server->loop, &c->h);
    c->h.data = c;
    c->t = t;
    t->open_handles++;
    framer_init(&c->fr, t->max_msg, t->kind->force_lf);
    bf_buf_init(&c->out, 0);
    if (t->tls && tls_conn_create(t->tls, &c->tls)) {
        uv_close((uv_handle_t *)&c->h, conn_closed);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&c->h)) {
        uv_close((uv_handle_t *)&c->h, conn_closed);
        return;
    }
    c->next = t->conns;
    if (t->conns) t->conns->prev = c;
    t->conns = c;
    t->nconns++;
    if (t->nconns > t->max_conns) {
        bf_log_kv(BF_LOG_WARN, "tcp input: connection limit reached, refusing", "dataset", t->dataset, NULL);
        conn_close(c);
        return;
    }
    struct sockaddr_storage sa;
    int len = sizeof sa;
    if (!uv_tcp_getpeername(&c->h, (struct sockaddr *)&sa, &len)) {
        const void *a = sa.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&sa)->sin6_addr
                                                 : (const void *)&((struct sockaddr_in *)&sa)->sin_addr;
        inet_ntop(sa.ss_family, a, c->ip, sizeof c->ip);
    }
    bf_counter_add(t->c_conns, 1);
    if (batcher_pressure(t->b)) c->paused = 1;   /* accepted, but nothing is read until there is room */
    else uv_read_start((uv_stream_t *)&c->h, alloc_cb, read_cb);
}

static void handle_closed(uv_handle_t *h) { impl_unref(h->data); }

static int tcp_start(input *in, char *err, size_t errlen)
{
    int fd;
    int rc = input_bind_socket(&in->src, SOCK_STREAM, &fd, err, errlen);
    if (rc) return rc;
    tcp_impl *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    if (in->src.tls_cert[0] && (rc = tls_server_create(in->src.tls_cert, in->src.tls_key, &t->tls, err, errlen))) {
        close(fd);
        free(t);
        return rc;
    }
    t->kind = in->kind;
    t->st = in->st;
    t->b = in->env->b;
    t->fmt = in->src.format;
    t->max_msg = (size_t)in->env->cfg->max_message;
    t->max_conns = in->env->cfg->tcp_max_connections;
    snprintf(t->dataset, sizeof t->dataset, "%s", in->dataset);
    char l[200];
    bf_metrics_labels(l, sizeof l, "tenant", in->tenant, "dataset", in->dataset, NULL);
    t->c_conns = bf_metrics_counter(in->env->m, "bytefreezer_proxy_tcp_connections_total", "TCP connections accepted", l);
    uv_tcp_init(in->env->loop, &t->server);
    uv_timer_init(in->env->loop, &t->resume);
    t->server.data = t->resume.data = t;
    t->open_handles = 2;
    if ((rc = uv_tcp_open(&t->server, fd)) || (rc = uv_listen((uv_stream_t *)&t->server, 1024, on_conn))) {
        snprintf(err, errlen, "listen: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)&t->server, handle_closed);
        uv_close((uv_handle_t *)&t->resume, handle_closed);
        return -EIO;
    }
    uv_timer_start(&t->resume, resume_cb, RESUME_MS, RESUME_MS);
    in->impl = t;
    return 0;
}

static void tcp_stop(input *in)
{
    tcp_impl *t = in->impl;
    if (!t) return;
    in->impl = NULL;
    t->stopping = 1;
    while (t->conns) conn_close(t->conns);
    uv_close((uv_handle_t *)&t->server, handle_closed);
    uv_close((uv_handle_t *)&t->resume, handle_closed);
}

const listener_ops input_tcp_ops = {tcp_start, tcp_stop, tcp_stop};
