#!/usr/bin/env bash
# Slow clients: connections trickling headers or a body at 1 byte/s are cut after read_timeout
# (libmicrohttpd's idle timeout alone would never fire: they are never idle), and while they hang on,
# other clients are served normally.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_slowloris; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
PORT=20050; ADMIN=20051; TOKEN=slow-token-9
make_tenants "$W/tenants.yaml" "$TOKEN"
cat >"$W/r.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$W/store"}
read_timeout: 3s
max_connections: 64
Y
rcv_start "$W/r.yaml" "$W/log" $PORT
SL="python3 $BF_ROOT/test/tools/receiver-slowloris.py"
PIDS=()
for i in 1 2 3; do $SL $PORT headers 1 60 >"$W/slow-h$i" & PIDS+=($!); done
for i in 1 2 3; do $SL $PORT body 1 60 "$TOKEN" >"$W/slow-b$i" & PIDS+=($!); done
sleep 1
# normal clients are served while the slow ones hang on
printf '{"ok":true}\n' | gzip >"$W/b.gz"
for i in 1 2 3 4 5; do
  r=$(post "http://127.0.0.1:$PORT/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN")
  expect_eq "${r%% *}" 200 "normal client #$i during slowloris"
done
ok "normal clients served during slowloris"
wait "${PIDS[@]}"
for f in "$W"/slow-*; do
  case "$(cat "$f")" in cut*) ;; *) die "$(basename "$f"): $(cat "$f") (expected cut)" ;; esac
done
cuts=$(metric $ADMIN bytefreezer_receiver_slow_clients_cut_total)
[ "${cuts:-0}" -ge 6 ] || die "slow_clients_cut_total = $cuts, expected >= 6"
ok "6 slow clients cut ($(cat "$W"/slow-* | tr '\n' ' '))"
r=$(post "http://127.0.0.1:$PORT/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "served after slowloris"
rcv_stop "$RCV_PID"

# max_connections: with every slot held by a slow client a new client is turned away, and it is
# served again once the slow ones have been cut
sed -e "s/max_connections: 64/max_connections: 2/" -e "s/$PORT/20052/" -e "s/$ADMIN/20053/" "$W/r.yaml" >"$W/r2.yaml"
rcv_start "$W/r2.yaml" "$W/log2" 20052
PIDS=()
for i in 1 2; do $SL 20052 body 1 60 "$TOKEN" >"$W/limit-$i" & PIDS+=($!); done
held() { [ "$(metric 20053 bytefreezer_receiver_inflight_requests)" = 2 ]; }
wait_for 10 held || die "slow clients did not take both connections"
r=$(post "http://127.0.0.1:20052/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN" --max-time 5)
[ "${r%% *}" != 200 ] || die "a third connection was served with max_connections: 2"
wait "${PIDS[@]}"
r=$(post "http://127.0.0.1:20052/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "served once the slow clients were cut"
rcv_stop "$RCV_PID"
ok "max_connections enforced"
ok "slowloris checks passed"
