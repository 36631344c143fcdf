/* bf_store_s3: the s3:// object-store backend (used through bf_store.h). See bf_store.h for behaviour.
 * URI: s3://bucket[/prefix]. Settings from bf_s3_config (NULL = defaults: AWS endpoint of region
 * us-east-1 or AWS_REGION, virtual-host style, credentials chain of bf_awscreds). */
#ifndef BF_STORE_S3_H
#define BF_STORE_S3_H
#include "bf_store.h"
extern const bf_store_ops bf_store_s3_ops;

/* Test and set-up helper: create the bucket of an s3:// store (signed PUT /bucket; "already owned by
 * you" counts as success). 0 or negative errno with bf_store_errmsg() set. */
int bf_store_s3_create_bucket(bf_store *s);
/* Parse one ListObjectsV2 answer (XML, entity-decoded keys) into out, keeping keys that start with
 * prefix (which is stripped). Exposed for tests and the fuzz target. 0 or -ENOMEM; out freed by caller. */
int bf_store_s3_parse_list(const char *xml, size_t len, const char *prefix, bf_store_list *out);
#endif
