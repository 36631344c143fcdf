/* bf_util: small shared helpers (see bf_util.h). */
#include "bf_util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* ---------- time ---------- */

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t bf_now_ns(void) { return clock_ns(CLOCK_REALTIME); }
int64_t bf_now_ms(void) { return clock_ns(CLOCK_REALTIME) / 1000000LL; }
int64_t bf_mono_ms(void) { return clock_ns(CLOCK_MONOTONIC) / 1000000LL; }

void bf_deadline(clockid_t clk, int64_t ms, struct timespec *out)
{
    int64_t ns = clock_ns(clk) + (ms > 0 ? ms : 0) * 1000000LL;
    out->tv_sec = (time_t)(ns / 1000000000LL);
    out->tv_nsec = (long)(ns % 1000000000LL);
}

static void utc_fields(int64_t unix_s, struct tm *tm)
{
    time_t t = (time_t)unix_s;
    if (!gmtime_r(&t, tm))
        memset(tm, 0, sizeof *tm);
}

void bf_rfc3339_ms(int64_t unix_ms, char out[32])
{
    /* Floor division so that times before 1970 still get a 0..999 millisecond part. */
    int64_t s = unix_ms / 1000, ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        s -= 1;
    }
    struct tm tm;
    utc_fields(s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || n + 6 > 31) { /* only for absurd years */
        out[0] = '\0';
        return;
    }
    out[n++] = '.';
    out[n++] = (char)('0' + ms / 100);
    out[n++] = (char)('0' + ms / 10 % 10);
    out[n++] = (char)('0' + ms % 10);
    out[n++] = 'Z';
    out[n] = '\0';
}

void bf_rfc3339_s(int64_t unix_s, char out[32])
{
    struct tm tm;
    utc_fields(unix_s, &tm);
    if (strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

/* ---------- sd_notify ---------- */

int bf_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    size_t plen = strlen(path);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (path[0] != '/' && path[0] != '@')
        return -EAFNOSUPPORT;
    if (plen >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, plen);
    /* '@' names a Linux abstract socket: the address starts with a NUL and is not NUL-terminated. */
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    else
        alen += 1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, alen);
    } while (n < 0 && errno == EINTR);
    int rc = n < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* ---------- instance identity ---------- */

void bf_instance_id(char *out, size_t outlen)
{
    char host[256];
    if (!out || outlen == 0)
        return;
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    /* Kubernetes first (NODE_NAME.pod), then Docker (HOST_HOSTNAME:container), then bare metal. */
    const char *node = getenv("NODE_NAME");
    const char *hh = getenv("HOST_HOSTNAME");
    if (node && *node)
        snprintf(out, outlen, "%s.%s", node, host);
    else if (hh && *hh)
        snprintf(out, outlen, "%s:%s", hh, host);
    else
        snprintf(out, outlen, "%s", host);
}

/* ---------- signals ---------- */

/* The only process-wide pointer: a signal handler cannot receive a context argument. */
static bf_signals *volatile sig_target;

static void sig_handler(int sig)
{
    int saved = errno;
    bf_signals *s = sig_target;
    if (s) {
        if (sig == SIGHUP)
            s->hup++;
        else
            s->term++;
        if (s->wake_fd[1] >= 0) {
            char c = (char)sig;
            ssize_t r = write(s->wake_fd[1], &c, 1); /* full pipe: a wake-up is already pending */
            (void)r;
        }
    }
    errno = saved;
}

static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP};

int bf_signals_install(bf_signals *s)
{
    s->term = 0;
    s->hup = 0;
    if (pipe2(s->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
        s->wake_fd[0] = s->wake_fd[1] = -1;
        return -errno;
    }
    sig_target = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sig_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++) {
        if (sigaction(handled_signals[i], &sa, NULL) != 0) {
            int e = -errno;
            bf_signals_uninstall(s);
            return e;
        }
    }
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    if (sigaction(SIGPIPE, &ign, NULL) != 0) {
        int e = -errno;
        bf_signals_uninstall(s);
        return e;
    }
    return 0;
}

void bf_signals_uninstall(bf_signals *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++)
        sigaction(handled_signals[i], &sa, NULL);
    if (sig_target == s)
        sig_target = NULL;
    for (int i = 0; i < 2; i++) {
        if (s->wake_fd[i] >= 0)
            close(s->wake_fd[i]);
        s->wake_fd[i] = -1;
    }
}

/* ---------- files ---------- */

int bf_mkdir_p(const char *path, unsigned mode)
{
    if (!path || !*path)
        return -EINVAL;
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return -ENAMETOOLONG;
    char tmp[PATH_MAX];
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
            return -errno;
        tmp[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int bf_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) != 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void dir_of(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, outlen, ".");
    else if (slash == path)
        snprintf(out, outlen, "/");
    else
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

int bf_write_file_atomic(const char *path, const void *data, size_t len)
{
    return bf_write_file_atomic_mode(path, data, len, 0644);
}

int bf_write_file_atomic_mode(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return -ENAMETOOLONG;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, data, len);
    /* mkostemp creates the file 0600; widen (or keep) it before the rename makes it visible */
    if (!rc && fchmod(fd, (mode_t)mode) != 0)
        rc = -errno;
    if (!rc && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    char dir[PATH_MAX];
    dir_of(path, dir, sizeof dir);
    return bf_fsync_dir(dir);
}

int bf_read_file(const char *path, size_t max, char **data, size_t *len)
{
    *data = NULL;
    if (len)
        *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : -ENOMEM;
    while (!rc) {
        if (n == cap) {
            /* Grow geometrically but never read more than max+1 bytes: the extra byte proves "too big". */
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
        } else if (r == 0) {
            break;
        } else {
            n += (size_t)r;
            if (max && n > max)
                rc = -EFBIG;
        }
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
}

/* ---------- sizes and durations ---------- */

typedef struct {
    const char *name;
    int64_t mult;
} unit_def;

#define KI 1024LL
#define KD 1000LL
static const unit_def size_units[] = {
    {"", 1},          {"B", 1},
    {"KB", KD},       {"MB", KD * KD},       {"GB", KD * KD * KD},       {"TB", KD * KD * KD * KD},
    {"PB", KD * KD * KD * KD * KD},
    {"KiB", KI},      {"MiB", KI * KI},      {"GiB", KI * KI * KI},      {"TiB", KI * KI * KI * KI},
    {"PiB", KI * KI * KI * KI * KI},
    {"Ki", KI},       {"Mi", KI * KI},       {"Gi", KI * KI * KI},       {"Ti", KI * KI * KI * KI},
};

static const unit_def duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000},
};

static const unit_def *find_unit(const unit_def *t, size_t n, const char *name, size_t len, int icase)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(t[i].name) != len)
            continue;
        if (icase ? strncasecmp(t[i].name, name, len) == 0 : strncmp(t[i].name, name, len) == 0)
            return &t[i];
    }
    return NULL;
}

/* Parses "<digits>[.<digits>]" at *sp into an integer part and a fraction (num/den, den <= 1e9). */
static int parse_decimal(const char **sp, int64_t *ip, int64_t *fnum, int64_t *fden)
{
    const char *s = *sp;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    int64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (INT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (*s - '0');
    }
    int64_t num = 0, den = 1;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
            if (den < 1000000000LL) { /* digits beyond nanoscale precision are dropped */
                num = num * 10 + (*s - '0');
                den *= 10;
            }
        }
    }
    *ip = v;
    *fnum = num;
    *fden = den;
    *sp = s;
    return 0;
}

/* v * mult + fnum * mult / fden, with overflow detection. */
static int scale_value(int64_t v, int64_t fnum, int64_t fden, int64_t mult, int64_t *out)
{
    __int128 r = (__int128)v * mult + ((__int128)fnum * mult) / fden;
    if (r > INT64_MAX)
        return -ERANGE;
    *out = (int64_t)r;
    return 0;
}

int bf_parse_size(const char *s, int64_t *out)
{
    if (!s)
        return -EINVAL;
    while (isspace((unsigned char)*s))
        s++;
    int64_t v, fn, fd;
    int rc = parse_decimal(&s, &v, &fn, &fd);
    if (rc)
        return rc;
    while (*s == ' ')
        s++;
    size_t ul = strlen(s);
    while (ul && isspace((unsigned char)s[ul - 1]))
        ul--;
    /* Unit names are case-insensitive ("mib" = "MiB"); KB/MB/GB are decimal, KiB/MiB/GiB binary. */
    const unit_def *u = find_unit(size_units, sizeof size_units / sizeof size_units[0], s, ul, 1);
    if (!u)
        return -EINVAL;
    int64_t r;
    rc = scale_value(v, fn, fd, u->mult, &r);
    if (rc)
        return rc;
    *out = r;
    return 0;
}

/* Go-style durations: one or more "<decimal><unit>" parts ("1h30m", "1.5s", "250ms"); "0" alone is 0. */
int bf_parse_duration_ms(const char *s, int64_t *out)
{
    if (!s)
        return -EINVAL;
    while (isspace((unsigned char)*s))
        s++;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    int64_t total = 0;
    while (*s && !isspace((unsigned char)*s)) {
        int64_t v, fn, fd;
        int rc = parse_decimal(&s, &v, &fn, &fd);
        if (rc)
            return rc;
        const char *u0 = s;
        while (isalpha((unsigned char)*s))
            s++;
        const unit_def *u = find_unit(duration_units, sizeof duration_units / sizeof duration_units[0],
                                      u0, (size_t)(s - u0), 0);
        if (!u)
            return -EINVAL;
        int64_t part;
        rc = scale_value(v, fn, fd, u->mult, &part);
        if (rc)
            return rc;
        if (part > INT64_MAX - total)
            return -ERANGE;
        total += part;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return -EINVAL;
    *out = total;
    return 0;
}

/* ---------- hashing, comparison, randomness ---------- */

void bf_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hexd[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        /* Only possible when libcrypto is broken; an empty string never equals a real digest. */
        out[0] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hexd[md[i] >> 4];
        out[2 * i + 1] = hexd[md[i] & 15];
    }
    out[64] = '\0';
}

int bf_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= (unsigned char)(x[i] ^ y[i]);
    return acc == 0;
}

uint64_t bf_rand_next(uint64_t *state)
{
    uint64_t x = *state;
    if (x == 0)
        x = 0x9E3779B97F4A7C15ULL; /* xorshift has a fixed point at 0 */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int parse_port(const char *s, int *port)
{
    if (!*s)
        return -EINVAL;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        v = v * 10 + (*p - '0');
        if (v > 65535)
            return -EINVAL;
    }
    *port = (int)v;
    return 0;
}

int bf_parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    if (!s || !host || hostlen == 0)
        return -EINVAL;
    const char *hs, *he, *ps;
    if (s[0] == '[') {
        hs = s + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':')
            return -EINVAL;
        ps = he + 2;
    } else {
        he = strrchr(s, ':');
        if (!he || memchr(s, ':', (size_t)(he - s)))
            return -EINVAL; /* bare IPv6 must be bracketed */
        hs = s;
        ps = he + 1;
    }
    size_t hl = (size_t)(he - hs);
    int rc = parse_port(ps, port);
    if (rc)
        return rc;
    if (hl == 0) {
        if (s[0] == '[')
            return -EINVAL;
        hs = "0.0.0.0";
        hl = 7;
    }
    if (hl >= hostlen)
        return -EINVAL;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    return 0;
}
