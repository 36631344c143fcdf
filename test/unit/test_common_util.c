/* Unit tests for bf_util (sizes, durations, time, hashing, files, sd_notify, signals) and bf_log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bf_log.h"
#include "bf_util.h"

static char tmpdir[512];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("BF_TMP") ? getenv("BF_TMP") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_common_util.%d", base, (int)getpid());
    return bf_mkdir_p(tmpdir, 0755);
}

static const struct {
    const char *in;
    int rc;
    int64_t v;
} size_cases[] = {
    {"0", 0, 0},
    {"123", 0, 123},
    {"12B", 0, 12},
    {"12 B", 0, 12},
    {"512KiB", 0, 512 * 1024},
    {"8MiB", 0, 8 * 1024 * 1024},
    {"8mib", 0, 8 * 1024 * 1024},
    {"2GiB", 0, 2LL << 30},
    {"1TiB", 0, 1LL << 40},
    {"10KB", 0, 10000},
    {"10MB", 0, 10000000},
    {"10GB", 0, 10000000000LL},
    {"1.5MiB", 0, 1572864},
    {"0.5KiB", 0, 512},
    {"", -EINVAL, 0},
    {"MiB", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"1.MiB", -EINVAL, 0},
    {"8 XB", -EINVAL, 0},
    {"8MiBs", -EINVAL, 0},
    {"99999999999999999999", -ERANGE, 0},
    {"9000000PiB", -ERANGE, 0},
};

static void test_parse_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof size_cases / sizeof size_cases[0]; i++) {
        int64_t v = -7;
        int rc = bf_parse_size(size_cases[i].in, &v);
        if (rc != size_cases[i].rc || (rc == 0 && v != size_cases[i].v))
            fail_msg("size \"%s\": rc %d v %lld, want rc %d v %lld", size_cases[i].in, rc, (long long)v,
                     size_cases[i].rc, (long long)size_cases[i].v);
    }
}

static const struct {
    const char *in;
    int rc;
    int64_t v;
} dur_cases[] = {
    {"0", 0, 0},
    {"250ms", 0, 250},
    {"1s", 0, 1000},
    {"1.5s", 0, 1500},
    {"5m", 0, 300000},
    {"2h", 0, 7200000},
    {"1d", 0, 86400000},
    {"1h30m", 0, 5400000},
    {"1m30s500ms", 0, 90500},
    {" 20s ", 0, 20000},
    {"10", -EINVAL, 0},      /* no unit: ambiguous, refused */
    {"s", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"5x", -EINVAL, 0},
    {"-5s", -EINVAL, 0},
    {"1s 2s", -EINVAL, 0},
    {"999999999999999999d", -ERANGE, 0},
};

static void test_parse_duration(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dur_cases / sizeof dur_cases[0]; i++) {
        int64_t v = -7;
        int rc = bf_parse_duration_ms(dur_cases[i].in, &v);
        if (rc != dur_cases[i].rc || (rc == 0 && v != dur_cases[i].v))
            fail_msg("duration \"%s\": rc %d v %lld, want rc %d v %lld", dur_cases[i].in, rc, (long long)v,
                     dur_cases[i].rc, (long long)dur_cases[i].v);
    }
}

static void test_deadline(void **state)
{
    (void)state;
    struct timespec now, d;
    for (int64_t ms = 0; ms <= 2500; ms += 1250) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        bf_deadline(CLOCK_MONOTONIC, ms, &d);
        assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);   /* normalised */
        int64_t diff = ((int64_t)d.tv_sec - now.tv_sec) * 1000000000LL + (d.tv_nsec - now.tv_nsec);
        assert_true(diff >= ms * 1000000LL && diff < ms * 1000000LL + 50000000LL);
    }
    bf_deadline(CLOCK_REALTIME, -5, &d);   /* negative: now */
    clock_gettime(CLOCK_REALTIME, &now);
    assert_true(d.tv_sec <= now.tv_sec);
}

static void test_time_format(void **state)
{
    (void)state;
    char out[32];
    bf_rfc3339_ms(1795773600123LL, out);
    assert_string_equal(out, "2026-11-27T10:00:00.123Z");
    bf_rfc3339_ms(5, out);
    assert_string_equal(out, "1970-01-01T00:00:00.005Z");
    bf_rfc3339_ms(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    bf_rfc3339_s(1795773600LL, out);
    assert_string_equal(out, "2026-11-27T10:00:00Z");
    int64_t now = bf_now_ms();
    assert_true(now > 1700000000000LL);
    int64_t ns = bf_now_ns();
    assert_true(ns / 1000000 >= now - 1000 && ns / 1000000 <= now + 1000);
    int64_t m1 = bf_mono_ms(), m2 = bf_mono_ms();
    assert_true(m2 >= m1);
}

static void test_sha256_and_ct(void **state)
{
    (void)state;
    char hex[65];
    bf_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bf_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(bf_ct_equal("secret", "secret", 6), 1);
    assert_int_equal(bf_ct_equal("secret", "secreT", 6), 0);
    assert_int_equal(bf_ct_equal("x", "y", 0), 1);
}

static void test_rand(void **state)
{
    (void)state;
    uint64_t s1 = 0, s2 = 0, s3 = 12345;
    uint64_t a = bf_rand_next(&s1), b = bf_rand_next(&s2), c = bf_rand_next(&s3);
    assert_true(a == b);              /* deterministic per seed */
    assert_true(a != c);
    assert_true(bf_rand_next(&s1) != a); /* advances */
    assert_true(s1 != 0);
}

static const struct {
    const char *in;
    int rc;
    const char *host;
    int port;
} hp_cases[] = {
    {"127.0.0.1:8080", 0, "127.0.0.1", 8080},
    {"localhost:1", 0, "localhost", 1},
    {":8081", 0, "0.0.0.0", 8081},
    {"[::1]:80", 0, "::1", 80},
    {"[::]:0", 0, "::", 0},
    {"::1:80", -EINVAL, NULL, 0},
    {"host", -EINVAL, NULL, 0},
    {"host:", -EINVAL, NULL, 0},
    {"host:65536", -EINVAL, NULL, 0},
    {"host:8x", -EINVAL, NULL, 0},
    {"[::1]80", -EINVAL, NULL, 0},
    {"[]:80", -EINVAL, NULL, 0},
};

static void test_hostport(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hp_cases / sizeof hp_cases[0]; i++) {
        char host[256] = "";
        int port = -1;
        int rc = bf_parse_hostport(hp_cases[i].in, host, sizeof host, &port);
        if (rc != hp_cases[i].rc)
            fail_msg("hostport \"%s\": rc %d want %d", hp_cases[i].in, rc, hp_cases[i].rc);
        if (rc == 0 && (strcmp(host, hp_cases[i].host) != 0 || port != hp_cases[i].port))
            fail_msg("hostport \"%s\": got %s %d", hp_cases[i].in, host, port);
    }
}

static void test_files(void **state)
{
    (void)state;
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/a/b/c", tmpdir);
    assert_int_equal(bf_mkdir_p(dir, 0755), 0);
    assert_int_equal(bf_mkdir_p(dir, 0755), 0); /* idempotent */
    snprintf(path, sizeof path, "%s/f.txt", dir);
    assert_int_equal(bf_write_file_atomic(path, "hello\n", 6), 0);
    assert_int_equal(bf_write_file_atomic(path, "hello world\n", 12), 0);
    char *data;
    size_t len;
    assert_int_equal(bf_read_file(path, 0, &data, &len), 0);
    assert_int_equal(len, 12);
    assert_string_equal(data, "hello world\n");
    free(data);
    assert_int_equal(bf_read_file(path, 11, &data, &len), -EFBIG);
    assert_null(data);
    assert_int_equal(bf_read_file(path, 12, &data, &len), 0);
    free(data);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    assert_int_equal(bf_read_file(missing, 0, &data, &len), -ENOENT);
    /* a file in the way of a directory */
    assert_int_equal(bf_mkdir_p(path, 0755), -ENOTDIR);
    assert_int_equal(bf_fsync_dir(dir), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    char secret[800];
    snprintf(secret, sizeof secret, "%s/cache.json", dir);
    assert_int_equal(bf_write_file_atomic_mode(secret, "{}", 2, 0600), 0);
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* no temporary files are left behind */
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    int entries = 0;
    for (struct dirent *de; (de = readdir(dh)) != NULL;) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            entries++;
        if (strstr(de->d_name, ".tmp."))
            fail_msg("temporary file left: %s", de->d_name);
    }
    closedir(dh);
    assert_int_equal(entries, 2);
    /* large file crosses the growth path */
    size_t big = 300000;
    char *blob = malloc(big);
    assert_non_null(blob);
    for (size_t i = 0; i < big; i++)
        blob[i] = (char)('a' + i % 26);
    assert_int_equal(bf_write_file_atomic(path, blob, big), 0);
    assert_int_equal(bf_read_file(path, big, &data, &len), 0);
    assert_int_equal(len, big);
    assert_memory_equal(data, blob, big);
    free(data);
    free(blob);
}

/* Receives one datagram on a bound unix socket after bf_sd_notify sends it. */
static void notify_roundtrip(const char *env_value, int abstract)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(env_value);
    memcpy(sa.sun_path, env_value, n);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (abstract ? 0 : 1));
    if (abstract)
        sa.sun_path[0] = '\0';
    else
        unlink(env_value);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, alen), 0);
    setenv("NOTIFY_SOCKET", env_value, 1);
    assert_int_equal(bf_sd_notify("READY=1"), 0);
    char buf[64] = "";
    ssize_t r = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_int_equal(r, 7);
    assert_string_equal(buf, "READY=1");
    unsetenv("NOTIFY_SOCKET");
    close(fd);
    if (!abstract)
        unlink(env_value);
}

static void test_sd_notify(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(bf_sd_notify("READY=1"), 0); /* unset: no-op */
    char path[600];
    snprintf(path, sizeof path, "%s/notify.sock", tmpdir);
    notify_roundtrip(path, 0);
    char abs[64];
    snprintf(abs, sizeof abs, "@bf-test-notify-%d", (int)getpid());
    notify_roundtrip(abs, 1);
    setenv("NOTIFY_SOCKET", "@bf-test-nobody-listens-here", 1);
    assert_true(bf_sd_notify("READY=1") < 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_true(bf_sd_notify("READY=1") < 0);
    unsetenv("NOTIFY_SOCKET");
}

static void test_signals(void **state)
{
    (void)state;
    bf_signals s;
    assert_int_equal(bf_signals_install(&s), 0);
    assert_int_equal(s.term, 0);
    raise(SIGHUP);
    raise(SIGHUP);
    raise(SIGTERM);
    raise(SIGPIPE); /* ignored: the process survives */
    assert_int_equal(s.hup, 2);
    assert_int_equal(s.term, 1);
    char buf[16];
    ssize_t r = read(s.wake_fd[0], buf, sizeof buf);
    assert_int_equal(r, 3);
    r = read(s.wake_fd[0], buf, sizeof buf); /* non-blocking read end */
    assert_int_equal(r, -1);
    assert_int_equal(errno, EAGAIN);
    bf_signals_uninstall(&s);
    assert_int_equal(s.wake_fd[0], -1);
}

static void test_instance_id(void **state)
{
    (void)state;
    char host[256], id[256], want[600];
    gethostname(host, sizeof host);
    unsetenv("NODE_NAME");
    unsetenv("HOST_HOSTNAME");
    bf_instance_id(id, sizeof id);
    assert_string_equal(id, host);
    setenv("HOST_HOSTNAME", "dockerhost", 1);
    bf_instance_id(id, sizeof id);
    snprintf(want, sizeof want, "dockerhost:%s", host);
    assert_string_equal(id, want);
    setenv("NODE_NAME", "node7", 1);
    bf_instance_id(id, sizeof id);
    snprintf(want, sizeof want, "node7.%s", host);
    assert_string_equal(id, want);
    unsetenv("NODE_NAME");
    unsetenv("HOST_HOSTNAME");
}

/* Captures what bf_log writes to stderr into a file and returns its text (caller frees). */
static char *capture_log(void (*fn)(void))
{
    char path[600];
    snprintf(path, sizeof path, "%s/log.txt", tmpdir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    char *data;
    size_t len;
    assert_int_equal(bf_read_file(path, 0, &data, &len), 0);
    return data;
}

static void log_some(void)
{
    bf_log_init("testd", BF_LOG_INFO);
    bf_log_kv(BF_LOG_INFO, "started \"now\"", "port", "8080", "path", "a\nb", NULL);
    BF_DEBUG("hidden %d", 1);
    BF_WARN("value=%d", 42);
    bf_log_set_level(BF_LOG_ERROR);
    BF_INFO("hidden too");
    BF_ERROR("bad");
}

static void test_log_json_lines(void **state)
{
    (void)state;
    char *text = capture_log(log_some);
    const char *want_msg[] = {"started \"now\"", "value=42", "bad"};
    const char *want_lvl[] = {"info", "warn", "error"};
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        assert_true(n < 3);
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!o)
            fail_msg("not JSON: %s (%s)", line, jerr.text);
        assert_string_equal(json_string_value(json_object_get(o, "msg")), want_msg[n]);
        assert_string_equal(json_string_value(json_object_get(o, "level")), want_lvl[n]);
        assert_string_equal(json_string_value(json_object_get(o, "daemon")), "testd");
        const char *ts = json_string_value(json_object_get(o, "ts"));
        assert_non_null(ts);
        assert_int_equal(strlen(ts), 24);
        if (n == 0) {
            assert_string_equal(json_string_value(json_object_get(o, "port")), "8080");
            assert_string_equal(json_string_value(json_object_get(o, "path")), "a\nb");
        }
        json_decref(o);
    }
    assert_int_equal(n, 3);
    free(text);
}

static void *log_thread(void *arg)
{
    char big[3000];
    memset(big, 'a' + (int)(intptr_t)arg, sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 500; i++)
        bf_log_kv(BF_LOG_INFO, "concurrent", "payload", big, NULL);
    return NULL;
}

static void log_threads(void)
{
    bf_log_init("testd", BF_LOG_INFO);
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_thread, (void *)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

/* Lines written from several threads never interleave: each is one write(2). */
static void test_log_threads(void **state)
{
    (void)state;
    char *text = capture_log(log_threads);
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o)
            fail_msg("line %d is not JSON (interleaved?)", n);
        const char *p = json_string_value(json_object_get(o, "payload"));
        assert_non_null(p);
        assert_int_equal(strlen(p), 2999);
        assert_int_equal(strspn(p, (char[2]){p[0], 0}), 2999);
        json_decref(o);
    }
    assert_int_equal(n, 2000);
    free(text);
}

static void test_log_level_parse(void **state)
{
    (void)state;
    bf_log_level l;
    assert_int_equal(bf_log_level_parse("debug", &l), 0);
    assert_int_equal(l, BF_LOG_DEBUG);
    assert_int_equal(bf_log_level_parse("WARNING", &l), 0);
    assert_int_equal(l, BF_LOG_WARN);
    assert_int_equal(bf_log_level_parse("error", &l), 0);
    assert_int_equal(l, BF_LOG_ERROR);
    assert_int_equal(bf_log_level_parse("loud", &l), -EINVAL);
    bf_log_set_level(BF_LOG_WARN);
    assert_false(bf_log_enabled(BF_LOG_INFO));
    assert_true(bf_log_enabled(BF_LOG_ERROR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),     cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_time_format), cmocka_unit_test(test_deadline),    cmocka_unit_test(test_sha256_and_ct),
        cmocka_unit_test(test_rand),           cmocka_unit_test(test_hostport),
        cmocka_unit_test(test_files),          cmocka_unit_test(test_sd_notify),
        cmocka_unit_test(test_signals),        cmocka_unit_test(test_instance_id),
        cmocka_unit_test(test_log_json_lines), cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_log_threads),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
