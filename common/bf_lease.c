/* bf_lease: generation-numbered leases on top of create-exclusive (see bf_lease.h).
 * The live generation is the highest one. Whoever creates generation g+1 (exclusively) after finding g
 * expired is the new owner; a contender that loses the create re-reads and sees a live owner. */
#include "bf_lease.h"
#include "bf_util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define GEN_DIGITS 10
#define BODY_MAX 4096
#define MAX_ROUNDS 32

typedef struct lease_body { char owner[256]; int64_t expires_ms; int64_t gen; } lease_body;

static int lease_key(char *out, size_t n, const char *prefix, const char *name, int64_t gen)
{
    size_t pl = strlen(prefix);
    while (pl && prefix[pl - 1] == '/') pl--;
    int w = gen >= 0 ? snprintf(out, n, "%.*s%s%s.%0*lld", (int)pl, prefix, pl ? "/" : "", name, GEN_DIGITS, (long long)gen)
                     : snprintf(out, n, "%.*s%s%s.", (int)pl, prefix, pl ? "/" : "", name);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int check_args(const char *name, const char *owner)
{
    if (!name || !*name || strchr(name, '/') || strlen(name) > 400) return -EINVAL;
    if (owner && (!*owner || strlen(owner) >= sizeof ((bf_lease *)0)->owner)) return -EINVAL;
    return 0;
}

static int read_body(bf_store *s, const char *key, lease_body *out)
{
    char *data;
    size_t len;
    int rc = bf_store_get_mem(s, key, BODY_MAX, &data, &len, NULL);
    if (rc) return rc;
    json_t *o = json_loadb(data, len, 0, NULL);
    free(data);
    const char *owner = json_string_value(json_object_get(o, "owner"));
    json_t *exp = json_object_get(o, "expires_ms");
    /* an unreadable lease body counts as expired so that a corrupt object cannot block work forever */
    snprintf(out->owner, sizeof out->owner, "%s", owner ? owner : "");
    out->expires_ms = json_is_integer(exp) ? json_integer_value(exp) : 0;
    out->gen = json_integer_value(json_object_get(o, "gen"));
    json_decref(o);
    return 0;
}

static int write_body(bf_store *s, const char *key, const char *owner, int64_t expires, int64_t gen, int exclusive)
{
    json_t *o = json_pack("{s:s, s:I, s:I}", "owner", owner, "expires_ms", (json_int_t)expires, "gen", (json_int_t)gen);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) return -ENOMEM;
    int rc = exclusive ? bf_store_create_exclusive(s, key, text, strlen(text), NULL, 0)
                       : bf_store_put(s, key, text, strlen(text), NULL, 0);
    free(text);
    return rc;
}

/* Generations present (listing), highest first is not needed: callers get the max or iterate. */
static int parse_gen(const char *key, size_t base_len, int64_t *gen)
{
    const char *g = key + base_len;
    if (strlen(g) != GEN_DIGITS) return -1;
    int64_t v = 0;
    for (int i = 0; i < GEN_DIGITS; i++) {
        if (g[i] < '0' || g[i] > '9') return -1;
        v = v * 10 + (g[i] - '0');
    }
    *gen = v;
    return 0;
}

static int list_gens(bf_store *s, const char *prefix, const char *name, bf_store_list *l, size_t *base_len)
{
    char base[1024];
    int rc = lease_key(base, sizeof base, prefix, name, -1);
    if (rc) return rc;
    *base_len = strlen(base);
    return bf_store_list_all(s, base, 100000, l);
}

static int max_gen(bf_store *s, const char *prefix, const char *name, int64_t *out)
{
    bf_store_list l;
    size_t bl;
    int rc = list_gens(s, prefix, name, &l, &bl);
    if (rc) return rc;
    *out = 0;
    for (size_t i = 0; i < l.n; i++) {
        int64_t g;
        if (parse_gen(l.items[i].key, bl, &g) == 0 && g > *out) *out = g;
    }
    bf_store_list_free(&l);
    return 0;
}

static void fill(bf_lease *out, const char *name, const char *owner, int64_t gen, int64_t expires)
{
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->owner, sizeof out->owner, "%s", owner);
    out->gen = gen;
    out->expires_ms = expires;
}

int bf_lease_acquire(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                     bf_lease *out)
{
    if (check_args(name, owner) || ttl_ms <= 0 || !prefix) return -EINVAL;
    int64_t g;
    int rc = max_gen(s, prefix, name, &g);
    if (rc) return rc;
    char key[1024];
    /* A listing may lag behind creates (eventually consistent stores): the exclusive create is the
     * arbiter, and each lost create moves us one generation up to look again. */
    for (int round = 0; round < MAX_ROUNDS; round++) {
        int64_t now = bf_now_ms();
        if (g > 0) {
            lease_body cur;
            if ((rc = lease_key(key, sizeof key, prefix, name, g))) return rc;
            rc = read_body(s, key, &cur);
            if (rc && rc != -ENOENT) return rc;
            if (rc == 0 && cur.expires_ms > now && strcmp(cur.owner, owner) != 0) return -EBUSY;
            if (rc == 0 && cur.expires_ms > now) {          /* ours and live: extend in place */
                if ((rc = write_body(s, key, owner, now + ttl_ms, g, 0))) return rc;
                fill(out, name, owner, g, now + ttl_ms);
                return 0;
            }
        }
        if ((rc = lease_key(key, sizeof key, prefix, name, g + 1))) return rc;
        rc = write_body(s, key, owner, now + ttl_ms, g + 1, 1);
        if (rc == 0) {
            fill(out, name, owner, g + 1, now + ttl_ms);
            return 0;
        }
        if (rc != -EEXIST) return rc;
        g++;
    }
    return -EBUSY;
}

int bf_lease_renew(bf_store *s, const char *prefix, bf_lease *l, int64_t ttl_ms)
{
    if (check_args(l->name, l->owner) || ttl_ms <= 0 || l->gen < 1) return -EINVAL;
    char key[1024], next[1024];
    int rc = lease_key(key, sizeof key, prefix, l->name, l->gen);
    if (!rc) rc = lease_key(next, sizeof next, prefix, l->name, l->gen + 1);
    if (rc) return rc;
    lease_body cur;
    rc = read_body(s, key, &cur);
    if (rc == -ENOENT || (rc == 0 && strcmp(cur.owner, l->owner) != 0)) return -EBUSY;
    if (rc) return rc;
    rc = bf_store_head(s, next, NULL);
    if (rc == 0) return -EBUSY;          /* someone took over after our lease expired */
    if (rc != -ENOENT) return rc;
    int64_t exp = bf_now_ms() + ttl_ms;
    if ((rc = write_body(s, key, l->owner, exp, l->gen, 0))) return rc;
    l->expires_ms = exp;
    return 0;
}

int bf_lease_release(bf_store *s, const char *prefix, const bf_lease *l)
{
    if (check_args(l->name, NULL) || l->gen < 1) return -EINVAL;
    char key[1024];
    int rc = lease_key(key, sizeof key, prefix, l->name, l->gen);
    if (rc) return rc;
    lease_body cur;
    /* only the holder deletes its own generation; older ones are leftovers of expired owners */
    rc = read_body(s, key, &cur);
    if (rc == 0 && strcmp(cur.owner, l->owner) == 0) rc = bf_store_delete(s, key);
    else if (rc == -ENOENT || rc == 0) rc = 0;
    if (rc) return rc;
    bf_store_list gens;
    size_t bl;
    if ((rc = list_gens(s, prefix, l->name, &gens, &bl))) return rc;
    for (size_t i = 0; i < gens.n && !rc; i++) {
        int64_t g;
        if (parse_gen(gens.items[i].key, bl, &g) == 0 && g < l->gen) rc = bf_store_delete(s, gens.items[i].key);
    }
    bf_store_list_free(&gens);
    return rc;
}
