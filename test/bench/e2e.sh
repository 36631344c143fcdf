#!/usr/bin/env bash
# End-to-end figure: sustained events/s from syslog in (TCP, 300-byte RFC 5424 messages, lossless) to
# rows in Parquet, all four daemons on loopback with the file store and an empty pipeline.
# Elapsed time runs from the first message sent until the packer reports every row written.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export BF_ROOT=$ROOT
T=${BF_TMP:-/tmp/bf-bench}/e2e; rm -rf "$T"; mkdir -p "$T"
N=${BF_BENCH_E2E_N:-1000000}
export STACK_PORT=25600 STACK_STORE=file STACK_MAX_WAIT=1s
P=$STACK_PORT; D=$T/stack
trap 'bash "$ROOT/test/tools/stack.sh" down "$D" >/dev/null 2>&1 || true' EXIT
bash "$ROOT/test/tools/stack.sh" up "$D" >/dev/null
rows() {
  curl -s "http://127.0.0.1:$((P+83))/metrics" | awk '/^bytefreezer_packer_rows_total\{[^}]*dataset="systcp"/ {s+=$2} END {print s+0}'
}
t0=$(date +%s.%N)
"$ROOT/build/bench/bench_proxy_udpgen" send -p $((P+515)) -t tcp-octet -f 5424 -s 300 -n "$N" -r max >"$T/gen.log" 2>&1
t_sent=$(date +%s.%N)
got=0
for _ in $(seq 600); do
  got=$(rows); [ "$got" -ge "$N" ] && break; sleep 0.5
done
t1=$(date +%s.%N)
rate=$(awk -v n="$got" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')
send=$(awk -v n="$N" -v a="$t0" -v b="$t_sent" 'BEGIN{printf "%.0f", n/(b-a)}')
echo "e2e: $got of $N rows in Parquet; sent at $send msgs/s; syslog → Parquet sustained $rate events/s"
[ "$got" -ge "$N" ] || { echo "e2e bench: not every row arrived"; for d in proxy receiver piper packer; do tail -3 "$D/logs/$d.log"; done; }
echo "BENCH|end to end syslog TCP → Parquet, 4 daemons on 2 cores (events/s)|$rate|-|-|-"
