/* flow_json: NDJSON record writer for the flow decoders (see flow_json.h). */
#include "flow_json.h"

#include <arpa/inet.h>
#include <string.h>

#include "bf_util.h"

/* Fast path writes into the spare capacity directly (bf_buf keeps one byte beyond cap for the NUL). */
static inline void put(fj *w, const char *s, size_t n)
{
    bf_buf *b = w->b;
    if (w->rc)
        return;
    if (b->data && b->cap - b->len >= n) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    w->rc = bf_buf_append(b, s, n);
}

static void key(fj *w, const char *k)
{
    char tmp[72];
    size_t n = strlen(k);
    if (n > sizeof tmp - 4)
        n = sizeof tmp - 4;
    tmp[0] = ',';
    tmp[1] = '"';
    memcpy(tmp + 2, k, n);
    tmp[n + 2] = '"';
    tmp[n + 3] = ':';
    put(w, tmp, n + 4);
}

static void put_u64(fj *w, uint64_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *o = e;
    do {
        *--o = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(w, o, (size_t)(e - o));
}

void fj_begin(fj *w, bf_buf *b, fj_prefix *pre, int64_t recv_ms, const char *exporter, const char *flow_type)
{
    w->b = b;
    w->rc = 0;
    if (pre && pre->n && pre->flow_type == flow_type) {
        put(w, pre->s, pre->n);
        return;
    }
    size_t start = b->len;
    put(w, "{\"BfTs\":", 8);
    fj_i64(w, NULL, recv_ms);
    char ts[32];
    bf_rfc3339_ms(recv_ms, ts);
    fj_str(w, "timestamp", ts, strlen(ts));
    if (exporter && *exporter)
        fj_str(w, "source_ip", exporter, strlen(exporter));
    fj_str(w, "flow_type", flow_type, strlen(flow_type));
    if (pre && !w->rc && b->len - start <= sizeof pre->s) {
        memcpy(pre->s, b->data + start, b->len - start);
        pre->n = b->len - start;
        pre->flow_type = flow_type;
    }
}

void fj_u64(fj *w, const char *k, uint64_t v)
{
    key(w, k);
    int big = v > (uint64_t)INT64_MAX;
    if (big)
        put(w, "\"", 1);
    put_u64(w, v);
    if (big)
        put(w, "\"", 1);
}

void fj_i64(fj *w, const char *k, int64_t v)
{
    if (k)
        key(w, k);
    if (v < 0) {
        put(w, "-", 1);
        put_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(w, (uint64_t)v);
    }
}

void fj_str(fj *w, const char *k, const char *s, size_t n)
{
    key(w, k);
    if (!w->rc)
        w->rc = bf_buf_json_str(w->b, s, n);
}

void fj_ip4(fj *w, const char *k, const uint8_t a[4])
{
    char s[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, a, s, sizeof s);
    fj_str(w, k, s, strlen(s));
}

void fj_ip6(fj *w, const char *k, const uint8_t a[16])
{
    char s[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a, s, sizeof s);
    fj_str(w, k, s, strlen(s));
}

static const char hexdig[] = "0123456789abcdef";

void fj_mac(fj *w, const char *k, const uint8_t a[6])
{
    char s[18];
    for (int i = 0; i < 6; i++) {
        s[i * 3] = hexdig[a[i] >> 4];
        s[i * 3 + 1] = hexdig[a[i] & 15];
        s[i * 3 + 2] = ':';
    }
    fj_str(w, k, s, 17);
}

void fj_hex(fj *w, const char *k, const uint8_t *p, size_t n)
{
    key(w, k);
    put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char h[2] = {hexdig[p[i] >> 4], hexdig[p[i] & 15]};
        put(w, h, 2);
    }
    put(w, "\"", 1);
}

void fj_end(fj *w)
{
    put(w, "}\n", 2);
}
