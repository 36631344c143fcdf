/* admin_api: piper's routes on the admin server (port 8082) besides health and metrics:
 *   POST /api/v1/pipeline/test  {pipeline: [...], lines: [..] | "text", format: "ndjson", options: {},
 *                                tenant, dataset (use that dataset's pipeline/format when pipeline is
 *                                absent)} → {records: [...], trace: [[{index, filter, outcome, record}]],
 *                                stats: {lines, in, out, dropped, errors}, version}
 *   GET  /api/v1/pipelines      every dataset with its pipeline version or compile error.
 * Handlers run on the admin thread and only read shared state through core_* getters. */
#ifndef PIPER_ADMIN_API_H
#define PIPER_ADMIN_API_H
#include "bf_admin.h"
#include "discover.h"

int admin_api_register(bf_admin *a, piper_core *c);
/* The test endpoint's logic (also used by unit tests): body JSON → response JSON; status out. */
json_t *admin_pipeline_test(piper_core *c, pl_env *env, const char *body, size_t len, int *status);
#endif
