/* Micro-benchmark of the receiver's body verification alone (receiver/body.c): feeds one payload file
 * REPS times in 64 KiB pieces (as the HTTP layer does) and prints MB/s of compressed input per CPU second,
 * so the HTTP/storage overhead of the full benchmark can be told apart from verification cost.
 * usage: bench_receiver_body FILE REPS [CHUNK] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bf_codec.h"
#include "bf_util.h"
#include "../../receiver/body.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char *data = NULL;
    size_t len = 0;
    if (argc < 3 || bf_read_file(argv[1], 1 << 30, &data, &len)) {
        fprintf(stderr, "usage: %s FILE REPS [CHUNK]\n", argv[0]);
        return 2;
    }
    long reps = atol(argv[2]);
    size_t chunk = argc > 3 ? (size_t)atol(argv[3]) : 65536;
    if (chunk == 0)
        chunk = 65536;
    rcv_body_limits lim = {.max_body = 1 << 30, .max_inflated = 1ULL << 34, .max_ratio = 1000,
                           .identity_codec = BF_CODEC_ZSTD};
    double t0 = cpu_s();
    uint64_t lines = 0;
    for (long r = 0; r < reps; r++) {
        rcv_body *b = NULL;
        if (rcv_body_create(&lim, RCV_ENC_ABSENT, &b))
            return 1;
        for (size_t off = 0; off < len; off += chunk)
            if (rcv_body_feed(b, data + off, len - off < chunk ? len - off : chunk))
                return 1;
        if (rcv_body_finish(b))
            return 1;
        lines += rcv_body_lines(b);
        rcv_body_destroy(b);
    }
    double s = cpu_s() - t0;
    printf("body_mb_s_per_cpu=%.1f lines=%llu\n", (double)len * (double)reps / 1048576.0 / s, (unsigned long long)lines);
    free(data);
    return 0;
}
