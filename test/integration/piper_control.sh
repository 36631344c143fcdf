#!/usr/bin/env bash
# lease.mode: control — two pipers on one file-store intake claim objects through the control
# service's file locks (the fake control service): 120 objects, each processed exactly once, lock
# calls carry the key and owner, contention is counted.
. "$(dirname "$0")/piper-lib.bash"
W=$BF_TMP/piper_control; rm -rf "$W"; mkdir -p "$W/fixtures"
IN=$W/store/intake; OUT=$W/store/piper; mkdir -p "$IN" "$OUT"
CPORT=22061
python3 "$BF_ROOT/test/tools/fake-control.py" --port $CPORT --fixtures "$W/fixtures" --log "$W/control.log" --key ck-123 & PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$CPORT/__ping" -o /dev/null || fail "fake control"
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - {id: app, active: true, format: ndjson, pipeline: [{type: add_field, config: {field: x, value: 1}}]}
Y
conf() { cat >"$W/p$1.yaml" <<Y
admin_listen: "127.0.0.1:$2"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$IN", piper: "file://$OUT"}
control: {url: "http://127.0.0.1:$CPORT", api_key: "ck-123"}
poll_interval: 50ms
workers: 2
lease: {mode: control, ttl: 30s}
tmp_dir: "$W"
state_dir: "$W/state$1"
Y
}
conf 1 22062; conf 2 22063
for n in $(seq 1 120); do printf '{"n":%d}\n{"n":%d}\n' "$n" "$((n + 1000))" | put_file_obj "$IN" acme app "$n" zst; done
"$PIPER" -c "$W/p1.yaml" 2>"$W/p1.log" & PIDS+=($!)
"$PIPER" -c "$W/p2.yaml" 2>"$W/p2.log" & PIDS+=($!)
drained() { [ -z "$(find "$IN/acme" -type f ! -name '.*' 2>/dev/null)" ]; }
wait_for 120 drained || { tail -3 "$W/p1.log" "$W/p2.log"; fail "not drained"; }
done_of() { curl -sf "http://127.0.0.1:$1/metrics" | awk '/^bytefreezer_piper_objects_done_total /{print $2}'; }
busy_of() { curl -sf "http://127.0.0.1:$1/metrics" | awk '/^bytefreezer_piper_lease_contention_total /{print $2}'; }
d1=$(done_of 22062); d2=$(done_of 22063); b=$(( $(busy_of 22062) + $(busy_of 22063) ))
echo "done $d1 + $d2, contention $b"
[ $((d1 + d2)) -eq 120 ] || fail "processed $((d1 + d2)) times, want 120"
[ "$(cat_outputs "$OUT" | jq -r .n | sort -n | uniq -d | wc -l)" = 0 ] || fail "duplicate records"
[ "$(cat_outputs "$OUT" | wc -l)" = 240 ] || fail "record count"
grep -q '"path": "/api/v1/piper/locks/files"' "$W/control.log" || grep -q '/api/v1/piper/locks/files' "$W/control.log" || fail "no lock calls"
grep -q '"file_key": "acme/app/acme--app--' "$W/control.log" || fail "lock key"
grep -q 'Bearer ck-123' "$W/control.log" || fail "auth header"
echo "piper_control: ok"
