/* geoip: see geoip.h. */
#include "geoip.h"

#include <errno.h>
#include <maxminddb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct geoip_db {
    atomic_int refs;
    MMDB_s city, asn;
    bool has_city, has_asn;
};

struct geoip_mgr {
    pthread_mutex_t mu;
    geoip_db *cur;
    uint64_t gen;
};

int geoip_mgr_create(geoip_mgr **out)
{
    geoip_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return 0;
}

void geoip_release(geoip_db *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    if (d->has_city)
        MMDB_close(&d->city);
    if (d->has_asn)
        MMDB_close(&d->asn);
    free(d);
}

void geoip_mgr_destroy(geoip_mgr *m)
{
    if (!m)
        return;
    geoip_release(m->cur);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static int open_one(const char *path, MMDB_s *db, bool *has)
{
    if (!path || !*path)
        return 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
    if (rc == MMDB_FILE_OPEN_ERROR)
        return -ENOENT;
    if (rc != MMDB_SUCCESS)
        return -EINVAL;
    *has = true;
    return 0;
}

int geoip_mgr_load(geoip_mgr *m, const char *city_path, const char *asn_path)
{
    geoip_db *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    atomic_init(&d->refs, 1);
    int rc = open_one(city_path, &d->city, &d->has_city);
    if (!rc)
        rc = open_one(asn_path, &d->asn, &d->has_asn);
    if (rc || (!d->has_city && !d->has_asn)) {
        geoip_release(d);
        return rc ? rc : -ENOENT;
    }
    pthread_mutex_lock(&m->mu);
    geoip_db *old = m->cur;
    m->cur = d;
    m->gen++;
    pthread_mutex_unlock(&m->mu);
    geoip_release(old);
    return 0;
}

uint64_t geoip_mgr_generation(geoip_mgr *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t g = m->gen;
    pthread_mutex_unlock(&m->mu);
    return g;
}

geoip_db *geoip_acquire(geoip_mgr *m)
{
    pthread_mutex_lock(&m->mu);
    geoip_db *d = m->cur;
    if (d)
        atomic_fetch_add(&d->refs, 1);
    pthread_mutex_unlock(&m->mu);
    return d;
}

/* Output key, its aliases, which database, and the data paths tried in order (NULL-separated
 * alternatives; the second layout is the compact one of test databases). */
typedef struct gfield {
    const char *key;
    const char *alias[3];
    bool asn_db;
    const char *paths[3][5];
} gfield;

static const gfield FIELDS[] = {
    {"country", {"country_name"}, false, {{"country", "names", "en"}}},
    {"country_code", {"country_iso_code", "country_code2"}, false, {{"country", "iso_code"}}},
    {"country_code3", {0}, false, {{"country", "iso_code"}}},
    {"city", {"city_name"}, false, {{"city", "names", "en"}, {"city"}}},
    {"latitude", {0}, false, {{"location", "latitude"}}},
    {"longitude", {0}, false, {{"location", "longitude"}}},
    {"location", {0}, false, {{"location"}}},
    {"timezone", {0}, false, {{"location", "time_zone"}}},
    {"continent_name", {0}, false, {{"continent", "names", "en"}}},
    {"continent_code", {0}, false, {{"continent", "code"}}},
    {"region_name", {"subdivision_name"}, false, {{"subdivisions", "0", "names", "en"}}},
    {"region_code", {"subdivision_code"}, false, {{"subdivisions", "0", "iso_code"}}},
    {"postal_code", {"zip_code"}, false, {{"postal", "code"}}},
    {"metro_code", {0}, false, {{"location", "metro_code"}}},
    {"accuracy_radius", {0}, false, {{"location", "accuracy_radius"}}},
    {"asn", {"as_number"}, true, {{"autonomous_system_number"}, {"asn"}}},
    {"as_org", {"asn_org", "as_organization"}, true, {{"autonomous_system_organization"}}},
};
#define NFIELDS (sizeof FIELDS / sizeof *FIELDS)

const char *geoip_field_canonical(const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        if (!strcmp(FIELDS[i].key, name))
            return FIELDS[i].key;
        for (size_t a = 0; a < 3 && FIELDS[i].alias[a]; a++)
            if (!strcmp(FIELDS[i].alias[a], name))
                return FIELDS[i].key;
    }
    return NULL;
}

static json_t *entry_json(const MMDB_entry_data_s *e)
{
    switch (e->type) {
    case MMDB_DATA_TYPE_UTF8_STRING: return json_stringn(e->utf8_string, e->data_size);
    case MMDB_DATA_TYPE_DOUBLE: return json_real(e->double_value);
    case MMDB_DATA_TYPE_FLOAT: return json_real(e->float_value);
    case MMDB_DATA_TYPE_UINT16: return json_integer(e->uint16);
    case MMDB_DATA_TYPE_UINT32: return json_integer(e->uint32);
    case MMDB_DATA_TYPE_INT32: return json_integer(e->int32);
    case MMDB_DATA_TYPE_UINT64: return json_integer((json_int_t)e->uint64);
    case MMDB_DATA_TYPE_BOOLEAN: return json_boolean(e->boolean);
    default: return NULL;
    }
}

static json_t *get_path(MMDB_entry_s *ent, const char *const *path)
{
    MMDB_entry_data_s e;
    if (MMDB_aget_value(ent, &e, path) != MMDB_SUCCESS || !e.has_data)
        return NULL;
    return entry_json(&e);
}

static json_t *field_value(const gfield *f, MMDB_entry_s *ent)
{
    if (!strcmp(f->key, "location")) {
        static const char *const lat[] = {"location", "latitude", NULL}, *const lon[] = {"location", "longitude", NULL};
        json_t *a = get_path(ent, lat), *o = get_path(ent, lon);
        if (!a || !o) {
            json_decref(a);
            json_decref(o);
            return NULL;
        }
        return json_pack("{soso}", "lat", a, "lon", o);
    }
    for (size_t p = 0; p < 3 && f->paths[p][0]; p++) {
        json_t *v = get_path(ent, f->paths[p]);
        if (v)
            return v;
    }
    return NULL;
}

int geoip_lookup(geoip_db *d, const char *ip, const char *const *fields, size_t nfields, json_t *out)
{
    int gai = 0, mmerr = 0;
    MMDB_lookup_result_s rc_city = {0}, rc_asn = {0};
    if (d->has_city) {
        rc_city = MMDB_lookup_string(&d->city, ip, &gai, &mmerr);
        if (gai)
            return -EINVAL;
        if (mmerr != MMDB_SUCCESS)
            return -EIO;
    }
    if (d->has_asn) {
        rc_asn = MMDB_lookup_string(&d->asn, ip, &gai, &mmerr);
        if (gai)
            return -EINVAL;
        if (mmerr != MMDB_SUCCESS)
            return -EIO;
    }
    if (!rc_city.found_entry && !rc_asn.found_entry)
        return 0;
    int found = 0;
    for (size_t i = 0; i < nfields; i++) {
        const gfield *f = NULL;
        for (size_t k = 0; k < NFIELDS && !f; k++)
            if (!strcmp(FIELDS[k].key, fields[i]))
                f = &FIELDS[k];
        if (!f)
            continue;
        json_t *v = NULL;
        /* ASN fields come from the ASN database, else from a combined one */
        if (f->asn_db && rc_asn.found_entry)
            v = field_value(f, &rc_asn.entry);
        if (!v && rc_city.found_entry)
            v = field_value(f, &rc_city.entry);
        if (v) {
            json_object_set_new(out, f->key, v);
            found = 1;
        }
    }
    return found || rc_city.found_entry || rc_asn.found_entry ? 1 : 0;
}
