/* Fuzz the tenant registry parser (YAML -> JSON -> validated registry) on arbitrary bytes.
 * Invariants checked: success yields a registry whose ids are all valid and whose version is the
 * SHA-256 of the input; failure yields a message and no registry. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bf_tenants.h"
#include "bf_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bf_registry *r = NULL;
    char err[512];
    err[0] = 0;
    int rc = bf_registry_parse_yaml("fuzz.yaml", (const char *)data, size, &r, err, sizeof err);
    if (rc == 0) {
        char ver[65];
        bf_sha256_hex(data, size, ver);
        if (!r || strcmp(ver, r->version) != 0) abort();
        for (size_t i = 0; i < r->ntenants; i++) {
            const bf_tenant *t = &r->tenants[i];
            if (!bf_id_valid(t->id) || bf_registry_tenant(r, t->id) != t) abort();
            for (size_t j = 0; j < t->ndatasets; j++)
                if (!bf_id_valid(t->datasets[j].id) || !t->datasets[j].pipeline) abort();
            if (t->has_token && t->token) (void)bf_tenant_token_ok(t, t->token, strlen(t->token));
        }
        bf_registry_unref(r);
    } else if (r || !err[0]) {
        abort();
    }
    json_t *j = NULL;
    if (bf_yaml_to_json("fuzz.yaml", (const char *)data, size, &j, err, sizeof err) == 0) json_decref(j);
    return 0;
}
