/* keys: intake object key derivation (see keys.h). */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hint_char(char c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

bool rcv_hint_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > RCV_HINT_MAX || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_hint_char(s[i]))
            return false;
        /* "--" would make the key ambiguous for readers that split on it; ".." is a path smell */
        if (i > 0 && (s[i] == '-' || s[i] == '.') && s[i - 1] == s[i])
            return false;
    }
    return true;
}

/* Expect `word` followed by "--" at *p; advance past both. */
static bool eat_field(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n) || strncmp(*p + n, "--", 2))
        return false;
    *p += n + 2;
    return true;
}

/* 1..19 digits, value in (0, INT64_MAX], followed by "--". */
static bool eat_ns(const char **p, int64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 19)
            return false;
        v = v * 10 + (uint64_t)(s[n] - '0');
        n++;
    }
    if (n == 0 || v == 0 || v > (uint64_t)INT64_MAX || strncmp(s + n, "--", 2))
        return false;
    *out = (int64_t)v;
    *p = s + n + 2;
    return true;
}

int rcv_filename_parse(const char *name, const char *tenant, const char *dataset, int64_t *unix_ns,
                       char *hint, size_t hintlen)
{
    const char *p = name;
    int64_t ns;
    if (!name || !tenant || !dataset || !*tenant || !*dataset)
        return -EINVAL;
    if (!eat_field(&p, tenant) || !eat_field(&p, dataset) || !eat_ns(&p, &ns))
        return -EINVAL;
    const char *dot = strrchr(p, '.');
    /* .raw: a batch our proxy spooled uncompressed because its writer fell behind */
    if (!dot || (strcmp(dot, ".gz") && strcmp(dot, ".zst") && strcmp(dot, ".raw")))
        return -EINVAL;
    size_t n = (size_t)(dot - p);
    if (!rcv_hint_valid(p, n) || n + 1 > hintlen)
        return -EINVAL;
    memcpy(hint, p, n);
    hint[n] = '\0';
    *unix_ns = ns;
    return 0;
}

int rcv_object_key(const char *tenant, const char *dataset, int64_t unix_ns, const char *hint,
                   const char *h16, const char *ext, char *out, size_t outlen)
{
    if (!tenant || !dataset || !hint || !h16 || !ext || strlen(h16) != 16 || unix_ns <= 0)
        return -EINVAL;
    int n = snprintf(out, outlen, "%s/%s/%s--%s--%lld--%s--%s.%s", tenant, dataset, tenant, dataset,
                     (long long)unix_ns, hint, h16, ext);
    if (n < 0 || (size_t)n >= outlen)
        return -ENAMETOOLONG;
    return 0;
}

void rcv_meta_sanitize(const char *in, char *out, size_t outlen)
{
    size_t j = 0;
    if (outlen == 0)
        return;
    if (!in || !*in) {
        snprintf(out, outlen, "unknown");
        return;
    }
    for (size_t i = 0; in[i] && j + 1 < outlen; i++) {
        char c = in[i];
        bool ok = is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '+' || c == '-';
        out[j++] = ok ? c : '_';
    }
    out[j] = '\0';
}
