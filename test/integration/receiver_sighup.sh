#!/usr/bin/env bash
# Tenant registry reload: a new token written to tenants.yaml works after SIGHUP (same process, same
# listener) and the old one stops working; a later change is picked up by polling without a signal.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_sighup; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
PORT=20040; ADMIN=20041
make_tenants "$W/tenants.yaml" old-token-1
cat >"$W/r.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
tenants: "file://$W/tenants.yaml"
tenants_poll: 300ms
store: {intake: "file://$W/store"}
Y
# a long poll first, so the SIGHUP step cannot be satisfied by polling
sed 's/tenants_poll: 300ms/tenants_poll: 1h/' "$W/r.yaml" >"$W/r-hup.yaml"
rcv_start "$W/r-hup.yaml" "$W/log" $PORT
P=$RCV_PID
printf '{"a":1}\n' >"$W/b.ndjson"
code() { post "http://127.0.0.1:$PORT/acme/fw" "$W/b.ndjson" -H "Authorization: Bearer $1" | cut -d' ' -f1; }
expect_eq "$(code old-token-1)" 200 "old token before reload"
expect_eq "$(code new-token-2)" 401 "new token before reload"

make_tenants "$W/tenants.yaml.tmp" new-token-2 && mv "$W/tenants.yaml.tmp" "$W/tenants.yaml"
kill -HUP "$P"
reloaded() { grep -q 'tenant registry reloaded' "$W/log"; }
wait_for 10 reloaded || die "no reload logged after SIGHUP"
expect_eq "$(code new-token-2)" 200 "new token after SIGHUP"
expect_eq "$(code old-token-1)" 401 "old token after SIGHUP"
kill -0 "$P" || die "receiver died on SIGHUP"
ok "SIGHUP: new token works, old one refused, same process"

# a broken file keeps the last good registry
echo "tenants: [ {id: " >"$W/tenants.yaml"
kill -HUP "$P"
failed() { grep -q 'tenant reload failed' "$W/log"; }
wait_for 10 failed || die "broken registry not reported"
expect_eq "$(code new-token-2)" 200 "last good registry kept"
ok "broken tenants.yaml: previous registry kept"
rcv_stop "$P"

# polling: no signal needed
make_tenants "$W/tenants.yaml" poll-token-3
rcv_start "$W/r.yaml" "$W/log2" $PORT
expect_eq "$(code poll-token-3)" 200 "token at start"
sleep 1.1   # a different mtime second for the file change below
make_tenants "$W/tenants.yaml.tmp" poll-token-4 && mv "$W/tenants.yaml.tmp" "$W/tenants.yaml"
polled() { [ "$(code poll-token-4)" = 200 ]; }
wait_for 20 polled || die "polling did not pick up the new token"
expect_eq "$(code poll-token-3)" 401 "old token after poll reload"
rcv_stop "$RCV_PID"
ok "polling picks up tenants.yaml changes"
