/* input_http: HTTP input (libmicrohttpd, one thread per connection). POST <path> with an NDJSON or text
 * body (Content-Encoding gzip / zstd / identity, or detected by magic bytes), optional bearer token.
 * The request's records are appended to the dataset's batch, the batch is sealed, and the answer is
 * 200 only once that batch is durable in the spool (so a 200 survives kill -9). 503 + Retry-After while
 * the spool is full or the write does not complete within http.timeout; 413 over http.max_body;
 * 400 for a corrupt body; 401 for a wrong token; 503 when the request bytes buffered by all connections
 * exceed 4 x http.max_body (bounded memory). GET /health answers 200 for load balancers.
 * Stopping joins the server threads on a helper thread so the loop (which completes spool writes that
 * waiting requests depend on) never blocks on it. */
#include "inputs.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bf_codec.h"
#include "bf_log.h"
#include "bf_util.h"

typedef struct http_impl {
    struct MHD_Daemon *d;
    bstream *st;
    batcher *b;
    record_format fmt;
    char path[256];
    char *token;
    size_t max_body;
    int64_t timeout_ms;
    char dataset[65];
    atomic_int *stoppers;       /* the env's count of servers still stopping (main waits for 0) */
    atomic_size_t buffered;     /* request bytes held by all connections: bounded, 503 above */
    size_t max_buffered;
    bf_counter *c_req, *c_rej;
} http_impl;

typedef struct http_req {
    bf_buf body;
    int too_large, too_busy;
} http_req;

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *body, int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after) MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static int token_ok(http_impl *h, struct MHD_Connection *c)
{
    if (!h->token) return 1;
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!a || strncmp(a, "Bearer ", 7)) return 0;
    a += 7;
    size_t n = strlen(h->token);
    return strlen(a) == n && bf_ct_equal(a, h->token, n);
}

static int body_codec(struct MHD_Connection *c, const bf_buf *body, bf_codec *out)
{
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    if (ce && *ce) return bf_codec_parse(ce, out);
    *out = bf_codec_detect(body->data, body->len);
    return 0;
}

static enum MHD_Result handle_post(http_impl *h, struct MHD_Connection *c, http_req *rq)
{
    if (!token_ok(h, c)) return respond(c, 401, "{\"error\":\"missing or wrong bearer token\"}", 0);
    if (rq->too_large) return respond(c, 413, "{\"error\":\"body too large\"}", 0);
    if (rq->too_busy) {
        bf_counter_add(h->c_rej, 1);
        return respond(c, 503, "{\"error\":\"too many request bytes in flight, retry later\"}", 1);
    }
    if (batcher_pressure(h->b)) {
        bf_counter_add(h->c_rej, 1);
        return respond(c, 503, "{\"error\":\"spool full, retry later\"}", 1);
    }
    bf_codec codec;
    if (body_codec(c, &rq->body, &codec)) return respond(c, 415, "{\"error\":\"unsupported Content-Encoding\"}", 0);
    char *raw = rq->body.data;
    size_t rlen = rq->body.len;
    char *inflated = NULL;
    if (codec != BF_CODEC_NONE) {
        int rc = bf_decompress(codec, rq->body.data, rq->body.len, h->max_body, 0, &inflated, &rlen);
        if (rc == -EFBIG) return respond(c, 413, "{\"error\":\"inflated body too large\"}", 0);
        if (rc) return respond(c, 400, "{\"error\":\"corrupt compressed body\"}", 0);
        raw = inflated;
    }
    bf_buf out;
    bf_buf_init(&out, 0);
    int n = record_lines(h->fmt, raw ? raw : "", rlen, bf_now_ms(), &out);
    free(inflated);
    uint64_t seq = 0;
    int rc = n < 0 ? n : batcher_append(h->st, out.data, out.len, (size_t)n, &seq);
    bf_buf_free(&out);
    if (rc) return respond(c, 503, "{\"error\":\"out of memory\"}", 1);
    bf_counter_add(h->c_req, 1);
    if (seq) {
        batcher_flush(h->st);
        if (batcher_wait(h->st, seq, h->timeout_ms)) {
            bf_counter_add(h->c_rej, 1);
            return respond(c, 503, "{\"error\":\"data not yet durable, retry later\"}", 1);
        }
    }
    char ok[64];
    snprintf(ok, sizeof ok, "{\"status\":\"ok\",\"records\":%d}", n);
    return respond(c, 200, ok, 0);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    http_impl *h = cls;
    http_req *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq))) return MHD_NO;
        bf_buf_init(&rq->body, h->max_body);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->too_large || rq->too_busy) return MHD_YES;   /* drain and discard */
        if (atomic_fetch_add(&h->buffered, n) + n > h->max_buffered) {
            atomic_fetch_sub(&h->buffered, n);
            rq->too_busy = 1;
        } else if (bf_buf_append(&rq->body, upload, n)) {
            atomic_fetch_sub(&h->buffered, n);
            rq->too_large = 1;
        }
        return MHD_YES;
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/health")) return respond(c, 200, "{\"status\":\"ok\"}", 0);
    if (strcmp(url, h->path)) return respond(c, 404, "{\"error\":\"not found\"}", 0);
    if (strcmp(method, "POST")) return respond(c, 405, "{\"error\":\"POST only\"}", 0);
    return handle_post(h, c, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)c, (void)toe;
    http_impl *h = cls;
    http_req *rq = *con_cls;
    if (!rq) return;
    atomic_fetch_sub(&h->buffered, rq->body.len);
    bf_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static void impl_free(http_impl *h)
{
    free(h->token);
    free(h);
}

static int http_start(input *in, char *err, size_t errlen)
{
    int fd;
    int rc = input_bind_socket(&in->src, SOCK_STREAM, &fd, err, errlen);
    if (rc) return rc;
    http_impl *h = calloc(1, sizeof *h);
    if (!h || (in->src.token && !(h->token = strdup(in->src.token)))) {
        free(h);
        close(fd);
        return -ENOMEM;
    }
    h->st = in->st;
    h->b = in->env->b;
    h->fmt = in->src.format;
    snprintf(h->path, sizeof h->path, "%s", in->src.path);
    snprintf(h->dataset, sizeof h->dataset, "%s", in->dataset);
    h->stoppers = &in->env->http_stoppers;
    h->max_body = (size_t)in->env->cfg->http_max_body;
    h->max_buffered = 4 * h->max_body;   /* a few maximal requests at once, not one per connection */
    h->timeout_ms = in->env->cfg->http_timeout_ms;
    char l[200];
    bf_metrics_labels(l, sizeof l, "tenant", in->tenant, "dataset", in->dataset, NULL);
    h->c_req = bf_metrics_counter(in->env->m, "bytefreezer_proxy_http_requests_total", "HTTP input requests stored", l);
    h->c_rej = bf_metrics_counter(in->env->m, "bytefreezer_proxy_http_rejected_total",
                                  "HTTP input requests answered 503 (spool full or slow)", l);
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL, NULL, handler, h,
                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                            MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot start the HTTP server on port %d", in->src.port);
        close(fd);
        impl_free(h);
        return -EIO;
    }
    in->impl = h;
    return 0;
}

static void *stopper(void *arg)
{
    http_impl *h = arg;
    MHD_stop_daemon(h->d);   /* waits for requests in flight (bounded by http.timeout) */
    atomic_int *stoppers = h->stoppers;
    impl_free(h);
    atomic_fetch_sub(stoppers, 1);
    return NULL;
}

static void quiesce_impl(http_impl *h)
{
    int fd = MHD_quiesce_daemon(h->d);   /* no new connections; requests in flight finish */
    if (fd >= 0) close(fd);              /* the socket is ours after quiesce (-1 the second time) */
}

static void http_quiesce(input *in)
{
    if (in->impl) quiesce_impl(in->impl);
}

static void http_stop(input *in)
{
    http_impl *h = in->impl;
    if (!h) return;
    in->impl = NULL;
    quiesce_impl(h);
    pthread_t th;
    atomic_fetch_add(h->stoppers, 1);
    if (pthread_create(&th, NULL, stopper, h)) {
        stopper(h);
        return;
    }
    pthread_detach(th);
}

const listener_ops input_http_ops = {http_start, http_quiesce, http_stop};
