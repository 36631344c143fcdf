#!/usr/bin/env bash
# Our Parquet against DuckDB's own reading of the same NDJSON (read_ndjson_auto): on a generated sample of
# syslog- and flow-like records, every row and value must be equal (both directions of EXCEPT empty).
source "$(dirname "$0")/packer-lib.bash"
W=$BF_TMP/packer_duckdb_compare; rm -rf "$W"; mkdir -p "$W"/{piper,packer,spill}
"$BF_ROOT/build/bench/bench_packer_convert" gen 20000000 "$W/in.ndjson" 3
split -n l/4 -d "$W/in.ndjson" "$W/part."
i=0; for p in "$W"/part.*; do put_piper "$W/piper" acme fw $((1764237600000000000 + i)) zst < "$p"; rm "$p"; i=$((i + 1)); done
printf 'tenants:\n  - id: acme\n    active: true\n    token: "x"\n    datasets:\n      - id: fw\n        active: true\n' > "$W/tenants.yaml"
write_config "$W/packer.yaml" 23041 "$W/piper" "$W/packer" "$W/spill" "$W/tenants.yaml" "partitioning: none" "target_bytes: 1GiB" "max_wait: 1s" "row_group_bytes: 1MiB" "page_bytes: 64KiB"
"$BF_BIN/bytefreezer-packer" -c "$W/packer.yaml" 2> "$W/packer.log" & PID=$!; PIDS+=($PID)
wait_packed $PID "$W/piper" 120 "$W/packer.log"
OURS="read_parquet('$W/packer/acme/fw/data/parquet/**/*.parquet')"
COLS='"timestamp"::TIMESTAMPTZ ts, source_ip, rfc, priority, facility, severity, hostname, app_name, proc_id::VARCHAR proc_id, message, src_addr, dst_addr, src_port, dst_port, proto, bytes, packets, duration'
Q_OURS="SELECT epoch_ms(BfTs) bfts, $COLS, tcp_flags::VARCHAR tf, meta::VARCHAR meta FROM $OURS"
Q_DUCK="SELECT BfTs bfts, $COLS, to_json(tcp_flags)::VARCHAR tf, to_json(meta)::VARCHAR meta FROM read_ndjson_auto('$W/in.ndjson')"
R=$($PQ_DUCK "SELECT count(*) n FROM $OURS" "SELECT count(*) n FROM read_ndjson_auto('$W/in.ndjson')" \
  "SELECT count(*) n FROM ($Q_OURS EXCEPT ALL $Q_DUCK)" "SELECT count(*) n FROM ($Q_DUCK EXCEPT ALL $Q_OURS)" \
  "SELECT count(DISTINCT row_group_id) rg, bool_or(encodings LIKE '%RLE_DICTIONARY%') dict FROM parquet_metadata('$(list_parquet "$W/packer" | head -1)')")
mapfile -t L <<< "$R"
echo "ours: ${L[0]} duckdb: ${L[1]} ours-duck: ${L[2]} duck-ours: ${L[3]} meta: ${L[4]}"
[ "${L[0]}" = "${L[1]}" ] || fail "row counts differ"
assert_eq "${L[2]}" '[{"n":"0"}]' "rows only in ours"
assert_eq "${L[3]}" '[{"n":"0"}]' "rows only in DuckDB's reading"
echo "${L[4]}" | jq -e '.[0].rg | tonumber > 5' >/dev/null || fail "expected several row groups: ${L[4]}"
echo "packer_duckdb_compare OK"
