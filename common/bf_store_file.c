/* bf_store_file: file:// backend (see bf_store_file.h). */
#include "bf_store_file.h"
#include "bf_buf.h"
#include "bf_util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#define RESERVED ".bf"
#define META_PREFIX ".bfmeta."
#define TMP_PREFIX ".bftmp."
#define CHUNK (256 * 1024)
#define SIDECAR_MAX (64 * 1024)

typedef struct fbe {
    char *root;
    atomic_uint_fast64_t seq;    /* temp-name uniqueness within the process */
} fbe;

/* ---- paths ---- */

static int has_reserved_segment(const char *key)
{
    for (const char *p = key; p; p = strchr(p, '/')) {
        if (*p == '/') p++;
        if (strncmp(p, RESERVED, strlen(RESERVED)) == 0) return 1;
    }
    return 0;
}

/* dir of the key's file (abs), base name, full path; all into caller buffers of PATH_MAX */
static int split_path(const fbe *b, const char *key, char *full, char *dir, const char **base)
{
    if (has_reserved_segment(key)) {
        bf_store_seterr("key '%.200s': segments starting with '%s' are reserved by the file store", key, RESERVED);
        return -EINVAL;
    }
    int n = snprintf(full, PATH_MAX, "%s/%s", b->root, key);
    if (n < 0 || n >= PATH_MAX) return -ENAMETOOLONG;
    memcpy(dir, full, (size_t)n + 1);
    char *slash = strrchr(dir, '/');
    *slash = 0;
    *base = full + (slash - dir) + 1;
    return 0;
}

static int sidecar_path(const char *dir, const char *base, char *out)
{
    /* ".bfmeta.<name>.json": hidden from listings by the reserved prefix, and not ending in the object's
     * own extension, so a reader's recursive glob for *.parquet never takes a sidecar for data */
    int n = snprintf(out, PATH_MAX, "%s/" META_PREFIX "%s.json", dir, base);
    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int conflict(const char *key, int err)
{
    if (err == ENOTDIR || err == EISDIR || err == EEXIST) {
        bf_store_seterr("key '%.200s' conflicts with an existing file or directory of the file store", key);
        return -EINVAL;
    }
    return -err;
}

/* A name the file system cannot hold (a segment over NAME_MAX, a path over PATH_MAX) is a bad key. */
static int name_rc(const char *key, int rc)
{
    if (rc != -ENAMETOOLONG) return rc;
    bf_store_seterr("key '%.200s' is too long for the file store (segment > 255 or path > %d bytes)", key, PATH_MAX);
    return -EINVAL;
}

/* ---- writing ---- */

typedef int (*fill_fn)(void *ctx, int fd);

typedef struct mem_src { const char *data; size_t len; } mem_src;

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fill_mem(void *ctx, int fd)
{
    mem_src *m = ctx;
    return write_all(fd, m->data, m->len);
}

static int fill_file(void *ctx, int fd)
{
    int src = *(int *)ctx;
    char *buf = malloc(CHUNK);
    if (!buf) return -ENOMEM;
    int rc = 0;
    for (;;) {
        ssize_t r = read(src, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { rc = -errno; break; }
        if (r == 0) break;
        if ((rc = write_all(fd, buf, (size_t)r))) break;
    }
    free(buf);
    return rc;
}

/* New directories are only durable once each parent's entry is: fsync from dir's parent up to the root. */
static int sync_ancestors(const fbe *b, const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    size_t rl = strlen(b->root);
    while (strlen(p) > rl) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) break;
        *slash = 0;
        int rc = bf_fsync_dir(p);
        if (rc && rc != -ENOENT) return rc;
    }
    return 0;
}

static int write_temp(fbe *b, const char *dir, fill_fn fill, void *ctx, char *tmp)
{
    int fd = -1;
    for (int attempt = 0; attempt < 5 && fd < 0; attempt++) {
        uint64_t seq = atomic_fetch_add(&b->seq, 1);
        int n = snprintf(tmp, PATH_MAX, "%s/" TMP_PREFIX "%ld.%llu.%llx", dir, (long)getpid(),
                         (unsigned long long)seq, (unsigned long long)bf_now_ns());
        if (n < 0 || n >= PATH_MAX) return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ENOENT) {
            /* a concurrent delete may remove the directory between mkdir and open: hence the loop */
            int rc = bf_mkdir_p(dir, 0755);
            if (rc && rc != -ENOENT) return rc;
            if (!rc && (rc = sync_ancestors(b, dir))) return rc;
        } else if (fd < 0) {
            return -errno;
        }
    }
    if (fd < 0) return -ENOENT;
    int rc = fill(ctx, fd);
    if (!rc && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && !rc) rc = -errno;
    if (rc) unlink(tmp);
    return rc;
}

static int write_sidecar(fbe *b, const char *dir, const bf_kv *meta, size_t nmeta, char *tmp)
{
    json_t *o = json_object();
    if (!o) return -ENOMEM;
    for (size_t i = 0; i < nmeta; i++) {
        char k[256];
        snprintf(k, sizeof k, "%s", meta[i].key);
        for (char *p = k; *p; p++) *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);  /* as S3 does */
        if (json_object_set_new(o, k, json_string(meta[i].value))) { json_decref(o); return -ENOMEM; }
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!text) return -ENOMEM;
    mem_src m = {text, strlen(text)};
    int rc = write_temp(b, dir, fill_mem, &m, tmp);
    free(text);
    return rc;
}

/* Make the temp file visible under its final name (rename, or link for create-exclusive). */
static int commit(const char *key, const char *tmp, const char *full, const char *metatmp, const char *dir,
                  const char *base, int exclusive)
{
    char side[PATH_MAX];
    int rc = sidecar_path(dir, base, side);
    if (rc) return rc;
    if (exclusive) {
        if (link(tmp, full) != 0) {
            int e = errno;
            unlink(tmp);
            return e == EEXIST ? -EEXIST : conflict(key, e);
        }
        unlink(tmp);
    }
    /* metadata is placed before a plain put's rename so that readers never see new data with no sidecar */
    if (metatmp && rename(metatmp, side) != 0) rc = -errno;
    else if (!metatmp && unlink(side) != 0 && errno != ENOENT) rc = -errno;
    if (!rc && !exclusive && rename(tmp, full) != 0) rc = conflict(key, errno);
    if (!rc) rc = bf_fsync_dir(dir);
    return rc;
}

static int put_with(fbe *b, const char *key, fill_fn fill, void *ctx, const bf_kv *meta, size_t nmeta,
                    int exclusive)
{
    char full[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], metatmp[PATH_MAX];
    const char *base;
    int rc = split_path(b, key, full, dir, &base);
    if (rc) return rc;
    if (nmeta) {
        char side[PATH_MAX];
        if ((rc = sidecar_path(dir, base, side))) return rc;
    }
    rc = write_temp(b, dir, fill, ctx, tmp);
    if (rc) return rc == -ENOTDIR || rc == -EEXIST ? conflict(key, -rc) : rc;
    if (nmeta && (rc = write_sidecar(b, dir, meta, nmeta, metatmp))) {
        unlink(tmp);
        return rc;
    }
    rc = commit(key, tmp, full, nmeta ? metatmp : NULL, dir, base, exclusive);
    if (rc) {
        unlink(tmp);
        if (nmeta) unlink(metatmp);
    }
    return rc;
}

static int f_put(void *be, const char *key, const void *data, size_t len, const bf_kv *meta, size_t nmeta,
                 int exclusive)
{
    mem_src m = {data, len};
    return name_rc(key, put_with(be, key, fill_mem, &m, meta, nmeta, exclusive));
}

static int f_put_file(void *be, const char *key, const char *path, const bf_kv *meta, size_t nmeta)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        bf_store_seterr("put %s: cannot open source %s: %s", key, path, strerror(e));
        return -e;
    }
    int rc = put_with(be, key, fill_file, &fd, meta, nmeta, 0);
    close(fd);
    return name_rc(key, rc);
}

/* ---- reading ---- */

static void fill_info(const struct stat *st, bf_store_info *info)
{
    info->size = st->st_size;
    info->mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
    snprintf(info->etag, sizeof info->etag, "%llx-%llx-%llx", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec * 1000000000ull + (unsigned long long)st->st_mtim.tv_nsec);
}

/* A missing or unreadable sidecar means "no metadata": the object itself is what matters. */
static int read_sidecar(const char *dir, const char *base, bf_store_info *info)
{
    char side[PATH_MAX];
    if (sidecar_path(dir, base, side)) return 0;
    char *text = NULL;
    size_t len = 0;
    if (bf_read_file(side, SIDECAR_MAX, &text, &len) != 0) return 0;
    json_t *o = json_loadb(text, len, 0, NULL);
    free(text);
    if (!json_is_object(o)) { json_decref(o); return 0; }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v)) continue;
        if ((rc = bf_store_info_add_meta(info, k, strlen(k), json_string_value(v), json_string_length(v)))) break;
    }
    json_decref(o);
    return rc;
}

/* full and dir are caller buffers of PATH_MAX; *base points into full */
static int open_object(fbe *b, const char *key, char *full, char *dir, const char **base, struct stat *st, int *fdout)
{
    int rc = split_path(b, key, full, dir, base);
    if (rc) return rc;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOTDIR || errno == ENOENT ? -ENOENT : -errno;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -ENOENT;
    }
    *fdout = fd;
    return 0;
}

static int f_get(void *be, const char *key, bf_sink_fn sink, void *ud, bf_store_info *info)
{
    char full[PATH_MAX], dir[PATH_MAX];
    const char *base;
    struct stat st;
    int fd;
    int rc = open_object(be, key, full, dir, &base, &st, &fd);
    if (rc) return name_rc(key, rc);
    if (info) {
        fill_info(&st, info);
        rc = read_sidecar(dir, base, info);
    }
    char *buf = rc ? NULL : malloc(CHUNK);
    if (!rc && !buf) rc = -ENOMEM;
    while (!rc) {
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = -errno;
        if (r <= 0) break;
        rc = sink(ud, buf, (size_t)r);
    }
    free(buf);
    close(fd);
    return rc;
}

static int f_head(void *be, const char *key, bf_store_info *info)
{
    char full[PATH_MAX], dir[PATH_MAX];
    const char *base;
    struct stat st;
    int fd;
    int rc = open_object(be, key, full, dir, &base, &st, &fd);
    if (rc) return name_rc(key, rc);
    close(fd);
    fill_info(&st, info);
    return read_sidecar(dir, base, info);
}

/* Remove directories that the delete left empty, up to (not including) the root. Best effort: a
 * concurrent put recreates what it needs. */
static void prune_dirs(const fbe *b, char *dir)
{
    size_t rl = strlen(b->root);
    while (strlen(dir) > rl) {
        if (rmdir(dir) != 0) break;
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        *slash = 0;
    }
}

static int f_del(void *be, const char *key)
{
    fbe *b = be;
    char full[PATH_MAX], dir[PATH_MAX], side[PATH_MAX];
    const char *base;
    int rc = split_path(b, key, full, dir, &base);
    if (!rc) rc = sidecar_path(dir, base, side);
    if (rc) return name_rc(key, rc);
    if (unlink(full) != 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return 0;
        return name_rc(key, -errno);
    }
    unlink(side);
    rc = bf_fsync_dir(dir);
    prune_dirs(b, dir);
    return rc == -ENOENT ? 0 : rc;
}

/* ---- listing ---- */

typedef struct ent { char *name; int is_dir; } ent;

typedef struct walk {
    const char *prefix;
    const char *after;
    size_t want;
    bf_store_list *out;
    size_t cap;
    int more;            /* found one entry past `want`: the page is truncated */
} walk;

static int cmp_ent(const void *a, const void *b)
{
    return strcmp(((const ent *)a)->name, ((const ent *)b)->name);
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static void free_ents(ent *e, size_t n)
{
    for (size_t i = 0; i < n; i++) free(e[i].name);
    free(e);
}

/* Entries of one directory, directories carrying a trailing '/' so that byte order equals key order. */
static int read_entries(const char *path, ent **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    ent *e = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (strncmp(de->d_name, RESERVED, strlen(RESERVED)) == 0 || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (type != DT_DIR && type != DT_REG) continue;   /* symlinks and specials are not objects */
        if (n == cap) {
            ent *ne = realloc(e, (cap = cap ? cap * 2 : 32) * sizeof *ne);
            if (!ne) { rc = -ENOMEM; break; }
            e = ne;
        }
        size_t l = strlen(de->d_name);
        e[n].name = malloc(l + 2);
        if (!e[n].name) { rc = -ENOMEM; break; }
        memcpy(e[n].name, de->d_name, l);
        e[n].name[l] = type == DT_DIR ? '/' : 0;
        e[n].name[l + 1] = 0;
        e[n].is_dir = type == DT_DIR;
        n++;
    }
    closedir(d);
    if (rc) { free_ents(e, n); return rc; }
    if (n) qsort(e, n, sizeof *e, cmp_ent);
    *out = e;
    *nout = n;
    return 0;
}

static int walk_dir(walk *w, bf_buf *abs, bf_buf *rel);

/* rel/abs are the parent's paths ending in '/'; the entry is appended for the visit and removed after. */
static int visit(walk *w, const ent *e, bf_buf *abs, bf_buf *rel)
{
    size_t rmark = rel->len, amark = abs->len;
    int rc = bf_buf_puts(rel, e->name);
    if (!rc) rc = bf_buf_puts(abs, e->name);
    const char *full = rel->data;
    if (rc) {
    } else if (e->is_dir) {
        int related = starts(w->prefix, full) || starts(full, w->prefix);
        /* every key below starts with `full`; if full sorts before the token without being its prefix,
         * the whole subtree was on earlier pages */
        int before = w->after && strcmp(full, w->after) < 0 && !starts(w->after, full);
        if (related && !before) rc = walk_dir(w, abs, rel);
    } else if (starts(full, w->prefix) && !(w->after && strcmp(full, w->after) <= 0)) {
        struct stat st;
        if (w->out->n == w->want) {
            w->more = 1;
        } else if (stat(abs->data, &st) == 0) {
            bf_store_info i = {0};
            fill_info(&st, &i);
            rc = bf_store_list_add(w->out, &w->cap, full, rel->len, i.size, i.mtime_ms, i.etag);
        }
    }
    rel->len = rmark;
    if (rel->data) rel->data[rmark] = 0;
    abs->len = amark;
    abs->data[amark] = 0;
    return rc;
}

static int walk_dir(walk *w, bf_buf *abs, bf_buf *rel)
{
    ent *e;
    size_t n;
    int rc = read_entries(abs->data, &e, &n);
    for (size_t i = 0; i < n && !rc && !w->more; i++) rc = visit(w, &e[i], abs, rel);
    free_ents(e, n);
    return rc;
}

static int f_list(void *be, const char *prefix, const char *token, size_t max, bf_store_list *out)
{
    fbe *b = be;
    walk w = {.prefix = prefix, .after = token, .want = max, .out = out};
    bf_buf abs, rel;
    bf_buf_init(&abs, 0);
    bf_buf_init(&rel, 0);
    int rc = bf_buf_printf(&abs, "%s/", b->root);
    if (!rc) rc = bf_buf_puts(&rel, "");
    if (!rc) rc = walk_dir(&w, &abs, &rel);
    if (!rc && w.more && out->n) {
        out->next = strdup(out->items[out->n - 1].key);
        if (!out->next) rc = -ENOMEM;
    }
    bf_buf_free(&abs);
    bf_buf_free(&rel);
    return rc;
}

/* ---- open/close ---- */

static int f_open(const char *rest, const bf_s3_config *s3, void **out, char *err, size_t errlen)
{
    (void)s3;
    if (rest[0] != '/') {
        snprintf(err, errlen, "file store URI must be absolute: file:///path");
        return -EINVAL;
    }
    fbe *b = calloc(1, sizeof *b);
    if (!b || !(b->root = strdup(rest))) {
        free(b);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    size_t n = strlen(b->root);
    while (n > 1 && b->root[n - 1] == '/') b->root[--n] = 0;
    int rc = bf_mkdir_p(b->root, 0755);
    if (rc) {
        snprintf(err, errlen, "file store %s: %s", b->root, strerror(-rc));
        free(b->root);
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static void f_close(void *be)
{
    fbe *b = be;
    if (!b) return;
    free(b->root);
    free(b);
}

const bf_store_ops bf_store_file_ops = {
    .scheme = "file", .open = f_open, .close = f_close, .put = f_put, .put_file = f_put_file,
    .get = f_get, .head = f_head, .del = f_del, .list = f_list,
};
