/* manifest: batch records for crash safety (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf_util.h"

void pk_manifest_free(pk_manifest *m)
{
    for (size_t i = 0; i < m->ninputs; i++)
        free(m->inputs[i].key);
    free(m->inputs);
    free(m->tenant);
    free(m->dataset);
    free(m->owner);
    memset(m, 0, sizeof(*m));
}

static int copy_inputs(pk_manifest *m, const pk_input *in, size_t n)
{
    m->inputs = calloc(n ? n : 1, sizeof(pk_input));
    if (!m->inputs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        m->inputs[i] = in[i];
        m->inputs[i].key = strdup(in[i].key);
        if (!m->inputs[i].key)
            return -ENOMEM;
        m->ninputs++;
    }
    return 0;
}

int pk_manifest_new(const char *tenant, const char *dataset, const char *owner, int64_t now_ms,
                    const pk_input *inputs, size_t n, pk_manifest *out)
{
    memset(out, 0, sizeof(*out));
    out->tenant = strdup(tenant);
    out->dataset = strdup(dataset);
    out->owner = strdup(owner ? owner : "");
    out->created_ms = now_ms;
    if (!out->tenant || !out->dataset || !out->owner || copy_inputs(out, inputs, n) < 0) {
        pk_manifest_free(out);
        return -ENOMEM;
    }
    /* hash of what the batch is, so the name says which inputs it covers */
    size_t len = strlen(tenant) + strlen(dataset) + 2;
    for (size_t i = 0; i < n; i++)
        len += strlen(inputs[i].key) + 1;
    char *buf = malloc(len + 1), *p = buf;
    if (!buf) {
        pk_manifest_free(out);
        return -ENOMEM;
    }
    p += sprintf(p, "%s\n%s\n", tenant, dataset);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s\n", inputs[i].key);
    char hex[65];
    bf_sha256_hex(buf, (size_t)(p - buf), hex);
    free(buf);
    memcpy(out->h12, hex, 12);
    out->h12[12] = 0;
    snprintf(out->id, sizeof(out->id), "%lld-%s", (long long)now_ms, out->h12);
    return 0;
}

int pk_manifest_to_json(const pk_manifest *m, char **out, size_t *len)
{
    json_t *arr = json_array();
    json_t *o = json_object();
    if (!arr || !o)
        goto nomem;
    for (size_t i = 0; i < m->ninputs; i++) {
        json_t *e = json_pack("{s:s,s:I,s:I}", "key", m->inputs[i].key, "size", (json_int_t)m->inputs[i].size,
                              "mtime_ms", (json_int_t)m->inputs[i].mtime_ms);
        if (!e || json_array_append_new(arr, e) < 0)
            goto nomem;
    }
    if (json_object_set_new(o, "id", json_string(m->id)) < 0 ||
        json_object_set_new(o, "tenant", json_string(m->tenant)) < 0 ||
        json_object_set_new(o, "dataset", json_string(m->dataset)) < 0 ||
        json_object_set_new(o, "owner", json_string(m->owner)) < 0 ||
        json_object_set_new(o, "created_ms", json_integer(m->created_ms)) < 0 ||
        json_object_set_new(o, "uploaded", json_boolean(m->uploaded)) < 0 ||
        json_object_set(o, "inputs", arr) < 0)
        goto nomem;
    *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    json_decref(arr);
    if (!*out)
        return -ENOMEM;
    *len = strlen(*out);
    return 0;
nomem:
    json_decref(o);
    json_decref(arr);
    return -ENOMEM;
}

int pk_manifest_parse(const char *data, size_t len, pk_manifest *out)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *o = json_loadb(data, len, 0, &je);
    if (!o)
        return -EINVAL;
    const char *id = NULL, *t = NULL, *d = NULL, *owner = "";
    json_int_t created = 0;
    json_t *inputs = NULL;
    int rc = -EINVAL, uploaded = 0;
    if (json_unpack(o, "{s:s,s:s,s:s,s?s,s:I,s:o,s?b}", "id", &id, "tenant", &t, "dataset", &d, "owner", &owner,
                    "created_ms", &created, "inputs", &inputs, "uploaded", &uploaded) < 0 ||
        !json_is_array(inputs) || strlen(id) >= sizeof(out->id))
        goto out;
    const char *dash = strchr(id, '-');
    if (!dash || strlen(dash + 1) != 12)
        goto out;
    snprintf(out->id, sizeof(out->id), "%s", id);
    memcpy(out->h12, dash + 1, 12);
    out->created_ms = created;
    out->uploaded = uploaded;
    out->tenant = strdup(t);
    out->dataset = strdup(d);
    out->owner = strdup(owner);
    size_t n = json_array_size(inputs);
    out->inputs = calloc(n ? n : 1, sizeof(pk_input));
    if (!out->tenant || !out->dataset || !out->owner || !out->inputs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *k;
        json_int_t sz = 0, mt = 0;
        if (json_unpack(json_array_get(inputs, i), "{s:s,s?I,s?I}", "key", &k, "size", &sz, "mtime_ms", &mt) < 0)
            goto out;
        out->inputs[i].key = strdup(k);
        if (!out->inputs[i].key) {
            rc = -ENOMEM;
            goto out;
        }
        out->inputs[i].size = sz;
        out->inputs[i].mtime_ms = mt;
        out->ninputs++;
    }
    rc = 0;
out:
    json_decref(o);
    if (rc < 0)
        pk_manifest_free(out);
    return rc;
}

int pk_manifest_key(const pk_manifest *m, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, PK_MANIFEST_PREFIX "%s/%s/%s.json", m->tenant, m->dataset, m->id);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int64_t pk_key_time_ms(const char *key, int64_t fallback)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    const char *p = base;
    for (int i = 0; i < 2; i++) {
        p = strstr(p, "--");
        if (!p)
            return fallback;
        p += 2;
    }
    char *end;
    long long ns = strtoll(p, &end, 10);
    if (end == p || (end[0] != '-' && end[0] != '.' && end[0] != 0) || ns <= 0)
        return fallback;
    return ns / 1000000;
}
