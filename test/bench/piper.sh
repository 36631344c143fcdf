#!/usr/bin/env bash
# piper throughput (make bench): events per CPU-second on one core for
#   (a) NDJSON with an empty pipeline (the scanner fast path), next to `jq -c .` on the same data;
#   (b) syslog format + grok + geoip + mutate + date_parse.
# Data size: BF_BENCH_PIPER_MB (default 256 MiB per case; the 1 GB target is scaled down so the run
# stays short on a shared 2-core machine — set BF_BENCH_PIPER_MB=1024 for the full size).
set -euo pipefail
: "${BF_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BF_TMP:=/tmp/bf-bench}"
MB=${BF_BENCH_PIPER_MB:-256}
B=$BF_ROOT/build/bench/bench_piper_throughput
D=$BF_TMP/piper-bench; rm -rf "$D"; mkdir -p "$D"
(cd "$D" && perl "$BF_ROOT/test/tools/make-test-mmdb.pl")
"$B" gen-ndjson "$D/a.ndjson" "$MB"
"$B" gen-syslog "$D/b.log" "$MB"
read -r ev_a cpu_a wall_a < <("$B" run "$D/a.ndjson" ndjson "$D/a")
read -r ev_b cpu_b wall_b < <("$B" run "$D/b.log" syslog "$D/b" "$D/test.mmdb")
TIMEFORMAT='%U %S'
jt=$( { time jq -c . "$D/a.ndjson" >/dev/null; } 2>&1 )
jq_cpu=$(echo "$jt" | awk '{print $1 + $2}')
rate() { awk -v e="$1" -v c="$2" 'BEGIN {printf "%.0f", e / c}'; }
ra=$(rate "$ev_a" "$cpu_a"); rb=$(rate "$ev_b" "$cpu_b"); rj=$(rate "$ev_a" "$jq_cpu")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
scaled=""; [ "$MB" -lt 1024 ] && scaled=" (scaled down from the 1 GiB target)"
echo "data: ${MB} MiB per case$scaled; (a) $ev_a events in ${cpu_a}s CPU, (b) $ev_b events in ${cpu_b}s CPU, jq ${jq_cpu}s CPU"
echo "BENCH|piper (a) ndjson, empty pipeline: events/s/core|$ra|jq -c .|$rj|$(ratio "$ra" "$rj")"
echo "BENCH|piper (a) vs goal 500k events/s/core|$ra|goal|500000|$(ratio "$ra" 500000)"
echo "BENCH|piper (b) syslog+grok+geoip+mutate+date_parse: events/s/core|$rb|goal|100000|$(ratio "$rb" 100000)"
rm -rf "$D"
