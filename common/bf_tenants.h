/* bf_tenants: the tenant registry of DESIGN §3.1, loaded from file://, s3:// (ETag polling) or the
 * control service, with atomic swap on reload.
 *
 * A bf_registry is immutable and reference counted: readers take a reference with bf_tenants_get()
 * and drop it with bf_registry_unref(); a reload builds a new registry and swaps the pointer.
 * Per-daemon parts of a dataset (source, pipeline, output, format options) are kept as jansson
 * objects so each daemon interprets its own (integers parsed from YAML stay exact: json_integer).
 * Errors: 0 or -errno; -EINVAL with a message (file:line where known) for invalid registries. */
#ifndef BF_TENANTS_H
#define BF_TENANTS_H
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "bf_config.h"

typedef struct bf_dataset {
    char *id;
    bool active;
    char *format;          /* piper input format; default "ndjson" */
    json_t *source;        /* proxy input object or NULL */
    json_t *pipeline;      /* array (possibly empty), never NULL */
    json_t *output;        /* packer output object or NULL */
    json_t *raw;           /* the whole dataset object */
} bf_dataset;

typedef struct bf_tenant {
    char *id;
    bool active;
    bool has_token;
    unsigned char token_sha256[32];
    char *token;           /* plaintext when given (the proxy needs it); NULL otherwise */
    bf_dataset *datasets;
    size_t ndatasets;
} bf_tenant;

typedef struct bf_registry {
    int refs;              /* atomic */
    bf_tenant *tenants;
    size_t ntenants;
    char version[65];      /* SHA-256 hex of the source text: changes when anything changes */
} bf_registry;

/* id rules of original-proxy §6: ^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,62}[a-zA-Z0-9])?$, not reserved. */
bool bf_id_valid(const char *id);
bool bf_id_reserved(const char *id);

/* Parse a registry from YAML text (name used in error messages). Top level: {tenants: [...]} (only key).
 * Tenant keys: id, name, description, active, token, token_sha256, datasets (others are errors).
 * Dataset keys beyond id/active/format/source/pipeline/output are kept in `raw` for the daemons.
 * token: plaintext or "env:NAME"/"file:/path"; when both token and token_sha256 are given they must agree. */
int bf_registry_parse_yaml(const char *name, const char *text, size_t len, bf_registry **out,
                           char *err, size_t errlen);
/* Build from a JSON array of tenants in the same shape (used by the control mapping). */
int bf_registry_from_json(json_t *tenants, bf_registry **out, char *err, size_t errlen);
bf_registry *bf_registry_ref(bf_registry *r);
void bf_registry_unref(bf_registry *r);
const bf_tenant *bf_registry_tenant(const bf_registry *r, const char *id);
const bf_dataset *bf_tenant_dataset(const bf_tenant *t, const char *id);
/* Constant-time check of a presented token against the tenant's SHA-256; 1 = match. */
int bf_tenant_token_ok(const bf_tenant *t, const char *token, size_t len);

/* YAML text -> jansson (mappings keep order, ints exact, "true"/"false"/"null" typed). Also used by config.
 * Plain scalars: decimal/0x/0o integers -> json_integer (outside int64: error), YAML 1.2 floats -> json_real,
 * true/false (any case form), null/~/empty -> null; quoted, block and !!str scalars stay strings.
 * Empty text gives an empty object. Errors ("name:line: why"): syntax, duplicate keys, non-scalar keys,
 * aliases, more than one document, nesting deeper than 64. */
int bf_yaml_to_json(const char *name, const char *text, size_t len, json_t **out, char *err, size_t errlen);

typedef struct bf_tenants bf_tenants;
/* source: "file:///…", "s3://bucket/key", or "control". common gives s3 settings, control url/key,
 * state_dir (for the control cache). Loads once; fails when the first load fails and no cache exists.
 * common may be NULL for file:// sources. daemon selects the control mapping ("proxy", "receiver", …).
 * Change detection: file = mtime+size, then the text's SHA-256; s3 = ETag, then SHA-256; control = the
 * mapped registry's SHA-256. An unchanged version never swaps. */
int bf_tenants_create(const char *source, const bf_common_config *common, const char *daemon,
                      bf_tenants **out, char *err, size_t errlen);
void bf_tenants_destroy(bf_tenants *t);
bf_registry *bf_tenants_get(bf_tenants *t);      /* new reference, never NULL after create */
/* Check the source (mtime / ETag / control answer) and swap if changed.
 * Returns 1 when a new registry was installed, 0 unchanged, negative on error (old one kept). */
int bf_tenants_poll(bf_tenants *t, char *err, size_t errlen);
/* Force reload now (SIGHUP): same return values. */
int bf_tenants_reload(bf_tenants *t, char *err, size_t errlen);
#endif
