# shellcheck shell=bash
# Helpers for test/integration/proxy_*.sh (sourced). Starts the real bytefreezer-receiver (or the python
# receiver stub), the proxy, and reads what arrived in the intake store. Every process started here is
# stopped by px_cleanup (trap it on EXIT). Ports: the caller's, inside the proxy range 21000-21999.
PX_PIDS=()
die() { echo "FAIL: $*" >&2; [ -n "${W:-}" ] && for f in "$W"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done >&2; exit 1; }
ok() { echo "ok: $*"; }
expect_eq() { [ "$1" = "$2" ] || die "$3: got '$1', want '$2'"; }

px_cleanup() {
  local p
  for p in "${PX_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PX_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  return 0
}

px_wait_port() { # port [tcp|udp]: wait until something listens
  local proto=${2:-tcp}
  for _ in $(seq 100); do
    if [ "$proto" = tcp ]; then ss -Hltn "sport = :$1" | grep -q . && return 0
    else ss -Hlun "sport = :$1" | grep -q . && return 0; fi
    sleep 0.1
  done
  die "nothing listens on $1/$proto"
}

# px_receiver <dir> <port> <admin port> <tenants file>: the real receiver with a file intake store at
# <dir>/intake. Sets RCV_PID.
px_receiver() {
  local d=$1 port=$2 admin=$3 tenants=$4
  [ -x "$BF_BIN/bytefreezer-receiver" ] || die "bytefreezer-receiver not built"
  cat >"$d/receiver.yaml" <<Y
listen: "127.0.0.1:$port"
admin_listen: "127.0.0.1:$admin"
tenants: "file://$tenants"
store: {intake: "file://$d/intake"}
Y
  "$BF_BIN/bytefreezer-receiver" -c "$d/receiver.yaml" >>"$d/receiver.log" 2>&1 &
  RCV_PID=$!; PX_PIDS+=("$RCV_PID")
  px_wait_port "$port"
}

# px_stub <dir> <port>: the python receiver stub (scriptable answers), bodies under <dir>/stub. Sets STUB_PID.
px_stub() {
  python3 "$BF_ROOT/test/tools/proxy-receiver-stub.py" "$2" "$1/stub" >>"$1/stub.log" 2>&1 &
  STUB_PID=$!; PX_PIDS+=("$STUB_PID")
  px_wait_port "$2"
}

# px_proxy <config>: start the proxy; sets PROXY_PID; waits for its admin port (given as $3) when set.
px_proxy() {
  "$BF_BIN/bytefreezer-proxy" -c "$1" >>"$2" 2>&1 &
  PROXY_PID=$!; PX_PIDS+=("$PROXY_PID")
  [ -n "${3:-}" ] && px_wait_port "$3"
  return 0
}

# px_udp <port> <payload> [count]: send datagrams with python (no netcat on the base image).
px_udp() {
  python3 - "$1" "$2" "${3:-1}" <<'P'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(sys.argv[2].replace("{i}", str(i)).encode(), ("127.0.0.1", int(sys.argv[1])))
P
}

# px_records <store dir> <tenant> <dataset>: every record of every object, objects in name order.
px_records() {
  local f
  [ -d "$1/$2/$3" ] || return 0
  for f in $(find "$1/$2/$3" -maxdepth 1 -type f ! -name '.*' ! -name '*.headers' ! -name '*.tmp' | sort); do
    case "$f" in *.gz) gzip -dc "$f" ;; *.zst) zstd -qdc "$f" ;; *) cat "$f" ;; esac
  done
}

# px_wait_records <store> <tenant> <dataset> <n> [seconds]: until at least n records arrived.
px_wait_records() {
  local n=0
  for _ in $(seq $((${5:-30} * 10))); do
    n=$(px_records "$1" "$2" "$3" | wc -l)
    [ "$n" -ge "$4" ] && return 0
    sleep 0.1
  done
  die "$2/$3: $n records arrived, want $4"
}

px_metric() { # admin port, metric line prefix -> value (sum over matching series)
  curl -s "http://127.0.0.1:$1/metrics" | awk -v p="$2" 'index($0, p) == 1 { s += $NF } END { print s + 0 }'
}
