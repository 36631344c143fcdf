/* geoip_sync: keeps local copies of GeoLite2-City.mmdb / GeoLite2-ASN.mmdb from a store URI
 * (geoip.uri) and swaps them into the geoip manager when a newer object appears: HEAD, compare with
 * the local file's mtime, GET into a temp file, verify the size and that libmaxminddb opens it, set
 * the mtime to the remote one, rename, then load (atomic swap while workers run).
 * Returns 1 when a new database was loaded, 0 nothing new, negative on error (old one kept). */
#ifndef PIPER_GEOIP_SYNC_H
#define PIPER_GEOIP_SYNC_H
#include "bf_config.h"
#include "geoip.h"

int geoip_sync(const char *uri, const bf_s3_config *s3, const char *dir, geoip_mgr *m);
#endif
