#!/usr/bin/env bash
# SIGTERM: the receiver stops accepting, lets the request in progress finish (it gets its 200 and its
# object), and exits 0.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_shutdown; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
PORT=20070; ADMIN=20071; TOKEN=term-token-7
make_tenants "$W/tenants.yaml" "$TOKEN"
cat >"$W/r.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$W/store"}
shutdown_timeout: 30s
Y
rcv_start "$W/r.yaml" "$W/log" $PORT
head -c 600000 /dev/urandom | base64 | gzip -1 >"$W/b.gz"
# a slow upload (~4 s at 200 KB/s) that is in progress when SIGTERM arrives
curl -s -o "$W/out" -w '%{http_code}' --limit-rate 200k -H "Authorization: Bearer $TOKEN" \
  --data-binary @"$W/b.gz" "http://127.0.0.1:$PORT/acme/fw" >"$W/code" &
CURL=$!
inflight() { [ "$(metric $ADMIN bytefreezer_receiver_inflight_requests)" = 1 ]; }
wait_for 10 inflight || die "upload not in progress"
kill -TERM "$RCV_PID"
stopped_listening() { ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; }
wait_for 10 stopped_listening || die "still accepting new connections after SIGTERM"
wait "$CURL"
expect_eq "$(cat "$W/code")" 200 "in-flight upload after SIGTERM ($(cat "$W/out"))"
key=$(jq -r .key "$W/out")
cmp "$W/b.gz" "$W/store/$key" || die "in-flight object differs"
rc=0; wait "$RCV_PID" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
grep -q '"receiver stopped"' "$W/log" || die "no stop log line"
ok "SIGTERM: in-flight request finished with 200, exit 0"
