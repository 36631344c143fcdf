/* input_udp: UDP listeners (syslog/udp, udp lines, netflow/ipfix/sflow). Each worker is a thread with
 * its own SO_REUSEPORT socket reading batches with recvmmsg, so the kernel spreads senders over the
 * workers and the loop thread never touches datagrams. Records of one recvmmsg batch are appended to the
 * dataset's batch with one lock. When the spool is full (batcher_pressure) datagrams are dropped and
 * counted per dataset; nothing blocks. */
#include "inputs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bf_log.h"
#include "bf_util.h"

#define DGRAM_MAX 65536
#define MAX_WORKERS 64

typedef struct udp_worker {
    pthread_t th;
    int fd, started;
    int rcvbuf;                 /* the kernel's budget for queued datagrams (SO_RCVBUF as read back) */
    int64_t last_ns;            /* when the previous receive returned (CLOCK_MONOTONIC) */
    struct udp_impl *u;
    void *state;
} udp_worker;

typedef struct udp_impl {
    input *in;
    atomic_int stop;
    int vlen;
    long coalesce_us;
    int nworkers;
    bf_counter *c_dgrams;
    udp_worker w[MAX_WORKERS];
} udp_impl;

/* Printable source address, cached while consecutive datagrams come from the same peer. */
static const char *peer_ip(const struct sockaddr_storage *sa, struct sockaddr_storage *last, char *buf, size_t cap)
{
    size_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (buf[0] && !memcmp(sa, last, len)) return buf;
    memcpy(last, sa, len);
    const void *addr = sa->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                 : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->ss_family, addr, buf, (socklen_t)cap)) buf[0] = '\0';
    return buf;
}

static void handle_batch(udp_worker *w, struct mmsghdr *msgs, struct sockaddr_storage *from, char *bufs, int n,
                         bf_buf *out, struct sockaddr_storage *last, char *ipbuf)
{
    input *in = w->u->in;
    bf_counter_add(w->u->c_dgrams, (uint64_t)n);
    if (batcher_pressure(in->env->b)) {
        batcher_note_drop(in->st, (uint64_t)n);
        return;
    }
    int64_t now = bf_now_ms();
    size_t records = 0;
    for (int i = 0; i < n; i++) {
        const char *ip = peer_ip(&from[i], last, ipbuf, 64);
        int rc = in->kind->make(w->state, bufs + (size_t)i * DGRAM_MAX, msgs[i].msg_len, ip, now, in->src.format, out);
        if (rc > 0) records += (size_t)rc;
    }
    if (batcher_append(in->st, out->data, out->len, records, NULL))
        batcher_note_drop(in->st, (uint64_t)n);
    bf_buf_reset(out);
}

/* Interrupt coalescing, as NICs do it: when traffic flows (a receive got several datagrams but did not
 * fill the vector) wait a moment before the next receive, so that one wake-up and one system call
 * serve more datagrams. A blocked receiver is woken (cross-CPU, in a VM a hypervisor exit) for every
 * few datagrams otherwise. Measured, receive thread CPU: -15 % at 400k datagrams/s with 200 us; at
 * 104k/s another -20 % with 1 ms instead of 200 us. A single datagram, the sign of a quiet source,
 * never waits. The nap is capped by the time the observed arrival rate (n datagrams in gap_ns, since
 * the previous receive returned) takes to fill a quarter of the receive buffer, so a small buffer or
 * a fast source never overflows for it. The kernel charges a queued datagram about its length + 1 KiB
 * (measured on loopback: 1280 bytes for 300, 2304 for 1000); 2 x length + 1 KiB errs on the short side. */
int64_t udp_coalesce_nap_ns(int64_t coalesce_us, int64_t rcvbuf, uint64_t bytes, int n, int vlen, int64_t gap_ns)
{
    if (coalesce_us <= 0 || n < 2 || n >= vlen || gap_ns <= 0 || rcvbuf <= 0) return 0;
    if (gap_ns > 1000000000) gap_ns = 1000000000;   /* after an idle spell: a low rate, and no overflow below */
    uint64_t quarter = (uint64_t)rcvbuf / (2 * bytes / (uint64_t)n + 1024) / 4;   /* datagrams */
    uint64_t nap = (uint64_t)coalesce_us * 1000;
    uint64_t fill = (uint64_t)gap_ns * quarter / (uint64_t)n;   /* time the rate takes to queue that many */
    if (nap > fill) nap = fill;
    return nap < 10000 ? 0 : (int64_t)nap;   /* under 10 us: not worth a sleep */
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void coalesce(udp_worker *w, const struct mmsghdr *msgs, int n, int64_t now, int stopping)
{
    int64_t gap = now - w->last_ns;
    w->last_ns = now;
    if (stopping || n < 2) return;
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += msgs[i].msg_len;
    int64_t nap = udp_coalesce_nap_ns(w->u->coalesce_us, w->rcvbuf, bytes, n, w->u->vlen, gap);
    if (nap) nanosleep(&(struct timespec){nap / 1000000000, nap % 1000000000}, NULL);
}

static void *worker_main(void *arg)
{
    udp_worker *w = arg;
    int vlen = w->u->vlen;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);   /* a 200 us nap must not become the default 250 us */
    char *bufs = malloc((size_t)vlen * DGRAM_MAX);
    struct mmsghdr *msgs = calloc((size_t)vlen, sizeof *msgs);
    struct iovec *iov = calloc((size_t)vlen, sizeof *iov);
    struct sockaddr_storage *from = calloc((size_t)vlen, sizeof *from);
    struct sockaddr_storage last;
    char ipbuf[64] = "";
    bf_buf out;
    bf_buf_init(&out, 0);
    if (!bufs || !msgs || !iov || !from) {
        bf_log_kv(BF_LOG_ERROR, "udp worker: out of memory", "dataset", w->u->in->dataset, NULL);
        goto done;
    }
    for (int i = 0; i < vlen; i++) {
        iov[i].iov_base = bufs + (size_t)i * DGRAM_MAX;
        iov[i].iov_len = DGRAM_MAX;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
    }
    /* One blocking recvmmsg per wake-up (MSG_WAITFORONE: return as soon as at least one datagram is
     * there), not poll + recvmmsg: at 100k+ datagrams/s most wake-ups carry a few datagrams, so the
     * second system call would be a large part of the cost. udp_stop wakes us with shutdown(2). */
    for (;;) {
        int stopping = atomic_load(&w->u->stop);   /* then: drain what is queued, without blocking */
        for (int i = 0; i < vlen; i++) msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        int n = recvmmsg(w->fd, msgs, (unsigned)vlen, stopping ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
        if (n > 0) {
            int64_t now = mono_ns();
            handle_batch(w, msgs, from, bufs, n, &out, &last, ipbuf);
            coalesce(w, msgs, n, now, stopping);
        } else if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
            if (stopping) break;
        } else if (errno != EINTR) {
            bf_log_kv(BF_LOG_ERROR, "udp receive failed", "dataset", w->u->in->dataset, "error", strerror(errno), NULL);
            break;
        }
    }
done:
    bf_buf_free(&out);
    free(bufs);
    free(msgs);
    free(iov);
    free(from);
    return NULL;
}

static void set_rcvbuf(udp_impl *u, udp_worker *w, int fd)
{
    const proxy_source *src = &u->in->src;
    int want = (int)(src->rcvbuf ? src->rcvbuf : u->in->env->cfg->udp_rcvbuf), got = 0;
    socklen_t gl = sizeof got;
    /* SO_RCVBUFFORCE passes net.core.rmem_max when we may (CAP_NET_ADMIN, as rsyslog does); else the
     * plain option, which the kernel clamps */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    w->rcvbuf = got;
    if (got / 2 < want && fd == u->w[0].fd) { /* Linux reports twice the usable size */
        char ws[24], gs[24], hint[96];
        snprintf(ws, sizeof ws, "%d", want);
        snprintf(gs, sizeof gs, "%d", got / 2);
        snprintf(hint, sizeof hint, "sysctl -w net.core.rmem_max=%lld", 2LL * want);
        bf_log_kv(BF_LOG_WARN, "udp receive buffer clamped by the kernel", "dataset", u->in->dataset, "requested", ws,
                  "actual", gs, "fix", hint, NULL);
    }
}

static void udp_stop(input *in);

static int udp_start(input *in, char *err, size_t errlen)
{
    udp_impl *u = calloc(1, sizeof *u);
    if (!u) return -ENOMEM;
    in->impl = u;
    u->in = in;
    u->vlen = (int)in->env->cfg->udp_batch;
    u->coalesce_us = (long)in->env->cfg->udp_coalesce_us;
    u->nworkers = in->src.workers < MAX_WORKERS ? in->src.workers : MAX_WORKERS;
    for (int i = 0; i < MAX_WORKERS; i++) u->w[i].fd = -1;
    char l[200];
    bf_metrics_labels(l, sizeof l, "tenant", in->tenant, "dataset", in->dataset, NULL);
    u->c_dgrams = bf_metrics_counter(in->env->m, "bytefreezer_proxy_udp_datagrams_total", "UDP datagrams received", l);
    int rc = 0;
    for (int i = 0; i < u->nworkers && !rc; i++) {
        udp_worker *w = &u->w[i];
        w->u = u;
        if ((rc = input_bind_socket(&in->src, SOCK_DGRAM, &w->fd, err, errlen))) break;
        set_rcvbuf(u, w, w->fd);
        if (in->kind->state_new && !(w->state = in->kind->state_new(in->src.type))) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
            break;
        }
        if ((rc = -pthread_create(&w->th, NULL, worker_main, w))) {
            snprintf(err, errlen, "pthread_create: %s", strerror(-rc));
            break;
        }
        w->started = 1;
    }
    if (rc) udp_stop(in);
    return rc;
}

static void udp_stop(input *in)
{
    udp_impl *u = in->impl;
    if (!u) return;
    atomic_store(&u->stop, 1);
    for (int i = 0; i < MAX_WORKERS; i++)   /* wakes a recvmmsg blocked on the socket (it then returns 0) */
        if (u->w[i].fd >= 0) shutdown(u->w[i].fd, SHUT_RDWR);
    for (int i = 0; i < MAX_WORKERS; i++) {
        udp_worker *w = &u->w[i];
        if (w->started) pthread_join(w->th, NULL);
        if (w->fd >= 0) close(w->fd);
        if (w->state && in->kind->state_free) in->kind->state_free(w->state);
    }
    free(u);
    in->impl = NULL;
}

const listener_ops input_udp_ops = {udp_start, udp_stop, udp_stop};
