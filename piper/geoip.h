/* geoip: MaxMind databases (City and ASN, libmaxminddb) shared by every geoip filter of the process
 * and swapped atomically while workers run: a lookup holds a reference to the database generation it
 * started with, and the old generation is closed when its last reader releases it.
 * Ownership: geoip_mgr_create/destroy; geoip_acquire returns a reference released with geoip_release.
 * Thread-safe. Errors: 0, -ENOENT (file missing), -EINVAL (not an mmdb), -ENOMEM. */
#ifndef PIPER_GEOIP_H
#define PIPER_GEOIP_H
#include <stdint.h>
#include <jansson.h>

typedef struct geoip_mgr geoip_mgr;
typedef struct geoip_db geoip_db;

int geoip_mgr_create(geoip_mgr **out);
void geoip_mgr_destroy(geoip_mgr *m);
/* Open the given files (either may be NULL/"") and make them current. On failure the old ones stay. */
int geoip_mgr_load(geoip_mgr *m, const char *city_path, const char *asn_path);
/* How many loads have succeeded (a swap counter for metrics and tests). */
uint64_t geoip_mgr_generation(geoip_mgr *m);
/* Current generation (NULL when nothing is loaded). */
geoip_db *geoip_acquire(geoip_mgr *m);
void geoip_release(geoip_db *d);

/* Output keys the lookup understands (and the original's aliases, see geoip_field_canonical). */
const char *geoip_field_canonical(const char *name);   /* NULL when unknown */
/* Look ip up and add the requested canonical fields to out. Returns 1 found, 0 not found,
 * -EINVAL bad address, <0 error. */
int geoip_lookup(geoip_db *d, const char *ip, const char *const *fields, size_t nfields, json_t *out);
#endif
