#!/usr/bin/env bash
# The packer on S3 (Swift s3api checks SigV4): piper objects in s3://B/piper, Parquet to s3://B/packer with
# a large output uploaded by multipart, object metadata (row count, event-time range), inputs and
# manifests removed; the downloaded files are read by DuckDB with the hive glob.
source "$(dirname "$0")/packer-lib.bash"
: "${BF_TEST_S3_ENDPOINT:?run under test/run-all.sh (S3 servers)}"
W=$BF_TMP/packer_s3; rm -rf "$W"; mkdir -p "$W"/{spill,dl,gen}
EP=$BF_TEST_S3_ENDPOINT; B=pk-s3-$$-$RANDOM
pk_s3_mkbucket "$EP" "$B"
"$BF_ROOT/build/bench/bench_packer_convert" gen 40000000 "$W/gen/all.ndjson" 5
ROWS=$(wc -l < "$W/gen/all.ndjson")
split -n l/3 -d "$W/gen/all.ndjson" "$W/gen/part."
i=0
for p in "$W"/gen/part.*; do
  zstd -q -c "$p" > "$p.zst"
  pk_s3_put "$EP" "$B" "piper/acme/fw/acme--fw--$((1764237600000000000 + i))--t--$i--ndjson.zst" "$p.zst"
  i=$((i + 1))
done
printf '{"BfTs":1764237600000,"k":"small"}\n' | gzip -c > "$W/gen/small.gz"
pk_s3_put "$EP" "$B" "piper/acme/dns/acme--dns--1764237600000000000--t--0--ndjson.gz" "$W/gen/small.gz"
cat > "$W/tenants.yaml" <<YAML
tenants:
  - id: acme
    active: true
    token: "x"
    datasets:
      - id: fw
        active: true
        output: {compression: none, partitioning: hive_hour}
      - id: dns
        active: true
YAML
export PK_TEST_SK=$BF_TEST_S3_SK
cat > "$W/packer.yaml" <<YAML
admin_listen: "127.0.0.1:23051"
tenants: "file://$W/tenants.yaml"
state_dir: "$W/state"
s3: {endpoint: "$EP", region: us-east-1, path_style: true, access_key: "$BF_TEST_S3_AK", secret_key: "env:PK_TEST_SK", multipart_threshold: 5MiB, part_size: 5MiB}
store: {piper: "s3://$B/piper", packer: "s3://$B/packer"}
spill_dir: "$W/spill"
poll_interval: 200ms
max_wait: 0s
lease: {ttl: 30s}
YAML
"$BF_BIN/bytefreezer-packer" -c "$W/packer.yaml" 2> "$W/packer.log" & PID=$!; PIDS+=($PID)
s3_inputs_left() { [ -z "$(pk_s3_keys "$EP" "$B" piper/acme/ | grep ndjson || true)" ]; }
end=$((SECONDS + 120))
until s3_inputs_left; do
  kill -0 $PID 2>/dev/null || { tail "$W/packer.log"; fail "packer exited"; }
  [ $SECONDS -lt $end ] || { tail "$W/packer.log"; fail "S3 inputs not packed"; }
  sleep 0.5
done
sleep 0.5
assert_eq "$(pk_s3_keys "$EP" "$B" piper/_manifests/ | wc -l)" 0 "manifests left"
mapfile -t KEYS < <(pk_s3_keys "$EP" "$B" packer/acme/ | grep '\.parquet$')
[ ${#KEYS[@]} -ge 2 ] || fail "expected parquet objects, got: ${KEYS[*]}"
big=0
for k in "${KEYS[@]}"; do
  [[ $k =~ ^packer/acme/(fw|dns)/data/parquet/year=[0-9]{4}/month=[0-9]{2}/day=[0-9]{2}(/hour=[0-9]{2})?/acme_(fw|dns)_[0-9]{8}_[0-9]{6}_[0-9]{3}_[0-9a-f]{12}\.parquet$ ]] || fail "bad key $k"
  mkdir -p "$W/dl/$(dirname "$k")"; pk_s3_get "$EP" "$B" "$k" "$W/dl/$k"
  sz=$(stat -c %s "$W/dl/$k"); [ "$sz" -gt 5242880 ] && big=1
  rc=$(pk_s3_meta "$EP" "$B" "$k" row-count); [ -n "$rc" ] || fail "no row-count metadata on $k"
done
[ $big = 1 ] || fail "no output above the multipart threshold"
grep -q '"parquet written"' "$W/packer.log" || fail "log"
R=$($PQ_DUCK "SELECT count(*) n FROM read_parquet('$W/dl/packer/acme/fw/data/parquet/**/*.parquet', hive_partitioning=true)" \
             "SELECT k FROM read_parquet('$W/dl/packer/acme/dns/data/parquet/**/*.parquet', hive_partitioning=true)" \
             "SELECT DISTINCT compression c FROM parquet_metadata('$W/dl/packer/acme/fw/data/parquet/**/*.parquet')")
mapfile -t L <<< "$R"
assert_eq "${L[0]}" "[{\"n\":\"$ROWS\"}]" "fw rows"
assert_eq "${L[1]}" '[{"k":"small"}]' "dns row"
assert_eq "${L[2]}" '[{"c":"UNCOMPRESSED"}]' "fw codec"
echo "packer_s3 OK (${#KEYS[@]} objects, $ROWS rows)"
