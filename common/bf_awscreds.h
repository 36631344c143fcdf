/* bf_awscreds: the AWS credentials chain used by the S3 client (DESIGN §4).
 *   1. static keys: the arguments (config), else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *   2. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against http://169.254.170.2) or
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI (http only to loopback or the ECS/EKS link-local hosts, else https),
 *      with "Authorization: <AWS_CONTAINER_AUTHORIZATION_TOKEN or contents of …_TOKEN_FILE>"
 *   3. EC2 IMDSv2: PUT /latest/api/token, then GET the role and its credentials;
 *      endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254),
 *      skipped when AWS_EC2_METADATA_DISABLED=true
 * The environment is read once, by bf_awscreds_create. Temporary credentials are refreshed when less than
 * BF_AWSCREDS_REFRESH_MS remain; if a refresh fails, still-valid credentials keep being used.
 * Thread-safe: bf_awscreds_get may be called from many threads (refreshes are serialised).
 * Errors: 0, -EACCES (no credentials anywhere; reason in err), -ENOMEM. */
#ifndef BF_AWSCREDS_H
#define BF_AWSCREDS_H
#include <stddef.h>
#include <stdint.h>

#define BF_AWSCREDS_REFRESH_MS (5 * 60 * 1000)

typedef struct bf_aws_credentials {
    char access_key[128];
    char secret_key[256];
    char session_token[4096];   /* "" when none */
    int64_t expires_ms;         /* Unix ms; 0 = does not expire (static keys) */
    char source[16];            /* "config", "env", "ecs", "imds" */
} bf_aws_credentials;

typedef struct bf_awscreds bf_awscreds;

/* access_key/secret_key/session_token: static keys from the configuration (NULL or "" = not given). */
int bf_awscreds_create(const char *access_key, const char *secret_key, const char *session_token,
                       bf_awscreds **out);
void bf_awscreds_destroy(bf_awscreds *c);
/* Current credentials (copied into out), fetching or refreshing them when needed. */
int bf_awscreds_get(bf_awscreds *c, bf_aws_credentials *out, char *err, size_t errlen);
/* Forget cached temporary credentials so that the next get fetches (after a 403 ExpiredToken). */
void bf_awscreds_invalidate(bf_awscreds *c);
#endif
