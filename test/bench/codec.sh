#!/usr/bin/env bash
# Codec benchmark: our streaming gzip/zstd (bf_codec) against the gzip and zstd command-line tools
# on the same ~64 MB of generated access-log NDJSON. Figures are uncompressed MB per CPU-second
# (user+sys, i.e. per core), median of 3 runs. Decompression of both sides reads the tool's output.
# Prints BENCH|<figure>|<ours>|<peer>|<peer value>|<ratio ours/peer>.
set -eu
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BF_BUILD:-$ROOT/build}/bench/bench_common_codec
[ -x "$BIN" ] || make -s -C "$ROOT" build/bench/bench_common_codec
T=${BF_TMP:-/tmp/bf-bench}/codec
mkdir -p "$T"
DATA=$T/logs.ndjson
[ -s "$DATA" ] || "$BIN" gen "$DATA" 64
SIZE=$(stat -c %s "$DATA")
MB=$(awk -v s="$SIZE" 'BEGIN{printf "%.3f", s/1e6}')
echo "input: $DATA ($MB MB)"

# cpu seconds (user+sys) of a shell command, median of 3
cpu3() {
  local i t runs=()
  for i in 1 2 3; do
    t=$( { TIMEFORMAT='%3U %3S'; time bash -c "$1" >/dev/null 2>&1; } 2>&1 | awk '{print $1+$2}')
    runs+=("$t")
  done
  printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p
}
# process start-up cost (bash -c + exec), subtracted from the tools' figures
BASE=$(cpu3 "/bin/true")
echo "start-up baseline: ${BASE}s CPU"
mbps() { awk -v mb="$1" -v s="$2" 'BEGIN{ if (s <= 0) s = 0.001; printf "%.1f", mb/s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b <= 0) print "n/a"; else printf "%.2f", a/b }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

run_case() { # codec tool level ext
  local codec=$1 tool=$2 level=$3 ext=$4
  local peer="$T/peer.$level.$ext"
  local topt=""; [ "$tool" = zstd ] && topt="-q -T1"
  local pc ours_line ours_c ours_size peer_size pd ours_d
  pc=$(cpu3 "$tool $topt -$level -c < '$DATA' > '$peer'")
  ours_line=$("$BIN" compress "$codec" "$level" "$DATA")
  ours_c=$(echo "$ours_line" | field mbps)
  ours_size=$(echo "$ours_line" | field out)
  peer_size=$(stat -c %s "$peer")
  pd=$(cpu3 "$tool $topt -d -c < '$peer' > /dev/null")
  ours_d=$("$BIN" decompress "$codec" "$peer" | field mbps)
  local peer_c peer_d
  pc=$(awk -v a="$pc" -v b="$BASE" 'BEGIN{print a-b}'); pd=$(awk -v a="$pd" -v b="$BASE" 'BEGIN{print a-b}')
  peer_c=$(mbps "$MB" "$pc"); peer_d=$(mbps "$MB" "$pd")
  echo "BENCH|$codec -$level compress MB/s per core|$ours_c|$tool -$level|$peer_c|$(ratio "$ours_c" "$peer_c")"
  echo "BENCH|$codec -$level decompress MB/s per core|$ours_d|$tool -d|$peer_d|$(ratio "$ours_d" "$peer_d")"
  echo "BENCH|$codec -$level compressed size (% of input)|$(awk -v a="$ours_size" -v s="$SIZE" 'BEGIN{printf "%.2f", 100*a/s}')|$tool -$level|$(awk -v a="$peer_size" -v s="$SIZE" 'BEGIN{printf "%.2f", 100*a/s}')|$(ratio "$ours_size" "$peer_size")"
}

run_case gzip gzip 1 gz
run_case gzip gzip 6 gz
run_case zstd zstd 1 zst
run_case zstd zstd 3 zst
