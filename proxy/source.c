/* source: parse a dataset source object (see source.h). Field handlers are table rows so that unknown
 * keys are reported instead of ignored. */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_config.h"
#include "bf_util.h"

typedef int (*field_fn)(proxy_source *s, const json_t *v, char *err, size_t errlen);

static int copy_str(char *dst, size_t cap, const json_t *v, const char *key, char *err, size_t errlen)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap) {
        snprintf(err, errlen, "%s: expected a non-empty string shorter than %zu", key, cap);
        return -EINVAL;
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int f_type(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    static const char *types[] = {"syslog", "udp", "tcp", "http", "netflow", "ipfix", "sflow"};
    if (copy_str(s->type, sizeof s->type, v, "type", err, errlen)) return -EINVAL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(s->type, types[i])) return 0;
    snprintf(err, errlen, "type: unknown input type \"%s\" (syslog|udp|tcp|http|netflow|ipfix|sflow)", s->type);
    return -EINVAL;
}

static int f_transport(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    if (copy_str(s->transport, sizeof s->transport, v, "transport", err, errlen)) return -EINVAL;
    if (strcmp(s->transport, "udp") && strcmp(s->transport, "tcp")) {
        snprintf(err, errlen, "transport: must be udp or tcp");
        return -EINVAL;
    }
    return 0;
}

static int get_int(const json_t *v, const char *key, long long mn, long long mx, long long *out, char *err,
                   size_t errlen)
{
    long long x;
    if (json_is_integer(v)) x = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
        x = (long long)json_real_value(v);   /* JSON from the control service may carry 5514.0 */
    else if (json_is_string(v)) {
        char *end;
        x = strtoll(json_string_value(v), &end, 10);
        if (*end || end == json_string_value(v)) goto bad;
    } else goto bad;
    if (x < mn || x > mx) goto bad;
    *out = x;
    return 0;
bad:
    snprintf(err, errlen, "%s: expected an integer in %lld..%lld", key, mn, mx);
    return -EINVAL;
}

static int f_port(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    long long x;
    if (get_int(v, "port", 1, 65535, &x, err, errlen)) return -EINVAL;
    s->port = (int)x;
    return 0;
}

static int f_workers(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    long long x;
    if (get_int(v, "workers", 1, 64, &x, err, errlen)) return -EINVAL;
    s->workers = (int)x;
    return 0;
}

static int f_rcvbuf(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    long long x;
    int64_t b;
    if (json_is_string(v) && bf_parse_size(json_string_value(v), &b) == 0) x = b;
    else if (get_int(v, "rcvbuf", 4096, 1LL << 30, &x, err, errlen)) return -EINVAL;
    if (x < 4096 || x > (1LL << 30)) {
        snprintf(err, errlen, "rcvbuf: out of range 4KiB..1GiB");
        return -EINVAL;
    }
    s->rcvbuf = x;
    return 0;
}

static int f_host(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    return copy_str(s->host, sizeof s->host, v, "host", err, errlen);
}

static int f_format(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    if (!json_is_string(v) || record_format_parse(json_string_value(v), &s->format)) {
        snprintf(err, errlen, "data_format: must be ndjson, text or auto");
        return -EINVAL;
    }
    return 0;
}

static int f_path(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    if (copy_str(s->path, sizeof s->path, v, "path", err, errlen)) return -EINVAL;
    if (s->path[0] != '/') {
        snprintf(err, errlen, "path: must start with /");
        return -EINVAL;
    }
    return 0;
}

static int f_token(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    if (!json_is_string(v)) {
        snprintf(err, errlen, "token: expected a string");
        return -EINVAL;
    }
    free(s->token);
    s->token = NULL;
    if (!json_string_length(v)) return 0;
    int rc = bf_config_resolve_secret(json_string_value(v), &s->token, err, errlen);
    return rc ? rc : 0;
}

static int f_tls_cert(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    return copy_str(s->tls_cert, sizeof s->tls_cert, v, "tls_cert", err, errlen);
}

static int f_tls_key(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    return copy_str(s->tls_key, sizeof s->tls_key, v, "tls_key", err, errlen);
}

static int f_ignore(proxy_source *s, const json_t *v, char *err, size_t errlen)
{
    (void)s, (void)v, (void)err, (void)errlen;
    return 0;
}

/* Our keys, then the original proxy's plugin keys that the control service sends in source.custom
 * (original-proxy §2): two map onto ours, the rest have no meaning here (auto-detected syslog mode,
 * hint always ndjson, limits that are global settings) and are accepted so that control-managed
 * sources start. Anything else is an error. */
static const struct { const char *key; field_fn fn; } fields[] = {
    {"type", f_type}, {"transport", f_transport}, {"port", f_port}, {"host", f_host},
    {"data_format", f_format}, {"path", f_path}, {"token", f_token}, {"workers", f_workers},
    {"rcvbuf", f_rcvbuf}, {"tls_cert", f_tls_cert}, {"tls_key", f_tls_key},
    {"read_buffer_size", f_rcvbuf}, {"worker_count", f_workers},
    {"syslog_mode", f_ignore}, {"protocol", f_ignore}, {"data_hint", f_ignore}, {"max_payload_size", f_ignore},
    {"max_lines_per_request", f_ignore}, {"read_timeout", f_ignore}, {"write_timeout", f_ignore},
    {"enable_authentication", f_ignore}, {"tenant_id", f_ignore}, {"dataset_id", f_ignore},
    {"bearer_token", f_ignore}, {"name", f_ignore}, {"max_connections", f_ignore}, {"max_line_size", f_ignore},
    {"delimiter", f_ignore},
};

/* Which socket each type listens on. */
static const struct { const char *type; const char *transport; } sockets[] = {
    {"udp", "udp"}, {"tcp", "tcp"}, {"http", "tcp"}, {"netflow", "udp"}, {"ipfix", "udp"}, {"sflow", "udp"},
};

int source_parse(const json_t *src, proxy_source *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    strcpy(out->host, "0.0.0.0");
    strcpy(out->path, "/webhook");
    out->format = RECORD_AUTO;
    out->workers = 1;
    if (!json_is_object(src)) {
        snprintf(err, errlen, "source: expected an object");
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    char sub[400];
    json_object_foreach((json_t *)src, key, v) {
        size_t i;
        for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (!strcmp(key, fields[i].key)) break;
        if (i == sizeof fields / sizeof fields[0]) {
            snprintf(err, errlen, "source: unknown key \"%s\"", key);
            source_free(out);
            return -EINVAL;
        }
        int rc = fields[i].fn(out, v, sub, sizeof sub);
        if (rc) {
            snprintf(err, errlen, "source.%s", sub);
            source_free(out);
            return rc;
        }
    }
    if (!out->type[0] || !out->port) {
        snprintf(err, errlen, "source: type and port are required");
        source_free(out);
        return -EINVAL;
    }
    if (!out->tls_cert[0] != !out->tls_key[0]) {
        snprintf(err, errlen, "source: tls_cert and tls_key go together");
        source_free(out);
        return -EINVAL;
    }
    if (strcmp(out->type, "syslog")) {
        const char *want = NULL;
        for (size_t i = 0; i < sizeof sockets / sizeof sockets[0]; i++)
            if (!strcmp(out->type, sockets[i].type)) want = sockets[i].transport;
        if (out->transport[0] && strcmp(out->transport, want)) {
            snprintf(err, errlen, "source.transport: %s listens on %s only", out->type, want);
            source_free(out);
            return -EINVAL;
        }
        strcpy(out->transport, want);
    } else if (!out->transport[0]) {
        strcpy(out->transport, "udp");
    }
    if (out->tls_cert[0] && (strcmp(out->transport, "tcp") || !strcmp(out->type, "http"))) {
        snprintf(err, errlen, "source: TLS is available on syslog/tcp and tcp inputs");
        source_free(out);
        return -EINVAL;
    }
    return 0;
}

void source_free(proxy_source *s)
{
    free(s->token);
    s->token = NULL;
}
