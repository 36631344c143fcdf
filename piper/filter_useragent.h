/* filter_useragent: {source_field="user_agent", target_field="ua"} with our own table of browser,
 * OS and device rules (the common families: Chrome, Firefox, Safari, Edge, Opera, IE, Samsung
 * Internet, curl/wget/python/Go clients, major crawlers; Windows, macOS, iOS, Android, Chrome OS,
 * Linux). Output keys as the original: name, version, major, minor, patch, os, os_version, os_major,
 * os_minor, device, device_brand, device_model (absent parts omitted). */
#ifndef PIPER_FILTER_USERAGENT_H
#define PIPER_FILTER_USERAGENT_H
#include <jansson.h>
#include "filter.h"
#include "rx.h"

typedef struct ua_parser ua_parser;
int ua_parser_create(ua_parser **out, char *err, size_t errlen);
void ua_parser_free(ua_parser *p);
/* Fill out with the keys above. 0 or -ENOMEM. */
int ua_parse(const ua_parser *p, rx_scratch *s, const char *ua, size_t len, json_t *out);
#endif
