/* inputs: the input registry TABLE (type + transport -> listener implementation + record maker) and the
 * set of running listeners, one per dataset `source` of the tenant registry (DESIGN §5.1).
 * inputs_apply reconciles the running set with a registry (SIGHUP, registry poll):
 *   unchanged source -> listener kept (no UDP gap); changed -> the new listener is started first
 *   (SO_REUSEPORT lets it share the port) and only then the old one stopped; a failed start keeps the
 *   old listener and records the error; removed -> stopped.
 * Threads: create/apply/quiesce/stop/destroy on the loop thread; inputs_status/inputs_udp_ports from any
 * thread (snapshot under a mutex). Ownership: borrows the env (loop, batcher, config, metrics). */
#ifndef PROXY_INPUTS_H
#define PROXY_INPUTS_H
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <uv.h>
#include <jansson.h>
#include "bf_buf.h"
#include "bf_metrics.h"
#include "bf_tenants.h"
#include "batcher.h"
#include "config.h"
#include "source.h"

typedef struct input_env {
    uv_loop_t *loop;
    batcher *b;
    const proxy_config *cfg;
    bf_metrics *m;
    atomic_int http_stoppers;   /* HTTP listeners still shutting down on helper threads */
} input_env;

typedef struct input input;

/* Turns one received message (a datagram, a framed TCP message) into NDJSON records appended to out;
 * returns the number of records or a negative errno. state: per receiving thread (flow templates). */
typedef int (*record_fn)(void *state, const char *msg, size_t len, const char *src_ip, int64_t now_ms,
                         record_format fmt, bf_buf *out);

typedef struct listener_ops {
    int (*start)(input *in, char *err, size_t errlen);   /* bind and run; 0 or -errno with message */
    void (*quiesce)(input *in);                          /* stop taking new data (SIGTERM); may be NULL */
    void (*stop)(input *in);                             /* release; impl may finish closing later */
} listener_ops;

typedef struct input_kind {
    const char *type, *transport;
    const listener_ops *ops;
    record_fn make;
    int force_lf;                                        /* TCP: line framing only (no octet counting) */
    void *(*state_new)(const char *type);                /* optional per-thread state */
    void (*state_free)(void *state);
} input_kind;

struct input {
    const input_kind *kind;
    input_env *env;
    char tenant[65], dataset[65];
    proxy_source src;
    json_t *src_json;
    bstream *st;
    void *impl;
    struct input *next;
};

extern const listener_ops input_udp_ops, input_tcp_ops, input_http_ops;

typedef struct inputs inputs;
int inputs_create(input_env *env, inputs **out);
/* Returns the number of sources that could not be started (errors logged and kept for health). */
int inputs_apply(inputs *s, const bf_registry *r);
void inputs_quiesce(inputs *s);
void inputs_stop_all(inputs *s);
void inputs_destroy(inputs *s);
/* Health detail: {"expected":N,"up":N,"errors":[…],"listeners":[…]}; returns 1 when every expected
 * listener is up, 0 when some are, -1 when none are (and some are expected). */
int inputs_status(inputs *s, json_t *detail);
/* UDP receive coalescing (input_udp.c, exposed for its unit test): how long to wait before the next
 * receive after one that returned n datagrams (bytes in all) of a vector of vlen, gap_ns after the
 * previous one returned, with rcvbuf the socket's SO_RCVBUF as read back. 0 = receive at once. */
int64_t udp_coalesce_nap_ns(int64_t coalesce_us, int64_t rcvbuf, uint64_t bytes, int n, int vlen, int64_t gap_ns);

/* UDP ports listened on (for /proc/net/udp drop counters): fills up to max, returns the count. */
size_t inputs_udp_ports(inputs *s, int *ports, char (*labels)[200], size_t max);

/* helpers shared by the listener implementations */
int input_bind_socket(const proxy_source *src, int socktype, int *fd, char *err, size_t errlen);
const input_kind *input_kind_find(const char *type, const char *transport);
#endif
