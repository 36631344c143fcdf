/* tls: see tls.h. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct tls_server {
    SSL_CTX *ctx;
};

struct tls_conn {
    SSL *ssl;
    BIO *in, *out;   /* owned by ssl */
};

int tls_server_create(const char *cert, const char *key, tls_server **out, char *err, size_t errlen)
{
    tls_server *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (!s->ctx) {
        free(s);
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(s->ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(s->ctx) != 1) {
        char e[160];
        ERR_error_string_n(ERR_get_error(), e, sizeof e);
        snprintf(err, errlen, "tls: cannot load %s / %s: %s", cert, key, e);
        SSL_CTX_free(s->ctx);
        free(s);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

void tls_server_free(tls_server *s)
{
    if (!s) return;
    SSL_CTX_free(s->ctx);
    free(s);
}

int tls_conn_create(tls_server *s, tls_conn **out)
{
    tls_conn *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    c->ssl = SSL_new(s->ctx);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->in || !c->out) {
        SSL_free(c->ssl);
        BIO_free(c->in);
        BIO_free(c->out);
        free(c);
        return -ENOMEM;
    }
    SSL_set_bio(c->ssl, c->in, c->out);
    SSL_set_accept_state(c->ssl);
    *out = c;
    return 0;
}

void tls_conn_free(tls_conn *c)
{
    if (!c) return;
    SSL_free(c->ssl);
    free(c);
}

int tls_conn_feed(tls_conn *c, const char *data, size_t len, tls_plain_fn cb, void *ud)
{
    if (len && BIO_write(c->in, data, (int)len) != (int)len) return -ENOMEM;
    char plain[16384];
    for (;;) {
        int n = SSL_read(c->ssl, plain, sizeof plain);
        if (n > 0) {
            cb(ud, plain, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -EPROTO;   /* close_notify: a clean end */
    }
}

size_t tls_conn_pending(tls_conn *c, char *buf, size_t cap)
{
    int n = BIO_read(c->out, buf, (int)cap);
    return n > 0 ? (size_t)n : 0;
}
