#!/usr/bin/env bash
# Proxy syslog and line inputs end to end with the real receiver (file intake store): logger over UDP,
# TCP (LF) and TCP octet-counted, RFC 3164 and RFC 5424 with structured data, an rsyslog instance
# forwarding with omfwd (octet-counted TCP and UDP), syslog over TLS, SO_REUSEPORT workers, and udp/tcp
# line inputs (ndjson passthrough with exact big integers, text wrapping). Records are checked field by field against DESIGN §5.1.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_syslog; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
RP=21100; RA=21101; PA=21102
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-1"
    datasets:
      - {id: sudp, source: {type: syslog, transport: udp, port: 21103, host: 127.0.0.1}}
      - {id: stcp, source: {type: syslog, transport: tcp, port: 21104, host: 127.0.0.1}}
      - {id: rsfwd, source: {type: syslog, transport: tcp, port: 21105, host: 127.0.0.1}}
      - {id: rsudp, source: {type: syslog, transport: udp, port: 21106, host: 127.0.0.1}}
      - {id: lines, source: {type: udp, port: 21107, host: 127.0.0.1, data_format: auto}}
      - {id: tlines, source: {type: tcp, port: 21108, host: 127.0.0.1, data_format: text}}
      - {id: multi, source: {type: syslog, port: 21110, host: 127.0.0.1, workers: 3}}
      - {id: sec, source: {type: syslog, transport: tcp, port: 21111, host: 127.0.0.1, tls_cert: $W/cert.pem, tls_key: $W/key.pem}}
Y
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 -subj "/CN=127.0.0.1" 2>/dev/null ||
  die "openssl could not make a test certificate"
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 200ms}
Y
px_receiver "$W" $RP $RA "$W/tenants.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port 21104; px_wait_port 21103 udp
IN=$W/intake

logger -n 127.0.0.1 -P 21103 -d --rfc3164 -t fwapp -p auth.notice "udp 3164 message"
logger -n 127.0.0.1 -P 21103 -d --rfc5424 -t app5424 --msgid ID47 --sd-id origin@32473 --sd-param 'ip="10.1.2.3"' \
  -p local3.warning "udp 5424 message"
logger -n 127.0.0.1 -P 21104 -T --rfc3164 -t tcpapp "tcp lf message"
logger -n 127.0.0.1 -P 21104 -T --rfc5424 --octet-count -t octapp "tcp octet message"
px_wait_records "$IN" acme sudp 2
px_wait_records "$IN" acme stcp 2
R=$(px_records "$IN" acme sudp; px_records "$IN" acme stcp)
rec() { echo "$R" | jq -c --arg m "$1" 'select(.message == $m)'; }

r=$(rec "udp 3164 message"); [ -n "$r" ] || die "udp 3164 record missing: $R"
expect_eq "$(echo "$r" | jq -r '[.rfc, .priority, .facility, .severity, .app_name, .source_ip] | join(",")')" \
  "3164,37,4,5,fwapp,127.0.0.1" "udp 3164 fields"
echo "$r" | jq -e '(.BfTs | type) == "number" and (.BfTs | floor) == .BfTs and (.timestamp | test("Z$"))
  and (.hostname | length > 0) and (.syslog_timestamp | length > 0)' >/dev/null || die "udp 3164 record: $r"
ok "UDP RFC 3164: $r"

r=$(rec "udp 5424 message"); [ -n "$r" ] || die "udp 5424 record missing"
expect_eq "$(echo "$r" | jq -r '[.rfc, .priority, .facility, .severity, .app_name, .msg_id] | join(",")')" \
  "5424,156,19,4,app5424,ID47" "udp 5424 fields"
expect_eq "$(echo "$r" | jq -r '.structured_data["origin@32473"].ip')" "10.1.2.3" "5424 structured data"
echo "$r" | jq -e '.syslog_timestamp | test("[+-][0-9]{2}:[0-9]{2}$|Z$")' >/dev/null || die "5424 timestamp: $r"
ok "UDP RFC 5424 with structured data"

r=$(rec "tcp lf message"); expect_eq "$(echo "$r" | jq -r '.rfc + "," + .app_name')" "3164,tcpapp" "tcp lf"
r=$(rec "tcp octet message"); expect_eq "$(echo "$r" | jq -r '.rfc + "," + .app_name')" "5424,octapp" "tcp octet"
ok "TCP LF and octet-counted framing"

# rsyslog forwarding with omfwd: octet-counted TCP (RFC 5424 template) and UDP (legacy forward format)
if command -v rsyslogd >/dev/null; then
  mkdir -p "$W/rs"
  cat >"$W/rs/rsyslog.conf" <<C
global(workDirectory="$W/rs")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="21109")
action(type="omfwd" target="127.0.0.1" port="21105" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="21106" protocol="udp" template="RSYSLOG_ForwardFormat")
C
  rsyslogd -n -f "$W/rs/rsyslog.conf" -i "$W/rs/pid" >"$W/rsyslog.log" 2>&1 &
  PX_PIDS+=($!)
  px_wait_port 21109 udp
  logger -n 127.0.0.1 -P 21109 -d --rfc3164 -t viarsyslog -p daemon.err "forwarded by rsyslog"
  px_wait_records "$IN" acme rsfwd 1
  px_wait_records "$IN" acme rsudp 1
  # rsyslog's RFC 5424 template keeps the space that followed the 3164 tag: MSG is " forwarded…"
  r=$(px_records "$IN" acme rsfwd | jq -c 'select((.message | sub("^ +"; "")) == "forwarded by rsyslog")')
  expect_eq "$(echo "$r" | jq -r '[.rfc, .facility, .severity, .app_name] | join(",")')" "5424,3,3,viarsyslog" "rsyslog tcp"
  r=$(px_records "$IN" acme rsudp | jq -c 'select(.message == "forwarded by rsyslog")')
  expect_eq "$(echo "$r" | jq -r '[.rfc, .facility, .severity, .app_name] | join(",")')" "3164,3,3,viarsyslog" "rsyslog udp"
  ok "rsyslog omfwd (TCP octet-counted 5424, UDP 3164)"
else
  die "rsyslogd not installed"
fi

# line inputs: ndjson passthrough (exact integers, BfTs added textually), text wrapping
px_udp 21107 $'{"id":12345678901234567890,"f":1.5}\nnot json\n{"BfTs":7,"k":"v"}'
python3 -c 'import socket; s=socket.create_connection(("127.0.0.1",21108)); s.sendall(b"first line\r\n{\"x\":1}\nlast no newline"); s.close()'
px_wait_records "$IN" acme lines 3
px_wait_records "$IN" acme tlines 3
L=$(px_records "$IN" acme lines)
echo "$L" | grep -q '^{"BfTs":[0-9]*,"id":12345678901234567890,"f":1.5}$' || die "ndjson passthrough: $L"
echo "$L" | grep -q '^{"BfTs":[0-9]*,"message":"not json"}$' || die "auto text: $L"
echo "$L" | grep -qx '{"BfTs":7,"k":"v"}' || die "existing BfTs kept: $L"
T=$(px_records "$IN" acme tlines | jq -r .message | paste -sd'|')
expect_eq "$T" 'first line|{"x":1}|last no newline' "tcp text lines"
ok "udp ndjson/auto and tcp text lines"

# workers: 3 -> three SO_REUSEPORT sockets; datagrams from many source ports spread over them
expect_eq "$(ss -Hlun "sport = :21110" | wc -l)" 3 "receive sockets for workers: 3"
python3 - <<'P'
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(30)]
for i in range(600):
    socks[i % 30].sendto(b"<14>Nov 27 10:00:00 h multi: n=%d" % i, ("127.0.0.1", 21110))
P
px_wait_records "$IN" acme multi 600
expect_eq "$(px_records "$IN" acme multi | jq -r .message | sort -u | wc -l)" 600 "distinct records over 3 workers"
ok "3 UDP workers (SO_REUSEPORT): 600 of 600 datagrams"

# large datagrams (past 2 KiB, up to near the UDP maximum): each message must come out whole, byte
# for byte
python3 - "$W/big.expect" <<'P'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
with open(sys.argv[1], "w") as exp:
    for size in (2047, 2048, 2049, 5000, 65000):
        head = b"<14>Nov 27 10:00:00 h big: size=%d " % size
        body = bytes(33 + (i * 7 + i // 91) % 94 for i in range(size - len(head)))   # printable, '"' and '\\' included
        s.sendto(head + body, ("127.0.0.1", 21103))
        exp.write((b"size=%d " % size + body).decode() + "\n")
P
px_wait_records "$IN" acme sudp 7
px_records "$IN" acme sudp | jq -r 'select(.app_name == "big") | .message' | sort >"$W/big.got"
sort "$W/big.expect" | cmp -s - "$W/big.got" || die "large datagrams differ: got $(wc -c <"$W/big.got") bytes, want $(wc -c <"$W/big.expect")"
ok "UDP datagrams of 2047..65000 bytes: whole and exact"

# syslog over TLS (RFC 5425: octet counting inside TLS); plaintext on the TLS port is refused
python3 - "$W/cert.pem" <<'P'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1]); ctx.check_hostname = False
with socket.create_connection(("127.0.0.1", 21111)) as raw, ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
    msgs = [b"<165>1 2026-11-27T10:00:00.5+01:00 tlshost tlsapp 77 M1 [a@1 k=\"v\"] over tls %d" % i for i in range(50)]
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))
P
python3 -c 'import socket; s=socket.create_connection(("127.0.0.1",21111)); s.sendall(b"<13>plaintext on the TLS port\n"); s.close()'
px_wait_records "$IN" acme sec 50
S=$(px_records "$IN" acme sec)
expect_eq "$(echo "$S" | wc -l)" 50 "records over TLS (plaintext refused)"
expect_eq "$(echo "$S" | head -1 | jq -c '[.rfc, .facility, .severity, .hostname, .app_name, .proc_id, .msg_id, .structured_data.a_1.k // .structured_data["a@1"].k, .syslog_timestamp]')" \
  '["5424",20,5,"tlshost","tlsapp","77","M1","v","2026-11-27T10:00:00.5+01:00"]' "TLS record fields"
grep -q 'TLS error, closing connection' "$W/proxy.log" || die "plaintext on the TLS port not refused"
ok "syslog over TLS: 50 records, plaintext refused"

# every object carries the upload contract headers' effects: receiver metadata with line counts
meta=$(find "$IN/acme/sudp" -name '.bfmeta.*' | head -1)
[ -n "$meta" ] && { [ "$(jq -r .lines "$meta")" -ge 1 ] || die "receiver meta lines: $(cat "$meta")"; }
h=$(curl -s "http://127.0.0.1:$PA/api/v1/health")
expect_eq "$(echo "$h" | jq -r '.listeners.up')" 8 "listeners up"
expect_eq "$(echo "$h" | jq -r '.receiver.last_upload')" ok "receiver reachability"
ok "health: $(echo "$h" | jq -c '{status, listeners: .listeners.up}')"
kill -TERM "$PROXY_PID"; wait "$PROXY_PID"; expect_eq "$?" 0 "proxy exit code after SIGTERM"
ok "SIGTERM exit 0"
