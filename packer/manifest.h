/* manifest: the packer's crash-safety record of one batch (DESIGN §8).
 * Stored in store.piper at _manifests/packer/<tenant>/<dataset>/<id>.json before any output is
 * written; it lists the input objects (key, size, mtime). The id is "<created_ms>-<h12>" where h12 is
 * the start of SHA-256 over tenant, dataset and the input keys, and every output name derives from
 * it, so replaying a manifest after a crash overwrites the same outputs instead of duplicating them.
 * Ownership: pk_manifest owns its strings (pk_manifest_free). Errors: 0, -EINVAL (bad JSON), -ENOMEM. */
#ifndef PK_MANIFEST_H
#define PK_MANIFEST_H
#include <stddef.h>
#include <stdint.h>

#define PK_MANIFEST_PREFIX "_manifests/packer/"

typedef struct pk_input { char *key; int64_t size; int64_t mtime_ms; } pk_input;

typedef struct pk_manifest {
    char id[64];
    char h12[13];
    char *tenant, *dataset, *owner;
    int64_t created_ms;
    pk_input *inputs;
    size_t ninputs;
    int uploaded;         /* 1 once every output is stored: a replay only deletes */
} pk_manifest;

/* Build a new manifest (inputs copied). */
int pk_manifest_new(const char *tenant, const char *dataset, const char *owner, int64_t now_ms,
                    const pk_input *inputs, size_t n, pk_manifest *out);
int pk_manifest_to_json(const pk_manifest *m, char **out, size_t *len);   /* caller frees */
int pk_manifest_parse(const char *data, size_t len, pk_manifest *out);
void pk_manifest_free(pk_manifest *m);
/* store key of the manifest; 0 or -ENAMETOOLONG */
int pk_manifest_key(const pk_manifest *m, char *out, size_t outlen);
/* Receive time (ms) of a piper key "<t>--<d>--<unix_ns>--…", or fallback. */
int64_t pk_key_time_ms(const char *key, int64_t fallback);
#endif
