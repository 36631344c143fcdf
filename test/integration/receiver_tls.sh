#!/usr/bin/env bash
# TLS on the data port (tls.cert / tls.key): HTTPS uploads verified against the certificate work,
# plain HTTP on the same port does not; a missing key file is a clear start-up error.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_tls; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
PORT=20060; ADMIN=20061; TOKEN=tls-token-5
make_tenants "$W/tenants.yaml" "$TOKEN"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || die "openssl req"
cat >"$W/r.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$W/store"}
tls: {cert: "$W/cert.pem", key: "$W/key.pem"}
Y
rcv_start "$W/r.yaml" "$W/log" $PORT https
ndjson 100 tls | gzip >"$W/b.gz"
r=$(post "https://127.0.0.1:$PORT/acme/fw" "$W/b.gz" --cacert "$W/cert.pem" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "HTTPS upload ($r)"
key=$(json_field "${r#* }" key)
cmp "$W/b.gz" "$W/store/$key" || die "object stored over TLS differs"
ok "HTTPS upload stored"
r=$(post "http://127.0.0.1:$PORT/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN" --max-time 5)
[ "${r%% *}" != 200 ] || die "plain HTTP accepted on the TLS port"
ok "plain HTTP refused on the TLS port"
rcv_stop "$RCV_PID"

sed "s#$W/key.pem#$W/missing.pem#" "$W/r.yaml" >"$W/bad.yaml"
rc=0; "$RCV_BIN" -c "$W/bad.yaml" >"$W/bad.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || die "started without its TLS key"
grep -q 'missing.pem' "$W/bad.log" || die "error does not name the missing file: $(cat "$W/bad.log")"
ok "missing key file: clear error, exit $rc"
