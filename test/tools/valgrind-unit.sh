#!/usr/bin/env bash
# Every unit test binary under valgrind memcheck: invalid reads/writes, uses of uninitialised values and
# definite leaks fail the run (valgrind exit code 99); a test's own failure fails it too.
#   BUILD (default build), BF_TMP (default /tmp/bf-vg; the tests' scratch goes to $BF_TMP/valgrind),
#   BF_VG_FILTER=regex selects binaries by name, BF_VG_SKIP=regex leaves some out.
# The S3 servers come from the environment (test/run-all.sh) or from /tmp/bf-s3/env (test/tools/s3-up.sh).
# BF_TEST_QUICK=1 is exported so that the few tests with big inputs (100 MiB multipart upload, 1 GiB gzip
# bomb) shrink them: everything else runs exactly as in the ordinary suite. Total about 4-5 minutes on 2 CPUs.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed (make deps)" >&2; exit 1; }
ls "$BUILD"/test/test_* >/dev/null 2>&1 || { echo "FAIL: no unit tests in $BUILD/test (run make)" >&2; exit 1; }
if [ -z "${BF_TEST_S3_ENDPOINT:-}" ]; then
  env_file=${BF_S3_ENV:-/tmp/bf-s3/env}
  [ -f "$env_file" ] || { echo "FAIL: no S3 servers: run test/tools/s3-up.sh /tmp/bf-s3" >&2; exit 1; }
  # shellcheck disable=SC1090
  . "$env_file"
fi
export BF_ROOT=${BF_ROOT:-$ROOT} BF_BUILD=$BUILD BF_BIN=${BF_BIN:-$BUILD/bin} BF_TEST_QUICK=1
export BF_TMP=${BF_TMP:-/tmp/bf-vg}/valgrind
rm -rf "$BF_TMP"; mkdir -p "$BF_TMP/logs"

# --fair-sched: tests with spinning reader threads otherwise starve the writer for a minute.
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no -q
    --fair-sched=yes --suppressions="$ROOT/test/tools/valgrind.supp")
filter=${BF_VG_FILTER:-.}
skip=${BF_VG_SKIP:-^$}
pass=0; fail=0; failed=()
t_all=$SECONDS
for t in "$BUILD"/test/test_*; do
  [ -x "$t" ] || continue
  n=$(basename "$t")
  [[ $n =~ $filter ]] || continue
  [[ $n =~ $skip ]] && { echo "SKIP $n"; continue; }
  log=$BF_TMP/logs/$n.log t0=$SECONDS
  "${VG[@]}" "$t" >"$log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1)); echo "PASS $n ($((SECONDS - t0))s)"
  else
    fail=$((fail + 1)); failed+=("$n")
    why="test failed (exit $rc)"; [ "$rc" -eq 99 ] && why="valgrind errors"
    echo "FAIL $n ($((SECONDS - t0))s): $why; log $log"
    # the valgrind report first (it is what matters), then the end of the test's own output
    grep -E '^==[0-9]+==' "$log" | head -n 80 | sed 's/^/    /'
    [ "$rc" -ne 99 ] && tail -n 20 "$log" | sed 's/^/    /'
  fi
done
echo "valgrind: $pass passed, $fail failed in $((SECONDS - t_all))s"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
