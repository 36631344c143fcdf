/* ingest: HTTP request handling of the data port (see ingest.h). */
#include "ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "bf_log.h"
#include "bf_util.h"
#include "body.h"
#include "keys.h"

#define ID_MAX 65                         /* ids are at most 64 characters */
#define CONN_MEMORY (128 * 1024)          /* per-connection buffer: larger upload chunks per callback */
#define WATCHDOG_TICK_MS 200

/* Per-connection state for the slow-client watchdog, linked while the socket is open. */
typedef struct rcv_conn {
    struct rcv_conn *prev, *next;
    int fd;
    int64_t deadline;                     /* monotonic ms; 0 = not timed (request being stored) */
    bool cut;
} rcv_conn;

struct rcv_ingest {
    rcv_ingest_deps d;
    struct MHD_Daemon *mhd;
    rcv_body_limits limits;
    bf_codec identity_codec;
    char *tls_cert, *tls_key;             /* PEM text; libmicrohttpd reads it at start */
    atomic_int inflight;
    int port;
    pthread_mutex_t mu;                   /* guards conns and the watchdog flag */
    pthread_cond_t cv;
    rcv_conn *conns;
    bool wd_stop;
    pthread_t wd;
    bool wd_started;
    bf_counter *cut_counter;
    sem_t verify_gate;                    /* bodies being inflated at once: at most one per CPU */
    bool gate_ready;
};

/* Per-request state (MHD's req_cls). */
typedef struct rcv_req {
    char tenant[ID_MAX], dataset[ID_MAX];
    bool is_ingest, responded, counted;
    int reject_status;                    /* set when the body is being discarded */
    const char *reject_msg;
    rcv_body *body;
    int64_t recv_ns;
} rcv_req;

/* ---------- responses ---------- */

static enum MHD_Result send_json(rcv_ingest *g, struct MHD_Connection *c, int status, const char *json)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
        char ra[32];
        snprintf(ra, sizeof ra, "%lld", (long long)((g->d.cfg->retry_after_ms + 999) / 1000));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    enum MHD_Result q = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return q;
}

static enum MHD_Result respond_error(rcv_ingest *g, struct MHD_Connection *c, rcv_req *r, int status,
                                     const char *msg)
{
    bf_buf b;
    bf_buf_init(&b, 1024);
    bf_buf_puts(&b, "{\"status\":\"error\",\"error\":");
    bf_buf_json_str(&b, msg, strlen(msg));
    bf_buf_putc(&b, '}');
    r->responded = true;
    if (r->is_ingest) {
        rcv_stats_request(g->d.stats, r->tenant, r->dataset, status);
        r->counted = true;
    }
    enum MHD_Result q = send_json(g, c, status, b.data ? b.data : "{}");
    bf_buf_free(&b);
    return q;
}

/* ---------- watchdog ---------- */

static rcv_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_set_deadline(rcv_ingest *g, struct MHD_Connection *c, bool timed)
{
    rcv_conn *k = conn_of(c);
    if (!k)
        return;
    pthread_mutex_lock(&g->mu);
    k->deadline = timed ? bf_mono_ms() + g->d.cfg->read_timeout_ms : 0;
    pthread_mutex_unlock(&g->mu);
}

/* Libmicrohttpd reports CLOSED before it closes the socket, and both sides hold mu, so the watchdog
 * never shuts down a descriptor that was already reused by another connection. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code)
{
    rcv_ingest *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        rcv_conn *k = calloc(1, sizeof *k);
        if (!k || !ci) {
            free(k);
            return;
        }
        k->fd = ci->connect_fd;
        k->deadline = bf_mono_ms() + g->d.cfg->read_timeout_ms;
        pthread_mutex_lock(&g->mu);
        k->next = g->conns;
        if (g->conns)
            g->conns->prev = k;
        g->conns = k;
        pthread_mutex_unlock(&g->mu);
        *socket_ctx = k;
        return;
    }
    rcv_conn *k = *socket_ctx;
    if (!k)
        return;
    pthread_mutex_lock(&g->mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        g->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    pthread_mutex_unlock(&g->mu);
    free(k);
    *socket_ctx = NULL;
}

static void *watchdog(void *arg)
{
    rcv_ingest *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->wd_stop) {
        int64_t now = bf_mono_ms();
        for (rcv_conn *k = g->conns; k; k = k->next) {
            if (k->deadline && now > k->deadline && !k->cut) {
                /* shutdown (not close): the connection thread sees EOF and cleans up itself */
                shutdown(k->fd, SHUT_RDWR);
                k->cut = true;
                bf_counter_add(g->cut_counter, 1);
                bf_log_kv(BF_LOG_INFO, "slow client cut after read_timeout", NULL);
            }
        }
        struct timespec ts;
        bf_deadline(CLOCK_MONOTONIC, WATCHDOG_TICK_MS, &ts);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* ---------- request start: routing and the checks before the body ---------- */

/* Copy one path segment (trailing '.' trimmed, like the original) into out; false when too long/empty. */
static bool take_segment(const char **p, char *out)
{
    const char *s = *p, *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    *p = e ? e + 1 : s + n;
    while (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n >= ID_MAX)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* "/t/d" or "/webhook/t/d" -> tenant, dataset. */
static bool parse_route(const char *url, char *tenant, char *dataset)
{
    if (url[0] != '/')
        return false;
    const char *p = url + 1;
    int slashes = 0;
    for (const char *q = p; *q; q++)
        slashes += *q == '/';
    if (slashes == 2 && !strncmp(p, "webhook/", 8))
        p += 8;
    else if (slashes != 1)
        return false;
    return take_segment(&p, tenant) && take_segment(&p, dataset) && *p == '\0';
}

/* Bearer token from the Authorization header: pointer into the header and its length, or NULL. */
static const char *bearer_token(struct MHD_Connection *c, size_t *len)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7))
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    *len = n;
    return n ? h : NULL;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outlen);
}

/* Tenant (410) -> token (401) -> dataset (400). Returns 0 or the HTTP status; *msg says why. */
static int check_access(rcv_ingest *g, struct MHD_Connection *c, rcv_req *r, const char **msg)
{
    bf_registry *reg = bf_tenants_get(g->d.tenants);
    const bf_tenant *t = bf_id_valid(r->tenant) ? bf_registry_tenant(reg, r->tenant) : NULL;
    int status = 0;
    size_t toklen = 0;
    const char *tok;
    if (!t || !t->active) {
        status = MHD_HTTP_GONE, *msg = "tenant not found or inactive";
    } else if (!(tok = bearer_token(c, &toklen)) || !t->has_token || !bf_tenant_token_ok(t, tok, toklen)) {
        char ip[64];
        status = MHD_HTTP_UNAUTHORIZED, *msg = "missing or invalid bearer token";
        client_ip(c, ip, sizeof ip);
        /* the token itself is never logged, not even its first characters */
        bf_log_kv(BF_LOG_WARN, "rejected upload: bad token", "tenant", r->tenant, "client", ip,
                  "reason", !tok ? "missing" : !t->has_token ? "tenant has no token" : "mismatch", NULL);
    } else {
        const bf_dataset *ds = bf_id_valid(r->dataset) ? bf_tenant_dataset(t, r->dataset) : NULL;
        if (!ds || !ds->active)
            status = MHD_HTTP_BAD_REQUEST, *msg = "unknown or inactive dataset for tenant";
    }
    bf_registry_unref(reg);
    return status;
}

/* Only known tenants/datasets get their own metric series (a 401 names a known tenant). */
static void anonymize_for_metrics(rcv_req *r, int status)
{
    if (status == MHD_HTTP_GONE)
        snprintf(r->tenant, sizeof r->tenant, "_unknown");
    if (status == MHD_HTTP_GONE || status == MHD_HTTP_UNAUTHORIZED || status == MHD_HTTP_BAD_REQUEST)
        snprintf(r->dataset, sizeof r->dataset, "_unknown");
}

static enum MHD_Result begin_ingest(rcv_ingest *g, struct MHD_Connection *c, rcv_req *r)
{
    const char *msg = NULL;
    int status = check_access(g, c, r, &msg);
    if (status) {
        anonymize_for_metrics(r, status);
        return respond_error(g, c, r, status, msg);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > (unsigned long long)g->d.cfg->max_body_bytes)
        return respond_error(g, c, r, MHD_HTTP_CONTENT_TOO_LARGE, "body over max_body_bytes");
    rcv_encoding enc;
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (rcv_encoding_parse(ce, &enc))
        return respond_error(g, c, r, MHD_HTTP_BAD_REQUEST, "unsupported Content-Encoding (gzip, zstd or identity)");
    if (rcv_body_create(&g->limits, enc, &r->body) || (cl && rcv_body_expect(r->body, strtoull(cl, NULL, 10))))
        return respond_error(g, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return MHD_YES;
}

static enum MHD_Result begin(rcv_ingest *g, struct MHD_Connection *c, const char *url, const char *method,
                             void **req_cls)
{
    rcv_req *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    *req_cls = r;
    r->recv_ns = bf_now_ns();
    atomic_fetch_add(&g->inflight, 1);
    rcv_stats_inflight(g->d.stats, 1);
    if (!strcmp(url, "/health")) {
        r->responded = true;
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            return send_json(g, c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"status\":\"error\",\"error\":\"method not allowed\"}");
        return send_json(g, c, MHD_HTTP_OK, "{\"status\":\"ok\",\"service\":\"webhook\"}");
    }
    if (!parse_route(url, r->tenant, r->dataset)) {
        r->responded = true;
        return send_json(g, c, MHD_HTTP_NOT_FOUND, "{\"status\":\"error\",\"error\":\"not found\"}");
    }
    if (strcmp(method, "POST")) {
        r->responded = true;
        return send_json(g, c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"status\":\"error\",\"error\":\"use POST\"}");
    }
    r->is_ingest = true;
    return begin_ingest(g, c, r);
}

/* ---------- body and completion ---------- */

typedef struct err_map { int rc; int status; const char *msg; } err_map;
static const err_map body_errors[] = {
    {-E2BIG, MHD_HTTP_CONTENT_TOO_LARGE, "body over max_body_bytes"},
    {-EFBIG, MHD_HTTP_CONTENT_TOO_LARGE, "decompressed body over max_inflated_bytes or max_inflate_ratio"},
    {-EBADMSG, MHD_HTTP_BAD_REQUEST, "corrupt or truncated gzip/zstd body"},
    {-ENODATA, MHD_HTTP_BAD_REQUEST, "empty request body"},
};

static void reject_body(rcv_req *r, int rc)
{
    r->reject_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->reject_msg = "internal error while reading the body";
    for (size_t i = 0; i < sizeof body_errors / sizeof body_errors[0]; i++) {
        if (body_errors[i].rc == rc) {
            r->reject_status = body_errors[i].status;
            r->reject_msg = body_errors[i].msg;
        }
    }
    if (r->reject_status == MHD_HTTP_INTERNAL_SERVER_ERROR)
        bf_log_kv(BF_LOG_ERROR, "body processing failed", "error", strerror(-rc), NULL);
}

static void on_chunk(rcv_req *r, const char *data, size_t len)
{
    /* after a rejection the rest is read and dropped so that the client gets its answer */
    if (r->reject_status || !r->body)
        return;
    int rc = rcv_body_feed(r->body, data, len);
    if (rc)
        reject_body(r, rc);
}

typedef struct meta_vals {
    char lines[24], orig[24], batch[128];
    bf_kv kv[6];
} meta_vals;

static void build_meta(rcv_ingest *g, struct MHD_Connection *c, rcv_req *r, meta_vals *m)
{
    snprintf(m->lines, sizeof m->lines, "%llu", (unsigned long long)rcv_body_lines(r->body));
    snprintf(m->orig, sizeof m->orig, "%llu", (unsigned long long)rcv_body_inflated_bytes(r->body));
    rcv_meta_sanitize(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Proxy-Batch-ID"), m->batch, sizeof m->batch);
    m->kv[0] = (bf_kv){"tenant", r->tenant};
    m->kv[1] = (bf_kv){"dataset", r->dataset};
    m->kv[2] = (bf_kv){"lines", m->lines};
    m->kv[3] = (bf_kv){"original-bytes", m->orig};
    m->kv[4] = (bf_kv){"proxy-batch-id", m->batch};
    m->kv[5] = (bf_kv){"receiver-instance", g->d.instance};
}

static int build_key(struct MHD_Connection *c, rcv_req *r, char *key, size_t keylen, int64_t *ns_out)
{
    char hint[RCV_HINT_MAX + 1];
    int64_t ns;
    const char *fname = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Proxy-Filename");
    if (rcv_filename_parse(fname, r->tenant, r->dataset, &ns, hint, sizeof hint)) {
        ns = r->recv_ns;
        snprintf(hint, sizeof hint, "raw");
    }
    *ns_out = ns;
    return rcv_object_key(r->tenant, r->dataset, ns, hint, rcv_body_hash16(r->body),
                          bf_codec_ext(rcv_body_stored_codec(r->body)), key, keylen);
}

static int write_store(rcv_ingest *g, rcv_req *r, const char *key, const meta_vals *m)
{
    size_t len = 0;
    const void *mem = rcv_body_mem(r->body, &len);
    int rc = mem ? bf_store_put(g->d.store, key, mem, len, m->kv, 6)
                 : bf_store_put_file(g->d.store, key, rcv_body_path(r->body), m->kv, 6);
    rcv_stats_store_result(g->d.stats, rc);
    if (rc)
        bf_log_kv(BF_LOG_WARN, "store write failed", "key", key, "error", bf_store_errmsg(), NULL);
    return rc;
}

static int write_spool(rcv_ingest *g, rcv_req *r, const char *key, const meta_vals *m)
{
    size_t len = 0;
    const void *mem = rcv_body_mem(r->body, &len);
    int rc = 0, fd = -1;
    if (!mem) {   /* spilled body: copied from its file in chunks, never read back into memory whole */
        struct stat st;
        fd = open(rcv_body_path(r->body), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0)
            rc = -errno;
        else
            len = (size_t)st.st_size;
    }
    if (!rc)
        rc = rcv_spool_put(g->d.spool, key, r->tenant, r->dataset, r->recv_ns, rcv_body_hash16(r->body),
                           bf_codec_ext(rcv_body_stored_codec(r->body)), mem, fd, len, m->kv, 6);
    if (fd >= 0)
        close(fd);
    rcv_stats_spool(g->d.stats, bf_spool_used(g->d.spool), bf_spool_max(g->d.spool));
    if (rc)
        bf_log_kv(BF_LOG_WARN, rc == -ENOSPC ? "spool full" : "spool write failed", "key", key,
                  "error", strerror(-rc), NULL);
    else
        rcv_uploader_kick(g->d.uploader);
    return rc;
}

/* Inflating an in-memory body is pure CPU with a window of up to 16 MiB: letting every connection do it
 * at once only makes them evict each other's windows from the caches, so at most one per CPU runs. */
static int verify(rcv_ingest *g, rcv_body *body)
{
    int w = -1;
    if (g->gate_ready)
        while ((w = sem_wait(&g->verify_gate)) != 0 && errno == EINTR)
            ;
    int rc = rcv_body_finish(body);
    if (w == 0)
        sem_post(&g->verify_gate);
    return rc;
}

static enum MHD_Result complete(rcv_ingest *g, struct MHD_Connection *c, rcv_req *r)
{
    if (r->reject_status)
        return respond_error(g, c, r, r->reject_status, r->reject_msg);
    /* the whole body is here: verifying it (rcv_body_finish inflates an in-memory body) and storing it
     * may take longer than read_timeout, which is not the client's fault */
    conn_set_deadline(g, c, false);
    int rc = verify(g, r->body);
    if (rc) {
        reject_body(r, rc);
        return respond_error(g, c, r, r->reject_status, r->reject_msg);
    }
    char key[RCV_KEY_MAX];
    int64_t ns;
    meta_vals m;
    if (build_key(c, r, key, sizeof key, &ns))
        return respond_error(g, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "key too long");
    build_meta(g, c, r, &m);
    int64_t t0 = bf_mono_ms();
    rc = g->d.spool ? write_spool(g, r, key, &m) : write_store(g, r, key, &m);
    if (rc)
        return respond_error(g, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                             rc == -ENOSPC ? "spool full, retry later" : "store unavailable, retry later");
    rcv_stats_accepted(g->d.stats, r->tenant, r->dataset, rcv_body_wire_bytes(r->body),
                       rcv_body_inflated_bytes(r->body), rcv_body_lines(r->body), (bf_mono_ms() - t0) / 1000.0);
    rcv_stats_request(g->d.stats, r->tenant, r->dataset, MHD_HTTP_OK);
    r->counted = r->responded = true;
    bf_buf b;
    bf_buf_init(&b, 0);
    bf_buf_puts(&b, "{\"status\":\"ok\",\"key\":");
    bf_buf_json_str(&b, key, strlen(key));
    bf_buf_printf(&b, ",\"lines\":%llu}", (unsigned long long)rcv_body_lines(r->body));
    enum MHD_Result q = b.data ? send_json(g, c, MHD_HTTP_OK, b.data) : MHD_NO;   /* NULL: out of memory */
    bf_buf_free(&b);
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **req_cls)
{
    (void)version;
    rcv_ingest *g = cls;
    rcv_req *r = *req_cls;
    if (!r)
        return begin(g, c, url, method, req_cls);
    if (*upload_size) {
        on_chunk(r, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->responded)
        return MHD_YES;
    return complete(g, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    rcv_ingest *g = cls;
    rcv_req *r = *req_cls;
    if (!r)
        return;
    if (r->is_ingest && !r->counted && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        rcv_stats_request(g->d.stats, r->tenant, r->dataset, 499);   /* client went away or was cut */
    rcv_body_destroy(r->body);
    free(r);
    *req_cls = NULL;
    conn_set_deadline(g, c, true);    /* the next request on this connection gets a fresh budget */
    rcv_stats_inflight(g->d.stats, -1);
    atomic_fetch_sub(&g->inflight, 1);
}

/* ---------- lifecycle ---------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    bf_log_kv(BF_LOG_DEBUG, "libmicrohttpd", "detail", msg, NULL);
}

static int resolve_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[256];
    int port;
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (bf_parse_hostport(listen, host, sizeof host, &port) || port < 0 || port > 65535) {
        snprintf(err, errlen, "listen: invalid address '%s'", listen);
        return -EINVAL;
    }
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai) || !ai) {
        snprintf(err, errlen, "listen: '%s' is not a numeric address", host);
        return -EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

static int load_tls(rcv_ingest *g, char *err, size_t errlen)
{
    const rcv_config *cfg = g->d.cfg;
    size_t n;
    if (!cfg->tls_cert || !*cfg->tls_cert)
        return 0;
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        snprintf(err, errlen, "tls: this libmicrohttpd was built without TLS support");
        return -ENOTSUP;
    }
    int rc = bf_read_file(cfg->tls_cert, 1 << 20, &g->tls_cert, &n);
    if (!rc)
        rc = bf_read_file(cfg->tls_key, 1 << 20, &g->tls_key, &n);
    if (rc)
        snprintf(err, errlen, "tls: cannot read %s: %s", g->tls_cert ? cfg->tls_key : cfg->tls_cert, strerror(-rc));
    return rc;
}

static void set_limits(rcv_ingest *g)
{
    const rcv_config *cfg = g->d.cfg;
    bf_codec ic = BF_CODEC_ZSTD;
    bf_codec_parse(cfg->intake_codec, &ic);
    g->limits = (rcv_body_limits){
        .max_body = (uint64_t)cfg->max_body_bytes,
        .max_inflated = (uint64_t)cfg->max_inflated_bytes,
        .max_ratio = cfg->max_inflate_ratio,
        .identity_codec = ic,
        .identity_level = (int)cfg->intake_level,
        .spill_threshold = (uint64_t)cfg->spill_threshold,
        .spill_dir = cfg->spill_dir,
    };
}

static int start_mhd(rcv_ingest *g, const struct sockaddr_storage *ss, char *err, size_t errlen)
{
    const rcv_config *cfg = g->d.cfg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (g->tls_cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {g->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, g->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, g->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned timeout_s = (unsigned)((cfg->read_timeout_ms + 999) / 1000);
    g->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, g,
                              MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
                              MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, g,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, g,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, g,
                              MHD_OPTION_ARRAY, tls_opts,
                              MHD_OPTION_END);
    if (!g->mhd) {
        snprintf(err, errlen, "cannot listen on %s (address in use, bad TLS files or no permission)", cfg->listen);
        return -EADDRINUSE;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(g->mhd, MHD_DAEMON_INFO_BIND_PORT);
    g->port = di ? di->port : 0;
    return 0;
}

int rcv_ingest_start(const rcv_ingest_deps *deps, rcv_ingest **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int rc = resolve_listen(deps->cfg->listen, &ss, err, errlen);
    if (rc)
        return rc;
    rcv_ingest *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->d = *deps;
    set_limits(g);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    g->gate_ready = sem_init(&g->verify_gate, 0, (unsigned)(ncpu > 0 ? ncpu : 1)) == 0;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->cut_counter = bf_metrics_counter(deps->metrics, "bytefreezer_receiver_slow_clients_cut_total",
                                        "connections cut because a request did not arrive within read_timeout", NULL);
    rc = load_tls(g, err, errlen);
    if (!rc)
        rc = start_mhd(g, &ss, err, errlen);
    if (!rc) {
        rc = -pthread_create(&g->wd, NULL, watchdog, g);
        g->wd_started = rc == 0;
        if (rc)
            snprintf(err, errlen, "cannot start the watchdog thread");
    }
    if (rc) {
        rcv_ingest_stop(g);
        return rc;
    }
    rcv_stats_listening(deps->stats, 1);
    *out = g;
    return 0;
}

int rcv_ingest_port(const rcv_ingest *g)
{
    return g->port;
}

void rcv_ingest_quiesce(rcv_ingest *g)
{
    if (!g || !g->mhd)
        return;
    MHD_socket fd = MHD_quiesce_daemon(g->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    rcv_stats_listening(g->d.stats, 0);
}

int rcv_ingest_wait_idle(rcv_ingest *g, int64_t timeout_ms)
{
    int64_t deadline = bf_mono_ms() + timeout_ms;
    while (atomic_load(&g->inflight) > 0) {
        if (bf_mono_ms() >= deadline)
            return -ETIMEDOUT;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

void rcv_ingest_stop(rcv_ingest *g)
{
    if (!g)
        return;
    if (g->mhd)
        MHD_stop_daemon(g->mhd);
    if (g->wd_started) {
        pthread_mutex_lock(&g->mu);
        g->wd_stop = true;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->wd, NULL);
    }
    rcv_stats_listening(g->d.stats, 0);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    if (g->gate_ready)
        sem_destroy(&g->verify_gate);
    free(g->tls_cert);
    free(g->tls_key);
    free(g);
}
