#!/usr/bin/env bash
# Receiver outage under load: the real receiver is stopped for BF_PROXY_OUTAGE_S seconds (default 60)
# while two datasets keep sending (syslog over TCP and NDJSON over TCP); then it is started again.
# Every record arrives exactly once, and per dataset in batch order (sequence numbers increase across
# the intake objects sorted by name). Health reports the receiver unreachable during the outage.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_outage; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
RP=21160; RA=21161; PA=21162; P1=21163; P2=21164
OUT=${BF_PROXY_OUTAGE_S:-60}
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-4"
    datasets:
      - {id: sys, source: {type: syslog, transport: tcp, port: $P1, host: 127.0.0.1}}
      - {id: app, source: {type: tcp, port: $P2, host: 127.0.0.1, data_format: ndjson}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP", concurrency: 4}
spool: {dir: "$W/spool", max_bytes: 1GiB}
batch: {max_age: 250ms, max_records: 2000}
retry: {initial: 500ms, max: 5s}
Y
px_receiver "$W" $RP $RA "$W/tenants.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $P1; px_wait_port $P2

# sender: ~3000 records/s per dataset for the whole run; prints the counts it sent
cat >"$W/send.py" <<'P'
import socket, sys, time
p1, p2, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
a = socket.create_connection(("127.0.0.1", p1)); b = socket.create_connection(("127.0.0.1", p2))
n, end = 0, time.time() + secs
while time.time() < end:
    chunk1 = b"".join(b"<134>Nov 27 10:00:00 host app[1]: seq=%d\n" % (n + i) for i in range(300))
    chunk2 = b"".join(b'{"seq":%d}\n' % (n + i) for i in range(300))
    a.sendall(chunk1); b.sendall(chunk2)
    n += 300
    time.sleep(0.1)
a.close(); b.close()
print(n)
P
python3 "$W/send.py" $P1 $P2 $((OUT + 10)) >"$W/sent" &
SENDER=$!
sleep 3
kill "$RCV_PID"; wait "$RCV_PID" 2>/dev/null
ok "receiver stopped for ${OUT}s under load"
sleep 5
h=$(curl -s "http://127.0.0.1:$PA/api/v1/health")
expect_eq "$(echo "$h" | jq -r .receiver.last_upload)" failed "health during the outage"
expect_eq "$(echo "$h" | jq -r .status)" degraded "status during the outage"
sleep $((OUT - 5))
px_receiver "$W" $RP $RA "$W/tenants.yaml"
ok "receiver started again"
wait "$SENDER"
N=$(cat "$W/sent")
[ "$N" -gt 1000 ] || die "sender sent only $N"
px_wait_records "$W/intake" acme sys "$N" 120
px_wait_records "$W/intake" acme app "$N" 120
S=$(px_records "$W/intake" acme sys | jq -r '.message | sub("^seq="; "")')
A=$(px_records "$W/intake" acme app | jq -r .seq)
for v in "$S" "$A"; do
  expect_eq "$(echo "$v" | wc -l)" "$N" "record count (exactly once)"
  echo "$v" | awk 'NR - 1 != $1 { bad = 1 } END { exit bad }' || die "records out of order or missing"
done
ok "$N records per dataset arrived exactly once, in order, after a ${OUT}s outage"
[ "$(px_metric $PA 'bytefreezer_proxy_upload_retries_total')" -ge 1 ] || die "no retries counted"
for _ in $(seq 100); do [ "$(curl -s "http://127.0.0.1:$PA/api/v1/health" | jq -r .receiver.last_upload)" = ok ] && break; sleep 0.1; done
expect_eq "$(curl -s "http://127.0.0.1:$PA/api/v1/health" | jq -r .receiver.last_upload)" ok "health after recovery"
ok "health recovered"
