/* Load generator for the receiver benchmark: POSTs one payload file over and over with C concurrent
 * keep-alive connections (libcurl multi) and reports throughput and latency percentiles.
 * usage: bench_receiver_load URL TOKEN FILE ENCODING CONCURRENCY REQUESTS
 * Output (one line): requests=N ok=N errors=N seconds=S wire_mb_s=X p50_ms=X p99_ms=X
 * Each request carries a distinct X-Proxy-Filename so every one makes its own object. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "bf_util.h"

typedef struct slot {
    CURL *h;
    struct curl_slist *hdrs;
    int64_t t0_us;
} slot;

typedef struct run {
    const char *url, *token, *enc;
    char *body;
    size_t len;
    long next_id, total, done, ok;
    double *lat_ms;
} run;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static int start_one(CURLM *m, run *r, slot *s)
{
    char h[256];
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    snprintf(h, sizeof h, "Authorization: Bearer %s", r->token);
    s->hdrs = curl_slist_append(s->hdrs, h);
    snprintf(h, sizeof h, "Content-Encoding: %s", r->enc);
    s->hdrs = curl_slist_append(s->hdrs, h);
    s->hdrs = curl_slist_append(s->hdrs, "Content-Type: application/octet-stream");
    s->hdrs = curl_slist_append(s->hdrs, "Expect:");
    snprintf(h, sizeof h, "X-Proxy-Filename: acme--fw--%ld--ndjson.%s", 1000000000000000000L + r->next_id,
             strcmp(r->enc, "zstd") ? "gz" : "zst");
    s->hdrs = curl_slist_append(s->hdrs, h);
    if (!s->hdrs)
        return -ENOMEM;
    r->next_id++;
    curl_easy_setopt(s->h, CURLOPT_URL, r->url);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
    s->t0_us = now_us();
    return curl_multi_add_handle(m, s->h) == CURLM_OK ? 0 : -EIO;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void finish_one(CURLM *m, run *r, CURLMsg *msg)
{
    slot *s = NULL;
    long code = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
    r->lat_ms[r->done++] = (double)(now_us() - s->t0_us) / 1000.0;
    if (msg->data.result == CURLE_OK && code == 200)
        r->ok++;
    curl_multi_remove_handle(m, msg->easy_handle);
    if (r->next_id < r->total)
        start_one(m, r, s);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s URL TOKEN FILE ENCODING CONCURRENCY REQUESTS\n", argv[0]);
        return 2;
    }
    run r = {.url = argv[1], .token = argv[2], .enc = argv[4], .total = atol(argv[6])};
    long conc = atol(argv[5]);
    if (bf_read_file(argv[3], 1 << 30, &r.body, &r.len) || conc < 1 || r.total < 1) {
        fprintf(stderr, "cannot read %s or bad numbers\n", argv[3]);
        return 2;
    }
    r.lat_ms = calloc((size_t)r.total, sizeof *r.lat_ms);
    slot *slots = calloc((size_t)conc, sizeof *slots);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    if (!r.lat_ms || !slots || !m)
        return 1;
    int64_t t0 = now_us();
    for (long i = 0; i < conc && r.next_id < r.total; i++) {
        slots[i].h = curl_easy_init();
        if (!slots[i].h || start_one(m, &r, &slots[i]))
            return 1;
    }
    while (r.done < r.total) {
        int running = 0, q = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &q)))
            if (msg->msg == CURLMSG_DONE)
                finish_one(m, &r, msg);
        if (r.done < r.total)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double secs = (double)(now_us() - t0) / 1e6;
    qsort(r.lat_ms, (size_t)r.total, sizeof *r.lat_ms, cmp_d);
    printf("requests=%ld ok=%ld errors=%ld seconds=%.3f wire_mb_s=%.1f p50_ms=%.1f p99_ms=%.1f\n", r.total, r.ok,
           r.total - r.ok, secs, (double)r.len * (double)r.total / secs / 1048576.0,
           r.lat_ms[r.total / 2], r.lat_ms[(size_t)((double)r.total * 0.99)]);
    for (long i = 0; i < conc; i++) {
        curl_slist_free_all(slots[i].hdrs);
        if (slots[i].h)
            curl_easy_cleanup(slots[i].h);
    }
    curl_multi_cleanup(m);
    curl_global_cleanup();
    free(slots);
    free(r.lat_ms);
    free(r.body);
    return r.ok == r.total ? 0 : 1;
}
