#!/usr/bin/env bash
# kill -9 of a piper in the middle of an object (S3 on moto): the object stays in intake, a second
# piper finds the lease held (contention counted), takes it over after expiry, and the output holds
# each record exactly once.
. "$(dirname "$0")/piper-lib.bash"
: "${BF_TEST_MOTO_ENDPOINT:?run under test/run-all.sh or source the s3-up env}"
W=$BF_TMP/piper_crash; rm -rf "$W"; mkdir -p "$W"
EP=$BF_TEST_MOTO_ENDPOINT; B=piper-crash-$$-$RANDOM; T="python3 $(dirname "$0")/piper-s3tool.py $EP $B"
$T mkbucket
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - id: app
        active: true
        format: ndjson
        pipeline:
          - {type: grok, config: {source_field: pad, pattern: "^%{WORD:w}$"}}
          - {type: fingerprint, config: {source_fields: [o, l], method: SHA256}}
Y
conf() { cat >"$W/p$1.yaml" <<Y
admin_listen: "127.0.0.1:$2"
tenants: "file://$W/tenants.yaml"
store: {intake: "s3://$B/intake", piper: "s3://$B/piper"}
s3: {endpoint: "$EP", region: us-east-1, path_style: true, access_key: "test:tester", secret_key: "testing"}
poll_interval: 100ms
workers: 1
lease: {mode: store, ttl: 15s}
output: {codec: gzip}
tmp_dir: "$W"
state_dir: "$W/state$1"
Y
}
conf 1 22031; conf 2 22032
LINES=400000
$T put-ndjson intake/ acme app 0 1 $LINES
"$PIPER" -c "$W/p1.yaml" 2>"$W/p1.log" & P1=$!; PIDS+=($P1)
$T wait-key intake/_leases/ 30 || fail "first piper never took the lease"
sleep 0.3
kill -9 $P1; wait $P1 2>/dev/null || true
[ "$($T count intake/acme/app/)" = 1 ] || fail "the object finished before the kill: make it bigger"
[ "$($T count piper/)" = 0 ] || fail "output written before the kill"
"$PIPER" -c "$W/p2.yaml" 2>"$W/p2.log" & PIDS+=($!)
drained() { [ "$($T count intake/acme/)" = 0 ]; }
wait_for 120 drained || { tail -5 "$W/p2.log"; fail "object not reprocessed after lease expiry"; }
m=$(curl -sf http://127.0.0.1:22032/metrics)
c=$(echo "$m" | awk '/^bytefreezer_piper_lease_contention_total /{print $2}')
[ "${c:-0}" -gt 0 ] || fail "second piper never saw the held lease"
$T verify piper/acme/app/ 1 $LINES || fail "output records"
[ "$($T count intake/_leases/)" = 0 ] || fail "leases left behind"
echo "piper_crash: ok (contention while the dead lease lived: $c)"
