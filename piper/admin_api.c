/* admin_api: see admin_api.h. */
#include "admin_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bf_util.h"
#include "worker.h"

#define MAX_TEST_LINES 1000

static json_t *error_json(int *status, int code, const char *msg)
{
    *status = code;
    return json_pack("{s:s}", "error", msg);
}

typedef struct trace_ctx { json_t *cur; } trace_ctx;

static void trace_cb(void *ud, size_t idx, const char *type, const char *outcome, const json_t *rec)
{
    trace_ctx *t = ud;
    json_array_append_new(t->cur, json_pack("{s:I, s:s, s:s, s:O}", "index", (json_int_t)idx, "filter", type,
                                            "outcome", outcome, "record", (json_t *)rec));
}

/* Lines from a JSON array (strings, or objects serialised) or one text blob. */
static int gather_lines(json_t *lines, bf_buf *text, size_t *n)
{
    *n = 0;
    if (json_is_string(lines)) {
        *n = 1;
        return bf_buf_append(text, json_string_value(lines), json_string_length(lines));
    }
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        if (i >= MAX_TEST_LINES)
            return -E2BIG;
        char *s = json_is_string(l) ? NULL : json_dumps(l, JSON_COMPACT);
        const char *t = json_is_string(l) ? json_string_value(l) : s;
        int rc = t ? bf_buf_puts(text, t) : -ENOMEM;
        free(s);
        if (rc || bf_buf_putc(text, '\n'))
            return -ENOMEM;
        (*n)++;
    }
    return 0;
}

static ds_conf *test_conf(piper_core *c, pl_env *env, json_t *req, int *status, json_t **err)
{
    const char *tenant = json_string_value(json_object_get(req, "tenant"));
    const char *dataset = json_string_value(json_object_get(req, "dataset"));
    json_t *spec = json_object_get(req, "pipeline");
    if (!spec)
        spec = json_object_get(req, "filters");   /* the original's field name */
    if (!spec && tenant && dataset && c) {
        ds_conf *d = core_dataset(c, tenant, dataset);
        if (!d)
            *err = error_json(status, 404, "unknown tenant/dataset");
        return d;
    }
    if (!spec)
        spec = json_array();
    else
        json_incref(spec);
    const char *format = json_string_value(json_object_get(req, "format"));
    json_t *opts = json_object_get(req, "options");
    ds_conf *d = NULL;
    if (ds_conf_compile(tenant ? tenant : "test", dataset ? dataset : "test", format, opts, spec, env, &d))
        *err = error_json(status, 500, "out of memory");
    json_decref(spec);
    return d;
}

json_t *admin_pipeline_test(piper_core *c, pl_env *env, const char *body, size_t len, int *status)
{
    *status = 200;
    json_error_t je;
    json_t *req = json_loadb(body, len, 0, &je);
    if (!json_is_object(req)) {
        json_decref(req);
        return error_json(status, 400, "body must be a JSON object {pipeline, lines, format}");
    }
    json_t *err = NULL;
    ds_conf *d = test_conf(c, env, req, status, &err);
    json_t *lines = json_object_get(req, "lines");
    json_t *own_lines = NULL;
    if (!lines && json_is_array(json_object_get(req, "samples"))) {
        /* the original API's shape: samples [{raw_data, parsed_data}] */
        own_lines = json_array();
        size_t i;
        json_t *smp;
        json_array_foreach(json_object_get(req, "samples"), i, smp) {
            json_t *pd = json_object_get(smp, "parsed_data"), *rd = json_object_get(smp, "raw_data");
            json_array_append(own_lines, json_is_object(pd) ? pd : json_is_string(rd) ? rd : json_string(""));
        }
        lines = own_lines;
    }
    if (!err && d && d->error[0])
        err = error_json(status, 400, d->error);
    if (!err && !json_is_array(lines) && !json_is_string(lines))
        err = error_json(status, 400, "lines must be a list of strings or a string");
    json_t *resp = err;
    if (!err) {
        rx_scratch *rx = NULL;
        bf_buf text, out;
        bf_buf_init(&text, 0);
        bf_buf_init(&out, 0);
        size_t n = 0;
        int rc = gather_lines(lines, &text, &n);
        json_t *records = json_array(), *traces = json_array();
        wk_stats total = {0};
        if (rc == -E2BIG)
            resp = error_json(status, 413, "at most 1000 lines");
        else if (rc || rx_scratch_create(&rx))
            resp = error_json(status, 500, "out of memory");
        else {
            /* one line at a time so each gets its own trace */
            trace_ctx tc;
            wk_mem m = {.format = d->format, .pl = d->pl, .env = env, .rx = rx, .tenant = d->tenant,
                        .dataset = d->dataset, .max_line = 1 << 20, .recv_ms = bf_now_ms(), .trace = trace_cb,
                        .trace_ud = &tc};
            const char *p = text.data ? text.data : "";
            size_t left = text.len;
            while (left) {
                const char *nl = memchr(p, '\n', left);
                size_t ll = nl ? (size_t)(nl - p) : left;
                tc.cur = json_array();
                bf_buf_reset(&out);
                wk_stats st;
                if (wk_process_buffer(&m, p, ll, &out, &st) == 0) {
                    for (char *s = out.data, *e; s && *s; s = e + 1) {
                        e = strchr(s, '\n');
                        json_array_append_new(records, json_loadb(s, (size_t)(e - s), 0, NULL));
                    }
                }
                total.lines += st.lines; total.in += st.in; total.out += st.out;
                total.dropped += st.dropped; total.errors += st.errors;
                json_array_append_new(traces, tc.cur);
                p += ll + (nl ? 1 : 0);
                left -= ll + (nl ? 1 : 0);
            }
            resp = json_pack("{s:O, s:O, s:{s:I, s:I, s:I, s:I, s:I}, s:s, s:s}", "records", records, "trace", traces,
                             "stats", "lines", (json_int_t)total.lines, "in", (json_int_t)total.in, "out",
                             (json_int_t)total.out, "dropped", (json_int_t)total.dropped, "errors",
                             (json_int_t)total.errors, "version", pipeline_version(d->pl), "format", fmt_name(d->format));
        }
        json_decref(records);
        json_decref(traces);
        rx_scratch_free(rx);
        bf_buf_free(&text);
        bf_buf_free(&out);
    }
    ds_conf_unref(d);
    json_decref(own_lines);
    json_decref(req);
    return resp;
}

static void respond(bf_admin_resp *resp, int status, json_t *j)
{
    resp->status = status;
    resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(j);
}

static void h_test(void *ud, const bf_admin_req *req, bf_admin_resp *resp)
{
    piper_core *c = ud;
    int status;
    json_t *j = admin_pipeline_test(c, core_env(c), req->body ? req->body : "", req->body_len, &status);
    respond(resp, status, j);
}

static void h_pipelines(void *ud, const bf_admin_req *req, bf_admin_resp *resp)
{
    (void)req;
    respond(resp, 200, json_pack("{s:o}", "pipelines", core_datasets_json(ud)));
}

int admin_api_register(bf_admin *a, piper_core *c)
{
    int rc = bf_admin_route(a, "POST", "/api/v1/pipeline/test", 0, h_test, c);
    if (!rc)
        rc = bf_admin_route(a, "POST", "/api/v1/transformations/test", 0, h_test, c);
    if (!rc)
        rc = bf_admin_route(a, "GET", "/api/v1/pipelines", 0, h_pipelines, c);
    return rc;
}
