/* Fuzz the filter chain on random JSON: the input is a record (or, when it is not a JSON object, the
 * message of one); a fixed set of pipelines exercising every filter runs over it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "../../piper/jfast.h"
#include "../../piper/pipeline.h"

static const char *const PIPES[] = {
    "[{\"type\":\"grok\",\"config\":{\"pattern\":\"%{IP:ip} %{NUMBER:n:int} %{GREEDYDATA:rest}\"}},"
    " {\"type\":\"kv\",\"config\":{\"source_field\":\"rest\",\"target_field\":\"kv\"}},"
    " {\"type\":\"mutate\",\"config\":{\"convert\":{\"n\":\"float\"},\"split\":{\"field\":\"rest\",\"separator\":\" \"},\"gsub\":[\"message\",\"[0-9]\",\"#\"],\"merge\":{\"kv\":\"n\"}}},"
    " {\"type\":\"useragent\",\"config\":{\"source_field\":\"message\"}},"
    " {\"type\":\"fingerprint\",\"config\":{\"source_fields\":[\"message\",\"n\"],\"method\":\"md5\"}}]",
    "[{\"type\":\"json_parse\",\"config\":{}},{\"type\":\"json_flatten\",\"config\":{}},"
    " {\"type\":\"uppercase_keys\",\"config\":{}},{\"type\":\"split\",\"config\":{\"field\":\"A\"}},"
    " {\"type\":\"date_parse\",\"config\":{\"source_field\":\"T\",\"timezone\":\"Europe/Paris\"}},"
    " {\"type\":\"timestamp\",\"config\":{\"field\":\"ts\"}}]",
    "[{\"type\":\"regex_replace\",\"condition\":\"message contains 'a' or n > 3\",\"config\":{\"pattern\":\"(a+)(b*)\",\"replacement\":\"${2}$1$$\"}},"
    " {\"type\":\"conditional_field\",\"config\":{\"field\":\"x.y\",\"operator\":\"matches\",\"value\":\"^z\",\"action\":\"set_null\"}},"
    " {\"type\":\"rename_field\",\"config\":{\"from\":\"message\",\"to\":\"[m][n]\"}},"
    " {\"type\":\"add_field\",\"config\":{\"field\":\"t\",\"value\":\"%{m.n}-${tenant_id}\"}},"
    " {\"type\":\"json_validate\",\"config\":{\"source_field\":\"t\",\"fail_on_invalid\":false}},"
    " {\"type\":\"sample\",\"config\":{\"rate\":0.5,\"seed\":3}},{\"type\":\"drop\",\"config\":{\"unless_field\":\"keep\"}}]",
};

static pipeline *compiled[sizeof PIPES / sizeof *PIPES];

static int collect(void *ud, json_t *rec)
{
    bf_buf *b = ud;
    return jfast_dump(rec, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    for (size_t i = 0; i < sizeof PIPES / sizeof *PIPES; i++) {
        if (!compiled[i]) {
            json_t *spec = json_loads(PIPES[i], 0, NULL);
            if (!spec || pipeline_compile(spec, NULL, &compiled[i], err, sizeof err))
                abort();
            json_decref(spec);
        }
    }
    rx_scratch *rx = NULL;
    if (rx_scratch_create(&rx))
        return 0;
    for (size_t i = 0; i < sizeof PIPES / sizeof *PIPES; i++) {
        json_t *rec = NULL;
        if (jfast_load_object((const char *)data, size, &rec)) {
            char *clean = malloc(size * 3 + 1);
            size_t n = 0;
            if (clean)
                for (size_t k = 0; k < size; k++)
                    clean[n++] = data[k] >= 0x20 && data[k] < 0x7f ? (char)data[k] : '?';
            rec = json_pack("{s:s#}", "message", clean ? clean : "", (int)n);
            free(clean);
        }
        pf_ctx ctx = {.tenant = "t", .dataset = "d", .now_ms = 1764237600000LL, .rx = rx, .rng = 7};
        bf_buf out;
        bf_buf_init(&out, 1 << 24);
        pl_result res = {0};
        if (rec)
            pipeline_run(compiled[i], rec, &ctx, collect, &out, NULL, NULL, &res);
        bf_buf_free(&out);
    }
    rx_scratch_free(rx);
    return 0;
}
