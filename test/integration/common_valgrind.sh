#!/usr/bin/env bash
# Every unit test binary under valgrind memcheck (invalid accesses, uninitialised values, definite
# leaks); see test/tools/valgrind-unit.sh. An ASan build cannot run under valgrind: there it is skipped,
# since the same tests already ran with the sanitizers.
set -u
build=${BF_BUILD:-${BF_ROOT:?}/build}
if nm "$build"/test/test_common_buf 2>/dev/null | grep -q __asan_init; then
  echo "skipped: $build is an ASan build"; exit 0
fi
BUILD=$build exec bash "${BF_ROOT:?}/test/tools/valgrind-unit.sh"
