#!/usr/bin/env bash
# Bounded memory: ~200 MB of NDJSON (20 zstd piper objects) packed by the daemon with max_memory 256MiB;
# the packer's peak RSS (VmHWM) must stay under max_memory, and every row must be in the Parquet output.
# (test/bench/packer.sh runs the same with 2 GB and max_memory 1GiB.)
source "$(dirname "$0")/packer-lib.bash"
W=$BF_TMP/packer_memory; rm -rf "$W"; mkdir -p "$W"/{piper,packer,spill}
MB=${PACKER_MEMORY_MB:-200} MAXMEM_MIB=${PACKER_MEMORY_MAX_MIB:-256}
GEN="$BF_ROOT/build/bench/bench_packer_convert"
[ -x "$GEN" ] || fail "build/bench/bench_packer_convert missing (make all)"
"$GEN" gen $((MB * 1000000)) "$W/all.ndjson" 7
ROWS=$(wc -l < "$W/all.ndjson")
split -n l/20 -d "$W/all.ndjson" "$W/part."
i=0
for p in "$W"/part.*; do put_piper "$W/piper" acme fw $((1764237600000000000 + i)) zst < "$p"; rm "$p"; i=$((i + 1)); done
rm "$W/all.ndjson"
printf 'tenants:\n  - id: acme\n    active: true\n    token: "x"\n    datasets:\n      - id: fw\n        active: true\n' > "$W/tenants.yaml"
write_config "$W/packer.yaml" 23031 "$W/piper" "$W/packer" "$W/spill" "$W/tenants.yaml" \
  "max_memory: ${MAXMEM_MIB}MiB" "target_bytes: 10GiB" "partitioning: none" "max_wait: 1s"
"$BF_BIN/bytefreezer-packer" -c "$W/packer.yaml" 2> "$W/packer.log" &
PID=$!; PIDS+=($PID)
wait_packed $PID "$W/piper" 600 "$W/packer.log"
HWM_KB=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
kill $PID; wait $PID || true
echo "input: ${MB} MB NDJSON, $ROWS rows; max_memory ${MAXMEM_MIB} MiB; packer peak RSS $((HWM_KB / 1024)) MiB"
[ "$HWM_KB" -lt $((MAXMEM_MIB * 1024)) ] || fail "peak RSS $((HWM_KB / 1024)) MiB over max_memory"
grep -q '"batch packed"' "$W/packer.log" || fail "no batch"
R=$($PQ_DUCK "SELECT count(*) n FROM read_parquet('$W/packer/acme/fw/data/parquet/**/*.parquet')")
assert_eq "$R" "[{\"n\":\"$ROWS\"}]" "rows"
echo "packer_memory OK"
