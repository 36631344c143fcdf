/* bf_admin: see bf_admin.h. libmicrohttpd with its own polling thread and a small thread pool
 * (health callbacks may take a moment; two workers keep /metrics answering meanwhile). */
#include "bf_admin.h"
#include "bf_buf.h"
#include "bf_log.h"
#include "bf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

typedef struct route {
    char *method, *path;
    size_t plen;
    int prefix, is_public;
    bf_admin_handler h;
    void *ud;
} route;

struct bf_admin {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int ipv6;
    char token_sha[65];       /* SHA-256 hex of the token; empty = no token */
    bf_metrics *metrics;
    bf_health_fn health;
    void *health_ud;
    pthread_mutex_t mu;       /* config_json */
    char *config_json;
    size_t max_body;
    route *routes;
    size_t nroutes;
    struct MHD_Daemon *d;
    int port;
};

/* Per-request state kept across the access-handler calls of one request. */
typedef struct reqctx {
    bf_buf body;
    int too_big;
} reqctx;

static int resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *len, int *ipv6)
{
    char host[256];
    int port;
    int rc = bf_parse_hostport(listen, host, sizeof host, &port);
    if (rc) return rc;
    if (port < 0 || port > 65535) return -EINVAL;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(*host ? host : NULL, ps, &hints, &res) != 0 || !res) return -EINVAL;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

int bf_admin_create(const char *listen, const char *token, bf_metrics *m, bf_health_fn health, void *health_ud,
                    const char *config_json, size_t max_body, bf_admin **out)
{
    if (!listen || !out) return -EINVAL;
    bf_admin *a = calloc(1, sizeof *a);
    if (!a) return -ENOMEM;
    int rc = resolve(listen, &a->addr, &a->addrlen, &a->ipv6);
    if (rc) { free(a); return rc; }
    if (token && *token) bf_sha256_hex(token, strlen(token), a->token_sha);
    a->metrics = m;
    a->health = health;
    a->health_ud = health_ud;
    a->max_body = max_body ? max_body : 1 << 20;
    a->config_json = strdup(config_json ? config_json : "{}");
    if (!a->config_json) { free(a); return -ENOMEM; }
    if ((rc = pthread_mutex_init(&a->mu, NULL)) != 0) { free(a->config_json); free(a); return -rc; }
    *out = a;
    return 0;
}

int bf_admin_route(bf_admin *a, const char *method, const char *path, int is_public, bf_admin_handler h, void *ud)
{
    if (!a || !method || !path || !h || a->d) return -EINVAL;
    route *nr = realloc(a->routes, (a->nroutes + 1) * sizeof *nr);
    if (!nr) return -ENOMEM;
    a->routes = nr;
    route *r = &nr[a->nroutes];
    size_t pl = strlen(path);
    r->prefix = pl > 0 && path[pl - 1] == '*';
    r->plen = r->prefix ? pl - 1 : pl;
    r->method = strdup(method);
    r->path = strndup(path, r->plen);
    r->is_public = is_public;
    r->h = h;
    r->ud = ud;
    if (!r->method || !r->path) { free(r->method); free(r->path); return -ENOMEM; }
    a->nroutes++;
    return 0;
}

/* ---- responses ---- */

static MHD_Result_t send_body(struct MHD_Connection *c, int status, const char *ctype, char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(body); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", ctype ? ctype : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_Result_t ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static MHD_Result_t send_json(struct MHD_Connection *c, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return MHD_NO;
    size_t n = strlen(s);
    /* one trailing newline makes curl output readable; JSON parsers ignore it */
    char *t = realloc(s, n + 2);
    if (t) { t[n++] = '\n'; t[n] = 0; s = t; }
    return send_body(c, status, "application/json", s, n);
}

static MHD_Result_t send_error(struct MHD_Connection *c, int status, const char *msg)
{
    return send_json(c, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

/* ---- built-in routes ---- */

static const char *const health_names[] = {"healthy", "degraded", "unhealthy"};

static MHD_Result_t do_health(bf_admin *a, struct MHD_Connection *c)
{
    json_t *detail = json_object();
    bf_health h = a->health ? a->health(a->health_ud, detail) : BF_HEALTHY;
    if (h < BF_HEALTHY || h > BF_UNHEALTHY) h = BF_UNHEALTHY;
    json_t *o = json_object();
    if (!o || !detail) { json_decref(o); json_decref(detail); return MHD_NO; }
    json_object_set_new(o, "status", json_string(health_names[h]));
    json_object_update_missing(o, detail);
    json_decref(detail);
    return send_json(c, h == BF_UNHEALTHY ? 503 : 200, o);
}

static MHD_Result_t do_metrics(bf_admin *a, struct MHD_Connection *c)
{
    bf_buf b;
    bf_buf_init(&b, 0);
    if (a->metrics && bf_metrics_render(a->metrics, &b) != 0) { bf_buf_free(&b); return send_error(c, 500, "out of memory"); }
    size_t len = 0;
    char *s = bf_buf_steal(&b, &len);
    if (!s) s = strdup("");
    if (!s) return MHD_NO;
    return send_body(c, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

static MHD_Result_t do_config(bf_admin *a, struct MHD_Connection *c)
{
    pthread_mutex_lock(&a->mu);
    char *s = strdup(a->config_json);
    pthread_mutex_unlock(&a->mu);
    if (!s) return MHD_NO;
    return send_body(c, 200, "application/json", s, strlen(s));
}

/* Constant time whatever the presented length: compare SHA-256 digests. */
static int token_ok(bf_admin *a, struct MHD_Connection *c)
{
    if (!a->token_sha[0]) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return 0;
    h += 7;
    while (*h == ' ') h++;
    char got[65];
    bf_sha256_hex(h, strlen(h), got);
    return bf_ct_equal(got, a->token_sha, 64);
}

static int route_matches(const route *r, const char *url)
{
    return r->prefix ? strncmp(url, r->path, r->plen) == 0 : strcmp(url, r->path) == 0;
}

static MHD_Result_t dispatch_route(bf_admin *a, struct MHD_Connection *c, const char *url, const char *method,
                                   reqctx *rc)
{
    int path_seen = 0;
    for (size_t i = 0; i < a->nroutes; i++) {
        const route *r = &a->routes[i];
        if (!route_matches(r, url)) continue;
        path_seen = 1;
        if (strcmp(r->method, method) != 0) continue;
        if (!r->is_public && !token_ok(a, c)) return send_error(c, 401, "unauthorized");
        bf_admin_req req = {method, url, NULL, rc->body.data ? rc->body.data : "", rc->body.len, c};
        bf_admin_resp resp = {200, NULL, NULL, 0};
        r->h(r->ud, &req, &resp);
        if (!resp.body) { resp.body = strdup(""); resp.body_len = 0; }
        if (!resp.body) return MHD_NO;
        return send_body(c, resp.status ? resp.status : 200, resp.content_type, resp.body, resp.body_len);
    }
    return path_seen ? send_error(c, 405, "method not allowed") : send_error(c, 404, "not found");
}

/* Built-ins: {path, method, needs token when set, handler}. */
typedef MHD_Result_t (*builtin_fn)(bf_admin *, struct MHD_Connection *);
static const struct { const char *path; int protected; builtin_fn fn; } builtins[] = {
    {"/api/v1/health", 0, do_health},
    {"/metrics", 0, do_metrics},
    {"/api/v1/config", 1, do_config},
};

static MHD_Result_t dispatch(bf_admin *a, struct MHD_Connection *c, const char *url, const char *method, reqctx *rc)
{
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++) {
        if (strcmp(url, builtins[i].path) != 0) continue;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return send_error(c, 405, "method not allowed");
        if (builtins[i].protected && !token_ok(a, c)) return send_error(c, 401, "unauthorized");
        return builtins[i].fn(a, c);
    }
    return dispatch_route(a, c, url, method, rc);
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    (void)version;
    bf_admin *a = cls;
    reqctx *rc = *con_cls;
    if (!rc) {
        rc = calloc(1, sizeof *rc);
        if (!rc) return MHD_NO;
        bf_buf_init(&rc->body, a->max_body);
        *con_cls = rc;
        /* refuse early from Content-Length so a large body is never read */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > a->max_body) {
            rc->too_big = 1;
            return send_error(c, 413, "request body too large");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rc->too_big && bf_buf_append(&rc->body, upload_data, *upload_data_size) != 0) rc->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rc->too_big) return send_error(c, 413, "request body too large");
    return dispatch(a, c, url, method, rc);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)c; (void)toe;
    reqctx *rc = *con_cls;
    if (!rc) return;
    bf_buf_free(&rc->body);
    free(rc);
    *con_cls = NULL;
}

const char *bf_admin_req_arg(const bf_admin_req *r, const char *name)
{
    if (!r || !r->conn || !name) return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int bf_admin_start(bf_admin *a)
{
    if (!a || a->d) return -EINVAL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (a->ipv6) flags |= MHD_USE_IPv6;
    a->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a->addr,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, a,
                            MHD_OPTION_THREAD_POOL_SIZE, 2u,
                            MHD_OPTION_CONNECTION_LIMIT, 64u,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_END);
    if (!a->d) return -EADDRINUSE;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (di && getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) == 0)
        a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int bf_admin_port(const bf_admin *a) { return a ? a->port : -EINVAL; }

void bf_admin_set_config_json(bf_admin *a, const char *config_json)
{
    if (!a || !config_json) return;
    char *s = strdup(config_json);
    if (!s) return;   /* keep the old one rather than serve nothing */
    pthread_mutex_lock(&a->mu);
    free(a->config_json);
    a->config_json = s;
    pthread_mutex_unlock(&a->mu);
}

void bf_admin_destroy(bf_admin *a)
{
    if (!a) return;
    if (a->d) MHD_stop_daemon(a->d);
    for (size_t i = 0; i < a->nroutes; i++) { free(a->routes[i].method); free(a->routes[i].path); }
    free(a->routes);
    free(a->config_json);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
