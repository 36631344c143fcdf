#!/usr/bin/env bash
# SIGHUP and SIGTERM: a reload keeps unchanged listeners running (a UDP stream sent across several
# reloads loses nothing), replaces a changed one (new data_format applies), keeps the old listener when
# the new one cannot bind (error in health), starts added and stops removed sources. SIGTERM seals and
# spools the open batch (batch.max_age 1h) and exits 0; after a restart that data is delivered.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_reload; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
RP=21200; RA=21201; PA=21202; U1=21203; T1=21204; T2=21205; BUSY=21206; NEWP=21207
tenants() { # format of T1, port of T1, extra dataset line
  cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-6"
    datasets:
      - {id: steady, source: {type: udp, port: $U1, host: 127.0.0.1, data_format: ndjson}}
      - {id: change, source: {type: tcp, port: $2, host: 127.0.0.1, data_format: $1}}
$3
Y
}
tenants ndjson $T1 "      - {id: gone, source: {type: tcp, port: $T2, host: 127.0.0.1}}"
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
tenants_poll: 1h
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 200ms}
Y
px_receiver "$W" $RP $RA "$W/tenants.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $T1; px_wait_port $T2; px_wait_port $U1 udp
tcp_send() { python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.argv[2].encode()+b"\n"); s.close()' "$@"; }
hup() { kill -HUP "$RCV_PID"; sleep 0.5; kill -HUP "$PROXY_PID"; n=$(grep -c 'tenant registry applied' "$W/proxy.log"); for _ in $(seq 50); do
  [ "$(grep -c 'tenant registry applied' "$W/proxy.log")" -gt "$((n - 1))" ] && break; sleep 0.1; done; sleep 0.3; }

# a steady UDP stream (200 datagrams/s) runs across all the reloads below
python3 - $U1 >"$W/sent" <<'P' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1200):
    s.sendto(b'{"seq":%d}' % i, ("127.0.0.1", int(sys.argv[1]))); time.sleep(0.005)
print(1200)
P
UDPS=$!
tcp_send $T1 '{"phase":"before"}'
px_wait_records "$W/intake" acme change 1

# 1. changed source (format ndjson -> text) + removed dataset
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",'$BUSY')); s.listen(); time.sleep(60)' &
BUSYPID=$!; PX_PIDS+=("$BUSYPID")
tenants text $T1 ""
hup
tcp_send $T1 '{"phase":"after"}'
px_wait_records "$W/intake" acme change 2
expect_eq "$(px_records "$W/intake" acme change | jq -r .message | tail -1)" '{"phase":"after"}' "text format after reload"
ss -Hltn "sport = :$T2" | grep -q . && die "removed dataset still listening"
grep -q '"msg":"input stopped","tenant":"acme","dataset":"steady"' "$W/proxy.log" && die "unchanged UDP listener was restarted"
ok "changed listener replaced, removed one stopped, unchanged one untouched"

# 2. a change that cannot bind keeps the old listener and reports the error
tenants text $BUSY "      - {id: added, source: {type: tcp, port: $NEWP, host: 127.0.0.1}}"
hup
h=$(curl -s "http://127.0.0.1:$PA/api/v1/health")
echo "$h" | jq -e '.listeners.errors[0].dataset == "change" and (.listeners.errors[0].error | test("in use"))' >/dev/null ||
  die "bind error not in health: $h"
expect_eq "$(echo "$h" | jq -r .status)" degraded "health with a failed listener"
tcp_send $T1 'still old listener'
px_wait_records "$W/intake" acme change 3
px_wait_port $NEWP
tcp_send $NEWP 'added dataset'
px_wait_records "$W/intake" acme added 1
ok "failed bind kept the old listener (reported in health), added source started"

# 3. no UDP datagram lost across the reloads
wait $UDPS
px_wait_records "$W/intake" acme steady 1200 30
expect_eq "$(px_records "$W/intake" acme steady | jq -r .seq | sort -n | uniq | wc -l)" 1200 "UDP stream across reloads"
ok "1200 UDP datagrams across 2 reloads, none lost"

# 4. SIGTERM seals and spools the open batch; a restart delivers it
kill "$RCV_PID"; wait "$RCV_PID" 2>/dev/null
sed -i 's/max_age: 200ms/max_age: 1h/' "$W/proxy.yaml"
kill -TERM "$PROXY_PID"; wait "$PROXY_PID"; expect_eq "$?" 0 "exit code"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $NEWP
for i in 1 2 3; do tcp_send $NEWP "open batch $i"; done
sleep 0.5
kill -TERM "$PROXY_PID"; wait "$PROXY_PID"; expect_eq "$?" 0 "exit code with an open batch"
[ "$(find "$W/spool/acme/added" -name 'acme--*' ! -name '*.meta' | wc -l)" -ge 1 ] || die "open batch not spooled at SIGTERM"
px_receiver "$W" $RP $RA "$W/tenants.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_records "$W/intake" acme added 4
expect_eq "$(px_records "$W/intake" acme added | jq -r .message | tail -3 | paste -sd,)" "open batch 1,open batch 2,open batch 3" "spooled at SIGTERM"
ok "SIGTERM spooled the open batch, exit 0, delivered after restart"
