/* bf_spool: see bf_spool.h.
 * Byte accounting: a table of queues with their bytes and entry counts, rebuilt by a directory walk at
 * open and kept up to date by every operation, so bf_spool_used() never walks the disk. A write reserves
 * its bytes under the mutex before doing I/O (so two writers cannot both squeeze under the quota) and
 * does the slow temp-file + fsync work without holding the lock.
 * Quarantined files live under <dir>/quarantine/ and are not counted in used(). */
#include "bf_spool.h"
#include "bf_util.h"
#include "bf_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_PREFIX ".tmp-"
#define META_SUFFIX ".meta"
#define QUARANTINE "quarantine"

typedef struct qstat { char *queue; uint64_t bytes; uint64_t entries; } qstat;

struct bf_spool {
    char *dir;
    uint64_t max_bytes;
    pthread_mutex_t mu;
    uint64_t used;
    uint64_t quarantined;
    qstat *q;
    size_t nq, capq;
    _Atomic uint64_t tmp_seq;
};

/* ---- names ---- */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int component_ok(const char *c, size_t n)
{
    if (n == 0 || n > 255) return 0;
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 0;
    if (n >= 5 && memcmp(c, TMP_PREFIX, 5) == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (c[i] == '/' || c[i] == 0) return 0;
    return 1;
}

/* queue: relative path of safe components, not under quarantine/ */
static int queue_ok(const char *q)
{
    if (!q || !*q || q[0] == '/' || strlen(q) > 1024) return 0;
    const char *p = q;
    size_t first = strcspn(q, "/");
    if (first == strlen(QUARANTINE) && memcmp(q, QUARANTINE, first) == 0) return 0;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (!component_ok(p, n)) return 0;
        p += n;
        if (*p == '/') p++;
        if (!*p && p[-1] == '/') return 0;
    }
    return 1;
}

static int name_ok(const char *n)
{
    return n && component_ok(n, strlen(n)) && !has_suffix(n, META_SUFFIX);
}

static int mkpath(char *out, size_t outlen, const char *a, const char *b, const char *c, const char *suf)
{
    int n = snprintf(out, outlen, "%s/%s%s%s%s", a, b, c ? "/" : "", c ? c : "", suf ? suf : "");
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* ---- accounting (mutex held) ---- */

static qstat *qfind(bf_spool *s, const char *queue, int create)
{
    for (size_t i = 0; i < s->nq; i++)
        if (strcmp(s->q[i].queue, queue) == 0) return &s->q[i];
    if (!create) return NULL;
    if (s->nq == s->capq) {
        size_t nc = s->capq ? s->capq * 2 : 16;
        qstat *nq = realloc(s->q, nc * sizeof *nq);
        if (!nq) return NULL;
        s->q = nq;
        s->capq = nc;
    }
    char *dup = strdup(queue);
    if (!dup) return NULL;
    s->q[s->nq] = (qstat){dup, 0, 0};
    return &s->q[s->nq++];
}

/* Add (sign > 0) or remove an entry's bytes; entry counts follow. */
static void account(bf_spool *s, const char *queue, uint64_t bytes, int entries_delta, int sign)
{
    qstat *q = qfind(s, queue, sign > 0);
    if (sign > 0) {
        s->used += bytes;
        if (q) { q->bytes += bytes; q->entries += (uint64_t)entries_delta; }
        return;
    }
    s->used = s->used >= bytes ? s->used - bytes : 0;
    if (q) {
        q->bytes = q->bytes >= bytes ? q->bytes - bytes : 0;
        q->entries = q->entries >= (uint64_t)entries_delta ? q->entries - (uint64_t)entries_delta : 0;
    }
}

static uint64_t file_size(const char *path, int *exists)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { if (exists) *exists = 0; return 0; }
    if (exists) *exists = 1;
    return (uint64_t)st.st_size;
}

/* ---- durable writes ---- */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) { if (errno == EINTR) continue; return -errno; }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* temp file in the same directory + fsync + rename; the caller fsyncs the directory. */
/* What an entry is written from: bytes in memory, or len bytes of a file from its start. */
typedef struct src {
    const void *data;
    uint64_t len;
    int fd;
} src;

#define COPY_CHUNK (256u << 10)

static int copy_from_fd(int out, int in, uint64_t len)
{
    char *buf = malloc(COPY_CHUNK);
    if (!buf) return -ENOMEM;
    int rc = 0;
    for (uint64_t off = 0; off < len && !rc;) {
        size_t want = len - off < COPY_CHUNK ? (size_t)(len - off) : COPY_CHUNK;
        ssize_t n = pread(in, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) rc = n < 0 ? -errno : -EIO;   /* shorter than announced */
        else rc = write_all(out, buf, (size_t)n), off += (uint64_t)n;
    }
    free(buf);
    return rc;
}

static int write_durable(bf_spool *s, const char *qdir, const char *final, const char *base, const src *in)
{
    char tmp[PATH_MAX];
    uint64_t seq = atomic_fetch_add(&s->tmp_seq, 1);
    int n = snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "%s.%ld.%llu", qdir, base, (long)getpid(),
                     (unsigned long long)seq);
    if (n < 0 || (size_t)n >= sizeof tmp) return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return -errno;
    int rc = in->data || !in->len ? write_all(fd, in->data, (size_t)in->len) : copy_from_fd(fd, in->fd, in->len);
    if (!rc && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && !rc) rc = -errno;
    if (!rc && rename(tmp, final) != 0) rc = -errno;
    if (rc) unlink(tmp);
    return rc;
}

/* ---- open: scan, clean, quarantine ---- */

static int quarantine_file(bf_spool *s, const char *queue, const char *name)
{
    char src[PATH_MAX], qdir[PATH_MAX], dst[PATH_MAX];
    int rc = mkpath(src, sizeof src, s->dir, queue, name, NULL);
    if (!rc) rc = mkpath(qdir, sizeof qdir, s->dir, QUARANTINE, queue, NULL);
    if (!rc) rc = mkpath(dst, sizeof dst, qdir, name, NULL, NULL);
    if (rc) return rc;
    if ((rc = bf_mkdir_p(qdir, 0750)) != 0) return rc;
    if (rename(src, dst) != 0) return -errno;
    char msrc[PATH_MAX], mdst[PATH_MAX];
    if (!mkpath(msrc, sizeof msrc, s->dir, queue, name, META_SUFFIX) &&
        !mkpath(mdst, sizeof mdst, qdir, name, NULL, META_SUFFIX))
        (void)rename(msrc, mdst);   /* absent sidecar is normal */
    bf_fsync_dir(qdir);
    BF_WARN("spool: quarantined %s/%s under %s/" QUARANTINE, queue, name, s->dir);
    return 0;
}

typedef struct scan_ctx { bf_spool *s; bf_spool_validate_fn validate; void *ud; int depth; } scan_ctx;

static int scan_dir(scan_ctx *c, const char *queue);

/* One directory entry of a queue dir during the scan at open. */
static int scan_entry(scan_ctx *c, const char *queue, const char *qpath, const struct dirent *de)
{
    const char *nm = de->d_name;
    char p[PATH_MAX], sub[PATH_MAX];
    if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0) return 0;
    if (snprintf(p, sizeof p, "%s/%s", qpath, nm) >= (int)sizeof p) return 0;
    struct stat st;
    if (lstat(p, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) {
        if (!*queue && strcmp(nm, QUARANTINE) == 0) return 0;
        if (snprintf(sub, sizeof sub, "%s%s%s", queue, *queue ? "/" : "", nm) >= (int)sizeof sub) return 0;
        return c->depth < 16 ? scan_dir(c, sub) : 0;
    }
    if (!S_ISREG(st.st_mode)) return 0;
    if (strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {   /* a write interrupted by a crash */
        if (unlink(p) != 0) BF_WARN("spool: cannot remove temp file %s", p);
        return 0;
    }
    if (!*queue) return 0;   /* files directly under dir are not in any queue */
    if (has_suffix(nm, META_SUFFIX)) {
        char entry[PATH_MAX];
        snprintf(entry, sizeof entry, "%.*s", (int)(strlen(p) - strlen(META_SUFFIX)), p);
        int exists;
        file_size(entry, &exists);
        if (!exists) { unlink(p); return 0; }   /* orphan sidecar of a removed entry */
        account(c->s, queue, (uint64_t)st.st_size, 0, 1);
        return 0;
    }
    if (c->validate && c->validate(c->ud, queue, nm, p) < 0) {
        int rc = quarantine_file(c->s, queue, nm);
        if (rc) return rc;
        c->s->quarantined++;
        return 0;
    }
    account(c->s, queue, (uint64_t)st.st_size, 1, 1);
    return 0;
}

static int scan_dir(scan_ctx *c, const char *queue)
{
    char qpath[PATH_MAX];
    if (snprintf(qpath, sizeof qpath, "%s%s%s", c->s->dir, *queue ? "/" : "", queue) >= (int)sizeof qpath)
        return -ENAMETOOLONG;
    DIR *d = opendir(qpath);
    if (!d) return -errno;
    /* Collect names first: quarantining renames files and would disturb readdir. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) { rc = -ENOMEM; break; }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(de->d_name))) { rc = -ENOMEM; break; }
        n++;
    }
    closedir(d);
    c->depth++;
    for (size_t i = 0; !rc && i < n; i++) {
        struct dirent fake;
        snprintf(fake.d_name, sizeof fake.d_name, "%s", names[i]);
        rc = scan_entry(c, queue, qpath, &fake);
    }
    c->depth--;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int bf_spool_open(const char *dir, uint64_t max_bytes, bf_spool_validate_fn validate, void *ud, bf_spool **out)
{
    if (!dir || !*dir || !out) return -EINVAL;
    int rc = bf_mkdir_p(dir, 0750);
    if (rc) return rc;
    bf_spool *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->dir = strdup(dir);
    s->max_bytes = max_bytes;
    if (!s->dir) { free(s); return -ENOMEM; }
    size_t dl = strlen(s->dir);
    while (dl > 1 && s->dir[dl - 1] == '/') s->dir[--dl] = 0;
    if ((rc = pthread_mutex_init(&s->mu, NULL)) != 0) { free(s->dir); free(s); return -rc; }
    scan_ctx c = {s, validate, ud, 0};
    rc = scan_dir(&c, "");
    if (rc) { bf_spool_close(s); return rc; }
    *out = s;
    return 0;
}

void bf_spool_close(bf_spool *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nq; i++) free(s->q[i].queue);
    free(s->q);
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(s);
}

/* ---- operations ---- */

int bf_spool_path(bf_spool *s, const char *queue, const char *name, char *out, size_t outlen)
{
    if (!s || !queue_ok(queue) || !name_ok(name)) return -EINVAL;
    return mkpath(out, outlen, s->dir, queue, name, NULL);
}

static int spool_write(bf_spool *s, const char *queue, const char *name, const src *in, const char *meta_json)
{
    char qdir[PATH_MAX], final[PATH_MAX], mfinal[PATH_MAX];
    if (!s || !queue_ok(queue) || !name_ok(name)) return -EINVAL;
    int rc = mkpath(qdir, sizeof qdir, s->dir, queue, NULL, NULL);
    if (!rc) rc = mkpath(final, sizeof final, s->dir, queue, name, NULL);
    if (!rc) rc = mkpath(mfinal, sizeof mfinal, s->dir, queue, name, META_SUFFIX);
    if (rc) return rc;
    size_t mlen = meta_json ? strlen(meta_json) : 0;
    uint64_t need = in->len + mlen;

    pthread_mutex_lock(&s->mu);
    int old_exists = 0, oldm_exists = 0;
    uint64_t old = file_size(final, &old_exists), oldm = file_size(mfinal, &oldm_exists);
    uint64_t base = s->used >= old + oldm ? s->used - (old + oldm) : 0;
    if (s->max_bytes && base + need > s->max_bytes && need > old + oldm) {
        pthread_mutex_unlock(&s->mu);
        return -ENOSPC;
    }
    account(s, queue, need, 1, 1);   /* reservation */
    pthread_mutex_unlock(&s->mu);

    rc = bf_mkdir_p(qdir, 0750);
    /* sidecar first: an entry must never be visible without the meta it was written with */
    src meta = {meta_json, mlen, -1};
    if (!rc && meta_json) rc = write_durable(s, qdir, mfinal, name, &meta);
    else if (!rc && oldm_exists && unlink(mfinal) != 0 && errno != ENOENT) rc = -errno;
    if (!rc) rc = write_durable(s, qdir, final, name, in);
    if (!rc) rc = bf_fsync_dir(qdir);

    pthread_mutex_lock(&s->mu);
    if (rc) account(s, queue, need, 1, -1);
    else if (old_exists || oldm_exists) account(s, queue, old + oldm, old_exists, -1);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bf_spool_write(bf_spool *s, const char *queue, const char *name, const void *data, size_t len,
                   const char *meta_json)
{
    if (!data && len) return -EINVAL;
    src in = {data, len, -1};
    return spool_write(s, queue, name, &in, meta_json);
}

int bf_spool_write_fd(bf_spool *s, const char *queue, const char *name, int fd, uint64_t len, const char *meta_json)
{
    if (fd < 0) return -EINVAL;
    src in = {NULL, len, fd};
    return spool_write(s, queue, name, &in, meta_json);
}

int bf_spool_read(bf_spool *s, const char *queue, const char *name, size_t max, char **data, size_t *len)
{
    char p[PATH_MAX];
    int rc = bf_spool_path(s, queue, name, p, sizeof p);
    return rc ? rc : bf_read_file(p, max, data, len);
}

int bf_spool_read_meta(bf_spool *s, const char *queue, const char *name, char **json)
{
    char p[PATH_MAX];
    if (!s || !queue_ok(queue) || !name_ok(name)) return -EINVAL;
    int rc = mkpath(p, sizeof p, s->dir, queue, name, META_SUFFIX);
    size_t len;
    return rc ? rc : bf_read_file(p, 1 << 20, json, &len);
}

int bf_spool_write_meta(bf_spool *s, const char *queue, const char *name, const char *json)
{
    char qdir[PATH_MAX], entry[PATH_MAX], mfinal[PATH_MAX];
    if (!s || !queue_ok(queue) || !name_ok(name) || !json) return -EINVAL;
    int rc = mkpath(qdir, sizeof qdir, s->dir, queue, NULL, NULL);
    if (!rc) rc = mkpath(entry, sizeof entry, s->dir, queue, name, NULL);
    if (!rc) rc = mkpath(mfinal, sizeof mfinal, s->dir, queue, name, META_SUFFIX);
    if (rc) return rc;
    int exists;
    file_size(entry, &exists);
    if (!exists) return -ENOENT;
    size_t mlen = strlen(json);
    pthread_mutex_lock(&s->mu);
    /* meta rewrites (retry counters) are small and must not be refused when the spool is full */
    uint64_t old = file_size(mfinal, NULL);
    account(s, queue, mlen, 0, 1);
    pthread_mutex_unlock(&s->mu);
    src in = {json, mlen, -1};
    rc = write_durable(s, qdir, mfinal, name, &in);
    if (!rc) rc = bf_fsync_dir(qdir);
    pthread_mutex_lock(&s->mu);
    account(s, queue, rc ? mlen : old, 0, -1);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bf_spool_move(bf_spool *s, const char *from, const char *name, const char *to)
{
    char src[PATH_MAX], dst[PATH_MAX], msrc[PATH_MAX], mdst[PATH_MAX], tdir[PATH_MAX], fdir[PATH_MAX];
    if (!s || !queue_ok(from) || !queue_ok(to) || !name_ok(name)) return -EINVAL;
    int rc = mkpath(src, sizeof src, s->dir, from, name, NULL);
    if (!rc) rc = mkpath(dst, sizeof dst, s->dir, to, name, NULL);
    if (!rc) rc = mkpath(msrc, sizeof msrc, s->dir, from, name, META_SUFFIX);
    if (!rc) rc = mkpath(mdst, sizeof mdst, s->dir, to, name, META_SUFFIX);
    if (!rc) rc = mkpath(tdir, sizeof tdir, s->dir, to, NULL, NULL);
    if (!rc) rc = mkpath(fdir, sizeof fdir, s->dir, from, NULL, NULL);
    if (rc) return rc;
    if (strcmp(from, to) == 0) return 0;
    if ((rc = bf_mkdir_p(tdir, 0750)) != 0) return rc;

    pthread_mutex_lock(&s->mu);
    int exists, mexists, dexists, dmexists;
    uint64_t sz = file_size(src, &exists), msz = file_size(msrc, &mexists);
    uint64_t dsz = file_size(dst, &dexists), dmsz = file_size(mdst, &dmexists);
    if (!exists) { pthread_mutex_unlock(&s->mu); return -ENOENT; }
    /* Meta first so the entry never arrives in `to` ahead of its sidecar. */
    if (mexists && rename(msrc, mdst) != 0) rc = -errno;
    else if (!mexists && dmexists) unlink(mdst);
    if (!rc && rename(src, dst) != 0) {
        rc = -errno;
        if (mexists) (void)rename(mdst, msrc);
    }
    if (!rc) {
        account(s, from, sz + msz, 1, -1);
        if (dexists || dmexists) account(s, to, dsz + dmsz, dexists, -1);   /* replaced */
        account(s, to, sz + (mexists ? msz : 0), 1, 1);
    }
    pthread_mutex_unlock(&s->mu);
    if (!rc) rc = bf_fsync_dir(tdir);
    if (!rc) rc = bf_fsync_dir(fdir);
    return rc;
}

int bf_spool_remove(bf_spool *s, const char *queue, const char *name)
{
    char p[PATH_MAX], mp[PATH_MAX], qdir[PATH_MAX];
    if (!s || !queue_ok(queue) || !name_ok(name)) return -EINVAL;
    int rc = mkpath(p, sizeof p, s->dir, queue, name, NULL);
    if (!rc) rc = mkpath(mp, sizeof mp, s->dir, queue, name, META_SUFFIX);
    if (!rc) rc = mkpath(qdir, sizeof qdir, s->dir, queue, NULL, NULL);
    if (rc) return rc;
    pthread_mutex_lock(&s->mu);
    int exists, mexists;
    uint64_t sz = file_size(p, &exists), msz = file_size(mp, &mexists);
    if (!exists) rc = -ENOENT;
    else if (unlink(p) != 0) rc = -errno;
    if (!rc) {
        if (mexists && unlink(mp) != 0) msz = 0;
        account(s, queue, sz + msz, 1, -1);
    }
    pthread_mutex_unlock(&s->mu);
    if (!rc) bf_fsync_dir(qdir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_name(char ***arr, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        char **na = realloc(*arr, nc * sizeof *na);
        if (!na) return -ENOMEM;
        *arr = na;
        *cap = nc;
    }
    if (!((*arr)[*n] = strdup(s))) return -ENOMEM;
    (*n)++;
    return 0;
}

void bf_spool_names_free(char **names, size_t n)
{
    if (!names) return;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

int bf_spool_list(bf_spool *s, const char *queue, char ***names, size_t *n)
{
    char qdir[PATH_MAX];
    *names = NULL;
    *n = 0;
    if (!s || !queue_ok(queue)) return -EINVAL;
    int rc = mkpath(qdir, sizeof qdir, s->dir, queue, NULL, NULL);
    if (rc) return rc;
    DIR *d = opendir(qdir);
    if (!d) return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.' && (!nm[1] || strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 || strcmp(nm, "..") == 0))
            continue;
        if (has_suffix(nm, META_SUFFIX)) continue;
        if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) continue;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        }
        rc = push_name(names, n, &cap, nm);
    }
    closedir(d);
    if (rc) { bf_spool_names_free(*names, *n); *names = NULL; *n = 0; return rc; }
    if (*n > 1) qsort(*names, *n, sizeof **names, cmp_str);
    return 0;
}

/* Is this directory entry a queue entry (a regular file, not a temp file or a sidecar)? */
static int is_entry(DIR *d, const struct dirent *de, int *is_dir)
{
    const char *nm = de->d_name;
    *is_dir = 0;
    if (nm[0] == '.' && (!nm[1] || strcmp(nm, "..") == 0 || strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX)) == 0))
        return 0;
    struct stat st;
    if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    if (S_ISDIR(st.st_mode)) { *is_dir = nm[0] != '.'; return 0; }
    return S_ISREG(st.st_mode) && !has_suffix(nm, META_SUFFIX);
}

/* Walk the tree (not the table) so entries placed by other means are found too; one readdir per
 * directory both detects an entry and collects the subdirectories. */
static int walk_queues(bf_spool *s, const char *queue, int depth, char ***out, size_t *n, size_t *cap)
{
    char qdir[PATH_MAX];
    if (snprintf(qdir, sizeof qdir, "%s%s%s", s->dir, *queue ? "/" : "", queue) >= (int)sizeof qdir) return 0;
    DIR *d = opendir(qdir);
    if (!d) return errno == ENOENT ? 0 : -errno;
    char **subs = NULL;
    size_t ns = 0, caps = 0;
    int rc = 0, has_entry = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        int is_dir;
        if (is_entry(d, de, &is_dir)) has_entry = 1;
        else if (is_dir && !(!*queue && strcmp(de->d_name, QUARANTINE) == 0))
            rc = push_name(&subs, &ns, &caps, de->d_name);
    }
    closedir(d);
    if (!rc && *queue && has_entry) rc = push_name(out, n, cap, queue);
    for (size_t i = 0; !rc && i < ns && depth < 16; i++) {
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s%s%s", queue, *queue ? "/" : "", subs[i]) >= (int)sizeof sub) continue;
        rc = walk_queues(s, sub, depth + 1, out, n, cap);
    }
    bf_spool_names_free(subs, ns);
    return rc;
}

int bf_spool_queues(bf_spool *s, char ***queues, size_t *n)
{
    *queues = NULL;
    *n = 0;
    if (!s) return -EINVAL;
    size_t cap = 0;
    int rc = walk_queues(s, "", 0, queues, n, &cap);
    if (rc) { bf_spool_names_free(*queues, *n); *queues = NULL; *n = 0; return rc; }
    if (*n > 1) qsort(*queues, *n, sizeof **queues, cmp_str);
    return 0;
}

uint64_t bf_spool_used(bf_spool *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->used;
    pthread_mutex_unlock(&s->mu);
    return v;
}

uint64_t bf_spool_max(bf_spool *s) { return s->max_bytes; }

uint64_t bf_spool_quarantined(bf_spool *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->quarantined;
    pthread_mutex_unlock(&s->mu);
    return v;
}

uint64_t bf_spool_queue_bytes(bf_spool *s, const char *queue)
{
    uint64_t v = 0;
    size_t ql = queue ? strlen(queue) : 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nq; i++) {
        const char *q = s->q[i].queue;
        if (!ql || (strncmp(q, queue, ql) == 0 && (q[ql] == 0 || q[ql] == '/'))) v += s->q[i].bytes;
    }
    pthread_mutex_unlock(&s->mu);
    return v;
}
