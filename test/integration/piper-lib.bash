# Helpers for the piper integration tests (sourced). Each test gets its own directory and ports.
set -euo pipefail
: "${BF_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BF_BIN:=$BF_ROOT/build/bin}"
: "${BF_TMP:=/tmp/bf-test}"
PIPER=$BF_BIN/bytefreezer-piper
PIDS=()
cleanup_pids() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; wait 2>/dev/null || true; }
trap cleanup_pids EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# intake key name for tenant dataset n
key_name() { printf '%s--%s--%019d--raw--%016x' "$1" "$2" "$((1764237600000000000 + $3))" "$3"; }
# put_obj DIR TENANT DATASET N CODEC  (stdin = content)
put_file_obj() {
  local dir=$1 t=$2 d=$3 n=$4 codec=$5 name
  name=$(key_name "$t" "$d" "$n")
  mkdir -p "$dir/$t/$d"
  case $codec in
    zst) zstd -q -c >"$dir/$t/$d/.tmp.$name" ;;
    gz) gzip -c >"$dir/$t/$d/.tmp.$name" ;;
  esac
  mv "$dir/$t/$d/.tmp.$name" "$dir/$t/$d/$name.$codec"
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
