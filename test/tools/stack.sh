#!/usr/bin/env bash
# Start/stop the four daemons on loopback as one system (used by `make demo`, test/e2e and test/faults).
#   stack.sh up DIR      write configs into DIR and start proxy, receiver, piper, packer
#   stack.sh down DIR    stop them (SIGTERM, then SIGKILL after 20 s)
#   stack.sh start DIR D / kill9 DIR D   (re)start or kill -9 one daemon
# Environment:
#   BF_BIN        binaries (default build/bin)
#   STACK_PORT    base port P (default 25000): receiver P+80/P+81, proxy admin P+8, piper P+82, packer
#                 P+83, syslog UDP P+514, syslog TCP P+515, HTTP input P+90, netflow P+995
#   STACK_STORE   file (default) or s3 (uses BF_TEST_S3_* and bucket STACK_BUCKET)
#   STACK_GEOIP   path of an mmdb for the grok+geoip pipeline (optional)
set -euo pipefail
cmd=$1; D=$2
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BF_BIN:-$ROOT/build/bin}
P=${STACK_PORT:-25000}
DAEMONS="receiver piper packer proxy"

write_configs() {
  mkdir -p "$D"/{store,spool,receiver-spool,state,logs}
  local s3="" intake piper packer
  if [ "${STACK_STORE:-file}" = s3 ]; then
    local b=${STACK_BUCKET:?}
    python3 "$ROOT/test/tools/s3cp.py" mb "$b"
    s3="s3: {endpoint: \"$BF_TEST_S3_ENDPOINT\", region: us-east-1, path_style: true, access_key: \"$BF_TEST_S3_AK\", secret_key: \"$BF_TEST_S3_SK\"}"
    intake="s3://$b/intake"; piper="s3://$b/piper"; packer="s3://$b/packer"
  else
    intake="file://$D/store/intake"; piper="file://$D/store/piper"; packer="file://$D/store/packer"
  fi
  local geo=""
  if [ -n "${STACK_GEOIP:-}" ]; then
    geo="          - {type: geoip, config: {source_field: client_ip, target_field: geo, database: \"$STACK_GEOIP\", fields: [country_code, city, location]}}"
  fi
  cat >"$D/tenants.yaml" <<Y
tenants:
  - id: demo
    active: true
    token: "demo-token-0123456789"
    datasets:
      - id: sys
        source: {type: syslog, transport: udp, port: $((P+514)), host: 127.0.0.1}
        format: ndjson
        pipeline:
          - {type: grok, config: {source_field: message, pattern: "user=%{USERNAME:user} ip=%{IP:client_ip} bytes=%{NUMBER:bytes:int}"}}
$geo
          - {type: add_field, config: {field: pipeline, value: demo}}
        output: {partitioning: hive_hour, time_field: BfTs, compression: zstd}
      - id: systcp
        source: {type: syslog, transport: tcp, port: $((P+515)), host: 127.0.0.1}
        format: ndjson
        output: {partitioning: hive_hour}
      - id: webhook
        source: {type: http, port: $((P+90)), host: 127.0.0.1, path: /webhook}
        format: ndjson
        output: {partitioning: hive_day}
      - id: flows
        source: {type: netflow, port: $((P+995)), host: 127.0.0.1}
        format: ndjson
        output: {partitioning: hive_hour}
Y
  local common="log_level: info
tenants: \"file://$D/tenants.yaml\"
tenants_poll: 1s
state_dir: \"$D/state\"
shutdown_timeout: 10s
$s3"
  cat >"$D/receiver.yaml" <<Y
$common
listen: "127.0.0.1:$((P+80))"
admin_listen: "127.0.0.1:$((P+81))"
store: {intake: "$intake"}
ack: ${STACK_ACK:-store}
spool: {dir: "$D/receiver-spool"}
Y
  cat >"$D/proxy.yaml" <<Y
$common
admin_listen: "127.0.0.1:$((P+8))"
receiver: {url: "http://127.0.0.1:$((P+80))"}
spool: {dir: "$D/spool", max_bytes: ${STACK_SPOOL_MAX:-1GiB}}
batch: {max_age: 300ms, max_bytes: 1MiB, codec: zstd}
retry: {initial: 200ms, max: 2s}
Y
  cat >"$D/piper.yaml" <<Y
$common
admin_listen: "127.0.0.1:$((P+82))"
store: {intake: "$intake", piper: "$piper"}
poll_interval: 300ms
lease: {mode: store, ttl: 20s}
Y
  cat >"$D/packer.yaml" <<Y
$common
admin_listen: "127.0.0.1:$((P+83))"
store: {piper: "$piper", packer: "$packer"}
poll_interval: 300ms
max_wait: ${STACK_MAX_WAIT:-2s}
target_bytes: 128MiB
spill_dir: "$D/state/packer-spill"
Y
}

admin_port() { case $1 in receiver) echo $((P+81));; proxy) echo $((P+8));; piper) echo $((P+82));; packer) echo $((P+83));; esac; }

start_one() {
  local d=$1
  "$BIN/bytefreezer-$d" -c "$D/$d.yaml" >>"$D/logs/$d.log" 2>&1 &
  echo $! >"$D/$d.pid"
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$(admin_port "$d")/api/v1/health" && return 0
    kill -0 "$(cat "$D/$d.pid")" 2>/dev/null || { echo "bytefreezer-$d exited; log:" >&2; tail -20 "$D/logs/$d.log" >&2; return 1; }
    sleep 0.1
  done
  echo "bytefreezer-$d did not become healthy; log:" >&2; tail -20 "$D/logs/$d.log" >&2; return 1
}

stop_one() {
  local d=$1 pid
  [ -f "$D/$d.pid" ] || return 0
  pid=$(cat "$D/$d.pid")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$D/$d.pid"; return 0; }
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$D/$d.pid"
}

case $cmd in
  up) write_configs; for d in $DAEMONS; do start_one "$d"; done ;;
  down) for d in proxy piper packer receiver; do stop_one "$d"; done ;;
  start) start_one "$3" ;;
  stop) stop_one "$3" ;;
  kill9) [ -f "$D/$3.pid" ] && kill -KILL "$(cat "$D/$3.pid")" 2>/dev/null; rm -f "$D/$3.pid" ;;
  *) echo "usage: stack.sh up|down|start|stop|kill9 DIR [daemon]" >&2; exit 2 ;;
esac
