/* discover: the piper daemon's core (DESIGN §7.1): every poll lists each active dataset's intake
 * prefix, queues objects not already in flight, and a pool of worker threads claims each one with a
 * lease (store: bf_lease under _leases/piper in store.intake; control: the control service's file
 * locks; none: single instance), processes it (worker.c), deletes the input only after the output
 * PUT, and counts failures in _attempts/piper/<hash>; at max_attempts the object moves to
 * _dlq/<key> with <key>.error.json beside it so it never blocks the others.
 * Thread-safety: core_poll/core_reload run on the main thread; workers are internal; the getters
 * used by admin handlers are safe from any thread. */
#ifndef PIPER_DISCOVER_H
#define PIPER_DISCOVER_H
#include <stdbool.h>
#include <jansson.h>
#include "bf_admin.h"
#include "bf_metrics.h"
#include "bf_store.h"
#include "bf_tenants.h"
#include "config.h"
#include "datasets.h"
#include "filter.h"

typedef struct piper_core piper_core;

/* Opens the stores, the registry and the shared services (geoip, dns). cfg is borrowed. */
int core_create(const piper_config *cfg, bf_metrics *m, piper_core **out, char *err, size_t errlen);
int core_start(piper_core *c);
/* One discovery round; returns the number of objects queued. */
int core_poll(piper_core *c);
/* Check the registry (force: reload now, e.g. SIGHUP) and rebuild the dataset table if it changed. */
int core_reload(piper_core *c, bool force);
/* Stop taking work, let in-flight objects finish (up to timeout_ms), join the workers. */
void core_stop(piper_core *c, int64_t timeout_ms);
void core_destroy(piper_core *c);

bf_health core_health(void *ud, json_t *detail);
pl_env *core_env(piper_core *c);
/* New reference to the current conf of a dataset, or NULL. */
ds_conf *core_dataset(piper_core *c, const char *tenant, const char *dataset);
bf_store *core_intake(piper_core *c);
/* Called by the geoip sync to record a swap in metrics. */
void core_note_geoip(piper_core *c, bool ok);
/* [{tenant, dataset, format, version | error}] for GET /api/v1/pipelines. */
json_t *core_datasets_json(piper_core *c);
/* Objects fully processed since start (tests and health). */
uint64_t core_done(piper_core *c);
#endif
