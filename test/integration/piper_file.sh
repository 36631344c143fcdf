#!/usr/bin/env bash
# piper on the file store: every format path of a real daemon, the fast path, grok + date_parse,
# pipeline test API, pipeline change picked up on SIGHUP without restart, and a poison object that
# lands in _dlq/ after max_attempts while the others keep flowing.
. "$(dirname "$0")/piper-lib.bash"
W=$BF_TMP/piper_file; rm -rf "$W"; mkdir -p "$W"
IN=$W/store/intake; OUT=$W/store/piper; mkdir -p "$IN" "$OUT"
PORT=22011
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - id: app
        active: true
        format: ndjson
        pipeline: []
      - id: fw
        active: true
        format: syslog
        pipeline:
          - type: grok
            config: {source_field: message, pattern: "%{WORD:action} src=%{IP:src_ip} bytes=%{NUMBER:bytes:int}"}
          - type: mutate
            config: {uppercase: [action]}
      - id: web
        active: true
        format: combined
        pipeline:
          - type: date_parse
            config: {source_field: timestamp, target_field: event_time, format: "02/Jan/2006:15:04:05 -0700"}
Y
cat >"$W/piper.yaml" <<Y
admin_listen: "127.0.0.1:$PORT"
tenants: "file://$W/tenants.yaml"
tenants_poll: 500ms
store: {intake: "file://$IN", piper: "file://$OUT"}
poll_interval: 200ms
workers: 2
lease: {mode: store, ttl: 10s}
max_attempts: 3
tmp_dir: "$W"
state_dir: "$W/state"
Y
"$PIPER" -c "$W/piper.yaml" --check-config >/dev/null || fail "check-config"
printf '{"a":1,"big":9223372036854775807}\n{"BfTs":5}\nnot json\n' | put_file_obj "$IN" acme app 1 zst
printf '<13>Feb  5 17:32:18 fw01 kernel: allow src=10.0.0.1 bytes=512\n<13>Feb  5 17:32:19 fw01 kernel: garbage\n' | put_file_obj "$IN" acme fw 2 gz
printf '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.1" 200 12 "-" "curl/8"\n' | put_file_obj "$IN" acme web 3 zst
# poison: zstd magic then garbage
mkdir -p "$IN/acme/app"; printf '\x28\xb5\x2f\xfdbroken-frame-data' >"$IN/acme/app/$(key_name acme app 4).zst"

"$PIPER" -c "$W/piper.yaml" 2>"$W/piper.log" & PIDS+=($!)
wait_for 15 curl -sf "http://127.0.0.1:$PORT/api/v1/health" -o /dev/null || { cat "$W/piper.log"; fail "health"; }
three_out() { [ "$(count_files "$OUT" '*--ndjson.zst')" -ge 3 ]; }
wait_for 20 three_out || { cat "$W/piper.log"; fail "outputs"; }
wait_for 20 test -f "$IN/_dlq/acme/app/$(key_name acme app 4).zst.error.json" || { cat "$W/piper.log"; fail "poison not in DLQ"; }
jq -e '.attempts == 3 and (.last_error|test("corrupt"))' "$IN/_dlq/acme/app/$(key_name acme app 4).zst.error.json" >/dev/null || fail "error record"
test ! -e "$IN/acme/app/$(key_name acme app 4).zst" || fail "poison still in intake"
test -z "$(find "$IN/acme" -type f 2>/dev/null)" || fail "intake not drained: $(find "$IN/acme" -type f)"

A=$(zstd -q -d -c "$OUT/acme/app/$(key_name acme app 1)--ndjson.zst")
[ "$(echo "$A" | sed -n 1p)" = '{"BfTs":1764237600000,"a":1,"big":9223372036854775807}' ] || fail "fast path line 1: $A"
[ "$(echo "$A" | sed -n 2p)" = '{"BfTs":5}' ] || fail "fast path line 2"
echo "$A" | sed -n 3p | jq -e '.message == "not json" and .tags == ["_jsonparsefailure"]' >/dev/null || fail "fallback"
F=$(zstd -q -d -c "$OUT/acme/fw/$(key_name acme fw 2)--ndjson.zst")
echo "$F" | sed -n 1p | jq -e '.action == "ALLOW" and .src_ip == "10.0.0.1" and .bytes == 512 and .hostname == "fw01" and .rfc == "3164"' >/dev/null || fail "syslog+grok: $F"
echo "$F" | sed -n 2p | jq -e '.tags == ["_grokparsefailure"]' >/dev/null || fail "grok failure tag"
zstd -q -d -c "$OUT/acme/web/$(key_name acme web 3)--ndjson.zst" | jq -e '.status == 200 and .event_time == "2000-10-10T20:55:36Z" and .agent == "curl/8"' >/dev/null || fail "combined"

# pipeline test API
R=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/pipeline/test" -d '{"format":"kv","pipeline":[{"type":"mutate","config":{"convert":{"n":"integer"}}},{"type":"drop","config":{"if_field":"n","equals":"0"}}],"lines":["n=5 x=a","n=0"]}')
echo "$R" | jq -e '.records|length == 1' >/dev/null || fail "test api records: $R"
echo "$R" | jq -e '.records[0].n == 5 and .stats.dropped == 1 and (.trace[1][1].outcome == "dropped")' >/dev/null || fail "test api: $R"
curl -s -X POST "http://127.0.0.1:$PORT/api/v1/pipeline/test" -d '{"pipeline":[{"type":"nope"}],"lines":["{}"]}' | jq -e '.error|test("unknown filter")' >/dev/null || fail "test api error"
curl -sf "http://127.0.0.1:$PORT/api/v1/pipelines" | jq -e '.pipelines|length == 3' >/dev/null || fail "pipelines list"

# pipeline change, picked up on SIGHUP without restart
sed -i 's/pipeline: \[\]/pipeline: [{type: add_field, config: {field: v, value: two}}]/' "$W/tenants.yaml"
kill -HUP "${PIDS[0]}"
sleep 0.5
printf '{"a":2}\n' | put_file_obj "$IN" acme app 5 zst
wait_for 15 test -f "$OUT/acme/app/$(key_name acme app 5)--ndjson.zst" || fail "after reload"
zstd -q -d -c "$OUT/acme/app/$(key_name acme app 5)--ndjson.zst" | jq -e '.v == "two"' >/dev/null || fail "new pipeline not applied"

M=$(curl -sf "http://127.0.0.1:$PORT/metrics")
grep -qF 'bytefreezer_piper_records_in_total{tenant="acme",dataset="app"} 4' <<<"$M" || fail "metrics records_in: $(echo "$M" | grep records_in)"
grep -qF 'bytefreezer_piper_dlq_total 1' <<<"$M" || fail "metrics dlq"
grep -qF 'bytefreezer_piper_filter_records_in_total{tenant="acme",dataset="fw",filter="grok",index="0"} 2' <<<"$M" || fail "per-filter metrics"
grep -qF 'bytefreezer_piper_lag_seconds{tenant="acme",dataset="app"}' <<<"$M" || fail "lag metric"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || fail "exit code on SIGTERM"
PIDS=()
echo "piper_file: ok"
