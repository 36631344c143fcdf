#!/usr/bin/env bash
# make demo: start the four daemons on loopback with the file store and a sample tenants.yaml, send
# syslog with logger and JSON with curl, wait for Parquet, show where each stage's data is and the
# first rows, and leave the daemons running.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export BF_ROOT=$ROOT
D=${BF_DEMO_DIR:-/tmp/bytefreezer-demo}
export STACK_PORT=${BF_DEMO_PORT:-7000} STACK_STORE=file STACK_MAX_WAIT=3s
P=$STACK_PORT
bash "$ROOT/test/tools/stack.sh" down "$D" >/dev/null 2>&1 || true
rm -rf "$D"; mkdir -p "$D"
(cd "$D" && perl "$ROOT/test/tools/make-test-mmdb.pl" >/dev/null)
export STACK_GEOIP=$D/test.mmdb
echo "== starting receiver, piper, packer and proxy (configs and logs in $D)"
bash "$ROOT/test/tools/stack.sh" up "$D"
echo "== sending syslog with logger (UDP :$((P+514)), TCP :$((P+515))) and JSON with curl (:$((P+90)))"
for i in 1 2 3 4 5; do
  logger -n 127.0.0.1 -P $((P+514)) -d --rfc5424 -t demoapp "login user=alice$i ip=127.0.0.$i bytes=$((i*100))"
  logger -n 127.0.0.1 -P $((P+514)) -d --rfc3164 -t sshd "Accepted password user=bob$i ip=192.0.2.$i bytes=$i"
  logger -n 127.0.0.1 -P $((P+515)) -T --rfc5424 --octet-count -t demoapp "tcp message $i"
done
curl -sf -X POST --data-binary $'{"event":"signup","user":"carol","n":1}\n{"event":"signup","user":"dave","n":2}\n' \
  "http://127.0.0.1:$((P+90))/webhook" && echo
echo "== waiting for Parquet"
for _ in $(seq 120); do
  n=$(find "$D/store/packer" -name '*.parquet' 2>/dev/null | wc -l)
  [ "$n" -ge 3 ] && break
  sleep 1
done
echo
echo "Data at each stage (file store under $D/store):"
for s in intake piper packer; do
  printf '  %-7s %4d objects  %s\n' "$s" "$(find "$D/store/$s" -type f ! -name '.*' ! -path '*/_*' 2>/dev/null | wc -l)" "$D/store/$s"
done
f=$(find "$D/store/packer/demo/sys" -name '*.parquet' 2>/dev/null | head -1)
if [ -z "$f" ]; then echo "no Parquet yet; see the logs in $D/logs"; exit 1; fi
echo
echo "First Parquet file: $f"
"$ROOT/build/bin/bytefreezer-packer" --inspect "$f" | head -60
echo
echo "Parquet files:"; find "$D/store/packer" -name '*.parquet' | sed 's/^/  /'
cat <<M

The daemons are still running (pids in $D/*.pid; admin: proxy :$((P+8)) receiver :$((P+81)) piper :$((P+82)) packer :$((P+83))).
  curl -s http://127.0.0.1:$((P+81))/metrics | head      # metrics
  logger -n 127.0.0.1 -P $((P+514)) -d "hello"             # more data
Stop them with:
  bash $ROOT/test/tools/stack.sh down $D
M
