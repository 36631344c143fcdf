/* Unit tests for bf_daemon_main: each case runs the real entry point in a forked child with a tiny
 * schema, captures its stdout through a pipe (stderr into a file) and checks the exit code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bf_daemon.h"
#include "bf_util.h"

typedef struct tcfg {
    bf_common_config common;
    int64_t workers;
} tcfg;

static const bf_config_key tkeys[] = {
    BF_COMMON_KEYS(tcfg, "127.0.0.1:24999"),
    {"workers", BF_CT_INT, offsetof(tcfg, workers), "2", 1, 8, NULL, NULL, "worker threads"},
};
static const bf_config_schema tschema = {"testd", tkeys, sizeof tkeys / sizeof tkeys[0]};

static int validate(void *cfg, char *err, size_t errlen)
{
    tcfg *c = cfg;
    if (c->workers == 7) {
        snprintf(err, errlen, "workers: 7 is unlucky");
        return -EINVAL;
    }
    return 0;
}

/* Reports what it was given on stdout, then exercises the signal plumbing. */
static int run(void *cfg, const char *config_path, bf_signals *sig)
{
    tcfg *c = cfg;
    printf("run path=%s workers=%lld level=%s\n", config_path ? config_path : "(none)", (long long)c->workers,
           c->common.log_level);
    raise(SIGTERM);
    printf("term=%d\n", (int)sig->term);
    return 3;
}

static int extra_flag(int argc, char **argv, int i, int *exit_code)
{
    if (strcmp(argv[i], "--inspect") == 0 && i + 1 < argc) {
        printf("inspect %s\n", argv[i + 1]);
        *exit_code = 7;
        return -2;
    }
    if (strcmp(argv[i], "--quiet") == 0)
        return 1;
    return 0;
}

static char tmpdir[512], default_cfg[700];

static bf_daemon_desc desc = {
    .name = "testd",
    .default_config = NULL, /* set in setup */
    .schema = &tschema,
    .cfg_size = sizeof(tcfg),
    .common_offset = offsetof(tcfg, common),
    .validate = validate,
    .run = run,
    .extra_flag = extra_flag,
    .extra_usage = "  --inspect FILE       test flag",
};

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_common_daemon.%d", base, (int)getpid());
    snprintf(default_cfg, sizeof default_cfg, "%s/default.yaml", tmpdir);
    desc.default_config = default_cfg;
    unsetenv("BYTEFREEZER_TESTD__WORKERS");
    return bf_mkdir_p(tmpdir, 0755);
}

typedef struct {
    int code;
    char out[16384];
    char err[16384];
} result;

/* Runs bf_daemon_main(argv) in a child; argv is NULL-terminated without argv[0]. */
static void run_main(result *r, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "bytefreezer-testd";
    for (; args && *args && argc < 31; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    char errpath[700];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], STDOUT_FILENO);
        FILE *ef = freopen(errpath, "w", stderr);
        (void)ef;
        int code = bf_daemon_main(&desc, argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(code);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], r->out + n, sizeof r->out - 1 - n)) > 0)
        n += (size_t)k;
    r->out[n] = '\0';
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    r->code = WEXITSTATUS(st);
    FILE *f = fopen(errpath, "r");
    size_t en = f ? fread(r->err, 1, sizeof r->err - 1, f) : 0;
    r->err[en] = '\0';
    if (f)
        fclose(f);
}

static void write_cfg(const char *path, const char *text)
{
    assert_int_equal(bf_write_file_atomic(path, text, strlen(text)), 0);
}

/* bf_daemon_lifecycle: the steps in order; a failed start is undone by stop and exits 1. */
typedef struct lc_app { char trace[16]; int n, fail_start; } lc_app;
static void lc_mark(lc_app *a, char c) { if (a->n < 15) a->trace[a->n++] = c; }
static int lc_start(void *p) { lc_app *a = p; lc_mark(a, 's'); return a->fail_start; }
static void lc_loop(void *p, bf_signals *sig) { lc_mark(p, 'l'); assert_int_equal(sig->term, 1); }
static void lc_stop(void *p) { lc_mark(p, 'x'); }

static void test_lifecycle(void **state)
{
    (void)state;
    static const bf_lifecycle steps = {lc_start, lc_loop, lc_stop};
    bf_signals sig = {.term = 1};
    lc_app ok = {0}, bad = {.fail_start = -1};
    assert_int_equal(bf_daemon_lifecycle("t", &steps, &ok, &sig), 0);
    assert_string_equal(ok.trace, "slx");
    assert_int_equal(bf_daemon_lifecycle("t", &steps, &bad, &sig), 1);
    assert_string_equal(bad.trace, "sx");   /* no loop after a failed start, but stop cleans up */
}

static void test_version(void **state)
{
    (void)state;
    result r;
    run_main(&r, (const char *[]){"--version", NULL});
    assert_int_equal(r.code, 0);
    char want[128];
    snprintf(want, sizeof want, "bytefreezer-testd %s\n", bf_daemon_version());
    assert_true(strlen(bf_daemon_version()) > 0);
    assert_string_equal(r.out, want);
}

static void test_help_and_usage(void **state)
{
    (void)state;
    result r;
    run_main(&r, (const char *[]){"--help", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: bytefreezer-testd"));
    assert_non_null(strstr(r.out, "--inspect FILE"));
    assert_non_null(strstr(r.out, "s3.part_size"));
    assert_non_null(strstr(r.out, "workers"));
    run_main(&r, (const char *[]){"--frobnicate", NULL});
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unknown option --frobnicate"));
    assert_non_null(strstr(r.err, "usage:"));
    run_main(&r, (const char *[]){"-c", NULL});
    assert_int_equal(r.code, 2);
    run_main(&r, (const char *[]){"--inspect", "x.parquet", NULL});
    assert_int_equal(r.code, 7);
    assert_string_equal(r.out, "inspect x.parquet\n");
}

static void test_list_env_and_reference(void **state)
{
    (void)state;
    result r;
    run_main(&r, (const char *[]){"--list-env", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "BYTEFREEZER_TESTD__WORKERS\n"));
    assert_non_null(strstr(r.out, "BYTEFREEZER_TESTD__S3__SECRET_KEY\n"));
    assert_non_null(strstr(r.out, "AWS_ACCESS_KEY_ID\n"));
    run_main(&r, (const char *[]){"--config-reference", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "| `workers` | int | `2` | `BYTEFREEZER_TESTD__WORKERS` | worker threads (range 1..8) |"));
}

static void test_check_config(void **state)
{
    (void)state;
    char path[800];
    snprintf(path, sizeof path, "%s/ok.yaml", tmpdir);
    write_cfg(path, "workers: 5\ns3:\n  secret_key: topsecret\n");
    result r;
    run_main(&r, (const char *[]){"--check-config", "-c", path, NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "workers: 5\n"));
    assert_non_null(strstr(r.out, "s3.secret_key: \"****\"\n"));
    assert_null(strstr(r.out, "topsecret"));
    /* --config=FILE form */
    char arg[900];
    snprintf(arg, sizeof arg, "--config=%s", path);
    run_main(&r, (const char *[]){arg, "--check-config", NULL});
    assert_int_equal(r.code, 0);
    /* config errors: exit 1 with file:line */
    snprintf(path, sizeof path, "%s/bad.yaml", tmpdir);
    write_cfg(path, "workers: 5\nworkerz: 6\n");
    run_main(&r, (const char *[]){"--check-config", "-c", path, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "bad.yaml:2:1: unknown key workerz"));
    /* validate hook */
    write_cfg(path, "workers: 7\n");
    run_main(&r, (const char *[]){"--check-config", "-c", path, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "workers: 7 is unlucky"));
    /* an explicitly named missing file is an error */
    snprintf(path, sizeof path, "%s/none.yaml", tmpdir);
    run_main(&r, (const char *[]){"--check-config", "-c", path, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "none.yaml"));
}

static void test_run_default_config_and_env(void **state)
{
    (void)state;
    result r;
    /* no default file: defaults + environment only */
    unlink(default_cfg);
    setenv("BYTEFREEZER_TESTD__WORKERS", "6", 1);
    run_main(&r, (const char *[]){"--quiet", NULL});
    unsetenv("BYTEFREEZER_TESTD__WORKERS");
    assert_int_equal(r.code, 3);
    assert_string_equal(r.out, "run path=(none) workers=6 level=info\nterm=1\n");
    assert_non_null(strstr(r.err, "\"msg\":\"starting\""));
    /* default file present: used */
    write_cfg(default_cfg, "workers: 4\nlog_level: warn\n");
    run_main(&r, NULL);
    assert_int_equal(r.code, 3);
    char want[1000];
    snprintf(want, sizeof want, "run path=%s workers=4 level=warn\nterm=1\n", default_cfg);
    assert_string_equal(r.out, want);
    assert_null(strstr(r.err, "\"msg\":\"starting\"")); /* info is below warn */
    unlink(default_cfg);
}

/* A one-shot HTTP server on a loopback port in the common range, answering with `status`. */
static int listen_port(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    for (int p = 24100; p < 24200; p++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 4) == 0) {
            *port = p;
            return fd;
        }
    }
    fail_msg("no free port in 24100-24199");
    return -1;
}

static pid_t serve_once(int lfd, const char *status_line)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int c = accept(lfd, NULL, NULL);
        char buf[4096];
        ssize_t n = read(c, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        /* only the health path is acceptable */
        const char *resp = strncmp(buf, "GET /api/v1/health ", 19) == 0 ? status_line : "HTTP/1.1 404 Not Found";
        char out[256];
        int l = snprintf(out, sizeof out, "%s\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", resp);
        ssize_t w = write(c, out, (size_t)l);
        (void)w;
        close(c);
        _exit(0);
    }
    return pid;
}

static void healthcheck_case(const char *status_line, int want_code)
{
    int port;
    int lfd = listen_port(&port);
    char path[800], yaml[200];
    snprintf(path, sizeof path, "%s/hc.yaml", tmpdir);
    /* 0.0.0.0 is rewritten to loopback by --healthcheck */
    snprintf(yaml, sizeof yaml, "admin_listen: \"0.0.0.0:%d\"\n", port);
    write_cfg(path, yaml);
    pid_t srv = serve_once(lfd, status_line);
    result r;
    run_main(&r, (const char *[]){"--healthcheck", "-c", path, NULL});
    close(lfd);
    int st;
    waitpid(srv, &st, 0);
    assert_int_equal(r.code, want_code);
}

static void test_healthcheck(void **state)
{
    (void)state;
    healthcheck_case("HTTP/1.1 200 OK", 0);
    healthcheck_case("HTTP/1.1 503 Service Unavailable", 1);
    /* nothing listening */
    int port;
    int lfd = listen_port(&port);
    close(lfd);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    assert_true(bf_healthcheck(addr) < 0);
    assert_int_equal(bf_healthcheck("not an address"), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version), cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_list_env_and_reference),
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_run_default_config_and_env),
        cmocka_unit_test(test_healthcheck),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
