/* libFuzzer target: arbitrary bytes as a YAML configuration against a representative schema
 * (the common keys every daemon has plus one key of every type, nested sections included).
 * Checks: no crash, no leak, and a successful load always prints and converts to JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf_config.h"

typedef struct fuzz_cfg {
    bf_common_config common;
    char *intake, *ack;
    int64_t workers, max_bytes, max_age_ms;
    bool verbose;
    double sample;
} fuzz_cfg;

static const bf_config_key fuzz_keys[] = {
    BF_COMMON_KEYS(fuzz_cfg, "0.0.0.0:8081"),
    {"store.intake", BF_CT_STRING, offsetof(fuzz_cfg, intake), "file:///var/lib/x", 0, 0, NULL, NULL, "intake"},
    {"ack", BF_CT_ENUM, offsetof(fuzz_cfg, ack), "store", 0, 0, "store|spool", NULL, "ack"},
    {"workers", BF_CT_INT, offsetof(fuzz_cfg, workers), "4", 1, 64, NULL, NULL, "workers"},
    {"batch.limits.max_bytes", BF_CT_SIZE, offsetof(fuzz_cfg, max_bytes), "8MiB", 1024, 1e12, NULL, NULL, "size"},
    {"batch.max_age", BF_CT_DURATION, offsetof(fuzz_cfg, max_age_ms), "1s", 0, 0, NULL, NULL, "age"},
    {"verbose", BF_CT_BOOL, offsetof(fuzz_cfg, verbose), NULL, 0, 0, NULL, NULL, "verbose"},
    {"sample", BF_CT_DOUBLE, offsetof(fuzz_cfg, sample), "0.5", 0, 1, NULL, NULL, "sample"},
};
static const bf_config_schema fuzz_schema = {"fuzz", fuzz_keys, sizeof fuzz_keys / sizeof fuzz_keys[0]};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* "file:/dev/stdin" in an input must not block the fuzzer */
    if (!freopen("/dev/null", "r", stdin))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[BF_CFG_ERRLEN];
    int rc = bf_config_load_text(&fuzz_schema, &cfg, "fuzz.yaml", (const char *)data, size, err, sizeof err);
    if (rc == 0) {
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            bf_config_print(&fuzz_schema, &cfg, null);
            fclose(null);
        }
        char *js = bf_config_to_json(&fuzz_schema, &cfg);
        if (!js)
            abort(); /* a loaded config must always be representable */
        free(js);
    } else if (err[0] == '\0') {
        abort(); /* every error carries a message */
    }
    bf_config_free(&fuzz_schema, &cfg);
    return 0;
}
