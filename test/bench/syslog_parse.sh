#!/usr/bin/env bash
# Syslog parser throughput (messages/s on a mix of RFC 5424 / 3164 / Cisco / kv lines), ours vs the
# original's regex method in C (PCRE2 JIT). Prints BENCH lines for run-bench.sh.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BF_BUILD:-$(pwd)/build}
[ -x "$BUILD/bench/bench_common_syslog" ] || make -s -j2 "build/bench/bench_common_syslog"
"$BUILD/bench/bench_common_syslog" "${BF_BENCH_SECONDS:-2}"
