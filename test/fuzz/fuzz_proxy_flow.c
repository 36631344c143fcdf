/* Fuzz the flow decoders. The first byte picks the kind and the exporter; the state persists across
 * inputs (as in the daemon) so templates learned from one input drive the decoding of later ones.
 * Oracles: a failure leaves out untouched; every appended line is a JSON object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../proxy/flow.h"

/* fuzzer harness only: long-lived states like a receiving thread's; a tiny one exercises eviction */
static flow_state *states[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    flow_state **sp = &states[(data[0] >> 3) & 1];
    if (!*sp && flow_state_create((data[0] >> 3) & 1 ? 2 : 32, sp))
        abort();
    flow_state *state = *sp;
    static const char *const exporters[] = {"127.0.0.1", "::1"};
    flow_kind kind = (flow_kind)(data[0] % 3);
    const char *exp = exporters[(data[0] >> 2) & 1];
    uint8_t *pkt = malloc(size - 1 ? size - 1 : 1);
    if (!pkt)
        return 0;
    memcpy(pkt, data + 1, size - 1);
    bf_buf out;
    bf_buf_init(&out, 0);
    if (bf_buf_puts(&out, "x"))
        abort();
    int rc = flow_decode(state, kind, pkt, size - 1, exp, 1770314400000LL, &out);
    if (rc < 0 && (out.len != 1 || out.data[0] != 'x'))
        abort();
    int lines = 0;
    for (char *s = out.data + 1; rc > 0 && *s;) {
        char *e = strchr(s, '\n');
        if (!e)
            abort();
        json_t *j = json_loadb(s, (size_t)(e - s), 0, NULL);
        if (!j || !json_is_object(j))
            abort();
        json_decref(j);
        lines++;
        s = e + 1;
    }
    if (rc > 0 && lines != rc)
        abort();
    free(pkt);
    bf_buf_free(&out);
    return 0;
}
