/* bf_admin: the admin HTTP server (libmicrohttpd, internal thread) every daemon runs on admin_listen:
 *   GET /api/v1/health   -> health callback: 200 {"status":"healthy"|"degraded",…} or 503 {"status":"unhealthy",…}
 *   GET /metrics         -> the metrics registry (Prometheus text)
 *   GET /api/v1/config   -> config JSON given at create (secrets already masked); needs token when set
 *   plus routes the daemon registers (token-protected unless marked public).
 * Ownership: bf_admin borrows metrics and the callbacks' user data; they must outlive it.
 * Handlers run on the libmicrohttpd thread: they must be thread-safe against the daemon's own threads. */
#ifndef BF_ADMIN_H
#define BF_ADMIN_H
#include <stddef.h>
#include <jansson.h>
#include "bf_metrics.h"

typedef enum { BF_HEALTHY = 0, BF_DEGRADED = 1, BF_UNHEALTHY = 2 } bf_health;

/* Fill `detail` (an object you may add keys to: components, reasons) and return the status. */
typedef bf_health (*bf_health_fn)(void *ud, json_t *detail);

typedef struct bf_admin_req {
    const char *method;      /* "GET", "POST", … */
    const char *path;        /* full URL path */
    const char *query;       /* raw query string or NULL (not available: use bf_admin_req_arg) */
    const char *body;        /* request body (NUL-terminated), may be empty */
    size_t body_len;
    void *conn;              /* opaque: for bf_admin_req_arg */
} bf_admin_req;
const char *bf_admin_req_arg(const bf_admin_req *r, const char *name);   /* query argument or NULL */

typedef struct bf_admin_resp {
    int status;              /* default 200 */
    const char *content_type;/* default application/json */
    char *body;              /* malloc'd by the handler; freed by bf_admin */
    size_t body_len;
} bf_admin_resp;

typedef void (*bf_admin_handler)(void *ud, const bf_admin_req *req, bf_admin_resp *resp);

typedef struct bf_admin bf_admin;
/* listen: "host:port" (port 0 = ephemeral, see bf_admin_port). config_json copied. max_body: POST cap
 * (0 = 1 MiB; larger bodies get 413, refused from Content-Length before reading when it is given).
 * Errors are JSON {"error":"…","status":N}: 401 bad/missing token, 404 no route, 405 wrong method. */
int bf_admin_create(const char *listen, const char *token, bf_metrics *m, bf_health_fn health, void *health_ud,
                    const char *config_json, size_t max_body, bf_admin **out);
/* Exact path match, or prefix match when path ends with '*'. Register before bf_admin_start. */
int bf_admin_route(bf_admin *a, const char *method, const char *path, int is_public, bf_admin_handler h, void *ud);
int bf_admin_start(bf_admin *a);
int bf_admin_port(const bf_admin *a);
void bf_admin_set_config_json(bf_admin *a, const char *config_json);   /* after reload */
void bf_admin_destroy(bf_admin *a);
#endif
