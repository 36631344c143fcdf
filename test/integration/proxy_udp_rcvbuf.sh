#!/usr/bin/env bash
# UDP receive buffer: the proxy asks for the configured size with SO_RCVBUFFORCE (CAP_NET_ADMIN, as
# rsyslog does) and falls back to SO_RCVBUF, which the kernel clamps to net.core.rmem_max; then it
# logs a warning with what it asked for, what it got and the sysctl that fixes it. Run twice: without
# CAP_NET_ADMIN (setpriv drops it from the bounding set, so root's exec does not get it) -> warning;
# with it -> the full size, no warning. Datagrams flow in both cases.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_udp_rcvbuf; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
RP=21280; RA=21281; PA=21282; UP=21283
max=$(cat /proc/sys/net/core/rmem_max)
[ "$max" -le $((256 << 20)) ] || { echo "skipped: net.core.rmem_max ($max) leaves no room to ask for more"; exit 0; }
want=$((max * 4))
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-rcvbuf"
    datasets:
      - {id: sys, source: {type: syslog, transport: udp, port: $UP, host: 127.0.0.1, rcvbuf: $want}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 100ms}
Y
px_receiver "$W" $RP $RA "$W/tenants.yaml"
run_once() { # label, command prefix...
  local label=$1; shift
  : >"$W/proxy-$label.log"
  "$@" "$BF_BIN/bytefreezer-proxy" -c "$W/proxy.yaml" >>"$W/proxy-$label.log" 2>&1 &
  PROXY_PID=$!; PX_PIDS+=("$PROXY_PID")
  px_wait_port $PA
  px_wait_port $UP udp
  logger -n 127.0.0.1 -P $UP -d --rfc3164 -t rcvbuf "rcvbuf test $label"
  for _ in $(seq 50); do [ "$(px_metric $PA 'bytefreezer_proxy_records_total{tenant="acme",dataset="sys"}')" -ge 1 ] && break; sleep 0.1; done
  expect_eq "$(px_metric $PA 'bytefreezer_proxy_records_total{tenant="acme",dataset="sys"}')" 1 "records received ($label)"
  kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
}
run_once nocap setpriv --bounding-set=-net_admin --inh-caps=-net_admin
line=$(grep 'udp receive buffer clamped by the kernel' "$W/proxy-nocap.log") || die "no clamp warning without CAP_NET_ADMIN"
expect_eq "$(echo "$line" | jq -r .requested)" "$want" "requested size in the warning"
expect_eq "$(echo "$line" | jq -r .actual)" "$max" "actual size in the warning (rmem_max)"
echo "$line" | jq -r .fix | grep -q "sysctl -w net.core.rmem_max=$((want * 2))" || die "no fix in the warning: $line"
ok "without CAP_NET_ADMIN: clamped to rmem_max ($max), warning names requested, actual and the sysctl"
run_once cap
grep -q 'udp receive buffer clamped' "$W/proxy-cap.log" && die "clamp warning although SO_RCVBUFFORCE was allowed"
ok "with CAP_NET_ADMIN: $want bytes granted beyond rmem_max, no warning"
