/* inputs: registry table, record makers and the listener set (see inputs.h). */
#include "inputs.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bf_log.h"
#include "bf_syslog.h"
#include "flow.h"

/* ---- record makers ---- */

static void trim(const char **msg, size_t *len)
{
    while (*len && ((*msg)[*len - 1] == '\n' || (*msg)[*len - 1] == '\r' || (*msg)[*len - 1] == '\0')) (*len)--;
    while (*len && **msg == '\0') { (*msg)++; (*len)--; }
}

static int make_syslog(void *state, const char *msg, size_t len, const char *src_ip, int64_t now_ms,
                       record_format fmt, bf_buf *out)
{
    (void)state, (void)fmt;
    trim(&msg, &len);
    if (!len) return 0;
    int rc = bf_syslog_parse(msg, len, now_ms, src_ip, out);
    if (!rc) rc = bf_buf_putc(out, '\n');
    return rc ? rc : 1;
}

static int make_lines(void *state, const char *msg, size_t len, const char *src_ip, int64_t now_ms,
                      record_format fmt, bf_buf *out)
{
    (void)state, (void)src_ip;
    return record_lines(fmt, msg, len, now_ms, out);
}

typedef struct flow_tls {
    flow_state *fs;
    flow_kind kind;
} flow_tls;

static int make_flow(void *state, const char *msg, size_t len, const char *src_ip, int64_t now_ms,
                     record_format fmt, bf_buf *out)
{
    (void)fmt;
    flow_tls *st = state;
    size_t before = out->len;
    int rc = flow_decode(st->fs, st->kind, (const uint8_t *)msg, len, src_ip, now_ms, out);
    if (rc == -EBADMSG) return (int)(out->len > before);   /* the good part (if any) is kept */
    return rc;
}

static void *flow_new(const char *type)
{
    flow_tls *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (flow_kind_parse(type, &t->kind) || flow_state_create(4096, &t->fs)) {
        free(t);
        return NULL;
    }
    return t;
}

static void flow_free(void *p)
{
    flow_tls *t = p;
    if (!t) return;
    flow_state_destroy(t->fs);
    free(t);
}

/* The registry table: adding an input type is adding a row. */
static const input_kind kinds[] = {
    {"syslog", "udp", &input_udp_ops, make_syslog, 0, NULL, NULL},
    {"syslog", "tcp", &input_tcp_ops, make_syslog, 0, NULL, NULL},
    {"udp", "udp", &input_udp_ops, make_lines, 1, NULL, NULL},
    {"tcp", "tcp", &input_tcp_ops, make_lines, 1, NULL, NULL},
    {"http", "tcp", &input_http_ops, make_lines, 1, NULL, NULL},
    {"netflow", "udp", &input_udp_ops, make_flow, 0, flow_new, flow_free},
    {"ipfix", "udp", &input_udp_ops, make_flow, 0, flow_new, flow_free},
    {"sflow", "udp", &input_udp_ops, make_flow, 0, flow_new, flow_free},
};

const input_kind *input_kind_find(const char *type, const char *transport)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].type, type) && !strcmp(kinds[i].transport, transport)) return &kinds[i];
    return NULL;
}

int input_bind_socket(const proxy_source *src, int socktype, int *fdp, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    char port[16];
    snprintf(port, sizeof port, "%d", src->port);
    int rc = getaddrinfo(src->host, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "bad host %s: %s", src->host, gai_strerror(rc));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(ai);
        return rc;
    }
    int one = 1;
    /* SO_REUSEPORT: several receive threads per port, and a replacement listener on reload that binds
     * before the old one closes (no gap) */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || (socktype == SOCK_STREAM && listen(fd, 1024) < 0)) {
        rc = -errno;
        snprintf(err, errlen, "bind %s:%d/%s: %s", src->host, src->port, socktype == SOCK_STREAM ? "tcp" : "udp",
                 strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    *fdp = fd;
    return 0;
}

/* ---- the running set ---- */

typedef struct src_error {
    char tenant[65], dataset[65], msg[300];
} src_error;

struct inputs {
    input_env *env;
    input *list;
    pthread_mutex_t mu;        /* guards the snapshot below */
    size_t expected, up;
    src_error *errors;
    size_t nerrors;
    int udp_ports[256];
    char udp_labels[256][200];
    size_t nudp;
};

int inputs_create(input_env *env, inputs **out)
{
    inputs *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->env = env;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return 0;
}

static void input_free(input *in)
{
    source_free(&in->src);
    json_decref(in->src_json);
    free(in);
}

static void input_stop(input *in)
{
    bf_log_kv(BF_LOG_INFO, "input stopped", "tenant", in->tenant, "dataset", in->dataset, "type", in->src.type, NULL);
    in->kind->ops->stop(in);
    input_free(in);
}

static input *input_start(inputs *s, const char *t, const char *d, json_t *src, char *err, size_t errlen)
{
    input *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(in->tenant, sizeof in->tenant, "%s", t);
    snprintf(in->dataset, sizeof in->dataset, "%s", d);
    in->env = s->env;
    in->src_json = json_incref(src);
    if (source_parse(src, &in->src, err, errlen)) goto fail;
    if (!(in->kind = input_kind_find(in->src.type, in->src.transport))) {
        snprintf(err, errlen, "no input for %s over %s", in->src.type, in->src.transport);
        goto fail;
    }
    if (!(in->st = batcher_stream(s->env->b, t, d))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (in->kind->ops->start(in, err, errlen)) goto fail;
    char port[16];
    snprintf(port, sizeof port, "%d", in->src.port);
    bf_log_kv(BF_LOG_INFO, "input listening", "tenant", t, "dataset", d, "type", in->src.type, "transport",
              in->src.transport, "host", in->src.host, "port", port, NULL);
    return in;
fail:
    input_free(in);
    return NULL;
}

typedef struct wanted {
    const char *tenant, *dataset;
    json_t *src;
    int port;
    char transport[8];
} wanted;

static int same_socket(const wanted *a, const wanted *b)
{
    return a->port && a->port == b->port && !strcmp(a->transport, b->transport);
}

/* Port and transport of a source without starting anything (for conflict checks). */
static void peek_socket(wanted *w)
{
    proxy_source ps;
    char err[300];
    if (!source_parse(w->src, &ps, err, sizeof err)) {
        w->port = ps.port;
        snprintf(w->transport, sizeof w->transport, "%s", ps.transport);
        source_free(&ps);
    }
}

static size_t collect(const bf_registry *r, wanted **out)
{
    size_t n = 0, cap = 0;
    wanted *w = NULL;
    for (size_t i = 0; r && i < r->ntenants; i++) {
        const bf_tenant *t = &r->tenants[i];
        if (!t->active) continue;
        for (size_t j = 0; j < t->ndatasets; j++) {
            const bf_dataset *d = &t->datasets[j];
            if (!d->active || !d->source || json_is_null(d->source)) continue;
            if (n == cap) {
                wanted *nw = realloc(w, (cap = cap ? cap * 2 : 16) * sizeof *w);
                if (!nw) break;
                w = nw;
            }
            w[n] = (wanted){t->id, d->id, d->source, 0, ""};
            peek_socket(&w[n]);
            n++;
        }
    }
    *out = w;
    return n;
}

static void add_error(src_error **errs, size_t *n, const char *t, const char *d, const char *msg)
{
    src_error *ne = realloc(*errs, (*n + 1) * sizeof **errs);
    if (!ne) return;
    *errs = ne;
    snprintf(ne[*n].tenant, sizeof ne[*n].tenant, "%s", t);
    snprintf(ne[*n].dataset, sizeof ne[*n].dataset, "%s", d);
    snprintf(ne[*n].msg, sizeof ne[*n].msg, "%s", msg);
    (*n)++;
    bf_log_kv(BF_LOG_ERROR, "input not started", "tenant", t, "dataset", d, "error", msg, NULL);
}

static void publish(inputs *s, size_t expected, src_error *errs, size_t nerr)
{
    pthread_mutex_lock(&s->mu);
    s->expected = expected;
    s->up = 0;
    s->nudp = 0;
    for (input *in = s->list; in; in = in->next) {
        s->up++;
        if (!strcmp(in->src.transport, "udp") && s->nudp < 256) {
            s->udp_ports[s->nudp] = in->src.port;
            bf_metrics_labels(s->udp_labels[s->nudp], sizeof s->udp_labels[0], "tenant", in->tenant, "dataset",
                              in->dataset, NULL);
            s->nudp++;
        }
    }
    free(s->errors);
    s->errors = errs;
    s->nerrors = nerr;
    pthread_mutex_unlock(&s->mu);
}

int inputs_apply(inputs *s, const bf_registry *r)
{
    wanted *w;
    size_t nw = collect(r, &w);
    src_error *errs = NULL;
    size_t nerr = 0;
    char err[300];
    /* 1. stop listeners whose dataset is gone */
    for (input **pp = &s->list; *pp;) {
        size_t i;
        for (i = 0; i < nw; i++)
            if (!strcmp(w[i].tenant, (*pp)->tenant) && !strcmp(w[i].dataset, (*pp)->dataset)) break;
        if (i == nw) {
            input *dead = *pp;
            *pp = dead->next;
            input_stop(dead);
        } else {
            pp = &(*pp)->next;
        }
    }
    /* 2. start new / replace changed */
    for (size_t i = 0; i < nw; i++) {
        input **pp;
        for (pp = &s->list; *pp; pp = &(*pp)->next)
            if (!strcmp(w[i].tenant, (*pp)->tenant) && !strcmp(w[i].dataset, (*pp)->dataset)) break;
        if (*pp && json_equal((*pp)->src_json, w[i].src)) continue;
        size_t j;
        for (j = 0; j < i; j++)
            if (same_socket(&w[j], &w[i])) break;
        if (j < i) {
            snprintf(err, sizeof err, "port %d/%s is already used by %s/%s", w[i].port, w[i].transport, w[j].tenant,
                     w[j].dataset);
            add_error(&errs, &nerr, w[i].tenant, w[i].dataset, err);
            continue;
        }
        input *in = input_start(s, w[i].tenant, w[i].dataset, w[i].src, err, sizeof err);
        if (!in) {
            add_error(&errs, &nerr, w[i].tenant, w[i].dataset, err);
            if (*pp) bf_log_kv(BF_LOG_WARN, "keeping the previous listener", "tenant", w[i].tenant, "dataset",
                               w[i].dataset, NULL);
            continue;
        }
        if (*pp) {
            input *old = *pp;
            in->next = old->next;
            *pp = in;
            input_stop(old);
        } else {
            in->next = s->list;
            s->list = in;
        }
    }
    free(w);
    publish(s, nw, errs, nerr);
    return (int)nerr;
}

void inputs_quiesce(inputs *s)
{
    for (input *in = s->list; in; in = in->next)
        if (in->kind->ops->quiesce) in->kind->ops->quiesce(in);
}

void inputs_stop_all(inputs *s)
{
    while (s->list) {
        input *in = s->list;
        s->list = in->next;
        input_stop(in);
    }
    publish(s, 0, NULL, 0);
}

void inputs_destroy(inputs *s)
{
    if (!s) return;
    inputs_stop_all(s);
    free(s->errors);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int inputs_status(inputs *s, json_t *detail)
{
    pthread_mutex_lock(&s->mu);
    json_t *errs = json_array();
    for (size_t i = 0; i < s->nerrors; i++)
        json_array_append_new(errs, json_pack("{s:s, s:s, s:s}", "tenant", s->errors[i].tenant, "dataset",
                                              s->errors[i].dataset, "error", s->errors[i].msg));
    size_t expected = s->expected, up = s->up;
    pthread_mutex_unlock(&s->mu);
    json_object_set_new(detail, "expected", json_integer((json_int_t)expected));
    json_object_set_new(detail, "up", json_integer((json_int_t)up));
    json_object_set_new(detail, "errors", errs);
    if (expected && !up) return -1;
    return up >= expected && !json_array_size(errs) ? 1 : 0;
}

size_t inputs_udp_ports(inputs *s, int *ports, char (*labels)[200], size_t max)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->nudp < max ? s->nudp : max;
    memcpy(ports, s->udp_ports, n * sizeof *ports);
    memcpy(labels, s->udp_labels, n * sizeof *labels);
    pthread_mutex_unlock(&s->mu);
    return n;
}
