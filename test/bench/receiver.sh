#!/usr/bin/env bash
# Receiver ingest benchmark (make bench): 1 MiB gzip and zstd NDJSON batches POSTed at concurrency 16
# into the file store (ack: store, one fsync'd object per request). Reports MB/s of compressed bytes,
# p50/p99 latency, and per core of receiver CPU (utime+stime from /proc/<pid>/stat) next to
# `gzip -d` / `zstd -d` on the same payload (MB/s per CPU second): the receiver verifies every body by
# decompressing it, so decompression speed is the natural ceiling (goal: >= 70 % per core used).
set -u
cd "$(dirname "$0")/../.." || exit 1
BF_ROOT=$(pwd); BF_BIN=${BF_BIN:-$BF_ROOT/build/bin}; BF_TMP=${BF_TMP:-/tmp/bf-bench}
export BF_ROOT BF_BIN BF_TMP
. test/tools/receiver-lib.sh
W=$BF_TMP/receiver-bench; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
LOAD=$BF_ROOT/build/bench/bench_receiver_load
[ -x "$LOAD" ] || die "build first: make build/bench/bench_receiver_load"
PORT=20900; ADMIN=20901; TOKEN=bench-token-0
CONC=${RCV_BENCH_CONC:-16}; REQS=${RCV_BENCH_REQS:-400}
make_tenants "$W/tenants.yaml" "$TOKEN"
cat >"$W/r.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
log_level: warn
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$W/store"}
Y

# payload: NDJSON log lines, about 1 MiB once compressed
awk 'BEGIN{srand(7); for(i=0;i<60000;i++) printf "{\"BfTs\":%d,\"host\":\"web-%02d\",\"level\":\"%s\",\"status\":%d,\"bytes\":%d,\"path\":\"/api/v1/items/%d\",\"msg\":\"request served in %d ms by worker %d\"}\n", 1764237600000+i*37, int(rand()*40), (rand()<0.9?"info":"warn"), (rand()<0.95?200:500), int(rand()*90000), int(rand()*1000000), int(rand()*900), int(rand()*64)}' >"$W/plain.ndjson"
fit() { # codec level-args: trim the input until the compressed size is ~1 MiB
  local c=$1 n; n=$(wc -l <"$W/plain.ndjson")
  while :; do
    head -n "$n" "$W/plain.ndjson" | $c >"$W/p.$2"
    [ "$(stat -c %s "$W/p.$2")" -le 1048576 ] && break
    n=$((n * 95 / 100))
  done
}
fit "gzip -6 -c" gz
fit "zstd -q -3 -c" zst

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peer_speed() { # tool file -> MB/s of compressed input per CPU second (user+sys), like ours
  local f=$2 reps=40 i
  for i in $(seq $reps); do cat "$f"; done >"$W/rep"
  # shellcheck disable=SC2086  # $1 is a command with its options
  /usr/bin/time -f '%U %S' -o "$W/time" $1 <"$W/rep" >/dev/null
  awk -v b="$(stat -c %s "$W/rep")" '{printf "%.1f", b/1048576/($1+$2)}' "$W/time"
}

rcv_start "$W/r.yaml" "$W/log" $PORT
HZ=$(getconf CLK_TCK)
for ext in gz zst; do
  enc=gzip; tool="gzip -dc"; [ $ext = zst ] && { enc=zstd; tool="zstd -q -dc"; }
  $LOAD "http://127.0.0.1:$PORT/acme/fw" "$TOKEN" "$W/p.$ext" $enc "$CONC" 20 >/dev/null || die "warm-up failed"
  c0=$(cpu_ticks "$RCV_PID")
  out=$($LOAD "http://127.0.0.1:$PORT/acme/fw" "$TOKEN" "$W/p.$ext" $enc "$CONC" "$REQS") || die "load run failed: $out"
  c1=$(cpu_ticks "$RCV_PID")
  echo "$enc: $out"
  field() { echo "$out" | tr ' ' '\n' | awk -F= -v k="$1" '$1==k {print $2}'; }
  mbs=$(field wire_mb_s); p50=$(field p50_ms); p99=$(field p99_ms); secs=$(field seconds)
  cores=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v s="$secs" 'BEGIN{printf "%.2f", t/hz/s}')
  per_core=$(awk -v m="$mbs" -v c="$cores" 'BEGIN{printf "%.1f", (c>0? m/c : 0)}')
  peer=$(peer_speed "$tool" "$W/p.$ext")
  ratio=$(awk -v a="$per_core" -v b="$peer" 'BEGIN{printf "%.2f", a/b}')
  echo "BENCH|receiver $enc 1MiB batches c=$CONC MB/s (wire)|$mbs|-|-|-"
  echo "BENCH|receiver $enc latency p50/p99 ms|$p50/$p99|-|-|-"
  echo "BENCH|receiver $enc MB/s per core used ($cores cores)|$per_core|$tool (1 core)|$peer|$ratio"
  # verification alone (no HTTP, no store): tells the decode cost apart from the request/fsync overhead
  if [ -x "$BF_ROOT/build/bench/bench_receiver_body" ]; then
    v=$("$BF_ROOT/build/bench/bench_receiver_body" "$W/p.$ext" 50 | sed 's/.*per_cpu=\([0-9.]*\).*/\1/')
    echo "BENCH|receiver $enc body verify only, MB/s per CPU|$v|$tool (1 core)|$peer|$(awk -v a="$v" -v b="$peer" 'BEGIN{printf "%.2f", a/b}')"
  fi
done
rcv_stop "$RCV_PID"
