#!/usr/bin/env bash
# Two pipers on one S3 intake (moto: conditional writes for the leases) with 500 objects: every object
# processed exactly once (sum of both pipers' done counters == 500, every record present once), the
# intake drained, and lease contention visible in the metrics.
. "$(dirname "$0")/piper-lib.bash"
: "${BF_TEST_MOTO_ENDPOINT:?run under test/run-all.sh or source the s3-up env}"
W=$BF_TMP/piper_two; rm -rf "$W"; mkdir -p "$W"
EP=$BF_TEST_MOTO_ENDPOINT; B=piper-two-$$-$RANDOM; T="python3 $(dirname "$0")/piper-s3tool.py $EP $B"
$T mkbucket
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - {id: app, active: true, format: ndjson, pipeline: [{type: add_field, config: {field: p, value: "1"}}]}
Y
conf() { cat >"$W/p$1.yaml" <<Y
admin_listen: "127.0.0.1:$2"
tenants: "file://$W/tenants.yaml"
store: {intake: "s3://$B/intake", piper: "s3://$B/piper"}
s3: {endpoint: "$EP", region: us-east-1, path_style: true, access_key: "test:tester", secret_key: "testing"}
poll_interval: 100ms
workers: 3
lease: {mode: store, ttl: 30s}
output: {codec: gzip}
tmp_dir: "$W"
state_dir: "$W/state$1"
Y
}
conf 1 22021; conf 2 22022
$T put-ndjson intake/ acme app 0 500 10
"$PIPER" -c "$W/p1.yaml" 2>"$W/p1.log" & PIDS+=($!)
"$PIPER" -c "$W/p2.yaml" 2>"$W/p2.log" & PIDS+=($!)
drained() { [ "$($T count intake/acme/)" = 0 ]; }
wait_for 240 drained || { tail -5 "$W/p1.log" "$W/p2.log"; fail "intake not drained: $($T count intake/acme/) left"; }
m1=$(curl -sf http://127.0.0.1:22021/metrics); m2=$(curl -sf http://127.0.0.1:22022/metrics)
d1=$(echo "$m1" | awk '/^bytefreezer_piper_objects_done_total /{print $2}'); d2=$(echo "$m2" | awk '/^bytefreezer_piper_objects_done_total /{print $2}')
c1=$(echo "$m1" | awk '/^bytefreezer_piper_lease_contention_total /{print $2}'); c2=$(echo "$m2" | awk '/^bytefreezer_piper_lease_contention_total /{print $2}')
echo "piper1 done=$d1 contention=$c1; piper2 done=$d2 contention=$c2"
[ $((d1 + d2)) -eq 500 ] || fail "objects processed $((d1 + d2)) times, want exactly 500"
[ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] || fail "one piper did nothing"
[ $((c1 + c2)) -gt 0 ] || fail "no lease contention recorded"
$T verify piper/acme/app/ 500 10 || fail "outputs"
[ "$($T count intake/_leases/)" = 0 ] || fail "leases left behind"
kill -TERM "${PIDS[@]}"; wait || true; PIDS=()
echo "piper_two: ok"
