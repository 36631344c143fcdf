#!/usr/bin/env bash
# The whole test suite (make test): unit tests, integration tests against real S3 servers on loopback,
# short fuzz runs, infra checks and the end-to-end tests. Prints "N passed, N failed" at the end.
#   BF_FUZZ_SECONDS (default 8) per fuzz target; BF_TEST_FILTER=regex runs only matching tests.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
export BF_ROOT=$ROOT BF_BUILD=$ROOT/$BUILD BF_BIN=$ROOT/$BUILD/bin
export BF_TMP=${BF_TMP:-/tmp/bf-test}
rm -rf "$BF_TMP"; mkdir -p "$BF_TMP"
pass=0; fail=0; failed=()
filter=${BF_TEST_FILTER:-.}

run() { # name, command...
  local name=$1; shift
  [[ $name =~ $filter ]] || return 0
  local log="$BF_TMP/log.$(echo "$name" | tr '/ ' '__')"
  local t0=$SECONDS
  if timeout "${BF_TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1; then
    pass=$((pass+1)); echo "PASS $name ($((SECONDS-t0))s)"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($((SECONDS-t0))s)"; tail -n 40 "$log" | sed 's/^/    /'
  fi
}

sh test/tools/s3-up.sh "$BF_TMP/s3" || { echo "could not start S3 servers"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC1091
. "$BF_TMP/s3/env"
trap 'sh test/tools/s3-down.sh "$BF_TMP/s3"' EXIT

for t in "$BUILD"/test/test_*; do [ -x "$t" ] && run "unit/$(basename "$t")" "$t"; done
for t in test/integration/*.sh; do [ -f "$t" ] && run "integration/$(basename "$t" .sh)" bash "$t"; done
for t in test/infra/*.sh; do [ -f "$t" ] && run "infra/$(basename "$t" .sh)" bash "$t"; done
for f in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  n=$(basename "$f"); corpus="$BF_TMP/corpus/$n"; mkdir -p "$corpus"
  [ -d "test/fuzz/corpus/$n" ] && cp -r "test/fuzz/corpus/$n/." "$corpus/"
  run "fuzz/$n" "$f" -max_total_time="${BF_FUZZ_SECONDS:-8}" -rss_limit_mb=2048 -timeout=10 "$corpus"
done
for t in test/e2e/*.sh; do [ -f "$t" ] && run "e2e/$(basename "$t" .sh)" bash "$t"; done
run "faults/run" bash test/faults/run.sh

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
