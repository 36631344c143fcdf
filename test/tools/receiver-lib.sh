# shellcheck shell=bash
# Helpers for the receiver integration tests and bench (sourced). Needs BF_BIN and BF_TMP from test/run-all.sh
# (or set by hand) and, for S3, the env of test/tools/s3-up.sh.
set -u
RCV_BIN=${BF_BIN:?}/bytefreezer-receiver
RCV_PIDS=()

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
expect_eq() { [ "$1" = "$2" ] || die "$3: expected '$2', got '$1'"; }

# rcv_start CONFIG LOG DATA_PORT [https]: start a receiver and wait until its data port answers; sets RCV_PID.
rcv_start() {
  local scheme=${4:-http}
  "$RCV_BIN" -c "$1" >>"$2" 2>&1 &
  RCV_PID=$!
  RCV_PIDS+=("$RCV_PID")
  local i=0
  until curl -skf -o /dev/null "$scheme://127.0.0.1:$3/health"; do
    kill -0 "$RCV_PID" 2>/dev/null || { tail -n 20 "$2" >&2; die "receiver exited at start"; }
    i=$((i + 1)); [ $i -lt 200 ] || die "receiver not ready on :$3"
    sleep 0.05
  done
}

# rcv_stop PID: SIGTERM and wait; fails the test when the exit code is not 0.
rcv_stop() {
  kill -TERM "$1" 2>/dev/null || return 0
  local rc=0
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || die "receiver $1 exited with $rc after SIGTERM"
}

# Kill every receiver this test started (EXIT trap).
rcv_cleanup() {
  local p
  for p in "${RCV_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  return 0
}

# make_tenants FILE TOKEN: tenant acme (datasets fw active, off inactive) + inactive tenant gone.
make_tenants() {
  cat >"$1" <<Y
tenants:
  - id: acme
    active: true
    token: "$2"
    datasets:
      - id: fw
        active: true
      - id: off
        active: false
  - id: gone
    active: false
    token: "gone-token"
    datasets:
      - id: fw
        active: true
Y
}

# ndjson N [SEED]: N JSON lines.
ndjson() { seq 1 "$1" | awk -v s="${2:-x}" '{printf "{\"n\":%d,\"seed\":\"%s\",\"msg\":\"event %d from host-%d level=info\"}\n",$1,s,$1,$1%17}'; }

# post URL FILE [curl args...]: prints "<code> <body>". Headers of the original proxy come from the caller.
post() {
  local url=$1 file=$2; shift 2
  curl -s -o "$BF_TMP/.post.out" -w '%{http_code}' "$@" --data-binary @"$file" "$url" >"$BF_TMP/.post.code" || true
  echo "$(cat "$BF_TMP/.post.code") $(cat "$BF_TMP/.post.out" 2>/dev/null)"
}

# proxy_headers TOKEN TENANT DATASET NS HINT EXT CODEC LINES BYTES: the exact header set of the original proxy.
proxy_headers() {
  local name="$2--$3--$4--$5.$6"
  # shellcheck disable=SC2034  # PH is read by the caller
  PH=(-H "Authorization: Bearer $1" -H "Content-Encoding: $7" -H "Content-Type: application/octet-stream"
      -H "User-Agent: bytefreezer-proxy/1.0" -H "X-Proxy-Filename: $name" -H "X-Proxy-Batch-ID: ${name%.*}"
      -H "X-Proxy-Line-Count: $8" -H "X-Proxy-Original-Bytes: $9"
      -H "X-Proxy-Created-At: 2026-11-27T10:00:00Z" -H "X-Proxy-Data-Hint: $5")
}

# json_field JSON FIELD
json_field() { echo "$1" | jq -r ".$2"; }

# ---- S3 (Swift) through curl SigV4; the access key contains ':' so credentials go through a netrc file ----
s3_netrc() {
  [ -f "$BF_TMP/.rcv-netrc" ] || printf 'machine 127.0.0.1 login %s password %s\n' "$BF_TEST_S3_AK" "$BF_TEST_S3_SK" >"$BF_TMP/.rcv-netrc"
  echo "$BF_TMP/.rcv-netrc"
}
s3curl() { curl -s --aws-sigv4 "aws:amz:${BF_TEST_S3_REGION:-us-east-1}:s3" --netrc-file "$(s3_netrc)" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
# s3_mkbucket ENDPOINT BUCKET
# (retried for a while: a freshly started Swift answers 503 until its rings and account are ready)
s3_mkbucket() {
  local c i=0
  until c=$(s3curl -o /dev/null -w '%{http_code}' -X PUT "$1/$2"); [ "$c" = 200 ]; do
    i=$((i + 1)); [ $i -lt 60 ] || die "create bucket $2: HTTP $c"; sleep 0.5
  done
}
# s3_keys ENDPOINT BUCKET PREFIX: keys under prefix, one per line
s3_keys() { s3curl "$1/$2?list-type=2&prefix=$(printf %s "$3" | jq -sRr @uri)" | grep -o '<Key>[^<]*</Key>' | sed 's/<Key>//;s/<\/Key>//'; }
# s3_get ENDPOINT BUCKET KEY OUT
s3_get() { local c; c=$(s3curl -o "$4" -w '%{http_code}' "$1/$2/$3"); [ "$c" = 200 ] || die "GET $2/$3: HTTP $c"; }
# s3_meta ENDPOINT BUCKET KEY NAME: value of x-amz-meta-NAME
s3_meta() { s3curl -I "$1/$2/$3" | tr -d '\r' | awk -v h="x-amz-meta-$4:" 'tolower($1)==h {print $2}'; }

# ---- private Swift for outage tests (never the shared one) ----
# swift_private_up DIR PORT: Swift s3api on PORT, memcached PORT+1, object/container/account PORT+2..4.
swift_private_up() {
  PORT=$2 MCPORT=$(($2 + 1)) OBJ_PORT=$(($2 + 2)) CONT_PORT=$(($2 + 3)) ACCT_PORT=$(($2 + 4)) \
    sh "$BF_ROOT/test/tools/swift-s3-up.sh" "$1" >"$1.log" 2>&1 || { cat "$1.log" >&2; die "private swift did not start"; }
}
# swift_private_down DIR: stop every process of that private Swift (by its pid files).
swift_private_down() { local f; for f in "$1"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done; return 0; }
# swift_proxy DIR PORT stop|start: only the proxy server (the S3 endpoint), to simulate an outage.
swift_proxy() { BF_TEST_SWIFT_DIR=$1 BF_TEST_S3_ENDPOINT=http://127.0.0.1:$2 sh "$BF_ROOT/test/tools/swift-ctl.sh" "$3"; }

# metric ADMIN_PORT NAME_WITH_LABELS: value of one series (empty when absent)
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1==n {print $2}'; }
# wait_for SECONDS CMD...: poll until CMD succeeds (0) or give up (1). Not a timing assertion: a bound.
wait_for() { local t=$1 i=0; shift; until "$@"; do i=$((i + 1)); [ $i -lt $((t * 10)) ] || return 1; sleep 0.1; done; }
