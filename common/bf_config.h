/* bf_config: typed configuration from YAML (libyaml) driven by a schema table that each daemon declares.
 *
 * A schema is an array of bf_config_key, one per leaf key, addressed by a dotted path ("store.intake").
 * Values are written into the daemon's config struct at `offset`:
 *   BF_CT_STRING, BF_CT_SECRET -> char *  (heap, owned by the struct; freed by bf_config_free)
 *   BF_CT_INT, BF_CT_SIZE      -> int64_t (SIZE accepts "8MiB", "512KiB", bytes)
 *   BF_CT_DURATION             -> int64_t milliseconds ("250ms", "1s", "5m")
 *   BF_CT_BOOL                 -> bool
 *   BF_CT_ENUM                 -> char * restricted to the '|'-separated list in `choices`
 *   BF_CT_DOUBLE               -> double
 * Order of precedence: defaults < YAML file < alt_env (e.g. CONTROL_URL, AWS_REGION; ignored when empty)
 * < BYTEFREEZER_<DAEMON>__<A>__<B> (the dotted path's '.' becomes "__", letters upper-cased).
 * A BYTEFREEZER_<DAEMON>__ variable that names no key is an error (typos are never ignored).
 * Strings (STRING and SECRET) of the form "env:NAME" or "file:/path" are resolved after merging
 * (a missing variable or unreadable file is an error); "file:///path" is a URI and is left alone.
 * Nested mappings and flow mappings are walked into dotted paths; a dotted key ("s3.region: x") is
 * accepted as well. A plain null YAML value (`key:`, `~`, `null`) leaves the key at its default. Unset strings are "".
 * Unknown keys, wrong types, out-of-range values, bad enum values, sequences/mappings where a scalar
 * is expected and duplicate keys are errors "file:line:col: message"; env errors name the variable.
 * Errors: 0 or -EINVAL (message in err), -ENOENT (file missing), -ENOMEM.
 * After any return (error included) the caller releases the struct with bf_config_free. */
#ifndef BF_CONFIG_H
#define BF_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum {
    BF_CT_STRING, BF_CT_SECRET, BF_CT_INT, BF_CT_SIZE, BF_CT_DURATION, BF_CT_BOOL, BF_CT_ENUM, BF_CT_DOUBLE
} bf_ctype;

typedef struct bf_config_key {
    const char *path;      /* dotted path, e.g. "s3.endpoint" */
    bf_ctype type;
    size_t offset;         /* offsetof(daemon_config, field) */
    const char *def;       /* default as text (NULL = unset/empty string, 0, false) */
    double min, max;       /* inclusive range for numbers; min == max == 0 means unbounded */
    const char *choices;   /* BF_CT_ENUM: "store|spool" */
    const char *alt_env;   /* extra env name honoured (CONTROL_URL, AWS_ACCESS_KEY_ID, ...) or NULL */
    const char *help;      /* one line for --help, --check-config and the README reference */
} bf_config_key;

typedef struct bf_config_schema {
    const char *daemon;            /* "receiver": env prefix BYTEFREEZER_RECEIVER__ */
    const bf_config_key *keys;
    size_t nkeys;
} bf_config_schema;

#define BF_CFG_ERRLEN 512

/* Apply defaults, then `path` (NULL = no file), then env. cfg must be zeroed by the caller. */
int bf_config_load(const bf_config_schema *s, void *cfg, const char *path, char *err, size_t errlen);
/* Same from an in-memory YAML text (used by tests and the fuzz target); name appears in errors. */
int bf_config_load_text(const bf_config_schema *s, void *cfg, const char *name, const char *text,
                        size_t len, char *err, size_t errlen);
void bf_config_free(const bf_config_schema *s, void *cfg);
/* Print the effective config as YAML-ish "path: value" lines, secrets masked as "****". */
void bf_config_print(const bf_config_schema *s, const void *cfg, FILE *out);
/* The effective config as a JSON object text (secrets masked); caller frees. */
char *bf_config_to_json(const bf_config_schema *s, const void *cfg);
/* Every environment name the daemon reads, one per line (schema-derived names and alt_env names). */
void bf_config_list_env(const bf_config_schema *s, FILE *out);
/* Markdown table of keys (path, type, default, environment names, help) for the README reference. */
void bf_config_print_reference(const bf_config_schema *s, FILE *out);
/* env name for a path: BYTEFREEZER_<DAEMON>__A__B into out. */
void bf_config_env_name(const char *daemon, const char *path, char *out, size_t outlen);
/* Resolve "env:NAME" / "file:/path" (trailing newline trimmed; max 1 MiB); other strings, including
 * "file:///…" URIs, are copied. Caller frees *out. */
int bf_config_resolve_secret(const char *in, char **out, char *err, size_t errlen);

/* ---- the keys every daemon has (DESIGN §3.2) ---- */
typedef struct bf_s3_config {
    char *endpoint;               /* "" = AWS (https://s3.<region>.amazonaws.com) */
    char *region;
    bool path_style;
    char *access_key, *secret_key, *session_token;
    int64_t multipart_threshold;  /* bytes */
    int64_t part_size;            /* bytes, >= 5 MiB */
    int64_t timeout_ms;           /* per request */
    int64_t retry_deadline_ms;    /* total retry budget per operation */
    int64_t max_connections;
} bf_s3_config;

typedef struct bf_common_config {
    char *log_level;
    char *admin_listen;
    char *admin_token;
    char *tenants;                /* file:///…, s3://…, control */
    int64_t tenants_poll_ms;
    int64_t shutdown_timeout_ms;
    char *state_dir;              /* caches (control registry), leases for file store */
    bf_s3_config s3;
    char *control_url, *control_api_key, *account_id;
} bf_common_config;

/* Expands to the bf_config_key rows for a struct T that has `bf_common_config common;`.
 * admin_default is the daemon's default admin address, e.g. "0.0.0.0:8081". */
#define BF_COMMON_KEYS(T, admin_default) \
  {"log_level", BF_CT_ENUM, offsetof(T, common.log_level), "info", 0, 0, "debug|info|warn|error", NULL, "log level"}, \
  {"admin_listen", BF_CT_STRING, offsetof(T, common.admin_listen), admin_default, 0, 0, NULL, NULL, "admin HTTP address (health, metrics, config)"}, \
  {"admin.token", BF_CT_SECRET, offsetof(T, common.admin_token), NULL, 0, 0, NULL, NULL, "bearer token for admin routes other than health and metrics (empty: open)"}, \
  {"tenants", BF_CT_STRING, offsetof(T, common.tenants), "file:///etc/bytefreezer/tenants.yaml", 0, 0, NULL, NULL, "tenant registry: file:///path, s3://bucket/key or control"}, \
  {"tenants_poll", BF_CT_DURATION, offsetof(T, common.tenants_poll_ms), "30s", 100, 86400000, NULL, NULL, "how often the registry source is checked for changes"}, \
  {"shutdown_timeout", BF_CT_DURATION, offsetof(T, common.shutdown_timeout_ms), "20s", 0, 3600000, NULL, NULL, "graceful stop budget"}, \
  {"state_dir", BF_CT_STRING, offsetof(T, common.state_dir), "/var/lib/bytefreezer", 0, 0, NULL, NULL, "local state: control cache"}, \
  {"s3.endpoint", BF_CT_STRING, offsetof(T, common.s3.endpoint), NULL, 0, 0, NULL, "AWS_ENDPOINT_URL_S3", "S3 endpoint URL (empty: AWS)"}, \
  {"s3.region", BF_CT_STRING, offsetof(T, common.s3.region), "us-east-1", 0, 0, NULL, "AWS_REGION", "S3 region"}, \
  {"s3.path_style", BF_CT_BOOL, offsetof(T, common.s3.path_style), "false", 0, 0, NULL, NULL, "path-style addressing (true for most non-AWS servers)"}, \
  {"s3.access_key", BF_CT_SECRET, offsetof(T, common.s3.access_key), NULL, 0, 0, NULL, "AWS_ACCESS_KEY_ID", "static access key (empty: credentials chain)"}, \
  {"s3.secret_key", BF_CT_SECRET, offsetof(T, common.s3.secret_key), NULL, 0, 0, NULL, "AWS_SECRET_ACCESS_KEY", "static secret key"}, \
  {"s3.session_token", BF_CT_SECRET, offsetof(T, common.s3.session_token), NULL, 0, 0, NULL, "AWS_SESSION_TOKEN", "temporary-credential token"}, \
  {"s3.multipart_threshold", BF_CT_SIZE, offsetof(T, common.s3.multipart_threshold), "64MiB", 5242880, 5368709120.0, NULL, NULL, "objects above this size use multipart upload"}, \
  {"s3.part_size", BF_CT_SIZE, offsetof(T, common.s3.part_size), "8MiB", 5242880, 5368709120.0, NULL, NULL, "multipart part size"}, \
  {"s3.timeout", BF_CT_DURATION, offsetof(T, common.s3.timeout_ms), "30s", 100, 3600000, NULL, NULL, "per-request timeout"}, \
  {"s3.retry_deadline", BF_CT_DURATION, offsetof(T, common.s3.retry_deadline_ms), "60s", 0, 86400000, NULL, NULL, "total retry budget per store operation"}, \
  {"s3.max_connections", BF_CT_INT, offsetof(T, common.s3.max_connections), "16", 1, 1024, NULL, NULL, "pooled connections to the store"}, \
  {"control.url", BF_CT_STRING, offsetof(T, common.control_url), NULL, 0, 0, NULL, "CONTROL_URL", "control service URL (tenants: control)"}, \
  {"control.api_key", BF_CT_SECRET, offsetof(T, common.control_api_key), NULL, 0, 0, NULL, "CONTROL_API_KEY", "control service bearer key"}, \
  {"control.account_id", BF_CT_STRING, offsetof(T, common.account_id), NULL, 0, 0, NULL, "ACCOUNT_ID", "control service account id"}
#endif
