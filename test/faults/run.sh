#!/usr/bin/env bash
# Fault suite: a steady HTTP-input load with sequence-numbered records while a driver kill -9s a random
# daemon at random moments (>= 20 kills), stops the S3 server (Swift) for a while, and lets the proxy spool
# fill to its quota. At the end every record the proxy acknowledged must be in Parquet; duplicates are
# counted and reported. Bounded for `make test`; longer with BF_FAULT_LONG=1.
#   BF_FAULT_KILLS (20), BF_FAULT_SWIFT_DOWN seconds (30), BF_FAULT_SEED
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export BF_ROOT=$ROOT
T=${BF_TMP:-/tmp/bf-test}/faults; rm -rf "$T"; mkdir -p "$T"
KILLS=${BF_FAULT_KILLS:-20}; DOWN=${BF_FAULT_SWIFT_DOWN:-30}
[ "${BF_FAULT_LONG:-0}" = 1 ] && { KILLS=100; DOWN=60; }
RANDOM=${BF_FAULT_SEED:-$$}
# private Swift: we stop and start it
SW=$T/swift
export SWIFT_PRIV_PORT=26080
PORT=$SWIFT_PRIV_PORT MCPORT=26211 OBJ_PORT=26200 CONT_PORT=26201 ACCT_PORT=26202 sh "$ROOT/test/tools/swift-s3-up.sh" "$SW" >/dev/null
export BF_TEST_S3_ENDPOINT=http://127.0.0.1:$SWIFT_PRIV_PORT BF_TEST_S3_AK=test:tester BF_TEST_S3_SK=testing BF_TEST_SWIFT_DIR=$SW
export STACK_PORT=25300 STACK_STORE=s3 STACK_BUCKET=faults STACK_SPOOL_MAX=${BF_FAULT_SPOOL:-2MiB} STACK_MAX_WAIT=2s
D=$T/stack; P=$STACK_PORT
LG=""
cleanup() {
  [ -n "$LG" ] && kill "$LG" 2>/dev/null || true
  bash "$ROOT/test/tools/stack.sh" down "$D" >/dev/null 2>&1 || true
  for f in "$SW"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; true
}
trap cleanup EXIT
bash "$ROOT/test/tools/stack.sh" up "$D"
DURATION=$(( KILLS * 3 + DOWN + 20 ))
python3 "$ROOT/test/faults/loadgen.py" "http://127.0.0.1:$((P+90))/webhook" "$DURATION" "$T/acked" 20 50 >"$T/loadgen.json" &
LG=$!
daemons=(receiver piper packer proxy)
swift_down_at=$(( KILLS / 2 ))
for k in $(seq "$KILLS"); do
  sleep "$(( RANDOM % 3 + 1 ))"
  d=${daemons[$(( RANDOM % 4 ))]}
  echo "kill -9 $d (round $k)"
  bash "$ROOT/test/tools/stack.sh" kill9 "$D" "$d"
  sleep "0.$(( RANDOM % 9 + 1 ))"
  bash "$ROOT/test/tools/stack.sh" start "$D" "$d" || { echo "FAIL: $d did not restart"; exit 1; }
  if [ "$k" -eq "$swift_down_at" ]; then
    echo "stopping Swift for ${DOWN}s (the proxy spool fills to its quota meanwhile)"
    BF_TEST_SWIFT_DIR=$SW BF_TEST_S3_ENDPOINT=http://127.0.0.1:$SWIFT_PRIV_PORT sh "$ROOT/test/tools/swift-ctl.sh" stop
    sleep "$DOWN"
    curl -s "http://127.0.0.1:$((P+8))/metrics" >"$T/proxy-metrics-during-outage.txt" || true
    BF_TEST_SWIFT_DIR=$SW BF_TEST_S3_ENDPOINT=http://127.0.0.1:$SWIFT_PRIV_PORT sh "$ROOT/test/tools/swift-ctl.sh" start
  fi
done
wait "$LG"; LG=""
cat "$T/loadgen.json"
acked=$(wc -l <"$T/acked")
# drain: wait until every acked record is in Parquet
OUT=$T/parquet; found=0; rows=0
for _ in $(seq 240); do
  rm -rf "$OUT"; python3 "$ROOT/test/tools/s3cp.py" sync faults packer/demo/webhook/ "$OUT" >/dev/null
  if [ -d "$OUT/packer" ]; then
    r=$(node "$ROOT/test/e2e/duckq.mjs" "SELECT count(*) AS rows, count(DISTINCT seq) AS d FROM read_parquet('$OUT/packer/demo/webhook/data/parquet/**/*.parquet', union_by_name=true) WHERE kind='fault'")
    rows=$(echo "$r" | jq -r .rows); found=$(echo "$r" | jq -r .d)
    # every acked seq present?
    node "$ROOT/test/e2e/duckq.mjs" "SELECT DISTINCT seq FROM read_parquet('$OUT/packer/demo/webhook/data/parquet/**/*.parquet', union_by_name=true) WHERE kind='fault'" | jq -r .seq | sort >"$T/found"
    missing=$(sort "$T/acked" | comm -23 - "$T/found" | wc -l)
    [ "$missing" -eq 0 ] && break
  fi
  sleep 1
done
sent=$(jq -r .sent "$T/loadgen.json")
touch "$T/found"
missing=$(sort "$T/acked" | comm -23 - "$T/found" | wc -l)
echo "fault suite: kills $KILLS, swift down ${DOWN}s"
echo "records sent $sent / acked $acked / in Parquet $found (rows $rows) / lost $missing / duplicated $((rows - found))"
rejected=$(jq -r .rejected "$T/loadgen.json")
echo "HTTP input answers during the run: $(jq -c .codes "$T/loadgen.json") (503 = spool quota reached)"
grep -h 'spool_bytes\|http_rejected' "$T/proxy-metrics-during-outage.txt" 2>/dev/null | grep -v '^#' | head -5 || true
[ "$acked" -gt 0 ] || { echo "FAIL: nothing was acknowledged"; exit 1; }
[ "$missing" -eq 0 ] || { echo "FAIL: $missing acknowledged records are not in Parquet"; exit 1; }
