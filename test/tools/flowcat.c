/* flowcat: a test tool that decodes flow datagrams with the proxy's decoders, without the daemon.
 *   flowcat <netflow|ipfix|sflow> <port|first-last> [idle_ms=2000] [max_ms=20000]
 * Listens on 127.0.0.1:<port> (UDP; with a range, the first free port, announced on stderr as
 * "flowcat: listening on 127.0.0.1:<port>"), decodes each datagram, prints the NDJSON records on stdout, and
 * exits after idle_ms without datagrams (once one was seen) or after max_ms. Prints a summary line
 * "# datagrams=N records=N bad=N no_template=N" on stderr. Exit 0, or 2 on a usage/socket error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../proxy/flow.h"
#include "bf_util.h"

int main(int argc, char **argv)
{
    flow_kind kind;
    if (argc < 3 || flow_kind_parse(argv[1], &kind)) {
        fprintf(stderr, "usage: flowcat <netflow|ipfix|sflow> <port> [idle_ms] [max_ms]\n");
        return 2;
    }
    int port = atoi(argv[2]), last = port;
    const char *dash = strchr(argv[2], '-');
    if (dash)
        last = atoi(dash + 1);
    int idle_ms = argc > 3 ? atoi(argv[3]) : 2000;
    int64_t max_ms = argc > 4 ? atoll(argv[4]) : 20000;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return 2;
    for (;; port++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        if (!bind(fd, (struct sockaddr *)&sa, sizeof sa))
            break;
        if (port >= last) {
            fprintf(stderr, "flowcat: bind 127.0.0.1:%s: %s\n", argv[2], strerror(errno));
            return 2;
        }
    }
    flow_state *st;
    if (flow_state_create(1024, &st))
        return 2;
    bf_buf out;
    bf_buf_init(&out, 0);
    static uint8_t pkt[65536];
    int64_t start = bf_mono_ms();
    int seen = 0;
    fprintf(stderr, "flowcat: listening on 127.0.0.1:%d\n", port);
    fflush(stderr);
    for (;;) {
        int64_t left = max_ms - (bf_mono_ms() - start);
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, seen && idle_ms < left ? idle_ms : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (seen)
                break;
            continue;
        }
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            continue;
        seen = 1;
        char ip[INET6_ADDRSTRLEN] = "";
        if (from.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, ip, sizeof ip);
        else
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, ip, sizeof ip);
        bf_buf_reset(&out);
        int rc = flow_decode(st, kind, pkt, (size_t)n, ip, bf_now_ms(), &out);
        if (rc < 0)
            fprintf(stderr, "flowcat: datagram of %zd bytes: %s\n", n, strerror(-rc));
        else if (out.len)
            fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
    }
    flow_stats fs;
    flow_state_stats(st, &fs, NULL);
    fprintf(stderr, "# datagrams=%llu records=%llu bad=%llu no_template=%llu options=%llu\n",
            (unsigned long long)fs.datagrams, (unsigned long long)fs.records, (unsigned long long)fs.bad_datagrams,
            (unsigned long long)fs.no_template, (unsigned long long)fs.options_records);
    bf_buf_free(&out);
    flow_state_destroy(st);
    close(fd);
    return 0;
}
