/* filter_net: geoip {source_field="ip_address" (nested paths allowed), target_field="geoip",
 * fields=[country_name, city_name, latitude, longitude] (see geoip.h for every name; asn and as_org
 * come from the ASN database), database (a private path instead of the process's geoip.city)}.
 * Not found → tag "_geoip_lookup_failure"; invalid IP or non-string → unchanged.
 * dns {resolve [fields], action=replace|append (→ <field>_resolved), target_field, timeout, cache_ttl
 * (s, 3600), cache_size, nameserver (accepted; the system resolver is used)}: PTR for addresses,
 * forward lookup otherwise, through the process-wide cache. Failures leave the record unchanged. */
#ifndef PIPER_FILTER_NET_H
#define PIPER_FILTER_NET_H
#include "filter.h"
#endif
