/* bf_awscreds: static -> ECS -> IMDSv2 credentials chain (see bf_awscreds.h). */
#include "bf_awscreds.h"
#include "bf_buf.h"
#include "bf_log.h"
#include "bf_util.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

#define ECS_HOST "http://169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"
#define RESP_MAX (64 * 1024)
#define HTTP_TIMEOUT_MS 5000L
#define CONNECT_TIMEOUT_MS 2000L

struct bf_awscreds {
    pthread_mutex_t mu;
    bf_aws_credentials cur;
    int have;                    /* cur is usable */
    int fixed;                   /* static keys: never refreshed */
    /* environment snapshot taken at create */
    char *ecs_uri;               /* full URL, or NULL */
    char *ecs_auth;              /* Authorization header value, or NULL */
    char *ecs_auth_file;
    char *imds;                  /* endpoint, or NULL when disabled */
};

static char *env_dup(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

static int set_static(bf_aws_credentials *c, const char *ak, const char *sk, const char *tok, const char *src)
{
    if (strlen(ak) >= sizeof c->access_key || strlen(sk) >= sizeof c->secret_key ||
        (tok && strlen(tok) >= sizeof c->session_token))
        return -EINVAL;
    memset(c, 0, sizeof *c);
    strcpy(c->access_key, ak);
    strcpy(c->secret_key, sk);
    if (tok) strcpy(c->session_token, tok);
    snprintf(c->source, sizeof c->source, "%s", src);
    return 0;
}

static int nonempty(const char *s) { return s && *s; }

/* ECS full URIs may be plain http only towards hosts that cannot be spoofed from outside the task. */
static int ecs_uri_allowed(const char *uri)
{
    if (strncasecmp(uri, "https://", 8) == 0) return 1;
    if (strncasecmp(uri, "http://", 7) != 0) return 0;
    const char *h = uri + 7;
    static const char *const ok[] = {"127.", "localhost", "[::1]", "169.254.170.2", "169.254.170.23",
                                     "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strncasecmp(h, ok[i], strlen(ok[i])) == 0) return 1;
    return 0;
}

static int snapshot_env(bf_awscreds *c)
{
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (nonempty(rel)) {
        size_t n = strlen(ECS_HOST) + strlen(rel) + 2;
        if (!(c->ecs_uri = malloc(n))) return -ENOMEM;
        snprintf(c->ecs_uri, n, "%s%s%s", ECS_HOST, rel[0] == '/' ? "" : "/", rel);
    } else if (nonempty(full)) {
        if (!ecs_uri_allowed(full))
            bf_log_kv(BF_LOG_WARN, "AWS_CONTAINER_CREDENTIALS_FULL_URI ignored: http only to loopback or ECS hosts",
                      "uri", full, NULL);
        else if (!(c->ecs_uri = strdup(full))) return -ENOMEM;
    }
    c->ecs_auth = env_dup("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    c->ecs_auth_file = env_dup("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
    if (!(dis && strcasecmp(dis, "true") == 0)) {
        const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        c->imds = strdup(nonempty(ep) ? ep : IMDS_DEFAULT);
        if (!c->imds) return -ENOMEM;
        size_t n = strlen(c->imds);
        while (n && c->imds[n - 1] == '/') c->imds[--n] = 0;
    }
    return 0;
}

int bf_awscreds_create(const char *ak, const char *sk, const char *tok, bf_awscreds **out)
{
    *out = NULL;
    bf_awscreds *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    int rc = 0;
    const char *eak = getenv("AWS_ACCESS_KEY_ID"), *esk = getenv("AWS_SECRET_ACCESS_KEY");
    if (nonempty(ak) && nonempty(sk)) {
        rc = set_static(&c->cur, ak, sk, nonempty(tok) ? tok : NULL, "config");
        c->have = c->fixed = 1;
    } else if (nonempty(eak) && nonempty(esk)) {
        const char *etok = getenv("AWS_SESSION_TOKEN");
        rc = set_static(&c->cur, eak, esk, nonempty(etok) ? etok : NULL, "env");
        c->have = c->fixed = 1;
    } else {
        rc = snapshot_env(c);
    }
    if (rc) {
        bf_awscreds_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

void bf_awscreds_destroy(bf_awscreds *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c->ecs_uri);
    free(c->ecs_auth);
    free(c->ecs_auth_file);
    free(c->imds);
    memset(c, 0, sizeof *c);   /* secrets do not linger in freed memory */
    free(c);
}

/* ---- HTTP helper ---- */

static size_t http_write(char *p, size_t sz, size_t n, void *ud)
{
    return bf_buf_append(ud, p, sz * n) == 0 ? sz * n : 0;
}

/* One small metadata request; body into out (capped). Returns the HTTP status, or -errno. */
static long http_call(const char *method, const char *url, const char *const *headers, size_t nh, bf_buf *out,
                      char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h) return -ENOMEM;
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < nh; i++) {
        struct curl_slist *n = curl_slist_append(hl, headers[i]);
        if (!n) { curl_slist_free_all(hl); curl_easy_cleanup(h); return -ENOMEM; }
        hl = n;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s %s: %s", method, url, curl_easy_strerror(cc));
        return -EIO;
    }
    if (code < 200 || code > 299) snprintf(err, errlen, "%s %s: HTTP %ld", method, url, code);
    return code;
}

/* "2026-11-27T11:00:00Z" (fraction and offset tolerated when it is Z/+00:00) -> Unix ms */
static int parse_expiration(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return -EINVAL;
    tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d;
    tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -EINVAL;
    *ms = (int64_t)t * 1000;
    return 0;
}

/* The JSON shape shared by ECS and IMDS: AccessKeyId, SecretAccessKey, Token, Expiration. */
static int parse_creds(const char *body, size_t len, const char *src, bf_aws_credentials *out, char *err,
                       size_t errlen)
{
    json_t *o = json_loadb(body, len, 0, NULL);
    const char *ak = json_string_value(json_object_get(o, "AccessKeyId"));
    const char *sk = json_string_value(json_object_get(o, "SecretAccessKey"));
    const char *tok = json_string_value(json_object_get(o, "Token"));
    const char *exp = json_string_value(json_object_get(o, "Expiration"));
    int rc = 0;
    if (!nonempty(ak) || !nonempty(sk)) {
        snprintf(err, errlen, "%s credentials response lacks AccessKeyId/SecretAccessKey", src);
        rc = -EACCES;
    } else if ((rc = set_static(out, ak, sk, tok, src)) != 0) {
        snprintf(err, errlen, "%s credentials too long", src);
        rc = -EACCES;
    } else if (exp && parse_expiration(exp, &out->expires_ms) != 0) {
        snprintf(err, errlen, "%s credentials: bad Expiration '%.40s'", src, exp);
        rc = -EACCES;
    }
    json_decref(o);
    return rc;
}

static int fetch_ecs(bf_awscreds *c, bf_aws_credentials *out, char *err, size_t errlen)
{
    char auth[4200] = "";
    const char *hdr[1];
    size_t nh = 0;
    char *filetok = NULL;
    if (c->ecs_auth_file) {
        size_t n;
        if (bf_read_file(c->ecs_auth_file, 4096, &filetok, &n) == 0) {
            while (n && (filetok[n - 1] == '\n' || filetok[n - 1] == '\r')) filetok[--n] = 0;
        }
    }
    const char *tok = filetok ? filetok : c->ecs_auth;
    if (tok) {
        snprintf(auth, sizeof auth, "Authorization: %s", tok);
        hdr[nh++] = auth;
    }
    free(filetok);
    bf_buf b;
    bf_buf_init(&b, RESP_MAX);
    long code = http_call("GET", c->ecs_uri, hdr, nh, &b, err, errlen);
    int rc = code == 200 ? parse_creds(b.data ? b.data : "", b.len, "ecs", out, err, errlen) : -EACCES;
    bf_buf_free(&b);
    return rc;
}

static int fetch_imds(bf_awscreds *c, bf_aws_credentials *out, char *err, size_t errlen)
{
    char url[1024], tokhdr[256];
    bf_buf b;
    bf_buf_init(&b, RESP_MAX);
    snprintf(url, sizeof url, "%s/latest/api/token", c->imds);
    const char *ttl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
    long code = http_call("PUT", url, ttl, 1, &b, err, errlen);
    if (code != 200 || !b.data || b.len > 200) {
        bf_buf_free(&b);
        return -EACCES;
    }
    snprintf(tokhdr, sizeof tokhdr, "X-aws-ec2-metadata-token: %s", b.data);
    const char *hdr[] = {tokhdr};
    bf_buf_reset(&b);
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", c->imds);
    code = http_call("GET", url, hdr, 1, &b, err, errlen);
    char role[256] = "";
    if (code == 200 && b.data) sscanf(b.data, "%255[^\r\n]", role);
    int rc = -EACCES;
    if (role[0]) {
        bf_buf_reset(&b);
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", c->imds, role);
        code = http_call("GET", url, hdr, 1, &b, err, errlen);
        if (code == 200) rc = parse_creds(b.data ? b.data : "", b.len, "imds", out, err, errlen);
    } else if (code == 200) {
        snprintf(err, errlen, "imds: no IAM role attached to this instance");
    }
    bf_buf_free(&b);
    return rc;
}

static int fetch(bf_awscreds *c, bf_aws_credentials *out, char *err, size_t errlen)
{
    if (c->ecs_uri) return fetch_ecs(c, out, err, errlen);
    if (c->imds) return fetch_imds(c, out, err, errlen);
    snprintf(err, errlen, "no AWS credentials: set s3.access_key/secret_key, AWS_ACCESS_KEY_ID, an ECS task role "
                          "or an EC2 instance role (AWS_EC2_METADATA_DISABLED is true)");
    return -EACCES;
}

int bf_awscreds_get(bf_awscreds *c, bf_aws_credentials *out, char *err, size_t errlen)
{
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    int64_t now = bf_now_ms();
    int fresh = c->have && (c->fixed || c->cur.expires_ms == 0 || c->cur.expires_ms - now > BF_AWSCREDS_REFRESH_MS);
    if (!fresh) {
        bf_aws_credentials n;
        char e[512] = "";
        rc = fetch(c, &n, e, sizeof e);
        if (rc == 0) {
            c->cur = n;
            c->have = 1;
        } else if (c->have && c->cur.expires_ms > now) {
            bf_log_kv(BF_LOG_WARN, "credentials refresh failed; using the current ones until they expire",
                      "error", e, NULL);
            rc = 0;
        } else {
            snprintf(err, errlen, "%s", e);
        }
        memset(&n, 0, sizeof n);
    }
    if (rc == 0) *out = c->cur;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void bf_awscreds_invalidate(bf_awscreds *c)
{
    pthread_mutex_lock(&c->mu);
    if (!c->fixed) c->have = 0;
    pthread_mutex_unlock(&c->mu);
}
