/* bf_daemon: the command line every binary shares (DESIGN §1):
 *   -c/--config FILE, --check-config, --version, --help, --healthcheck, --list-env, --config-reference
 * plus daemon-specific flags handed to `extra_flag` (e.g. packer --inspect FILE).
 * bf_daemon_main loads the config (zeroed struct of cfg_size bytes), runs validate, sets up logging and
 * signals, then calls run(). It returns the process exit code. */
#ifndef BF_DAEMON_H
#define BF_DAEMON_H
#include "bf_config.h"
#include "bf_util.h"

typedef struct bf_daemon_desc {
    const char *name;                 /* "receiver" */
    const char *default_config;       /* "/etc/bytefreezer/receiver.yaml" */
    const bf_config_schema *schema;
    size_t cfg_size;                  /* sizeof(daemon config struct), which embeds bf_common_config */
    size_t common_offset;             /* offsetof(struct, common) */
    /* extra checks after load; 0 or -EINVAL with a message in err */
    int (*validate)(void *cfg, char *err, size_t errlen);
    /* run until signals->term; return exit code */
    int (*run)(void *cfg, const char *config_path, bf_signals *signals);
    /* optional: handle an unknown argv flag (argv[i]); return number of args consumed (>0),
     * 0 if unknown, or -1 to exit(2). May set *exit_code and return -2 to exit immediately with it. */
    int (*extra_flag)(int argc, char **argv, int i, int *exit_code);
    const char *extra_usage;          /* appended to --help */
} bf_daemon_desc;

int bf_daemon_main(const bf_daemon_desc *d, int argc, char **argv);

/* The run sequence of a daemon made of start / loop / stop steps on one app object: start (when it
 * fails: stop, exit code 1), systemd READY=1, loop until signals->term, STOPPING=1, stop, with
 * "<name> stopping" / "<name> stopped" logged. Returns the exit code for bf_daemon_desc.run. */
typedef struct bf_lifecycle {
    int (*start)(void *app);                  /* 0, or non-zero (the reason is logged by start) */
    void (*loop)(void *app, bf_signals *sig); /* returns once sig->term is set */
    void (*stop)(void *app);                  /* undoes whatever start did, even partly */
} bf_lifecycle;
int bf_daemon_lifecycle(const char *name, const bf_lifecycle *l, void *app, bf_signals *sig);

/* The version string compiled into the library (what --version prints after the name). */
const char *bf_daemon_version(void);

/* GET http://<admin_listen with 0.0.0.0 -> 127.0.0.1>/api/v1/health; 0 when 200. */
int bf_healthcheck(const char *admin_listen);
#endif
