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

# write_config FILE PORT PIPER PACKER SPILL TENANTS [extra "key: value" lines, overriding the defaults…]
write_config() {
  local f=$1 port=$2 piper=$3 packer=$4 spill=$5 tenants=$6; shift 6
  local defaults=("poll_interval: 100ms" "max_wait: 0s" "log_level: info") l k skip
  {
    echo "admin_listen: \"127.0.0.1:$port\""
    echo "tenants: \"file://$tenants\""
    echo "state_dir: \"$(dirname "$f")/state\""
    echo "store: {piper: \"file://$piper\", packer: \"file://$packer\"}"
    echo "spill_dir: \"$spill\""
    for l in "${defaults[@]}"; do
      k=${l%%:*}; skip=0
      for e in "$@"; do [ "${e%%:*}" = "$k" ] && skip=1; done
      [ $skip = 1 ] || echo "$l"
    done
    for l in "$@"; do echo "$l"; done
  } > "$f"
}

# wait_packed PID PIPER_DIR SECONDS LOG: until no input is left; fails at once if the daemon died
wait_packed() {
  local pid=$1 dir=$2 t=$3 log=$4 end=$((SECONDS + $3))
  until no_inputs "$dir"; do
    kill -0 "$pid" 2>/dev/null || { tail -5 "$log" >&2; fail "packer $pid exited"; }
    [ $SECONDS -lt $end ] || { tail -5 "$log" >&2; fail "inputs not packed within ${t}s"; }
    sleep 0.2
  done
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

# ---- S3 (Swift s3api, SigV4) through curl; the access key contains ':' so it goes through a netrc file ----
pk_netrc() {
  [ -f "$BF_TMP/.pk-netrc" ] || printf 'machine 127.0.0.1 login %s password %s\n' "$BF_TEST_S3_AK" "$BF_TEST_S3_SK" > "$BF_TMP/.pk-netrc"
  echo "$BF_TMP/.pk-netrc"
}
pk_s3curl() { curl -s --aws-sigv4 "aws:amz:${BF_TEST_S3_REGION:-us-east-1}:s3" --netrc-file "$(pk_netrc)" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
pk_s3_mkbucket() { # ENDPOINT BUCKET (retried: a fresh Swift answers 503 for a while)
  local c i=0
  until c=$(pk_s3curl -o /dev/null -w '%{http_code}' -X PUT "$1/$2"); [ "$c" = 200 ]; do
    i=$((i + 1)); [ $i -lt 60 ] || fail "create bucket $2: HTTP $c"; sleep 0.5
  done
}
pk_s3_put() { local c; c=$(pk_s3curl -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$4" "$1/$2/$3"); [ "$c" = 200 ] || fail "PUT $3: HTTP $c"; }
pk_s3_keys() { pk_s3curl "$1/$2?list-type=2&max-keys=1000&prefix=$(printf %s "$3" | jq -sRr @uri)" | grep -o '<Key>[^<]*</Key>' | sed 's/<Key>//;s/<\/Key>//' || true; }
# curl signs the path as given: '=' (hive partitions) must be sent as %3D to match S3's canonical URI
pk_s3_path() { printf %s "$1" | sed 's/=/%3D/g'; }
pk_s3_get() { local c; c=$(pk_s3curl -o "$4" -w '%{http_code}' "$1/$2/$(pk_s3_path "$3")"); [ "$c" = 200 ] || fail "GET $3: HTTP $c"; }
pk_s3_meta() { pk_s3curl -I "$1/$2/$(pk_s3_path "$3")" | tr -d '\r' | awk -v h="x-amz-meta-$4:" 'tolower($1)==h {print $2}'; }
