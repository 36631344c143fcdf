#!/usr/bin/env bash
# Spool quota reached (receiver down, spool.max_bytes 1MiB): the TCP input stops reading so the sender
# blocks and nothing is lost; the HTTP input answers 503; UDP datagrams are dropped and counted in
# metrics and health. When the receiver comes back the sender finishes and every TCP record arrives.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_backpressure; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
RP=21180; RA=21181; PA=21182; TP=21183; UP=21184; HP=21185
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-5"
    datasets:
      - {id: bulk, source: {type: tcp, port: $TP, host: 127.0.0.1, data_format: ndjson}}
      - {id: dgram, source: {type: syslog, port: $UP, host: 127.0.0.1}}
      - {id: hook, source: {type: http, port: $HP, host: 127.0.0.1}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 1MiB}
batch: {max_age: 100ms, max_bytes: 64KiB, level: 1}
retry: {initial: 200ms, max: 1s}
Y
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $TP; px_wait_port $HP

# sender: 150000 records of ~210 bytes (random hex, compresses about 2:1): ~30 MB, far over the quota and
# the kernel socket buffers; writes its progress (bytes handed to the kernel) to a file
cat >"$W/send.py" <<'P'
import os, socket, sys
port, total, prog = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536); s.connect(("127.0.0.1", port))
sent = 0
for base in range(0, total, 1000):
    chunk = b"".join(b'{"seq":%d,"pad":"%s"}\n' % (i, os.urandom(90).hex().encode()) for i in range(base, base + 1000))
    s.sendall(chunk); sent += len(chunk)
    with open(prog, "w") as f: f.write(str(sent))
s.close()
P
python3 "$W/send.py" $TP 150000 "$W/progress" &
SENDER=$!
# wait until the spool is full and the sender has stalled (progress unchanged across a second)
full=
for _ in $(seq 300); do
  h=$(curl -s "http://127.0.0.1:$PA/api/v1/health")
  if [ "$(echo "$h" | jq -r .spool.full)" = true ]; then
    a=$(cat "$W/progress" 2>/dev/null || echo 0); sleep 1; b=$(cat "$W/progress" 2>/dev/null || echo 0)
    [ "$a" = "$b" ] && { full=1; break; }
  fi
  sleep 0.1
done
[ -n "$full" ] || die "spool never reported full with a stalled sender"
kill -0 $SENDER 2>/dev/null || die "sender finished although the spool is full"
used=$(curl -s "http://127.0.0.1:$PA/api/v1/health" | jq -r .spool.used_bytes)
[ "$used" -le 1048576 ] || die "spool over its quota: $used"
ok "spool full ($used bytes), TCP sender blocked at $(cat "$W/progress") bytes"

expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'x' "http://127.0.0.1:$HP/webhook")" 503 "HTTP while full"
ok "HTTP input answers 503 while the spool is full"

px_udp $UP "<13>Nov 27 10:00:00 h app: dropped {i}" 200
for _ in $(seq 50); do [ "$(px_metric $PA 'bytefreezer_proxy_udp_dropped_total{tenant="acme",dataset="dgram"}')" -ge 1 ] && break; sleep 0.1; done
d=$(px_metric $PA 'bytefreezer_proxy_udp_dropped_total{tenant="acme",dataset="dgram"}')
[ "$d" -ge 1 ] || die "UDP drops not counted"
h=$(curl -s "http://127.0.0.1:$PA/api/v1/health")
expect_eq "$(echo "$h" | jq -r .udp.spool_full_drops_last_minute)" true "health drops flag"
expect_eq "$(echo "$h" | jq -r .status)" degraded "health status"
ok "UDP drops counted ($d) and reported by health"

px_receiver "$W" $RP $RA "$W/tenants.yaml"
wait $SENDER || die "sender failed"
px_wait_records "$W/intake" acme bulk 150000 180
v=$(px_records "$W/intake" acme bulk | jq -r .seq)
expect_eq "$(echo "$v" | wc -l)" 150000 "bulk records"
echo "$v" | awk 'NR - 1 != $1 { bad = 1 } END { exit bad }' || die "bulk records missing or out of order"
ok "all 150000 TCP records arrived in order after the backpressure"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'x' "http://127.0.0.1:$HP/webhook")" 200 "HTTP after recovery"
ok "HTTP input accepts again"
