/* source: a dataset's `source:` object (DESIGN §5.1) parsed and checked.
 *   {type: syslog|udp|tcp|http|netflow|ipfix|sflow, transport: udp|tcp (syslog; default udp), port,
 *    host (default 0.0.0.0), data_format: ndjson|text|auto (default auto), path (http, default /webhook),
 *    token (http bearer; "env:"/"file:" allowed), workers (UDP receive threads, default 1), rcvbuf,
 *    tls_cert, tls_key (PEM paths: TLS on syslog/tcp and tcp inputs)}
 * Ownership: token is heap, released by source_free. */
#ifndef PROXY_SOURCE_H
#define PROXY_SOURCE_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "record.h"

typedef struct proxy_source {
    char type[16];
    char transport[8];        /* "udp" or "tcp": the socket kind the listener binds */
    char host[256];
    int port;
    record_format format;
    char path[256];
    char *token;              /* NULL = no auth */
    int workers;
    int64_t rcvbuf;           /* 0 = udp.rcvbuf */
    char tls_cert[256];       /* TCP inputs: PEM files; both set = TLS required on the port */
    char tls_key[256];
} proxy_source;

/* 0 or -EINVAL (message in err, prefixed by what), -ENOMEM. */
int source_parse(const json_t *src, proxy_source *out, char *err, size_t errlen);
void source_free(proxy_source *s);
#endif
