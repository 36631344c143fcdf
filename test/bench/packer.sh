#!/usr/bin/env bash
# make bench: NDJSON -> Parquet speed per core and output size of the packer's converter next to DuckDB
# (single thread, COPY … TO … (FORMAT parquet, COMPRESSION zstd)) on the same input, then the daemon's
# peak RSS while packing a large dataset under max_memory.
#   PACKER_BENCH_MB (default 1000): input size for the speed/size comparison
#   PACKER_BENCH_MEM_MB (default 2000), PACKER_BENCH_MEM_MAX_MIB (default 1024): the memory run
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd); BIN=$ROOT/build/bench/bench_packer_convert
W=${BF_TMP:-/tmp/bf-bench}/packer; rm -rf "$W"; mkdir -p "$W/out"
MB=${PACKER_BENCH_MB:-1000}
[ -x "$BIN" ] || { echo "build/bench/bench_packer_convert missing (make all)"; exit 1; }
"$BIN" gen $((MB * 1000000)) "$W/in.ndjson" 42
SIZE=$(stat -c %s "$W/in.ndjson")
# write the input out before measuring: a gigabyte of dirty pages flushed during the runs (or what an
# earlier benchmark left) costs whoever runs then 10-25 % of its speed
sync
cat /dev/null "$W/in.ndjson" > /dev/null   # warm the page cache for both

cat > "$W/duck.mjs" <<'JS'
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const req = createRequire(process.env.NODE_PKG);
const { DuckDBInstance } = await import(pathToFileURL(req.resolve('@duckdb/node-api')).href);
const con = await (await DuckDBInstance.create(':memory:')).connect();
await con.run("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false; SET threads=1;");
const [inp, out] = process.argv.slice(2);
const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
await con.run(`COPY (SELECT * FROM read_ndjson_auto('${inp}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
const c1 = process.cpuUsage(c0); const t1 = process.hrtime.bigint();
console.log(`cpu_s=${(c1.user + c1.system) / 1e6} wall_s=${Number(t1 - t0) / 1e9}`);
JS
best_ours=""; best_duck=""
for run in 1 2; do
  O=$("$BIN" conv "$W/in.ndjson" "$W/out" zstd)
  echo "ours:   $O"
  c=$(echo "$O" | sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p'); osz=$(echo "$O" | sed -n 's/.*out_bytes=\([0-9]*\).*/\1/p')
  [ -z "$best_ours" ] || [ "$(echo "$c < $best_ours" | bc)" = 1 ] && best_ours=$c
  rm -f "$W/duck.parquet"
  D=$(NODE_PKG="$ROOT/test/node/package.json" node "$W/duck.mjs" "$W/in.ndjson" "$W/duck.parquet")
  echo "duckdb: $D"
  d=$(echo "$D" | sed -n 's/^cpu_s=\([0-9.]*\).*/\1/p')
  [ -z "$best_duck" ] || [ "$(echo "$d < $best_duck" | bc)" = 1 ] && best_duck=$d
done
dsz=$(stat -c %s "$W/duck.parquet")
ours_mbs=$(echo "scale=1; $SIZE / 1000000 / $best_ours" | bc)
duck_mbs=$(echo "scale=1; $SIZE / 1000000 / $best_duck" | bc)
echo "input $((SIZE / 1000000)) MB: ours ${ours_mbs} MB/s per core (cpu ${best_ours}s), duckdb ${duck_mbs} MB/s (cpu ${best_duck}s, node start included)"
echo "BENCH|packer NDJSON->Parquet MB/s per core ($((SIZE / 1000000)) MB)|$ours_mbs|duckdb threads=1|$duck_mbs|$(printf '%.2f' "$(echo "scale=4; $ours_mbs / $duck_mbs" | bc)")x"
echo "BENCH|packer Parquet size MB (zstd)|$(echo "scale=1; $osz / 1000000" | bc)|duckdb|$(echo "scale=1; $dsz / 1000000" | bc)|$(printf '%.3f' "$(echo "scale=4; $osz / $dsz" | bc)")x"
rm -f "$W/in.ndjson" "$W/duck.parquet" "$W"/out/*

# peak RSS of the daemon on a large dataset
export BF_ROOT=$ROOT BF_BIN=$ROOT/build/bin BF_TMP=$W
MEM_MB=${PACKER_BENCH_MEM_MB:-2000} MEM_MAX=${PACKER_BENCH_MEM_MAX_MIB:-1024}
OUT=$(PACKER_MEMORY_MB=$MEM_MB PACKER_MEMORY_MAX_MIB=$MEM_MAX bash test/integration/packer_memory.sh 2>&1 | grep -v '"level"')
echo "$OUT"
rss=$(echo "$OUT" | sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1/p')
echo "BENCH|packer peak RSS MiB (${MEM_MB} MB input)|${rss:-?}|max_memory|$MEM_MAX|$(printf '%.2f' "$(echo "scale=4; ${rss:-0} / $MEM_MAX" | bc)")x"
rm -rf "$W"
