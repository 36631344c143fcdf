#!/usr/bin/env bash
# packer end to end on the file store: piper objects (zstd, gzip, plain) -> Parquet read back by DuckDB and
# hyparquet with equal values (big integers exact, unicode, empty vs null, nested JSON, timestamps),
# hive partitions from event time (day and hour layouts), statistics and encodings in parquet_metadata(),
# per-dataset codec, inputs/manifests/leases cleaned up, health and metrics, --inspect.
source "$(dirname "$0")/packer-lib.bash"
W=$BF_TMP/packer_basic; rm -rf "$W"; mkdir -p "$W"/{piper,packer,spill,archive}
cat > "$W/tenants.yaml" <<YAML
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - id: fw
        active: true
      - id: bad
        active: true
      - id: app
        active: true
        output: {uri: "file://$W/archive", partitioning: hive_hour, compression: gzip, time_field: ts}
YAML
write_config "$W/packer.yaml" 23001 "$W/piper" "$W/packer" "$W/spill" "$W/tenants.yaml"

put_piper "$W/piper" acme fw 1764237600000000000 zst <<'J'
{"BfTs":1764237600000,"msg":"hello","n":4611686018427387905,"big":9223372036854775807,"u":"héllo ✓ 𝄞","e":"","nested":{"a":[1,2,{"b":null}]},"arr":[1,"x"],"ok":true,"ts":"2025-11-27T10:00:00.123Z"}
{"BfTs":1764237601000,"msg":null,"n":2,"d":1.5}
{"msg":"no bfts"}
J
printf '{"BfTs":1764324000000,"msg":"next day","late":"x"}\ngarbage {\n' | put_piper "$W/piper" acme fw 1764237700000000000 gz
# a corrupt input must not block its dataset: quarantined as stored, the other input packed
printf '\x28\xb5\x2f\xfdgarbage-not-a-zstd-frame' > "$W/corrupt.bin"
put_piper "$W/piper" acme bad 1764237600000000000 none < "$W/corrupt.bin"
mv "$W/piper/acme/bad/acme--bad--1764237600000000000--test--187bd4bff7634000--ndjson" "$W/piper/acme/bad/acme--bad--1764237600000000000--test--187bd4bff7634000--ndjson.zst"
# ... and a field name holding \u0000 (U+FFFD in the column name) must not shadow the real "g"
printf '{"BfTs":1764237600000,"good":1,"g\\u0000x":7,"g":8}\n' | put_piper "$W/piper" acme bad 1764237600000000001 zst
printf '{"ts":"2025-11-27T10:59:59Z","v":1}\n{"ts":"2025-11-27T11:00:00Z","v":2}' | put_piper "$W/piper" acme app 1764237600000000000 none

"$BF_BIN/bytefreezer-packer" -c "$W/packer.yaml" 2> "$W/packer.log" &
PIDS+=($!)
wait_until 30 no_inputs "$W/piper" || { cat "$W/packer.log"; fail "inputs were not packed"; }
wait_until 10 curl -fsS -o /dev/null http://127.0.0.1:23001/api/v1/health || fail "health"
curl -fsS http://127.0.0.1:23001/api/v1/health | grep -q '"healthy"' || fail "health status"
METRICS=$(curl -fsS http://127.0.0.1:23001/metrics)
echo "$METRICS" | grep -q 'bytefreezer_packer_rows_total{tenant="acme",dataset="fw"} 5' || { echo "$METRICS" | grep packer; fail "rows metric"; }
echo "$METRICS" | grep -q 'bytefreezer_packer_invalid_lines_total{tenant="acme",dataset="fw"} 1' || fail "invalid-lines metric"
assert_eq "$(count_manifests "$W/piper")" 0 "manifests left"
assert_eq "$(find "$W/piper/_leases" -type f 2>/dev/null | grep -v '/\.' | wc -l)" 0 "leases left"

FW="$W/packer/acme/fw/data/parquet"
mapfile -t FILES < <(list_parquet "$FW")
assert_eq "${#FILES[@]}" 2 "fw files (two days)"
for f in "${FILES[@]}"; do
  [[ $f =~ /year=2025/month=11/day=2[78]/acme_fw_[0-9]{8}_[0-9]{6}_00[01]_[0-9a-f]{12}\.parquet$ ]] || fail "bad key $f"
done
G="$FW/**/*.parquet"
R=$($PQ_DUCK \
  "SELECT count(*) n FROM read_parquet('$G', hive_partitioning=true)" \
  "SELECT DISTINCT year, month, day FROM read_parquet('$G', hive_partitioning=true) ORDER BY ALL" \
  "SELECT n::VARCHAR n, big::VARCHAR big, u, e, ok, json_extract(nested, '\$.a[1]')::INT a1, typeof(nested) tn, typeof(BfTs) tb, BfTs::VARCHAR bt, ts::VARCHAR ts, arr::VARCHAR arr FROM read_parquet('$G', union_by_name=true) WHERE msg = 'hello'" \
  "SELECT count(e) ce, count(*) FILTER (WHERE e IS NULL) ne, count(msg) cm, count(d) cd FROM read_parquet('$G', union_by_name=true)" \
  "SELECT BfTs::VARCHAR bt FROM read_parquet('$G', union_by_name=true) WHERE msg = 'no bfts'" \
  "SELECT _unparsed FROM read_parquet('$G', union_by_name=true) WHERE _unparsed IS NOT NULL" \
  "SELECT path_in_schema p, stats_min_value mn, stats_max_value mx, stats_null_count nc, encodings enc, compression c FROM parquet_metadata('${FILES[0]}') WHERE path_in_schema IN ('n','msg','BfTs') ORDER BY p")
mapfile -t L <<< "$R"
assert_eq "${L[0]}" '[{"n":"5"}]' "row count"
assert_eq "${L[1]}" '[{"year":"2025","month":"11","day":"27"},{"year":"2025","month":"11","day":"28"}]' "hive partitions"
assert_eq "${L[2]}" '[{"n":"4611686018427387905","big":"9223372036854775807","u":"héllo ✓ 𝄞","e":"","ok":true,"a1":2,"tn":"JSON","tb":"TIMESTAMP WITH TIME ZONE","bt":"2025-11-27 10:00:00+00","ts":"2025-11-27 10:00:00.123+00","arr":"[1,\"x\"]"}]' "values"
assert_eq "${L[3]}" '[{"ce":"1","ne":"4","cm":"3","cd":"1"}]' "nulls vs empty"
assert_eq "${L[4]}" '[{"bt":"2025-11-27 10:00:00+00"}]' "BfTs injected from the key time"
assert_eq "${L[5]}" '[{"_unparsed":"garbage {"}]' "invalid line kept"
echo "${L[6]}" | jq -e 'length == 3 and (.[] | select(.p=="n") | .mn=="2" and .mx=="4611686018427387905" and .nc=="2" and .c=="ZSTD")' >/dev/null || fail "n stats: ${L[6]}"
echo "${L[6]}" | jq -e '.[] | select(.p=="msg") | (.enc | contains("RLE_DICTIONARY")) and .mn=="hello" and .nc=="2"' >/dev/null || fail "msg stats: ${L[6]}"

# hyparquet: same rows and values
HY=$($PQ_HYP "${FILES[@]}")
assert_eq "$(echo "$HY" | jq -s 'map(.num_rows) | add')" 5 "hyparquet rows"
assert_eq "$(echo "$HY" | jq -r -s '[.[].rows[] | select(.msg=="hello")][0] | [.n, .big, .u, .e, (.nested|tojson), .BfTs] | join("|")')" \
  '4611686018427387905|9223372036854775807|héllo ✓ 𝄞||{"a":[1,2,{"b":null}]}|2025-11-27T10:00:00.000Z' "hyparquet values"

# the corrupt input is in _dlq/packer byte for byte, its neighbour was packed
cmp "$W/corrupt.bin" "$W/piper/_dlq/packer/acme/bad/acme--bad--1764237600000000000--test--187bd4bff7634000--ndjson.zst" || fail "quarantined copy"
assert_eq "$($PQ_DUCK "SELECT good, g, \"g�x\" gx FROM read_parquet('$W/packer/acme/bad/data/parquet/**/*.parquet')")" \
  '[{"good":"1","g":"8","gx":"7"}]' "good input next to a corrupt one; a NUL in a field name"
echo "$METRICS" | grep -q 'bytefreezer_packer_corrupt_inputs_total{tenant="acme",dataset="bad"} 1' || fail "corrupt metric"

# dataset with its own output: hive_hour by time_field ts, gzip
mapfile -t APP < <(list_parquet "$W/archive/acme/app/data/parquet")
assert_eq "${#APP[@]}" 2 "app files (two hours)"
R=$($PQ_DUCK "SELECT hour, v, compression FROM read_parquet('$W/archive/acme/app/data/parquet/**/*.parquet', hive_partitioning=true) JOIN (SELECT DISTINCT file_name, compression FROM parquet_metadata('$W/archive/acme/app/data/parquet/**/*.parquet')) m ON true WHERE m.file_name = filename ORDER BY v" 2>/dev/null || $PQ_DUCK "SELECT hour, v FROM read_parquet('$W/archive/acme/app/data/parquet/**/*.parquet', hive_partitioning=true) ORDER BY v")
echo "$R" | jq -e '.[0].hour == "10" and .[1].hour == "11"' >/dev/null || fail "app hours: $R"
assert_eq "$($PQ_DUCK "SELECT DISTINCT compression c FROM parquet_metadata('${APP[0]}')")" '[{"c":"GZIP"}]' "per-dataset codec"

# --inspect
"$BF_BIN/bytefreezer-packer" --inspect "${FILES[0]}" > "$W/inspect.txt" || fail "--inspect"
grep -q '^rows: 4$' "$W/inspect.txt" || { cat "$W/inspect.txt"; fail "inspect rows"; }
grep -q 'RLE_DICTIONARY' "$W/inspect.txt" || fail "inspect encodings"
grep -q '"n":4611686018427387905' "$W/inspect.txt" || fail "inspect first rows"
# configuration errors are reported, not ignored
"$BF_BIN/bytefreezer-packer" --check-config -c "$W/packer.yaml" > "$W/check.txt" 2>&1 || fail "valid config rejected"
grep -q 'target_bytes' "$W/check.txt" || fail "--check-config prints the effective config"
for bad in "compression: lz4" "partitioning: weekly" "target_bytes: lots" "no_such_key: 1"; do
  write_config "$W/bad.yaml" 23002 "$W/piper" "$W/packer" "$W/spill" "$W/tenants.yaml" "$bad"
  if "$BF_BIN/bytefreezer-packer" --check-config -c "$W/bad.yaml" > "$W/bad.txt" 2>&1; then fail "accepted: $bad"; fi
  grep -qi 'error' "$W/bad.txt" || fail "no error text for: $bad"
done
echo "packer_basic OK"
