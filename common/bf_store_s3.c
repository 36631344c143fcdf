/* bf_store_s3: s3:// backend: our SigV4 signer over pooled libcurl easy handles (see bf_store.h).
 * One request = s3_perform(): sign, send, classify the answer, and retry what is retryable with
 * exponential backoff and full jitter until the operation's deadline. */
#include "bf_store_s3.h"
#include "bf_awscreds.h"
#include "bf_buf.h"
#include "bf_log.h"
#include "bf_sigv4.h"
#include "bf_util.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#define ERRBODY_MAX (16 * 1024)
#define XMLBODY_MAX (8 * 1024 * 1024)    /* a ListObjectsV2 page of 1000 long keys fits easily */
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 10000
#define MAX_PARTS 10000

typedef struct s3be {
    char *bucket, *prefix;        /* prefix "" or ending in '/' */
    char *base_url;               /* scheme://host[:port] as requests go (bucket host for virtual-host) */
    char *host;                   /* Host header value that is signed */
    char *path_base;              /* "/bucket" (path-style) or "" */
    char *region;
    int64_t threshold, part_size, timeout_ms, deadline_ms;
    size_t max_conn;
    bf_awscreds *creds;
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    CURL **pool;                  /* idle handles */
    size_t nidle, total;
} s3be;

/* ---- connection pool: each pooled easy handle keeps its own keep-alive connection (curl_easy_reset
 * leaves it open), so reuse comes from reusing handles; max_connections caps the handles. The CURLSH
 * shares only DNS and TLS sessions: libcurl's shared connection cache is not safe across threads
 * (curl issue #4915; valgrind saw a use-after-free in concurrent bf_store_put with it). ---- */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
    (void)h; (void)a;
    pthread_mutex_lock(&((s3be *)ud)->share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
    (void)h;
    pthread_mutex_unlock(&((s3be *)ud)->share_mu[d]);
}

static CURL *pool_get(s3be *b)
{
    pthread_mutex_lock(&b->pool_mu);
    while (b->nidle == 0 && b->total >= b->max_conn) pthread_cond_wait(&b->pool_cv, &b->pool_mu);
    CURL *h = NULL;
    if (b->nidle) {
        h = b->pool[--b->nidle];
    } else {
        b->total++;
        pthread_mutex_unlock(&b->pool_mu);
        h = curl_easy_init();
        pthread_mutex_lock(&b->pool_mu);
        if (!h) {
            b->total--;
            pthread_cond_signal(&b->pool_cv);
        }
    }
    pthread_mutex_unlock(&b->pool_mu);
    return h;
}

static void pool_put(s3be *b, CURL *h)
{
    pthread_mutex_lock(&b->pool_mu);
    b->pool[b->nidle++] = h;   /* pool has room for max_conn handles */
    pthread_cond_signal(&b->pool_cv);
    pthread_mutex_unlock(&b->pool_mu);
}

/* ---- XML: the few fields S3 answers carry; values are entity-decoded ---- */

/* Next <tag>…</tag> in [*p, end): value span. Empty elements <tag/> give an empty value. */
static int xml_next(const char **p, const char *end, const char *tag, const char **v, size_t *vl)
{
    char open[64], open_empty[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(open_empty, sizeof open_empty, "<%s/>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *s = memmem(*p, (size_t)(end - *p), open, strlen(open));
    const char *e = memmem(*p, (size_t)(end - *p), open_empty, strlen(open_empty));
    if (e && (!s || e < s)) {
        *v = e;
        *vl = 0;
        *p = e + strlen(open_empty);
        return 1;
    }
    if (!s) return 0;
    s += strlen(open);
    e = memmem(s, (size_t)(end - s), close, strlen(close));
    if (!e) return 0;
    *v = s;
    *vl = (size_t)(e - s);
    *p = e + strlen(close);
    return 1;
}

static int put_utf8(bf_buf *o, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else if (cp < 0x110000) {
        u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    } else return -EINVAL;
    return bf_buf_append(o, u, n);
}

static const struct { const char *name; char c; } XML_ENT[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
};

/* Decode the five named entities and numeric character references. */
static int xml_decode(bf_buf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        const char *semi = s[i] == '&' ? memchr(s + i, ';', n - i) : NULL;
        if (!semi || semi - (s + i) > 12) {
            if (bf_buf_putc(o, s[i++])) return -ENOMEM;
            continue;
        }
        const char *ent = s + i + 1;
        size_t el = (size_t)(semi - ent);
        int done = 0, rc = 0;
        for (size_t k = 0; k < sizeof XML_ENT / sizeof XML_ENT[0] && !done; k++)
            if (strlen(XML_ENT[k].name) == el && !memcmp(ent, XML_ENT[k].name, el)) { rc = bf_buf_putc(o, XML_ENT[k].c); done = 1; }
        if (!done && el >= 2 && ent[0] == '#') {
            char num[16];
            memcpy(num, ent + 1, el - 1);
            num[el - 1] = 0;
            char *endp;
            unsigned long cp = (num[0] == 'x' || num[0] == 'X') ? strtoul(num + 1, &endp, 16) : strtoul(num, &endp, 10);
            /* out-of-range or NUL references are not characters: keep the text as it is */
            if (*endp == 0 && num[0] && cp > 0 && cp < 0x110000) { rc = put_utf8(o, cp); done = 1; }
        }
        if (!done) { rc = bf_buf_putc(o, s[i]); i++; continue; }
        if (rc) return rc;
        i = (size_t)(semi - s) + 1;
    }
    return 0;
}

/* Decoded copy of the first <tag> in [p,end) into out (size outlen); "" when absent. */
static void xml_get(const char *p, const char *end, const char *tag, char *out, size_t outlen)
{
    const char *v;
    size_t vl;
    out[0] = 0;
    if (!xml_next(&p, end, tag, &v, &vl)) return;
    bf_buf b;
    bf_buf_init(&b, 0);
    if (xml_decode(&b, v, vl) == 0 && b.data) snprintf(out, outlen, "%s", b.data);
    bf_buf_free(&b);
}

/* "2026-11-27T10:00:00.000Z" -> Unix ms */
static int64_t iso8601_ms(const char *s)
{
    struct tm tm = {0};
    int y, mo, d, h, mi;
    double sec;
    if (sscanf(s, "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6 || !(sec >= 0 && sec < 61)) return 0;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59) return 0;
    tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d; tm.tm_hour = h; tm.tm_min = mi;
    tm.tm_sec = (int)sec;
    return (int64_t)timegm(&tm) * 1000 + (int64_t)((sec - (int)sec) * 1000 + 0.5);
}

/* ---- one request with retries ---- */

typedef struct s3req {
    const char *op;                          /* for messages: "put", "get", … */
    const char *method;
    const char *key;                         /* full key (prefix included) or NULL for the bucket */
    const char *label;                       /* what to name in messages when key is NULL */
    const bf_sigv4_header *query; size_t nquery;
    const bf_sigv4_header *headers; size_t nheaders;   /* extra headers, all signed */
    const char *body; size_t body_len;       /* memory body, or: */
    int fd; int64_t fd_off, fd_len;          /* file range body (fd >= 0), sent as UNSIGNED-PAYLOAD */
    int head;                                /* HEAD: no body expected */
    bf_sink_fn sink; void *ud;               /* 2xx body consumer (GET) */
    bf_buf *resp;                            /* or 2xx body collected here (XML answers) */
    bf_store_info *info;                     /* filled from headers on success */
    char etag[80];                           /* out: ETag header of the successful answer */
    int64_t delivered;                       /* bytes given to sink so far (resumed GETs use Range) */
} s3req;

typedef struct attempt {
    s3req *rq;
    long status;
    int64_t skip;          /* resumed GET answered 200 (Range ignored): bytes the sink already has */
    int body_started;
    bf_buf errbody;
    int sink_rc;
    int64_t up_pos;
    int64_t clen;
    int64_t mtime_ms;
    char etag[80];
    bf_store_info meta;
} attempt;

static int ok_status(long s) { return s >= 200 && s <= 299; }

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    attempt *a = ud;
    size_t len = sz * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        a->etag[0] = 0;
        bf_store_info_free(&a->meta);
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon) return len;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1, *e = p + len;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ')) e--;
    size_t vl = (size_t)(e - v);
    char val[256];
    snprintf(val, sizeof val, "%.*s", (int)(vl < 255 ? vl : 255), v);
    if (nl == 4 && !strncasecmp(p, "etag", 4)) {
        snprintf(a->etag, sizeof a->etag, "%.79s", val);
    } else if (nl == 14 && !strncasecmp(p, "content-length", 14)) {
        a->clen = strtoll(val, NULL, 10);
    } else if (nl == 13 && !strncasecmp(p, "last-modified", 13)) {
        struct tm tm = {0};
        if (strptime(val, "%a, %d %b %Y %H:%M:%S", &tm)) a->mtime_ms = (int64_t)timegm(&tm) * 1000;
    } else if (nl > 11 && !strncasecmp(p, "x-amz-meta-", 11)) {
        if (bf_store_info_add_meta(&a->meta, p + 11, nl - 11, v, vl)) return 0;
    }
    return len;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    attempt *a = ud;
    size_t len = sz * n;
    s3req *rq = a->rq;
    if (!ok_status(a->status)) {   /* error document: keep the start for the <Code> */
        size_t room = a->errbody.len < ERRBODY_MAX ? ERRBODY_MAX - a->errbody.len : 0;
        if (room) bf_buf_append(&a->errbody, p, len < room ? len : room);
        return len;
    }
    if (!a->body_started) {
        a->body_started = 1;
        if (a->status != 200) a->skip = 0;   /* 206: the server honoured our Range */
    }
    if (a->skip > 0) {
        size_t drop = (int64_t)len < a->skip ? len : (size_t)a->skip;
        a->skip -= (int64_t)drop;
        p += drop;
        len -= drop;
        if (len == 0) return sz * n;
    }
    if (rq->sink) {
        int rc = rq->sink(rq->ud, p, len);
        if (rc) { a->sink_rc = rc; return 0; }
        rq->delivered += (int64_t)len;
        return sz * n;
    }
    if (rq->resp && bf_buf_append(rq->resp, p, len)) { a->sink_rc = -EFBIG; return 0; }
    return sz * n;
}

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
    attempt *a = ud;
    s3req *rq = a->rq;
    size_t want = sz * n;
    if (rq->fd >= 0) {
        int64_t left = rq->fd_len - a->up_pos;
        if (left <= 0) return 0;
        if ((int64_t)want > left) want = (size_t)left;
        ssize_t r = pread(rq->fd, p, want, rq->fd_off + a->up_pos);
        if (r <= 0) return CURL_READFUNC_ABORT;
        a->up_pos += r;
        return (size_t)r;
    }
    size_t left = rq->body_len - (size_t)a->up_pos;
    if (want > left) want = left;
    memcpy(p, rq->body + a->up_pos, want);
    a->up_pos += (int64_t)want;
    return want;
}

typedef struct s3err { const char *code; int err; int retry; } s3err;
static const s3err S3_ERRORS[] = {
    {"NoSuchKey", -ENOENT, 0}, {"NoSuchBucket", -ENOENT, 0}, {"NoSuchUpload", -ENOENT, 0},
    {"AccessDenied", -EACCES, 0}, {"SignatureDoesNotMatch", -EACCES, 0}, {"InvalidAccessKeyId", -EACCES, 0},
    {"InvalidToken", -EACCES, 0}, {"ExpiredToken", -EACCES, 1}, {"PreconditionFailed", -EEXIST, 0},
    {"ConditionalRequestConflict", -EAGAIN, 1}, {"SlowDown", -EAGAIN, 1}, {"RequestTimeout", -ETIMEDOUT, 1},
    {"InternalError", -EAGAIN, 1}, {"ServiceUnavailable", -EAGAIN, 1}, {"EntityTooLarge", -EFBIG, 0},
    {"KeyTooLongError", -EINVAL, 0}, {"InvalidBucketName", -EINVAL, 0}, {"NotImplemented", -ENOTSUP, 0},
};

typedef struct status_map { long lo, hi; int err; int retry; } status_map;
static const status_map STATUS_MAP[] = {
    {404, 404, -ENOENT, 0}, {401, 401, -EACCES, 0}, {501, 501, -ENOTSUP, 0}, {403, 403, -EACCES, 0}, {412, 412, -EEXIST, 0},
    {408, 408, -ETIMEDOUT, 1}, {429, 429, -EAGAIN, 1}, {400, 499, -EINVAL, 0}, {500, 599, -EAGAIN, 1},
};

/* Map a failed answer: errno and whether to retry. */
static void classify_http(long status, const char *code, int *err, int *retry)
{
    *err = -EIO;
    *retry = 0;
    for (size_t i = 0; i < sizeof STATUS_MAP / sizeof STATUS_MAP[0]; i++)
        if (status >= STATUS_MAP[i].lo && status <= STATUS_MAP[i].hi) {
            *err = STATUS_MAP[i].err;
            *retry = STATUS_MAP[i].retry;
            break;
        }
    for (size_t i = 0; code[0] && i < sizeof S3_ERRORS / sizeof S3_ERRORS[0]; i++)
        if (!strcmp(code, S3_ERRORS[i].code)) {
            *err = S3_ERRORS[i].err;
            *retry = *retry || S3_ERRORS[i].retry;
            break;
        }
}

static int curl_retryable(CURLcode c)
{
    static const CURLcode R[] = {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
                                 CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST,
                                 CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM};
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
        if (c == R[i]) return 1;
    return 0;
}

/* Encoded path: path_base + "/" + key (slashes kept). */
static int build_path(const s3be *b, const char *key, bf_buf *path)
{
    int rc = bf_buf_puts(path, b->path_base);
    if (!rc && key) rc = bf_buf_putc(path, '/');
    if (!rc && key) rc = bf_sigv4_uri_encode(path, key, strlen(key), 1);
    if (!rc && path->len == 0) rc = bf_buf_putc(path, '/');
    return rc;
}

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
    char line[4400];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line) return -EINVAL;
    struct curl_slist *nl = curl_slist_append(*l, line);
    if (!nl) return -ENOMEM;
    *l = nl;
    return 0;
}

/* Build headers (signing them) for one attempt. range: resume offset for GETs, 0 = none. */
static int sign_headers(s3be *b, s3req *rq, const char *path, const char *query, const bf_aws_credentials *cr,
                        const char *payload_hash, struct curl_slist **hl)
{
    bf_sigv4_header extra[64];
    size_t ne = 0;
    char range[64];
    if (rq->nheaders > 60) return -EINVAL;
    for (size_t i = 0; i < rq->nheaders; i++) extra[ne++] = rq->headers[i];
    if (rq->delivered > 0) {
        snprintf(range, sizeof range, "bytes=%lld-", (long long)rq->delivered);
        extra[ne++] = (bf_sigv4_header){"range", range};
        if (rq->etag[0]) extra[ne++] = (bf_sigv4_header){"if-match", rq->etag};
    }
    bf_sigv4_request sr = {
        .method = rq->method, .host = b->host, .path = path, .query = query, .headers = extra, .nheaders = ne,
        .payload_hash = payload_hash, .region = b->region, .service = "s3", .unix_s = bf_now_ms() / 1000,
        .access_key = cr->access_key, .secret_key = cr->secret_key, .session_token = cr->session_token,
    };
    bf_sigv4_result res;
    int rc = bf_sigv4_sign(&sr, &res);
    for (size_t i = 0; i < ne && !rc; i++) rc = add_header(hl, extra[i].name, extra[i].value);
    if (!rc) rc = add_header(hl, "x-amz-date", res.amz_date);
    if (!rc) rc = add_header(hl, "x-amz-content-sha256", payload_hash);
    if (!rc && cr->session_token[0]) rc = add_header(hl, "x-amz-security-token", cr->session_token);
    if (!rc) rc = add_header(hl, "Authorization", res.authorization);
    if (!rc) { struct curl_slist *n = curl_slist_append(*hl, "Expect:"); if (!n) rc = -ENOMEM; else *hl = n; }
    return rc;
}

static void setup_handle(s3be *b, CURL *h, s3req *rq, attempt *a, const char *url, struct curl_slist *hl, int fresh)
{
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_SHARE, b->share);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(b->timeout_ms < 10000 ? b->timeout_ms : 10000));
    /* large transfers (streaming GETs, big bodies) may legitimately run long: they are bounded by stall
     * detection (no byte for timeout_ms), small requests by a total time as well */
    int64_t up = rq->fd >= 0 ? rq->fd_len : (int64_t)rq->body_len;
    if (!rq->sink && up <= (1 << 20)) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)b->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(b->timeout_ms / 1000 > 0 ? b->timeout_ms / 1000 : 1));
    if (fresh) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    int has_body = rq->fd >= 0 || rq->body;
    if (rq->head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, a);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(rq->fd >= 0 ? rq->fd_len : (int64_t)rq->body_len));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
}

static void set_failure(s3req *rq, long status, const attempt *a, CURLcode cc, const char *code)
{
    char msg[512];
    xml_get(a->errbody.data ? a->errbody.data : "", a->errbody.data ? a->errbody.data + a->errbody.len : "",
            "Message", msg, sizeof msg);
    const char *what = rq->key ? rq->key : rq->label ? rq->label : "";
    if (cc != CURLE_OK)
        bf_store_seterr("%s %s: %s", rq->op, what, curl_easy_strerror(cc));
    else if (!code[0] && rq->head)
        bf_store_seterr("%s %s: HTTP %ld (HEAD answers carry no S3 error code)", rq->op, what, status);
    else
        bf_store_seterr("%s %s: HTTP %ld%s%s%s%s", rq->op, what, status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

static void finish_success(s3req *rq, attempt *a)
{
    snprintf(rq->etag, sizeof rq->etag, "%s", a->etag);
    bf_store_info *i = rq->info;
    if (!i) return;
    bf_store_info_free(i);
    i->size = a->clen;
    i->mtime_ms = a->mtime_ms;
    /* S3 quotes ETags; callers compare them as opaque text, so the quotes go */
    const char *e = a->etag;
    size_t el = strlen(e);
    int quoted = el >= 2 && e[0] == '"' && e[el - 1] == '"';
    snprintf(i->etag, sizeof i->etag, "%.*s", (int)(quoted ? el - 2 : el), e + quoted);
    i->meta = a->meta.meta;
    i->nmeta = a->meta.nmeta;
    a->meta.meta = NULL;
    a->meta.nmeta = 0;
}

/* Sleep for a full-jitter backoff; 0, or -1 when the deadline would pass. */
static int backoff(int attempt_no, int64_t deadline, uint64_t *rng)
{
    int64_t cap = BACKOFF_BASE_MS << (attempt_no < 16 ? attempt_no : 16);
    if (cap > BACKOFF_CAP_MS) cap = BACKOFF_CAP_MS;
    int64_t ms = (int64_t)(bf_rand_next(rng) % (uint64_t)(cap + 1));
    if (bf_mono_ms() + ms >= deadline) return -1;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    return 0;
}

/* One attempt. Returns 0 on 2xx, else error with *retry set. */
static int attempt_once(s3be *b, s3req *rq, const char *url, const char *path, const char *query,
                        const char *payload_hash, int fresh, int *retry, int *conn_err)
{
    *retry = 0;
    *conn_err = 0;
    bf_aws_credentials cr;
    char cerr[512] = "";
    int rc = bf_awscreds_get(b->creds, &cr, cerr, sizeof cerr);
    if (rc) {
        bf_store_seterr("%s %s: %s", rq->op, rq->key ? rq->key : "", cerr);
        return rc;
    }
    struct curl_slist *hl = NULL;
    rc = sign_headers(b, rq, path, query, &cr, payload_hash, &hl);
    memset(&cr, 0, sizeof cr);
    if (rc) { curl_slist_free_all(hl); return rc; }
    CURL *h = pool_get(b);
    if (!h) { curl_slist_free_all(hl); return -ENOMEM; }
    attempt a = {.rq = rq, .skip = rq->delivered};
    bf_buf_init(&a.errbody, ERRBODY_MAX);
    int64_t delivered0 = rq->delivered;
    if (rq->resp) bf_buf_reset(rq->resp);
    setup_handle(b, h, rq, &a, url, hl, fresh);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_SHARE, NULL);
    pool_put(b, h);
    curl_slist_free_all(hl);
    char code[128] = "";
    if (a.errbody.data) xml_get(a.errbody.data, a.errbody.data + a.errbody.len, "Code", code, sizeof code);
    if (a.sink_rc) {
        rc = a.sink_rc;               /* the consumer stopped us: never retried */
    } else if (cc != CURLE_OK) {
        rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EAGAIN;
        *retry = curl_retryable(cc);
        *conn_err = 1;
        set_failure(rq, 0, &a, cc, code);
    } else if (!ok_status(a.status)) {
        classify_http(a.status, code, &rc, retry);
        if (!strcmp(code, "ExpiredToken")) bf_awscreds_invalidate(b->creds);
        if (rq->delivered > 0 && a.status == 412) { rc = -EIO; *retry = 0; }   /* object changed mid-GET */
        set_failure(rq, a.status, &a, cc, code);
    } else {
        if (delivered0 == 0) finish_success(rq, &a);
        rc = 0;
    }
    /* a failed streaming GET resumes with Range from what the sink already has, pinned by If-Match */
    if (rc && rq->delivered > 0 && delivered0 == 0 && a.etag[0]) snprintf(rq->etag, sizeof rq->etag, "%s", a.etag);
    bf_store_info_free(&a.meta);
    bf_buf_free(&a.errbody);
    return rc;
}

static int s3_perform(s3be *b, s3req *rq)
{
    bf_buf path, query, url;
    bf_buf_init(&path, 0); bf_buf_init(&query, 0); bf_buf_init(&url, 0);
    int rc = build_path(b, rq->key, &path);
    if (!rc) rc = bf_buf_puts(&query, "");
    if (!rc) rc = bf_sigv4_canonical_query(&query, rq->query, rq->nquery);
    if (!rc) rc = bf_buf_printf(&url, "%s%s%s%s", b->base_url, path.data, query.len ? "?" : "", query.data);
    char hash[65];
    if (rq->fd >= 0) snprintf(hash, sizeof hash, "%s", BF_SIGV4_UNSIGNED);
    else bf_sigv4_sha256_hex(rq->body ? rq->body : "", rq->body ? rq->body_len : 0, hash);
    int64_t deadline = bf_mono_ms() + b->deadline_ms;
    uint64_t rng = (uint64_t)bf_now_ns() ^ (uint64_t)(uintptr_t)rq;
    int conn_fresh = 0;
    for (int n = 0; !rc; n++) {
        int retry, conn_err;
        rc = attempt_once(b, rq, url.data, path.data, query.data, hash, conn_fresh, &retry, &conn_err);
        if (rc == 0 || !retry) break;
        /* a reset or refused connection is not reused: the next attempt opens a new one */
        conn_fresh = conn_err;
        if (backoff(n, deadline, &rng) != 0) {
            bf_log_kv(BF_LOG_WARN, "store request gave up after retries", "op", rq->op, "error", bf_store_errmsg(), NULL);
            break;
        }
        BF_DEBUG("store retry %d: %s", n + 1, bf_store_errmsg());
        rc = 0;
    }
    if (rc && rc != -ENOENT && rc != -EEXIST && bf_store_errmsg()[0])
        bf_log_kv(BF_LOG_ERROR, "store request failed", "op", rq->op, "error", bf_store_errmsg(), NULL);
    bf_buf_free(&path); bf_buf_free(&query); bf_buf_free(&url);
    return rc;
}

/* ---- operations ---- */

static char *full_key(const s3be *b, const char *key)
{
    size_t n = strlen(b->prefix) + strlen(key) + 1;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%s%s", b->prefix, key);
    return k;
}

/* meta headers + extras into hdr[]; names are kept in names[] storage */
typedef struct hdrset { bf_sigv4_header h[40]; char names[32][160]; size_t n; } hdrset;

static int add_meta_headers(hdrset *hs, const bf_kv *meta, size_t nmeta)
{
    if (nmeta > 32) return -EINVAL;
    for (size_t i = 0; i < nmeta; i++) {
        snprintf(hs->names[i], sizeof hs->names[i], "x-amz-meta-%s", meta[i].key);
        hs->h[hs->n++] = (bf_sigv4_header){hs->names[i], meta[i].value};
    }
    return 0;
}

static int s_put(void *be, const char *key, const void *data, size_t len, const bf_kv *meta, size_t nmeta,
                 int exclusive)
{
    s3be *b = be;
    hdrset hs = {0};
    if (add_meta_headers(&hs, meta, nmeta)) return -EINVAL;
    hs.h[hs.n++] = (bf_sigv4_header){"content-type", "application/octet-stream"};
    if (exclusive) hs.h[hs.n++] = (bf_sigv4_header){"if-none-match", "*"};
    char *k = full_key(b, key);
    if (!k) return -ENOMEM;
    s3req rq = {.op = exclusive ? "create" : "put", .method = "PUT", .key = k, .headers = hs.h, .nheaders = hs.n,
                .body = data, .body_len = len, .fd = -1};
    int rc = s3_perform(b, &rq);
    free(k);
    return rc;
}

/* -- multipart -- */

typedef struct mpu { s3be *b; char *key; char upload_id[1024]; char (*etags)[80]; size_t nparts; } mpu;

static int mpu_initiate(mpu *m, const bf_kv *meta, size_t nmeta)
{
    hdrset hs = {0};
    if (add_meta_headers(&hs, meta, nmeta)) return -EINVAL;
    hs.h[hs.n++] = (bf_sigv4_header){"content-type", "application/octet-stream"};
    bf_sigv4_header q[] = {{"uploads", NULL}};
    bf_buf resp;
    bf_buf_init(&resp, XMLBODY_MAX);
    s3req rq = {.op = "put(initiate)", .method = "POST", .key = m->key, .query = q, .nquery = 1, .headers = hs.h,
                .nheaders = hs.n, .body = "", .body_len = 0, .fd = -1, .resp = &resp};
    int rc = s3_perform(m->b, &rq);
    if (!rc) {
        xml_get(resp.data ? resp.data : "", resp.data ? resp.data + resp.len : "", "UploadId", m->upload_id,
                sizeof m->upload_id);
        if (!m->upload_id[0]) {
            bf_store_seterr("put %s: InitiateMultipartUpload answer has no UploadId", m->key);
            rc = -EIO;
        }
    }
    bf_buf_free(&resp);
    return rc;
}

static int mpu_part(mpu *m, int fd, size_t part, int64_t off, int64_t len)
{
    char num[24];
    snprintf(num, sizeof num, "%zu", part + 1);
    bf_sigv4_header q[] = {{"partNumber", num}, {"uploadId", m->upload_id}};
    s3req rq = {.op = "put(part)", .method = "PUT", .key = m->key, .query = q, .nquery = 2, .fd = fd,
                .fd_off = off, .fd_len = len};
    int rc = s3_perform(m->b, &rq);
    if (!rc && !rq.etag[0]) {
        bf_store_seterr("put %s: UploadPart %zu answer has no ETag", m->key, part + 1);
        rc = -EIO;
    }
    if (!rc) snprintf(m->etags[part], sizeof m->etags[part], "%s", rq.etag);
    return rc;
}

static int mpu_complete(mpu *m)
{
    bf_buf body, resp;
    bf_buf_init(&body, 0);
    bf_buf_init(&resp, XMLBODY_MAX);
    int rc = bf_buf_puts(&body, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < m->nparts && !rc; i++) {
        /* ETags are hex in quotes: nothing to escape except the quotes, which are legal in text */
        rc = bf_buf_printf(&body, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1, m->etags[i]);
    }
    if (!rc) rc = bf_buf_puts(&body, "</CompleteMultipartUpload>");
    bf_sigv4_header q[] = {{"uploadId", m->upload_id}};
    bf_sigv4_header h[] = {{"content-type", "application/xml"}};
    s3req rq = {.op = "put(complete)", .method = "POST", .key = m->key, .query = q, .nquery = 1, .headers = h,
                .nheaders = 1, .body = body.data, .body_len = body.len, .fd = -1, .resp = &resp};
    if (!rc) rc = s3_perform(m->b, &rq);
    /* CompleteMultipartUpload can fail with 200 and an <Error> document */
    if (!rc && resp.data && strstr(resp.data, "<Error>")) {
        char code[128], msg[256];
        xml_get(resp.data, resp.data + resp.len, "Code", code, sizeof code);
        xml_get(resp.data, resp.data + resp.len, "Message", msg, sizeof msg);
        bf_store_seterr("put %s: CompleteMultipartUpload failed: %s: %s", m->key, code, msg);
        rc = -EIO;
    }
    bf_buf_free(&body);
    bf_buf_free(&resp);
    return rc;
}

static void mpu_abort(mpu *m)
{
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", bf_store_errmsg());   /* keep the original failure for the caller */
    bf_sigv4_header q[] = {{"uploadId", m->upload_id}};
    s3req rq = {.op = "put(abort)", .method = "DELETE", .key = m->key, .query = q, .nquery = 1, .fd = -1};
    if (s3_perform(m->b, &rq) != 0)
        bf_log_kv(BF_LOG_WARN, "abort of multipart upload failed (a bucket lifecycle rule cleans it up)",
                  "key", m->key, NULL);
    bf_store_seterr("%s", saved);
}

/* Parts go up concurrently (MPU_WORKERS, bounded by the pool): one connection rarely fills the link to S3. */
#define MPU_WORKERS 4

typedef struct mpu_run {
    mpu *m;
    int fd;
    int64_t size, ps;
    pthread_mutex_t mu;
    size_t next;
    int rc;
    char err[1024];      /* first failure's text (bf_store_errmsg is per thread) */
} mpu_run;

static void *mpu_worker(void *arg)
{
    mpu_run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next;
        int stop = r->rc || i >= r->m->nparts;
        if (!stop) r->next++;
        pthread_mutex_unlock(&r->mu);
        if (stop) break;
        int64_t off = (int64_t)i * r->ps;
        int rc = mpu_part(r->m, r->fd, i, off, r->size - off < r->ps ? r->size - off : r->ps);
        if (rc) {
            pthread_mutex_lock(&r->mu);
            if (!r->rc) {
                r->rc = rc;
                snprintf(r->err, sizeof r->err, "%s", bf_store_errmsg());
            }
            pthread_mutex_unlock(&r->mu);
        }
    }
    return NULL;
}

static int upload_parts(mpu *m, int fd, int64_t size, int64_t ps)
{
    mpu_run r = {.m = m, .fd = fd, .size = size, .ps = ps};
    pthread_mutex_init(&r.mu, NULL);
    size_t nw = MPU_WORKERS;
    if (nw > m->b->max_conn) nw = m->b->max_conn;
    if (nw > m->nparts) nw = m->nparts;
    pthread_t th[MPU_WORKERS];
    size_t started = 0;
    for (; started + 1 < nw; started++)
        if (pthread_create(&th[started], NULL, mpu_worker, &r) != 0) break;
    mpu_worker(&r);                       /* the calling thread works too */
    for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&r.mu);
    if (r.rc) bf_store_seterr("%s", r.err);
    return r.rc;
}

static int put_multipart(s3be *b, char *key, int fd, int64_t size, const bf_kv *meta, size_t nmeta)
{
    int64_t ps = b->part_size;
    if ((size + ps - 1) / ps > MAX_PARTS) ps = ((size / MAX_PARTS) | 0xFFFFF) + 1;   /* S3 allows 10,000 parts */
    mpu m = {.b = b, .key = key, .nparts = (size_t)((size + ps - 1) / ps)};
    m.etags = calloc(m.nparts, sizeof *m.etags);
    if (!m.etags) return -ENOMEM;
    int rc = mpu_initiate(&m, meta, nmeta);
    if (!rc) rc = upload_parts(&m, fd, size, ps);
    if (!rc) rc = mpu_complete(&m);
    if (rc && m.upload_id[0]) mpu_abort(&m);
    free(m.etags);
    return rc;
}

static int s_put_file(void *be, const char *key, const char *path, const bf_kv *meta, size_t nmeta)
{
    s3be *b = be;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        bf_store_seterr("put %s: cannot open source %s: %s", key, path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); return -e; }
    char *k = full_key(b, key);
    int rc = k ? 0 : -ENOMEM;
    if (!rc && st.st_size > b->threshold) {
        rc = put_multipart(b, k, fd, st.st_size, meta, nmeta);
    } else if (!rc) {
        hdrset hs = {0};
        if (add_meta_headers(&hs, meta, nmeta)) rc = -EINVAL;
        hs.h[hs.n++] = (bf_sigv4_header){"content-type", "application/octet-stream"};
        s3req rq = {.op = "put", .method = "PUT", .key = k, .headers = hs.h, .nheaders = hs.n, .fd = fd,
                    .fd_off = 0, .fd_len = st.st_size};
        if (!rc) rc = s3_perform(b, &rq);
    }
    free(k);
    close(fd);
    return rc;
}

static int s_get(void *be, const char *key, bf_sink_fn sink, void *ud, bf_store_info *info)
{
    s3be *b = be;
    char *k = full_key(b, key);
    if (!k) return -ENOMEM;
    bf_store_info tmp = {0};
    s3req rq = {.op = "get", .method = "GET", .key = k, .fd = -1, .sink = sink, .ud = ud, .info = info ? info : &tmp};
    int rc = s3_perform(b, &rq);
    bf_store_info_free(&tmp);
    free(k);
    return rc;
}

static int s_head(void *be, const char *key, bf_store_info *info)
{
    s3be *b = be;
    char *k = full_key(b, key);
    if (!k) return -ENOMEM;
    s3req rq = {.op = "head", .method = "HEAD", .key = k, .fd = -1, .head = 1, .info = info};
    int rc = s3_perform(b, &rq);
    free(k);
    return rc;
}

static int s_del(void *be, const char *key)
{
    s3be *b = be;
    char *k = full_key(b, key);
    if (!k) return -ENOMEM;
    s3req rq = {.op = "delete", .method = "DELETE", .key = k, .fd = -1};
    int rc = s3_perform(b, &rq);
    free(k);
    return rc == -ENOENT ? 0 : rc;
}

int bf_store_s3_parse_list(const char *xml, size_t len, const char *prefix, bf_store_list *out)
{
    const char *p = xml ? xml : "", *end = p + (xml ? len : 0);
    size_t cap = 0, pl = strlen(prefix);
    const char *blk;
    size_t bl;
    int rc = 0;
    while (!rc && xml_next(&p, end, "Contents", &blk, &bl)) {
        const char *be_ = blk + bl, *v;
        size_t vl;
        const char *q = blk;
        if (!xml_next(&q, be_, "Key", &v, &vl)) continue;
        bf_buf key;
        bf_buf_init(&key, 0);
        rc = xml_decode(&key, v, vl);
        char size[32], lm[64], etag[80];
        xml_get(blk, be_, "Size", size, sizeof size);
        xml_get(blk, be_, "LastModified", lm, sizeof lm);
        xml_get(blk, be_, "ETag", etag, sizeof etag);
        size_t el = strlen(etag);
        if (el >= 2 && etag[0] == '"' && etag[el - 1] == '"') { memmove(etag, etag + 1, el - 2); etag[el - 2] = 0; }
        if (!rc && key.data && key.len >= pl && !strncmp(key.data, prefix, pl))
            rc = bf_store_list_add(out, &cap, key.data + pl, key.len - pl, strtoll(size, NULL, 10), iso8601_ms(lm), etag);
        bf_buf_free(&key);
    }
    char trunc[16], next[1024];
    xml_get(xml ? xml : "", end, "IsTruncated", trunc, sizeof trunc);
    xml_get(xml ? xml : "", end, "NextContinuationToken", next, sizeof next);
    if (!rc && !strcmp(trunc, "true") && next[0] && !(out->next = strdup(next))) rc = -ENOMEM;
    return rc;
}

static int s_list(void *be, const char *prefix, const char *token, size_t max, bf_store_list *out)
{
    s3be *b = be;
    char *fp = full_key(b, prefix);
    if (!fp) return -ENOMEM;
    char maxs[16];
    snprintf(maxs, sizeof maxs, "%zu", max);
    bf_sigv4_header q[4] = {{"list-type", "2"}, {"max-keys", maxs}, {"prefix", fp}};
    size_t nq = 3;
    if (token) q[nq++] = (bf_sigv4_header){"continuation-token", token};
    bf_buf resp;
    bf_buf_init(&resp, XMLBODY_MAX);
    char label[1200];
    snprintf(label, sizeof label, "s3://%s/%s", b->bucket, fp);
    s3req rq = {.op = "list", .method = "GET", .key = NULL, .label = label, .query = q, .nquery = nq, .fd = -1,
                .resp = &resp};
    int rc = s3_perform(b, &rq);
    if (!rc) rc = bf_store_s3_parse_list(resp.data, resp.len, b->prefix, out);
    bf_buf_free(&resp);
    free(fp);
    return rc;
}

/* ---- open/close ---- */

static void s_close(void *be)
{
    s3be *b = be;
    if (!b) return;
    for (size_t i = 0; i < b->nidle; i++) curl_easy_cleanup(b->pool[i]);
    if (b->share) curl_share_cleanup(b->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&b->share_mu[i]);
    pthread_mutex_destroy(&b->pool_mu);
    pthread_cond_destroy(&b->pool_cv);
    bf_awscreds_destroy(b->creds);
    free(b->pool); free(b->bucket); free(b->prefix); free(b->base_url); free(b->host); free(b->path_base);
    free(b->region);
    free(b);
    curl_global_cleanup();
}

static int64_t or_default(int64_t v, int64_t d) { return v > 0 ? v : d; }

static const char *cfg_or_env(const char *v, const char *env, const char *def)
{
    if (v && *v) return v;
    const char *e = getenv(env);
    return e && *e ? e : def;
}

/* endpoint "http(s)://host[:port][/]" -> scheme and host (default ports dropped: curl omits them in Host) */
static int parse_endpoint(const char *ep, char *scheme, size_t sl, char *host, size_t hl)
{
    const char *p = strstr(ep, "://");
    if (!p || (size_t)(p - ep) >= sl) return -EINVAL;
    snprintf(scheme, sl, "%.*s", (int)(p - ep), ep);
    if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) return -EINVAL;
    p += 3;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n >= hl) return -EINVAL;
    snprintf(host, hl, "%.*s", (int)n, p);
    size_t L = strlen(host);
    if (!strcasecmp(scheme, "http") && L > 3 && !strcmp(host + L - 3, ":80")) host[L - 3] = 0;
    if (!strcasecmp(scheme, "https") && L > 4 && !strcmp(host + L - 4, ":443")) host[L - 4] = 0;
    return 0;
}

static int setup_addressing(s3be *b, const bf_s3_config *s3, char *err, size_t errlen)
{
    char defep[256], scheme[16], host[512];
    snprintf(defep, sizeof defep, "https://s3.%s.amazonaws.com", b->region);
    const char *ep = cfg_or_env(s3 ? s3->endpoint : NULL, "AWS_ENDPOINT_URL_S3", defep);
    if (parse_endpoint(ep, scheme, sizeof scheme, host, sizeof host)) {
        snprintf(err, errlen, "s3 endpoint '%s': expected http(s)://host[:port]", ep);
        return -EINVAL;
    }
    int path_style = s3 ? s3->path_style : 0;
    size_t n = strlen(host) + strlen(b->bucket) + 2;
    b->host = malloc(n);
    b->path_base = malloc(strlen(b->bucket) + 2);
    b->base_url = malloc(n + strlen(scheme) + 3);
    if (!b->host || !b->path_base || !b->base_url) return -ENOMEM;
    if (path_style) {
        snprintf(b->host, n, "%s", host);
        snprintf(b->path_base, strlen(b->bucket) + 2, "/%s", b->bucket);
    } else {
        snprintf(b->host, n, "%s.%s", b->bucket, host);
        b->path_base[0] = 0;
    }
    snprintf(b->base_url, n + strlen(scheme) + 3, "%s://%s", scheme, b->host);
    return 0;
}

static int parse_uri(s3be *b, const char *rest, char *err, size_t errlen)
{
    size_t bl = strcspn(rest, "/");
    if (bl == 0 || bl > 63) {
        snprintf(err, errlen, "s3 URI: missing or too long bucket name: s3://bucket/prefix");
        return -EINVAL;
    }
    for (size_t i = 0; i < bl; i++)
        if (!((rest[i] >= 'a' && rest[i] <= 'z') || (rest[i] >= '0' && rest[i] <= '9') || rest[i] == '-' || rest[i] == '.' ||
              rest[i] == '_' || (rest[i] >= 'A' && rest[i] <= 'Z'))) {
            snprintf(err, errlen, "s3 URI: bad bucket name '%.*s'", (int)bl, rest);
            return -EINVAL;
        }
    b->bucket = strndup(rest, bl);
    const char *p = rest + bl;
    while (*p == '/') p++;
    size_t pl = strlen(p);
    while (pl && p[pl - 1] == '/') pl--;
    b->prefix = malloc(pl + 2);
    if (!b->bucket || !b->prefix) return -ENOMEM;
    snprintf(b->prefix, pl + 2, "%.*s%s", (int)pl, p, pl ? "/" : "");
    return 0;
}

static int s_open(const char *rest, const bf_s3_config *s3, void **out, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed");
        return -EIO;
    }
    s3be *b = calloc(1, sizeof *b);
    if (!b) { curl_global_cleanup(); return -ENOMEM; }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&b->share_mu[i], NULL);
    pthread_mutex_init(&b->pool_mu, NULL);
    pthread_cond_init(&b->pool_cv, NULL);
    b->threshold = or_default(s3 ? s3->multipart_threshold : 0, 64ll << 20);
    b->part_size = or_default(s3 ? s3->part_size : 0, 8ll << 20);
    if (b->part_size < (5ll << 20)) b->part_size = 5ll << 20;   /* S3's minimum for all but the last part */
    b->timeout_ms = or_default(s3 ? s3->timeout_ms : 0, 30000);
    b->deadline_ms = or_default(s3 ? s3->retry_deadline_ms : 0, 60000);
    b->max_conn = (size_t)or_default(s3 ? s3->max_connections : 0, 16);
    int rc = parse_uri(b, rest, err, errlen);
    if (!rc && !(b->region = strdup(cfg_or_env(s3 ? s3->region : NULL, "AWS_REGION", "us-east-1")))) rc = -ENOMEM;
    if (!rc) rc = setup_addressing(b, s3, err, errlen);
    if (!rc && !(b->pool = calloc(b->max_conn, sizeof *b->pool))) rc = -ENOMEM;
    if (!rc && !(b->share = curl_share_init())) rc = -ENOMEM;
    if (!rc) {
        curl_share_setopt(b->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(b->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(b->share, CURLSHOPT_USERDATA, b);
        curl_share_setopt(b->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(b->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        rc = bf_awscreds_create(s3 ? s3->access_key : NULL, s3 ? s3->secret_key : NULL, s3 ? s3->session_token : NULL,
                                &b->creds);
    }
    if (rc) {
        if (!err[0]) snprintf(err, errlen, "s3 store %s: %s", rest, rc == -EINVAL ? "bad credentials settings" : strerror(-rc));
        s_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

const bf_store_ops bf_store_s3_ops = {
    .scheme = "s3", .open = s_open, .close = s_close, .put = s_put, .put_file = s_put_file,
    .get = s_get, .head = s_head, .del = s_del, .list = s_list,
};

int bf_store_s3_create_bucket(bf_store *s)
{
    const bf_store_ops *ops;
    s3be *b = bf_store_backend(s, &ops);
    if (ops != &bf_store_s3_ops) return -EINVAL;
    char body[256] = "";
    if (strcmp(b->region, "us-east-1") != 0)
        snprintf(body, sizeof body,
                 "<CreateBucketConfiguration><LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                 b->region);
    s3req rq = {.op = "create-bucket", .method = "PUT", .key = NULL, .label = b->bucket, .body = body,
                .body_len = strlen(body), .fd = -1};
    bf_store_seterr("%s", "");
    int rc = s3_perform(b, &rq);
    if (rc == -EEXIST || (rc && strstr(bf_store_errmsg(), "BucketAlreadyOwnedByYou"))) rc = 0;
    return rc;
}
