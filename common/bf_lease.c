/* bf_lease: generation-numbered leases (see bf_lease.h).
 * Way 1 (create-exclusive): the live generation is the highest one. Whoever creates generation g+1
 * (exclusively) after finding g expired is the new owner; a contender that loses the create re-reads and
 * sees a live owner.
 * Way 2 (listing fallback, stores without conditional writes): every contender of generation g puts its
 * own "<name>.<g>.<owner-hash>"; the holder of g is the smallest such key. Arbitration is by listing, so
 * renew and check re-list and step aside when a smaller key of the same generation shows up. */
#include "bf_lease.h"
#include "bf_util.h"
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define GEN_DIGITS 10
#define HASH_DIGITS 16
#define BODY_MAX 4096
#define MAX_ROUNDS 32
#define KEY_MAX 1024
#define LIST_LIMIT 100000

typedef struct lease_body { char owner[256]; int64_t expires_ms; int64_t gen; } lease_body;

/* Whether a store lacks conditional writes is remembered by the store handle itself
 * (bf_store_lacks_cond_put), set the first time a create-exclusive answers -ENOTSUP. */
static int store_lacks_cond(bf_store *s) { return bf_store_lacks_cond_put(s); }

/* FNV-1a: a short stable hash of the owner for the fallback's key names */
static uint64_t fnv1a(const char *p)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* ---------- keys and bodies ---------- */

/* gen >= 0: "<prefix>/<name>.<gen>" (+ ".<hash>" when hash); gen < 0: the listing base "<prefix>/<name>." */
static int lease_key_h(char *out, size_t n, const char *prefix, const char *name, int64_t gen, const char *hash)
{
    size_t pl = strlen(prefix);
    while (pl && prefix[pl - 1] == '/') pl--;
    int w = gen >= 0 ? snprintf(out, n, "%.*s%s%s.%0*lld%s%s", (int)pl, prefix, pl ? "/" : "", name, GEN_DIGITS,
                                (long long)gen, hash ? "." : "", hash ? hash : "")
                     : snprintf(out, n, "%.*s%s%s.", (int)pl, prefix, pl ? "/" : "", name);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int lease_key(char *out, size_t n, const char *prefix, const char *name, int64_t gen)
{
    return lease_key_h(out, n, prefix, name, gen, NULL);
}

static void owner_hash(const char *owner, char out[HASH_DIGITS + 1])
{
    snprintf(out, HASH_DIGITS + 1, "%016llx", (unsigned long long)fnv1a(owner));
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

/* Parse the part after the listing base: "<10 digits>" (listed = 0) or "<10 digits>.<16 hex>" (listed = 1). */
static int parse_key(const char *key, size_t base_len, int64_t *gen, int *listed)
{
    const char *g = key + base_len;
    size_t n = strlen(g);
    if (n != GEN_DIGITS && n != GEN_DIGITS + 1 + HASH_DIGITS) return -1;
    int64_t v = 0;
    for (int i = 0; i < GEN_DIGITS; i++) {
        if (g[i] < '0' || g[i] > '9') return -1;
        v = v * 10 + (g[i] - '0');
    }
    *listed = n != GEN_DIGITS;
    if (*listed) {
        if (g[GEN_DIGITS] != '.') return -1;
        for (int i = GEN_DIGITS + 1; i < (int)n; i++)
            if (!strchr("0123456789abcdef", g[i])) return -1;
    }
    *gen = v;
    return 0;
}

/* way-1 keys only: the exclusive path ignores fallback objects */
static int parse_gen(const char *key, size_t base_len, int64_t *gen)
{
    int listed;
    return parse_key(key, base_len, gen, &listed) == 0 && !listed ? 0 : -1;
}

static int list_gens(bf_store *s, const char *prefix, const char *name, bf_store_list *l, size_t *base_len)
{
    char base[KEY_MAX];
    int rc = lease_key(base, sizeof base, prefix, name, -1);
    if (rc) return rc;
    *base_len = strlen(base);
    return bf_store_list_all(s, base, LIST_LIMIT, l);
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

static void fill(bf_lease *out, const char *name, const char *owner, int64_t gen, int64_t expires, int listed)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->owner, sizeof out->owner, "%s", owner);
    out->gen = gen;
    out->expires_ms = expires;
    out->listed = listed;
}

/* ---------- way 2: the listing fallback ---------- */

/* What a listing shows: the highest generation and the smallest key of generation `at` (the highest
 * when at <= 0; "" when that generation has no key). */
typedef struct fb_view { int64_t top; char first[KEY_MAX]; } fb_view;

static int fb_scan(bf_store *s, const char *prefix, const char *name, int64_t at, fb_view *v)
{
    bf_store_list l;
    size_t bl;
    int rc = list_gens(s, prefix, name, &l, &bl);
    if (rc) return rc;
    int64_t g;
    int listed;
    v->top = 0;
    v->first[0] = 0;
    for (size_t i = 0; i < l.n; i++)
        if (parse_key(l.items[i].key, bl, &g, &listed) == 0 && listed && g > v->top) v->top = g;
    if (at <= 0) at = v->top;
    for (size_t i = 0; i < l.n; i++) {
        const char *k = l.items[i].key;
        if (parse_key(k, bl, &g, &listed) || !listed || g != at || strlen(k) >= sizeof v->first) continue;
        if (!v->first[0] || strcmp(k, v->first) < 0) snprintf(v->first, sizeof v->first, "%s", k);
    }
    bf_store_list_free(&l);
    return 0;
}

static int fb_own_key(char *out, size_t n, const char *prefix, const char *name, const char *owner, int64_t gen)
{
    char h[HASH_DIGITS + 1];
    owner_hash(owner, h);
    return lease_key_h(out, n, prefix, name, gen, h);
}

/* Contend for generation g: put our object, then win only if it is the smallest of the highest generation. */
/* longer than a put followed by a list takes on the store (loopback Swift: ~10 ms; AWS: tens of ms) */
#define FB_SETTLE_MS 150

static int fb_contend(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                      int64_t g, bf_lease *out)
{
    char key[KEY_MAX];
    int rc = fb_own_key(key, sizeof key, prefix, name, owner, g);
    if (rc) return rc;
    int64_t exp = bf_now_ms() + ttl_ms;
    if ((rc = write_body(s, key, owner, exp, g, 0))) return rc;
    /* Settle before looking: every contender that scanned before our put is writing its own object now;
     * after the pause all of them see the same set, so all agree on the smallest key. A contender that
     * scans after our put sees a live lease and backs off without writing. */
    struct timespec settle = {0, FB_SETTLE_MS * 1000000L};
    nanosleep(&settle, NULL);
    fb_view v;
    if ((rc = fb_scan(s, prefix, name, g, &v))) return rc;   /* our object stays: it expires like any lease */
    if (v.top > g || strcmp(v.first, key) != 0) {
        rc = bf_store_delete(s, key);
        return rc ? rc : -EBUSY;
    }
    fill(out, name, owner, g, exp, 1);
    return 0;
}

static int fb_acquire(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                      bf_lease *out)
{
    for (int round = 0; round < MAX_ROUNDS; round++) {
        fb_view v;
        int rc = fb_scan(s, prefix, name, 0, &v);
        if (rc) return rc;
        if (v.top > 0) {
            lease_body cur;
            int64_t now = bf_now_ms();
            rc = read_body(s, v.first, &cur);
            if (rc == -ENOENT) continue;     /* released or lost between list and read: look again */
            if (rc) return rc;
            if (cur.expires_ms > now && strcmp(cur.owner, owner) != 0) return -EBUSY;
            if (cur.expires_ms > now) {      /* ours and live: extend in place */
                if ((rc = write_body(s, v.first, owner, now + ttl_ms, v.top, 0))) return rc;
                fill(out, name, owner, v.top, now + ttl_ms, 1);
                return 0;
            }
        }
        return fb_contend(s, prefix, name, owner, ttl_ms, v.top + 1, out);
    }
    return -EBUSY;
}

/* Do we still hold l? Fills *cur with our object's body. Renew and check share it. */
static int fb_verify(bf_store *s, const char *prefix, const bf_lease *l, lease_body *cur, char *key, size_t kn)
{
    int rc = fb_own_key(key, kn, prefix, l->name, l->owner, l->gen);
    if (rc) return rc;
    fb_view v;
    if ((rc = fb_scan(s, prefix, l->name, l->gen, &v))) return rc;
    if (v.top > l->gen) return -EBUSY;                  /* taken over after our lease expired */
    if (strcmp(v.first, key) != 0) return -EBUSY;       /* displaced by a smaller key, or gone */
    rc = read_body(s, key, cur);
    if (rc == -ENOENT || (rc == 0 && strcmp(cur->owner, l->owner) != 0)) return -EBUSY;
    return rc;
}

static int fb_renew(bf_store *s, const char *prefix, bf_lease *l, int64_t ttl_ms)
{
    char key[KEY_MAX] = "";
    lease_body cur;
    int rc = fb_verify(s, prefix, l, &cur, key, sizeof key);
    if (rc == -EBUSY && key[0]) {
        /* a displaced object would become the holder once the winner releases: withdraw it. Deleting our
         * own object is always safe: if it is not the smallest, it holds nothing. */
        int drc = bf_store_delete(s, key);
        return drc ? drc : -EBUSY;
    }
    if (rc) return rc;
    int64_t exp = bf_now_ms() + ttl_ms;
    if ((rc = write_body(s, key, l->owner, exp, l->gen, 0))) return rc;
    l->expires_ms = exp;
    return 0;
}

/* Delete: larger objects of our generation (losers and displaced contenders) first, so a contender that
 * lists meanwhile still sees ours and loses; then ours if it is ours; then every older generation. */
static int fb_release(bf_store *s, const char *prefix, const bf_lease *l)
{
    char key[KEY_MAX];
    int rc = fb_own_key(key, sizeof key, prefix, l->name, l->owner, l->gen);
    if (rc) return rc;
    bf_store_list gens;
    size_t bl;
    if ((rc = list_gens(s, prefix, l->name, &gens, &bl))) return rc;
    for (size_t i = 0; i < gens.n && !rc; i++) {
        int64_t g;
        int listed;
        const char *k = gens.items[i].key;
        if (parse_key(k, bl, &g, &listed) == 0 && listed && g == l->gen && strcmp(k, key) > 0)
            rc = bf_store_delete(s, k);
    }
    lease_body cur;
    int r2 = rc ? 0 : read_body(s, key, &cur);
    if (!rc && r2 == 0 && strcmp(cur.owner, l->owner) == 0) rc = bf_store_delete(s, key);
    else if (!rc && r2 != -ENOENT && r2 != 0) rc = r2;
    for (size_t i = 0; i < gens.n && !rc; i++) {
        int64_t g;
        int listed;
        if (parse_key(gens.items[i].key, bl, &g, &listed) == 0 && g < l->gen) rc = bf_store_delete(s, gens.items[i].key);
    }
    bf_store_list_free(&gens);
    return rc;
}

/* ---------- way 1: create-exclusive ---------- */

/* 1 = the store refused create-exclusive: switch to the fallback */
static int excl_acquire(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                        bf_lease *out)
{
    int64_t g;
    int rc = max_gen(s, prefix, name, &g);
    if (rc) return rc;
    char key[KEY_MAX];
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
                fill(out, name, owner, g, now + ttl_ms, 0);
                return 0;
            }
        }
        if ((rc = lease_key(key, sizeof key, prefix, name, g + 1))) return rc;
        rc = write_body(s, key, owner, now + ttl_ms, g + 1, 1);
        if (rc == 0) {
            fill(out, name, owner, g + 1, now + ttl_ms, 0);
            return 0;
        }
        if (rc == -ENOTSUP) return 1;
        if (rc != -EEXIST) return rc;
        g++;
    }
    return -EBUSY;
}

static int excl_verify(bf_store *s, const char *prefix, const bf_lease *l, lease_body *cur, char *key, size_t kn)
{
    char next[KEY_MAX];
    int rc = lease_key(key, kn, prefix, l->name, l->gen);
    if (!rc) rc = lease_key(next, sizeof next, prefix, l->name, l->gen + 1);
    if (rc) return rc;
    rc = read_body(s, key, cur);
    if (rc == -ENOENT || (rc == 0 && strcmp(cur->owner, l->owner) != 0)) return -EBUSY;
    if (rc) return rc;
    rc = bf_store_head(s, next, NULL);
    if (rc == 0) return -EBUSY;          /* someone took over after our lease expired */
    return rc == -ENOENT ? 0 : rc;
}

static int excl_renew(bf_store *s, const char *prefix, bf_lease *l, int64_t ttl_ms)
{
    char key[KEY_MAX];
    lease_body cur;
    int rc = excl_verify(s, prefix, l, &cur, key, sizeof key);
    if (rc) return rc;
    int64_t exp = bf_now_ms() + ttl_ms;
    if ((rc = write_body(s, key, l->owner, exp, l->gen, 0))) return rc;
    l->expires_ms = exp;
    return 0;
}

static int excl_release(bf_store *s, const char *prefix, const bf_lease *l)
{
    char key[KEY_MAX];
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

/* ---------- API ---------- */

static int uses_fallback(bf_store *s, const bf_lease *l)
{
    return l->listed || store_lacks_cond(s);
}

int bf_lease_acquire(bf_store *s, const char *prefix, const char *name, const char *owner, int64_t ttl_ms,
                     bf_lease *out)
{
    if (!s || !out || !prefix || check_args(name, owner) || ttl_ms <= 0) return -EINVAL;
    if (!store_lacks_cond(s)) {
        int rc = excl_acquire(s, prefix, name, owner, ttl_ms, out);
        if (rc <= 0) return rc;
    }
    return fb_acquire(s, prefix, name, owner, ttl_ms, out);
}

int bf_lease_renew(bf_store *s, const char *prefix, bf_lease *l, int64_t ttl_ms)
{
    if (!s || !l || !prefix || check_args(l->name, l->owner) || ttl_ms <= 0 || l->gen < 1) return -EINVAL;
    return uses_fallback(s, l) ? fb_renew(s, prefix, l, ttl_ms) : excl_renew(s, prefix, l, ttl_ms);
}

int bf_lease_check(bf_store *s, const char *prefix, const bf_lease *l)
{
    if (!s || !l || !prefix || check_args(l->name, l->owner) || l->gen < 1) return -EINVAL;
    char key[KEY_MAX];
    lease_body cur;
    int rc = uses_fallback(s, l) ? fb_verify(s, prefix, l, &cur, key, sizeof key)
                                 : excl_verify(s, prefix, l, &cur, key, sizeof key);
    if (rc) return rc;
    /* an expired lease may be taken over at any moment: committing under it is not safe */
    return cur.expires_ms > bf_now_ms() ? 0 : -EBUSY;
}

int bf_lease_release(bf_store *s, const char *prefix, const bf_lease *l)
{
    if (!s || !l || !prefix || check_args(l->name, NULL) || l->gen < 1) return -EINVAL;
    return uses_fallback(s, l) ? fb_release(s, prefix, l) : excl_release(s, prefix, l);
}
