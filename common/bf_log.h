/* bf_log: one JSON object per line on stderr: {"ts":"…","level":"info","daemon":"…","msg":"…",k:v…}.
 * The logger is process state by nature (stderr is); bf_log_init sets the daemon name and level once
 * at start and may be called again on reload. Thread-safe: each line is written with one write(2). */
#ifndef BF_LOG_H
#define BF_LOG_H
typedef enum { BF_LOG_DEBUG = 0, BF_LOG_INFO, BF_LOG_WARN, BF_LOG_ERROR } bf_log_level;

void bf_log_init(const char *daemon, bf_log_level level);
void bf_log_set_level(bf_log_level level);
int bf_log_level_parse(const char *s, bf_log_level *out);   /* 0 or -EINVAL */
int bf_log_enabled(bf_log_level level);
/* msg, then NULL-terminated key, value string pairs: bf_log_kv(BF_LOG_INFO, "started", "port", "8080", NULL) */
void bf_log_kv(bf_log_level level, const char *msg, ...);
/* printf-style message without extra fields */
void bf_logf(bf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define BF_DEBUG(...) do { if (bf_log_enabled(BF_LOG_DEBUG)) bf_logf(BF_LOG_DEBUG, __VA_ARGS__); } while (0)
#define BF_INFO(...)  bf_logf(BF_LOG_INFO, __VA_ARGS__)
#define BF_WARN(...)  bf_logf(BF_LOG_WARN, __VA_ARGS__)
#define BF_ERROR(...) bf_logf(BF_LOG_ERROR, __VA_ARGS__)
#endif
