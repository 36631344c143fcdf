#!/usr/bin/env bash
# make bench: runs every test/bench/*.sh. Each prints result lines of the form
#   BENCH|<figure>|<our value>|<peer>|<peer value>|<ratio>
# which are collected into one table at the end (also written to build/bench/results.md).
set -u
cd "$(dirname "$0")/../.."
export BF_ROOT=$(pwd) BF_BUILD=$(pwd)/build BF_BIN=$(pwd)/build/bin BF_TMP=${BF_TMP:-/tmp/bf-bench}
mkdir -p "$BF_TMP" build/bench
sh test/tools/s3-up.sh "$BF_TMP/s3" >/dev/null && . "$BF_TMP/s3/env"
out=build/bench/results.md; : >"$BF_TMP/lines"
for s in test/bench/*.sh; do
  [ "$(basename "$s")" = run-bench.sh ] && continue
  echo "== $s"
  sync   # what the previous benchmark wrote must not be flushed during this one's measurements
  bash "$s" 2>&1 | tee -a "$BF_TMP/all.log" | tee /dev/stderr | grep '^BENCH|' >>"$BF_TMP/lines"
done
{
  echo "| figure | ours | peer | peer's figure | ratio |"
  echo "|---|---|---|---|---|"
  while IFS='|' read -r _ fig ours peer pv ratio; do echo "| $fig | $ours | $peer | $pv | $ratio |"; done <"$BF_TMP/lines"
} >"$out"
echo; cat "$out"
