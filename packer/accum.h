/* accum: per tenant/dataset accumulation and the crash-safe packing procedure (DESIGN §8).
 *
 * pk_dataset_poll lists <tenant>/<dataset>/ in store.piper; when the waiting input reaches
 * target_bytes or its oldest object max_wait, it takes the dataset lease (_leases/packer in
 * store.piper), replays any manifest left for the dataset, then packs batches:
 *   1. PUT manifest _manifests/packer/<t>/<d>/<id>.json (the input keys)
 *   2. stream every input (gzip/zstd/plain NDJSON) through the converter (two passes, bounded memory)
 *   3. PUT each Parquet file (multipart when large); names derive from the manifest id
 *   4. delete the inputs, 5. delete the manifest, release the lease.
 * Any failure before 4 leaves the manifest: the next attempt (this or another instance) redoes it
 * and overwrites the same output keys. A replay that finds an input already gone knows step 3 had
 * completed (inputs are deleted only after every output is stored) and only finishes 4-5.
 * Test hook: BF_PACKER_CRASH_AT=after_manifest|mid_upload|after_upload|mid_delete makes the process
 * _exit(137) at that point.
 * Ownership: pk_ctx owns its stores; the config and metrics are borrowed. Errors: negative errno. */
#ifndef PK_ACCUM_H
#define PK_ACCUM_H
#include <signal.h>
#include <stdint.h>
#include <jansson.h>
#include "bf_metrics.h"
#include "bf_store.h"
#include "bf_tenants.h"
#include "config.h"
#include "manifest.h"
#include "parquet.h"
#include "partition.h"

typedef struct pk_out_store { char *uri; bf_store *s; } pk_out_store;

typedef struct pk_ctx {
    const pk_config *cfg;
    bf_store *piper;
    bf_store *packer;
    pk_out_store *outs;
    size_t nouts;
    bf_metrics *metrics;
    char owner[256];
    char crash_at[32];
    volatile sig_atomic_t *term;
    int64_t last_error_ms;        /* read by the admin thread (atomics) */
    int64_t store_failures;       /* consecutive listing failures of store.piper */
} pk_ctx;

typedef struct pk_dsopts {
    const char *uri;              /* NULL = store.packer */
    pk_partitioning part;
    char time_field[128];
    pq_codec codec;
} pk_dsopts;

int pk_ctx_init(pk_ctx *x, const pk_config *cfg, bf_metrics *m, volatile sig_atomic_t *term, char *err, size_t errlen);
void pk_ctx_free(pk_ctx *x);
/* Dataset output options: the dataset's `output` object (may be NULL) over the daemon defaults. */
int pk_dsopts_from(const pk_config *cfg, const json_t *output, pk_dsopts *o, char *err, size_t errlen);
/* 1 = packed something, 0 = nothing to do (or lease held elsewhere), negative = error. */
int pk_dataset_poll(pk_ctx *x, const char *tenant, const char *dataset, const pk_dsopts *o, int64_t now_ms);
/* Finish every manifest found under _manifests/packer/ (start-up recovery). */
int pk_recover_all(pk_ctx *x, const bf_registry *reg);
#endif
