/* bf_daemon: the shared command line and start-up sequence (see bf_daemon.h). */
#include "bf_daemon.h"
#include "bf_log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_CONFIG = 1, EXIT_USAGE = 2 };

typedef enum { ACT_RUN = 0, ACT_CHECK, ACT_VERSION, ACT_HELP, ACT_HEALTH, ACT_LIST_ENV, ACT_REFERENCE } action;

typedef struct {
    action act;
    const char *config;    /* -c value, NULL when not given */
} cmdline;

/* Flags without a value, each selecting an action. */
static const struct {
    const char *flag;
    action act;
} action_flags[] = {
    {"--check-config", ACT_CHECK}, {"--version", ACT_VERSION},   {"--help", ACT_HELP},
    {"-h", ACT_HELP},              {"--healthcheck", ACT_HEALTH}, {"--list-env", ACT_LIST_ENV},
    {"--config-reference", ACT_REFERENCE},
};

static void usage(const bf_daemon_desc *d, FILE *out)
{
    fprintf(out,
            "usage: bytefreezer-%s [-c FILE] [--check-config] [--healthcheck]\n"
            "       bytefreezer-%s --version | --help | --list-env | --config-reference\n"
            "  -c, --config FILE    YAML configuration (default %s if it exists, else defaults + environment)\n"
            "  --check-config       validate, print the effective configuration (secrets masked), exit 0/1\n"
            "  --healthcheck        GET this daemon's /api/v1/health, exit 0 when healthy\n"
            "  --version            print the version\n"
            "  --list-env           print every environment variable that is read\n"
            "  --config-reference   print the configuration keys as a markdown table\n",
            d->name, d->name, d->default_config ? d->default_config : "(none)");
    if (d->extra_usage)
        fprintf(out, "%s\n", d->extra_usage);
}

static void help(const bf_daemon_desc *d)
{
    usage(d, stdout);
    printf("\nconfiguration keys (environment: BYTEFREEZER_%s__<SECTION>__<KEY>):\n", d->name);
    for (size_t i = 0; i < d->schema->nkeys; i++) {
        const bf_config_key *k = &d->schema->keys[i];
        printf("  %-28s %s%s%s%s\n", k->path, k->help ? k->help : "", k->def && *k->def ? " [default " : "",
               k->def && *k->def ? k->def : "", k->def && *k->def ? "]" : "");
    }
}

/* Returns 0 with cl filled, or an exit code + 1 (so 0 stays "continue"). */
static int parse_args(const bf_daemon_desc *d, int argc, char **argv, cmdline *cl)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool matched = false;
        for (size_t f = 0; f < sizeof action_flags / sizeof action_flags[0]; f++) {
            if (strcmp(a, action_flags[f].flag) == 0) {
                cl->act = action_flags[f].act; /* the last action flag given wins */
                matched = true;
            }
        }
        if (matched)
            continue;
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bytefreezer-%s: %s needs a file name\n", d->name, a);
                usage(d, stderr);
                return EXIT_USAGE + 1;
            }
            cl->config = argv[++i];
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0) {
            cl->config = a + 9;
            continue;
        }
        int code = EXIT_USAGE;
        int n = d->extra_flag ? d->extra_flag(argc, argv, i, &code) : 0;
        if (n > 0) {
            i += n - 1;
            continue;
        }
        if (n == -2)
            return code + 1;
        if (n == 0)
            fprintf(stderr, "bytefreezer-%s: unknown option %s\n", d->name, a);
        usage(d, stderr);
        return EXIT_USAGE + 1;
    }
    return 0;
}

static const char *choose_config(const bf_daemon_desc *d, const cmdline *cl)
{
    if (cl->config)
        return cl->config;
    if (d->default_config && access(d->default_config, F_OK) == 0)
        return d->default_config;
    return NULL; /* containers may run on environment variables alone */
}

static bf_common_config *common_of(const bf_daemon_desc *d, void *cfg)
{
    return (bf_common_config *)((char *)cfg + d->common_offset);
}

static int load_config(const bf_daemon_desc *d, const char *path, void *cfg)
{
    char err[BF_CFG_ERRLEN] = "";
    int rc = bf_config_load(d->schema, cfg, path, err, sizeof err);
    if (!rc && d->validate)
        rc = d->validate(cfg, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bytefreezer-%s: configuration error: %s\n", d->name, err[0] ? err : strerror(-rc));
        return -EINVAL;
    }
    return 0;
}

static int run_daemon(const bf_daemon_desc *d, void *cfg, const char *path)
{
    bf_common_config *c = common_of(d, cfg);
    bf_log_level lvl = BF_LOG_INFO;
    bf_log_level_parse(c->log_level, &lvl); /* the schema's enum already restricted it */
    bf_log_init(d->name, lvl);
    bf_signals sig;
    int rc = bf_signals_install(&sig);
    if (rc) {
        bf_log_kv(BF_LOG_ERROR, "cannot install signal handlers", "error", strerror(-rc), NULL);
        return EXIT_CONFIG;
    }
    bf_log_kv(BF_LOG_INFO, "starting", "version", BF_VERSION, "config", path ? path : "(defaults+env)", NULL);
    rc = d->run(cfg, path, &sig);
    bf_signals_uninstall(&sig);
    return rc;
}

static int with_config(const bf_daemon_desc *d, const cmdline *cl)
{
    const char *path = choose_config(d, cl);
    void *cfg = calloc(1, d->cfg_size ? d->cfg_size : 1);
    if (!cfg) {
        fprintf(stderr, "bytefreezer-%s: out of memory\n", d->name);
        return EXIT_CONFIG;
    }
    int code;
    if (load_config(d, path, cfg) != 0)
        code = EXIT_CONFIG;
    else if (cl->act == ACT_CHECK) {
        bf_config_print(d->schema, cfg, stdout);
        fprintf(stderr, "bytefreezer-%s: configuration OK (%s)\n", d->name, path ? path : "defaults+env");
        code = EXIT_OK;
    } else if (cl->act == ACT_HEALTH)
        code = bf_healthcheck(common_of(d, cfg)->admin_listen) == 0 ? EXIT_OK : 1;
    else
        code = run_daemon(d, cfg, path);
    bf_config_free(d->schema, cfg);
    free(cfg);
    return code;
}

const char *bf_daemon_version(void)
{
    return BF_VERSION;
}

int bf_daemon_main(const bf_daemon_desc *d, int argc, char **argv)
{
    cmdline cl = {ACT_RUN, NULL};
    int pr = parse_args(d, argc, argv, &cl);
    if (pr)
        return pr - 1;
    int code = EXIT_OK;
    switch (cl.act) {
    case ACT_VERSION:
        printf("bytefreezer-%s %s\n", d->name, BF_VERSION);
        break;
    case ACT_HELP:
        help(d);
        break;
    case ACT_LIST_ENV:
        bf_config_list_env(d->schema, stdout);
        break;
    case ACT_REFERENCE:
        bf_config_print_reference(d->schema, stdout);
        break;
    default:
        code = with_config(d, &cl);
        break;
    }
    fflush(stdout);
    return code;
}

/* ---------- --healthcheck ---------- */

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

/* A wildcard listen address is reached through loopback. */
static const char *const wildcard_hosts[] = {"0.0.0.0", "::", "", "*"};

int bf_healthcheck(const char *admin_listen)
{
    char host[256], url[400];
    int port;
    if (!admin_listen || bf_parse_hostport(admin_listen, host, sizeof host, &port) != 0 || port == 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof wildcard_hosts / sizeof wildcard_hosts[0]; i++)
        if (strcmp(host, wildcard_hosts[i]) == 0)
            snprintf(host, sizeof host, "127.0.0.1");
    bool v6 = strchr(host, ':') != NULL;
    snprintf(url, sizeof url, "http://%s%s%s:%d/api/v1/health", v6 ? "[" : "", host, v6 ? "]" : "", port);
    CURL *c = curl_easy_init();
    if (!c)
        return -ENOMEM;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    CURLcode cr = curl_easy_perform(c);
    long status = 0;
    if (cr == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (cr != CURLE_OK)
        return -ECONNREFUSED;
    return status == 200 ? 0 : -EIO;
}

int bf_daemon_lifecycle(const char *name, const bf_lifecycle *l, void *app, bf_signals *sig)
{
    if (l->start(app)) {
        l->stop(app);
        return 1;
    }
    bf_sd_notify("READY=1");
    l->loop(app, sig);
    bf_sd_notify("STOPPING=1");
    bf_logf(BF_LOG_INFO, "%s stopping", name);
    l->stop(app);
    bf_logf(BF_LOG_INFO, "%s stopped", name);
    return 0;
}
