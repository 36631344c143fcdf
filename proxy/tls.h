/* tls: server-side TLS for the TCP inputs (syslog over TLS, RFC 5425 framing = octet counting, which
 * the framer detects). OpenSSL with memory BIOs, so the libuv loop keeps owning the sockets:
 * ciphertext read from the socket is fed in, plaintext comes out through a callback, and whatever
 * the handshake needs to send is taken out with tls_conn_pending and written by the caller.
 * Ownership: tls_server (the SSL_CTX) must outlive its connections. Errors: 0 or -errno. */
#ifndef PROXY_TLS_H
#define PROXY_TLS_H
#include <stddef.h>

typedef struct tls_server tls_server;
typedef struct tls_conn tls_conn;
typedef void (*tls_plain_fn)(void *ud, const char *data, size_t len);

/* PEM certificate chain and private key files. -EINVAL with a message in err. */
int tls_server_create(const char *cert, const char *key, tls_server **out, char *err, size_t errlen);
void tls_server_free(tls_server *s);

int tls_conn_create(tls_server *s, tls_conn **out);
void tls_conn_free(tls_conn *c);
/* Feed ciphertext; plaintext goes to cb. 0, or -EPROTO when the peer broke the protocol (close it). */
int tls_conn_feed(tls_conn *c, const char *data, size_t len, tls_plain_fn cb, void *ud);
/* Copy up to cap bytes the peer must receive into buf; returns how many (0 = nothing pending). */
size_t tls_conn_pending(tls_conn *c, char *buf, size_t cap);
#endif
