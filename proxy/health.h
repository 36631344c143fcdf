/* health: the proxy's /api/v1/health verdict from real state (DESIGN §9) and the periodic gauges.
 *   unhealthy: listeners are expected but none is up;
 *   degraded:  a listener failed to start, the last upload did not reach the receiver, the spool is
 *              >= 80 % full, or UDP data was dropped (spool full or kernel socket drops) in the last minute.
 * Kernel drops come from /proc/net/udp{,6} (last column, summed per local port).
 * Threads: health_check runs on the admin thread, health_tick on the loop; shared state is atomic. */
#ifndef PROXY_HEALTH_H
#define PROXY_HEALTH_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "bf_admin.h"
#include "bf_metrics.h"
#include "bf_spool.h"
#include "batcher.h"
#include "forwarder.h"
#include "inputs.h"

typedef struct health health;
int health_create(inputs *in, forwarder *f, batcher *b, bf_spool *spool, bf_metrics *m, health **out);
void health_destroy(health *h);
void health_tick(health *h);                        /* ~1 s, loop thread */
bf_health health_check(void *h, json_t *detail);    /* bf_health_fn */

/* Sum of the drops column for sockets bound to `port` in a /proc/net/udp style text. */
uint64_t health_parse_udp_drops(const char *text, int port);
#endif
