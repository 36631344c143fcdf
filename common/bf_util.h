/* bf_util: small helpers shared by all daemons: time, sd_notify, instance identity, signals, files.
 * Signals: bf_signals_install() routes SIGTERM/SIGINT/SIGHUP into the bf_signals struct the caller
 * owns (one per process; a signal handler needs a process-wide pointer, which is set here and only here).
 * Errors: 0 or -errno. */
#ifndef BF_UTIL_H
#define BF_UTIL_H
#include <stdint.h>
#include <stddef.h>
#include <signal.h>
#include <time.h>

int64_t bf_now_ms(void);          /* CLOCK_REALTIME, Unix ms */
int64_t bf_now_ns(void);          /* CLOCK_REALTIME, Unix ns */
int64_t bf_mono_ms(void);         /* CLOCK_MONOTONIC ms */
/* The absolute time ms milliseconds from now on clock clk (for pthread_cond_timedwait: CLOCK_REALTIME,
 * or CLOCK_MONOTONIC for a condition variable created with that clock). */
void bf_deadline(clockid_t clk, int64_t ms, struct timespec *out);
/* RFC 3339 UTC with milliseconds: 2026-11-27T10:00:00.123Z; out needs 32 bytes. */
void bf_rfc3339_ms(int64_t unix_ms, char out[32]);
/* RFC 3339 UTC seconds: 2026-11-27T10:00:00Z */
void bf_rfc3339_s(int64_t unix_s, char out[32]);

/* sd_notify written by hand over $NOTIFY_SOCKET ("READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1").
 * Returns 0 when sent or when NOTIFY_SOCKET is unset. */
int bf_sd_notify(const char *state);

/* Instance identity: hostname, or HOST_HOSTNAME:hostname in Docker, or NODE_NAME.<host>; out >= 256 bytes. */
void bf_instance_id(char *out, size_t outlen);

typedef struct bf_signals {
    volatile sig_atomic_t term;    /* SIGTERM/SIGINT count */
    volatile sig_atomic_t hup;     /* SIGHUP count; consumer decrements/clears */
    int wake_fd[2];                /* self-pipe: a byte is written on every signal (read end non-blocking) */
} bf_signals;
int bf_signals_install(bf_signals *s);   /* also ignores SIGPIPE */
void bf_signals_uninstall(bf_signals *s);

/* Files */
int bf_mkdir_p(const char *path, unsigned mode);
int bf_write_file_atomic(const char *path, const void *data, size_t len); /* tmp+fsync+rename+fsync dir, mode 0644 */
/* Same with an explicit mode (e.g. 0600 for caches holding tokens); the file never exists with a wider mode. */
int bf_write_file_atomic_mode(const char *path, const void *data, size_t len, unsigned mode);
int bf_read_file(const char *path, size_t max, char **data, size_t *len); /* -EFBIG over max; caller frees */
int bf_fsync_dir(const char *dir);

/* Parse "8MiB", "512KiB", "10GB", "123" into bytes; durations "250ms", "1s", "5m", "2h", "1d" into ms. 0 or -EINVAL/-ERANGE */
int bf_parse_size(const char *s, int64_t *out);
int bf_parse_duration_ms(const char *s, int64_t *out);

/* hex of SHA-256 (65 bytes with NUL) */
void bf_sha256_hex(const void *data, size_t len, char out[65]);
/* constant-time equality of two equal-length buffers (returns 1 when equal) */
int bf_ct_equal(const void *a, const void *b, size_t n);
/* xorshift-based jitter source seeded per caller (no hidden global RNG) */
uint64_t bf_rand_next(uint64_t *state);
/* "host:port" -> host (out, 256) and port; "[::1]:80" and ":80" (host "0.0.0.0") accepted. 0 or -EINVAL */
int bf_parse_hostport(const char *s, char *host, size_t hostlen, int *port);
#endif
