/* bf_sigv4: AWS Signature Version 4 (see bf_sigv4.h). Written from the published algorithm:
 * canonical request -> string to sign -> HMAC chain of date/region/service/"aws4_request". */
#include "bf_sigv4.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char HEX[] = "0123456789abcdef";

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[d[i] >> 4];
        out[2 * i + 1] = HEX[d[i] & 15];
    }
    out[2 * n] = 0;
}

void bf_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    to_hex(md, sizeof md, out);
}

static int hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned int olen = 32;
    return HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen) ? 0 : -EINVAL;
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int bf_sigv4_uri_encode(bf_buf *out, const char *s, size_t n, int keep_slash)
{
    static const char UHEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (unreserved(c) || (keep_slash && c == '/')) {
            rc = bf_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', UHEX[c >> 4], UHEX[c & 15]};
            rc = bf_buf_append(out, e, 3);
        }
        if (rc) return rc;
    }
    return 0;
}

typedef struct enc_pair { char *name; char *value; } enc_pair;

static int cmp_pair(const void *a, const void *b)
{
    const enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encode_dup(const char *s)
{
    bf_buf b;
    bf_buf_init(&b, 0);
    if (bf_sigv4_uri_encode(&b, s ? s : "", s ? strlen(s) : 0, 0) || bf_buf_putc(&b, 0)) {
        bf_buf_free(&b);
        return NULL;
    }
    return bf_buf_steal(&b, NULL);
}

int bf_sigv4_canonical_query(bf_buf *out, const bf_sigv4_header *params, size_t n)
{
    if (n == 0) return 0;
    enc_pair *p = calloc(n, sizeof *p);
    if (!p) return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        p[i].name = encode_dup(params[i].name);
        p[i].value = encode_dup(params[i].value);
        if (!p[i].name || !p[i].value) rc = -ENOMEM;
    }
    /* sorting by encoded name is what the canonical form asks for (byte order of the encoded text) */
    if (!rc) qsort(p, n, sizeof *p, cmp_pair);
    for (size_t i = 0; i < n && !rc; i++)
        rc = bf_buf_printf(out, "%s%s=%s", i ? "&" : "", p[i].name, p[i].value);
    for (size_t i = 0; i < n; i++) { free(p[i].name); free(p[i].value); }
    free(p);
    return rc;
}

/* A signed header in canonical form: lowercase name, value trimmed with inner runs of spaces folded. */
typedef struct canon_hdr { char name[128]; const char *value; } canon_hdr;

static int cmp_hdr(const void *a, const void *b)
{
    return strcmp(((const canon_hdr *)a)->name, ((const canon_hdr *)b)->name);
}

static int put_trimmed(bf_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    int space = 0, rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int sp = v[i] == ' ' || v[i] == '\t';
        if (sp && space) continue;
        space = sp;
        rc = bf_buf_putc(b, sp ? ' ' : v[i]);
    }
    return rc;
}

static int build_headers(const bf_sigv4_request *r, const char *amz_date, canon_hdr **out, size_t *nout)
{
    size_t n = r->nheaders + 4;
    canon_hdr *h = calloc(n, sizeof *h);
    if (!h) return -ENOMEM;
    size_t k = 0;
    int token = r->session_token && *r->session_token;
    const bf_sigv4_header fixed[] = {
        {"host", r->host}, {"x-amz-content-sha256", r->payload_hash}, {"x-amz-date", amz_date},
        {"x-amz-security-token", token ? r->session_token : NULL},
    };
    for (size_t i = 0; i < 4 + r->nheaders; i++) {
        const bf_sigv4_header *src = i < 4 ? &fixed[i] : &r->headers[i - 4];
        if (!src->value) continue;
        size_t len = strlen(src->name);
        if (len == 0 || len >= sizeof h[k].name) { free(h); return -EINVAL; }
        for (size_t j = 0; j <= len; j++) h[k].name[j] = (char)tolower((unsigned char)src->name[j]);
        h[k].value = src->value;
        k++;
    }
    qsort(h, k, sizeof *h, cmp_hdr);
    *out = h;
    *nout = k;
    return 0;
}

static int canonical_request(const bf_sigv4_request *r, const char *amz_date, bf_buf *cr, bf_buf *signed_hdrs)
{
    canon_hdr *h;
    size_t n;
    int rc = build_headers(r, amz_date, &h, &n);
    if (rc) return rc;
    rc = bf_buf_printf(cr, "%s\n%s\n%s\n", r->method, r->path, r->query ? r->query : "");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = bf_buf_printf(cr, "%s:", h[i].name);
        if (!rc) rc = put_trimmed(cr, h[i].value);
        if (!rc) rc = bf_buf_putc(cr, '\n');
        if (!rc) rc = bf_buf_printf(signed_hdrs, "%s%s", i ? ";" : "", h[i].name);
    }
    if (!rc) rc = bf_buf_printf(cr, "\n%s\n%s", signed_hdrs->data ? signed_hdrs->data : "", r->payload_hash);
    free(h);
    return rc;
}

static int signing_key(const bf_sigv4_request *r, const char *date, unsigned char key[32])
{
    char k0[512];
    int n = snprintf(k0, sizeof k0, "AWS4%s", r->secret_key);
    if (n < 0 || (size_t)n >= sizeof k0) return -EINVAL;
    const char *parts[] = {date, r->region, r->service, "aws4_request"};
    int rc = hmac(k0, (size_t)n, parts[0], strlen(parts[0]), key);
    for (size_t i = 1; i < 4 && !rc; i++) {
        unsigned char prev[32];
        memcpy(prev, key, 32);
        rc = hmac(prev, 32, parts[i], strlen(parts[i]), key);
    }
    OPENSSL_cleanse(k0, sizeof k0);
    return rc;
}

int bf_sigv4_sign(const bf_sigv4_request *r, bf_sigv4_result *out)
{
    if (!r || !out || !r->method || !r->host || !r->path || !r->payload_hash || !r->region || !r->service ||
        !r->access_key || !r->secret_key || (r->nheaders && !r->headers))
        return -EINVAL;
    time_t t = (time_t)r->unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -EINVAL;
    strftime(out->amz_date, sizeof out->amz_date, "%Y%m%dT%H%M%SZ", &tm);
    char date[9];
    memcpy(date, out->amz_date, 8);
    date[8] = 0;

    bf_buf cr, sh, sts;
    bf_buf_init(&cr, 0); bf_buf_init(&sh, 0); bf_buf_init(&sts, 0);
    int rc = canonical_request(r, out->amz_date, &cr, &sh);
    char crhash[65];
    if (!rc) {
        bf_sigv4_sha256_hex(cr.data, cr.len, crhash);
        rc = bf_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", out->amz_date, date,
                           r->region, r->service, crhash);
    }
    unsigned char key[32], sig[32];
    if (!rc) rc = signing_key(r, date, key);
    if (!rc) rc = hmac(key, 32, sts.data, sts.len, sig);
    if (!rc) {
        char sighex[65];
        to_hex(sig, 32, sighex);
        int n = snprintf(out->authorization, sizeof out->authorization,
                         "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                         r->access_key, date, r->region, r->service, sh.data, sighex);
        if (n < 0 || (size_t)n >= sizeof out->authorization) rc = -ENOSPC;
    }
    OPENSSL_cleanse(key, sizeof key);
    bf_buf_free(&cr); bf_buf_free(&sh); bf_buf_free(&sts);
    return rc;
}
