/* bf_log: JSON lines on stderr (see bf_log.h).
 * State is process-wide on purpose: stderr is process-wide. The daemon name is written once by
 * bf_log_init before threads start; the level is atomic so reloads may change it at any time. */
#include "bf_log.h"
#include "bf_buf.h"
#include "bf_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Long fields are cut so that one runaway value cannot make a log line unbounded. */
#define LOG_MSG_MAX 8192
#define LOG_VAL_MAX 4096

static char log_daemon[64] = "bytefreezer";
static atomic_int log_level = BF_LOG_INFO;

static const struct {
    const char *name;
    bf_log_level level;
} level_names[] = {
    {"debug", BF_LOG_DEBUG}, {"info", BF_LOG_INFO},   {"warn", BF_LOG_WARN},
    {"warning", BF_LOG_WARN}, {"error", BF_LOG_ERROR},
};

/* Indexed by level: the name written in the "level" field. */
static const char *const level_out[] = {"debug", "info", "warn", "error"};

void bf_log_init(const char *daemon, bf_log_level level)
{
    if (daemon)
        snprintf(log_daemon, sizeof log_daemon, "%s", daemon);
    bf_log_set_level(level);
}

void bf_log_set_level(bf_log_level level)
{
    if ((int)level < BF_LOG_DEBUG || level > BF_LOG_ERROR)
        level = BF_LOG_INFO;
    atomic_store(&log_level, (int)level);
}

int bf_log_level_parse(const char *s, bf_log_level *out)
{
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i].name) == 0) {
            *out = level_names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

int bf_log_enabled(bf_log_level level)
{
    return (int)level >= atomic_load(&log_level);
}

static size_t cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > max ? max : n;
}

/* Writes the line with a single write(2) so concurrent lines never interleave. */
static void emit(bf_buf *b)
{
    if (!b->data)
        return;
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(STDERR_FILENO, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

static int log_head(bf_buf *b, bf_log_level level, const char *msg)
{
    char ts[32];
    bf_rfc3339_ms(bf_now_ms(), ts);
    int rc = bf_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"daemon\":", ts, level_out[level]);
    if (!rc)
        rc = bf_buf_json_str(b, log_daemon, strlen(log_daemon));
    if (!rc)
        rc = bf_buf_puts(b, ",\"msg\":");
    if (!rc)
        rc = bf_buf_json_str(b, msg ? msg : "", msg ? cut(msg, LOG_MSG_MAX) : 0);
    return rc;
}

static void log_vkv(bf_log_level level, const char *msg, va_list ap)
{
    if (!bf_log_enabled(level))
        return;
    if ((int)level < BF_LOG_DEBUG || level > BF_LOG_ERROR)
        level = BF_LOG_ERROR;
    bf_buf b;
    bf_buf_init(&b, 0);
    int rc = log_head(&b, level, msg);
    for (const char *k; !rc && (k = va_arg(ap, const char *)) != NULL;) {
        const char *v = va_arg(ap, const char *);
        if (!v)
            v = "";
        rc = bf_buf_putc(&b, ',');
        if (!rc)
            rc = bf_buf_json_str(&b, k, cut(k, 128));
        if (!rc)
            rc = bf_buf_putc(&b, ':');
        if (!rc)
            rc = bf_buf_json_str(&b, v, cut(v, LOG_VAL_MAX));
    }
    if (!rc)
        rc = bf_buf_puts(&b, "}\n");
    if (!rc)
        emit(&b);
    bf_buf_free(&b);
}

void bf_log_kv(bf_log_level level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    log_vkv(level, msg, ap);
    va_end(ap);
}

void bf_logf(bf_log_level level, const char *fmt, ...)
{
    if (!bf_log_enabled(level))
        return;
    char msg[LOG_MSG_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bf_log_kv(level, msg, (const char *)NULL);
}
