/* filter_fingerprint: {source_fields [] (empty: the whole record, canonical JSON), target_field=
 * "fingerprint", method MD5|SHA1|SHA256 (default)|SHA512 (case-insensitive), key_separator="|",
 * base64encode=false (base64 of the raw digest, as Logstash does; the original encoded the hex text),
 * include_keys=false (k=v)}. No listed field present → record unchanged. */
#ifndef PIPER_FILTER_FINGERPRINT_H
#define PIPER_FILTER_FINGERPRINT_H
#include "filter.h"
#endif
