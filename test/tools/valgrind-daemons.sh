#!/usr/bin/env bash
# The four daemons under valgrind memcheck as one small pipeline on the file store:
#   logger (syslog UDP + TCP) -> proxy -> receiver <- curl (HTTP ndjson)
#   receiver intake -> piper -> packer -> Parquet
# then SIGTERM to each, which must exit 0 with no memcheck error (invalid access, uninitialised value,
# definite leak). Loopback ports 24600-24699. Not part of make test (a few minutes, mostly start-up).
#   BUILD (default build), BF_TMP (default /tmp/bf-vgd). Logs: $BF_TMP/<daemon>.vg (valgrind) and .log.
#   BF_VGD_STORE=s3: the three stores in one fresh bucket on the Swift s3api of test/tools/s3-up.sh
#   (env from the environment or /tmp/bf-s3/env) instead of the file store.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/bin
W=${BF_TMP:-/tmp/bf-vgd}
rm -rf "$W"; mkdir -p "$W"/{intake,piper,packer,spill,spool,state-piper,state-packer}
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed" >&2; exit 1; }
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no -q
    --fair-sched=yes --num-callers=30 --suppressions="$ROOT/test/tools/valgrind.supp")
PIDS=()
declare -A PID_OF
cleanup() { local p; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; return 0; }
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
wait_for() { # seconds cmd...
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.3; done
}
start() { # name config
  "${VG[@]}" --log-file="$W/$1.vg" "$BIN/bytefreezer-$1" -c "$2" >"$W/$1.log" 2>&1 &
  PID_OF[$1]=$!; PIDS+=($!)
}

STORE_KIND=${BF_VGD_STORE:-file}
if [ "$STORE_KIND" = s3 ]; then
  # shellcheck disable=SC1091
  [ -n "${BF_TEST_S3_ENDPOINT:-}" ] || . /tmp/bf-s3/env
  BUCKET=bf-vgd-$$-$RANDOM
  python3 "$ROOT/test/tools/s3cp.py" mb "$BUCKET" || die "cannot create bucket $BUCKET"
  URI_INTAKE=s3://$BUCKET/intake URI_PIPER=s3://$BUCKET/piper URI_PACKER=s3://$BUCKET/packer
  S3_LINE="s3: {endpoint: \"$BF_TEST_S3_ENDPOINT\", region: us-east-1, path_style: true, access_key: \"$BF_TEST_S3_AK\", secret_key: \"$BF_TEST_S3_SK\"}"
  LEASE=none   # Swift has no conditional PUT
  objects() { python3 "$ROOT/test/tools/s3cp.py" ls "$BUCKET" "$1" 2>/dev/null | grep -v '/\.' | grep -- "$2"; }
else
  URI_INTAKE=file://$W/intake URI_PIPER=file://$W/piper URI_PACKER=file://$W/packer S3_LINE="" LEASE=store
  objects() { find "$W/$1" -type f ! -name '.*' 2>/dev/null | grep -- "$2"; }
fi

RP=24600 RA=24601 PA=24602 SU=24603 ST=24604 PIPA=24605 PKA=24606
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "vg-token"
    datasets:
      - {id: app, active: true, format: ndjson}
      - {id: sudp, active: true, format: ndjson, source: {type: syslog, transport: udp, port: $SU, host: 127.0.0.1}}
      - {id: stcp, active: true, format: ndjson, source: {type: syslog, transport: tcp, port: $ST, host: 127.0.0.1}}
Y
cat >"$W/receiver.yaml" <<Y
listen: "127.0.0.1:$RP"
admin_listen: "127.0.0.1:$RA"
tenants: "file://$W/tenants.yaml"
store: {intake: "$URI_INTAKE"}
$S3_LINE
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 16MiB}
batch: {max_age: 300ms}
Y
cat >"$W/piper.yaml" <<Y
admin_listen: "127.0.0.1:$PIPA"
tenants: "file://$W/tenants.yaml"
store: {intake: "$URI_INTAKE", piper: "$URI_PIPER"}
$S3_LINE
poll_interval: 300ms
workers: 1
lease: {mode: $LEASE, ttl: 60s}
tmp_dir: "$W"
state_dir: "$W/state-piper"
Y
cat >"$W/packer.yaml" <<Y
admin_listen: "127.0.0.1:$PKA"
tenants: "file://$W/tenants.yaml"
state_dir: "$W/state-packer"
store: {piper: "$URI_PIPER", packer: "$URI_PACKER"}
$S3_LINE
spill_dir: "$W/spill"
poll_interval: 300ms
max_wait: 0s
Y

t0=$SECONDS
start receiver "$W/receiver.yaml"
start proxy "$W/proxy.yaml"
start piper "$W/piper.yaml"
start packer "$W/packer.yaml"
wait_for 90 curl -sf "http://127.0.0.1:$RP/health" || die "receiver not up: $(tail -5 "$W/receiver.log")"
wait_for 90 sh -c "ss -Hltn 'sport = :$ST' | grep -q ." || die "proxy syslog tcp not up: $(tail -5 "$W/proxy.log")"
wait_for 90 curl -sf "http://127.0.0.1:$PIPA/api/v1/health" || die "piper not up: $(tail -5 "$W/piper.log")"
wait_for 90 curl -sf "http://127.0.0.1:$PKA/api/v1/health" || die "packer not up: $(tail -5 "$W/packer.log")"
echo "all four up after $((SECONDS - t0))s"

for i in 1 2 3; do
  printf '{"n":%d,"msg":"hello %d"}\n{"n":%d,"msg":"again"}\n' "$i" "$i" "$((i + 10))" |
    curl -sf -o /dev/null -H "Authorization: Bearer vg-token" --data-binary @- "http://127.0.0.1:$RP/acme/app" ||
    die "POST to receiver failed"
  logger -n 127.0.0.1 -P $SU -d --rfc5424 -t vgapp "udp message $i"
  logger -n 127.0.0.1 -P $ST -T --rfc3164 -t vgtcp "tcp message $i"
done
# gzip body and a bad request too
printf '{"z":1}\n' | gzip | curl -s -o /dev/null -H "Authorization: Bearer vg-token" -H "Content-Encoding: gzip" \
  --data-binary @- "http://127.0.0.1:$RP/acme/app"
curl -s -o /dev/null -H "Authorization: Bearer wrong" --data-binary 'x' "http://127.0.0.1:$RP/acme/app"
# a bigger zstd body (many lines) through the receiver, and every admin endpoint's metrics
seq 1 5000 | awk '{printf "{\"n\":%d,\"msg\":\"line %d of the bigger body\"}\n",$1,$1}' | zstd -q -c |
  curl -s -o /dev/null -H "Authorization: Bearer vg-token" -H "Content-Encoding: zstd" --data-binary @- \
  "http://127.0.0.1:$RP/acme/app"
for port in $RA $PA $PIPA $PKA; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; done
# a changed registry and SIGHUP to each daemon: the reload paths run under valgrind too
cat >>"$W/tenants.yaml" <<Y
  - id: beta
    active: true
    token: "vg-token-2"
    datasets:
      - {id: logs, active: true, format: ndjson}
Y
for d in proxy receiver piper packer; do kill -HUP "${PID_OF[$d]}"; done
sleep 2
# ("logs" is a reserved dataset id: that reload was refused and the old registry kept; now a valid one)
sed -i 's/{id: logs,/{id: web,/' "$W/tenants.yaml"
for d in proxy receiver piper packer; do kill -HUP "${PID_OF[$d]}"; done
sleep 2
printf '{"beta":1}\n' | curl -s -o /dev/null -H "Authorization: Bearer vg-token-2" --data-binary @- "http://127.0.0.1:$RP/beta/web"
logger -n 127.0.0.1 -P $SU -d --rfc3164 -t vgapp "after reload"
parquet_for() { objects packer "acme/$1/.*\.parquet$" | grep -q .; }
parquet_beta() { objects packer "beta/web/.*\.parquet$" | grep -q .; }
wait_for 180 parquet_beta || die "no Parquet for beta/web within 180s (the reloaded registry)"
for ds in app sudp stcp; do
  wait_for 180 parquet_for $ds || die "no Parquet for acme/$ds within 180s"
done
echo "data ($STORE_KIND): intake $(objects intake . | wc -l), piper $(objects piper . | wc -l)," \
  "parquet $(objects packer '\.parquet$' | wc -l) files after $((SECONDS - t0))s"

bad=0
for d in proxy receiver piper packer; do
  p=${PID_OF[$d]}
  kill -TERM "$p" 2>/dev/null
  rc=0; timeout 120 tail --pid="$p" -f /dev/null; wait "$p" || rc=$?
  if [ "$rc" -eq 0 ] && [ ! -s "$W/$d.vg" ]; then echo "PASS $d"
  else bad=1; echo "FAIL $d: exit $rc; valgrind log $W/$d.vg"; head -n 120 "$W/$d.vg" | sed 's/^/    /'; fi
done
[ $bad -eq 0 ] && echo "valgrind daemons: clean" || { echo "valgrind daemons: errors"; exit 1; }
