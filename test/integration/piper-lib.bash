# Helpers for the piper integration tests (sourced). Each test gets its own directory and ports.
set -euo pipefail
: "${BF_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BF_BIN:=$BF_ROOT/build/bin}"
: "${BF_TMP:=/tmp/bf-test}"
PIPER=$BF_BIN/bytefreezer-piper
PIDS=()
cleanup_pids() {
  local rc=$?
  set +e
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  exit $rc
}
trap cleanup_pids EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# intake key name for tenant dataset n
key_name() { printf '%s--%s--%019d--raw--%016x' "$1" "$2" "$((1764237600000000000 + $3))" "$3"; }
# put_obj DIR TENANT DATASET N CODEC  (stdin = content)
put_file_obj() {
  local dir=$1 t=$2 d=$3 n=$4 codec=$5 name tmp i
  name=$(key_name "$t" "$d" "$n")
  tmp=$(mktemp "$BF_TMP/obj.XXXXXX")
  case $codec in
    zst) zstd -q -c >"$tmp" ;;
    gz) gzip -c >"$tmp" ;;
  esac
  # the file store prunes empty directories while we create them: retry
  for i in 1 2 3 4 5 6 7 8 9 10; do
    mkdir -p "$dir/$t/$d" 2>/dev/null && cp "$tmp" "$dir/$t/$d/.tmp.$name" 2>/dev/null &&
      mv "$dir/$t/$d/.tmp.$name" "$dir/$t/$d/$name.$codec" 2>/dev/null && { rm -f "$tmp"; return 0; }
    sleep 0.05
  done
  rm -f "$tmp"; return 1
}
# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}
count_files() { find "$1" -type f -name "$2" ! -name '.*' 2>/dev/null | wc -l; }
# cat every output object (zstd or gzip) under DIR
cat_outputs() {
  find "$1" -type f \( -name '*--ndjson.zst' -o -name '*--ndjson.gz' \) ! -name '.*' | sort | while read -r f; do
    case $f in *.zst) zstd -q -d -c "$f" ;; *.gz) gzip -d -c "$f" ;; esac
  done
}
