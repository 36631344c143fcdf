/* filter_fingerprint: see filter_fingerprint.h. */
#include "filter_fingerprint.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bf_buf.h"
#include "fieldpath.h"
#include "filter_defs.h"
#include "fopts.h"

static const struct { const char *name; const EVP_MD *(*md)(void); } METHODS[] = {
    {"MD5", EVP_md5}, {"SHA1", EVP_sha1}, {"SHA256", EVP_sha256}, {"SHA512", EVP_sha512},
};

typedef struct fpf {
    fpath *f; size_t n;
    fpath dst;
    const EVP_MD *md;
    char *sep;
    bool b64, keys;
} fpf;

static void fpf_free(void *p)
{
    fpf *f = p;
    for (size_t i = 0; i < f->n; i++)
        fpath_free(&f->f[i]);
    free(f->f);
    fpath_free(&f->dst);
    free(f->sep);
    free(f);
}

static int fpf_compile(const json_t *cfg, pl_env *env, void **st, char *err, size_t errlen)
{
    (void)env;
    const char *dst, *method, *sep;
    const char **src = NULL;
    size_t n = 0;
    fpf *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    int rc = 0;
    if (fo_str(cfg, "target_field", "fingerprint", &dst, err, errlen) == -EINVAL ||
        fo_str(cfg, "method", "SHA256", &method, err, errlen) == -EINVAL ||
        fo_str(cfg, "key_separator", "|", &sep, err, errlen) == -EINVAL ||
        fo_bool(cfg, "base64encode", false, &f->b64, err, errlen) == -EINVAL ||
        fo_bool(cfg, "include_keys", false, &f->keys, err, errlen) == -EINVAL ||
        fo_strlist(cfg, "source_fields", &src, &n, err, errlen) == -EINVAL)
        rc = -EINVAL;
    for (size_t i = 0; !rc && i < sizeof METHODS / sizeof *METHODS; i++)
        if (!strcasecmp(METHODS[i].name, method))
            f->md = METHODS[i].md();
    if (!rc && !f->md) {
        snprintf(err, errlen, "unknown method '%s' (MD5, SHA1, SHA256, SHA512)", method);
        rc = -EINVAL;
    }
    if (!rc && n && !(f->f = calloc(n, sizeof *f->f)))
        rc = -ENOMEM;
    for (size_t i = 0; !rc && i < n; i++, f->n++)
        rc = fpath_compile(src[i], &f->f[i]) ? -EINVAL : 0;
    free(src);
    if (!rc && (fpath_compile(*dst ? dst : "fingerprint", &f->dst) || !(f->sep = strdup(sep))))
        rc = -EINVAL;
    if (rc) {
        fpf_free(f);
        return rc;
    }
    *st = f;
    return 0;
}

static int build_input(const fpf *f, json_t *rec, bf_buf *b, bool *any)
{
    *any = false;
    if (f->n == 0) {
        char *s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
        int rc = s ? bf_buf_puts(b, s) : -ENOMEM;
        free(s);
        *any = true;
        return rc;
    }
    for (size_t i = 0; i < f->n; i++) {
        json_t *v = fpath_get(&f->f[i], rec);
        if (!v)
            continue;
        if ((*any && bf_buf_puts(b, f->sep)) || (f->keys && bf_buf_printf(b, "%s=", f->f[i].text)) ||
            fo_value_text(v, b))
            return -ENOMEM;
        *any = true;
    }
    return 0;
}

static int fpf_apply(void *p, json_t *rec, pf_ctx *ctx)
{
    (void)ctx;
    fpf *f = p;
    bf_buf in;
    bf_buf_init(&in, 0);
    bool any;
    int rc = build_input(f, rec, &in, &any);
    if (rc || !any) {
        bf_buf_free(&in);
        return rc ? rc : PF_NEXT;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdl = 0;
    if (!EVP_Digest(in.data ? in.data : "", in.len, md, &mdl, f->md, NULL)) {
        bf_buf_free(&in);
        return -EIO;
    }
    bf_buf_free(&in);
    char out[2 * EVP_MAX_MD_SIZE + 4];
    if (f->b64) {
        EVP_EncodeBlock((unsigned char *)out, md, (int)mdl);
    } else {
        for (unsigned int i = 0; i < mdl; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    return fpath_set(&f->dst, rec, json_string(out));
}

const pf_def pf_fingerprint = {"fingerprint", fpf_compile, fpf_apply, fpf_free};
