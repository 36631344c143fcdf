# Helpers sourced by test/integration/packer_*.sh (not a test itself: run-all.sh runs *.sh only).
set -euo pipefail
: "${BF_ROOT:?}" "${BF_BIN:?}" "${BF_TMP:?}"
PQ_DUCK="node $BF_ROOT/test/tools/pq-duckdb.mjs"
PQ_HYP="node $BF_ROOT/test/tools/pq-hyparquet.mjs"
PIDS=()
cleanup_pids() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup_pids EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2] got [$1]"; }

# put_piper DIR TENANT DATASET NAME_NS CODEC(zst|gz|none) <<< ndjson   -> writes a piper-style object
put_piper() {
  local dir=$1 t=$2 d=$3 ns=$4 codec=$5 name stage ext=""
  name="$t--$d--$ns--test--$(printf '%016x' "$ns")--ndjson"
  stage=$(mktemp "$BF_TMP/.stage.XXXXXX")   # outside the store: readers never see a partial object
  case $codec in
    zst) zstd -q -c > "$stage"; ext=.zst ;;
    gz) gzip -c > "$stage"; ext=.gz ;;
    *) cat > "$stage" ;;
  esac
  # the file store removes emptied directories; retry when the packer deletes ours in between
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    mkdir -p "$dir/$t/$d" && mv "$stage" "$dir/$t/$d/$name$ext" 2>/dev/null && return 0
  done
  fail "put_piper: cannot place $name"
}

# write_config FILE PORT PIPER PACKER SPILL TENANTS [extra yaml lines…]
write_config() {
  local f=$1 port=$2 piper=$3 packer=$4 spill=$5 tenants=$6; shift 6
  {
    echo "admin_listen: \"127.0.0.1:$port\""
    echo "tenants: \"file://$tenants\""
    echo "state_dir: \"$(dirname "$f")/state\""
    echo "store: {piper: \"file://$piper\", packer: \"file://$packer\"}"
    echo "spill_dir: \"$spill\""
    echo "poll_interval: 100ms"
    echo "max_wait: 0s"
    echo "log_level: info"
    for l in "$@"; do echo "$l"; done
  } > "$f"
}

# count_inputs PIPER_DIR: piper objects still waiting (leases/manifests excluded)
count_inputs() { find "$1" -path "$1/_*" -prune -o -type f -name '*ndjson*' -print 2>/dev/null | { grep -v '/\.' || true; } | wc -l; }
count_manifests() { find "$1/_manifests" -type f -name '*.json' 2>/dev/null | { grep -v '/\.' || true; } | wc -l; }
no_inputs() { [ "$(count_inputs "$1")" = 0 ]; }
list_parquet() { find "$1" -type f -name '*.parquet' | { grep -v '/\.' || true; } | sort; }

# wait_until SECONDS CMD…
wait_until() {
  local t=$1; shift
  local end=$((SECONDS + t))
  until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}
