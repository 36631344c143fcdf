#!/usr/bin/env bash
# Crash safety: the packer is killed (BF_PACKER_CRASH_AT makes it _exit(137), as kill -9 would) after the
# manifest, mid-upload, after the upload and mid-deletes; a restart must leave every input record in
# Parquet exactly once, nothing left in store.piper, and the same output names (a replay overwrites).
source "$(dirname "$0")/packer-lib.bash"
W=$BF_TMP/packer_crash; rm -rf "$W"; mkdir -p "$W"
N_PER=400
gen() { # gen START COUNT: records over two days (two partitions -> two output files)
  local s=$1 n=$2 i
  for ((i = s; i < s + n; i++)); do
    printf '{"BfTs":%d,"id":%d,"msg":"record %d"}\n' $((1764237600000 + (i % 2) * 86400000 + i)) "$i" "$i"
  done
}
step_n=0
for step in after_manifest mid_upload after_upload mid_delete; do
  step_n=$((step_n + 1))
  D=$W/$step; mkdir -p "$D"/{piper,packer,spill}
  printf 'tenants:\n  - id: acme\n    active: true\n    token: "x"\n    datasets:\n      - id: fw\n        active: true\n' > "$D/tenants.yaml"
  write_config "$D/packer.yaml" $((23010 + step_n)) "$D/piper" "$D/packer" "$D/spill" "$D/tenants.yaml" "lease: {ttl: 2s}"
  for o in 0 1 2; do gen $((o * N_PER)) $N_PER | put_piper "$D/piper" acme fw $((1764237600000000000 + o)) zst; done
  TOTAL=$((3 * N_PER))

  BF_PACKER_CRASH_AT=$step "$BF_BIN/bytefreezer-packer" -c "$D/packer.yaml" 2> "$D/crash.log" &
  pid=$!
  set +e; wait $pid; rc=$?; set -e
  assert_eq "$rc" 137 "$step: crash exit status"
  grep -q "\"step\":\"$step\"" "$D/crash.log" || fail "$step: crash point not reached"
  before=$(list_parquet "$D/packer" | xargs -r -n1 basename | sort | tr '\n' ' ')

  "$BF_BIN/bytefreezer-packer" -c "$D/packer.yaml" 2> "$D/restart.log" &
  PIDS+=($!)
  wait_until 30 no_inputs "$D/piper" || { cat "$D/restart.log"; fail "$step: not finished after restart"; }
  wait_until 10 test ! -d "$D/piper/_manifests/packer/acme/fw" -o -z "$(ls -A "$D/piper/_manifests/packer/acme/fw" 2>/dev/null)" || true
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" || true
  assert_eq "$(count_manifests "$D/piper")" 0 "$step: manifests left"
  after=$(list_parquet "$D/packer" | xargs -r -n1 basename | sort | tr '\n' ' ')
  assert_eq "$(list_parquet "$D/packer" | wc -l)" 2 "$step: output files"
  # outputs written before the crash were overwritten under the same names, not duplicated
  for b in $before; do [[ " $after " == *" $b "* ]] || fail "$step: output $b was not replaced in place"; done
  R=$($PQ_DUCK "SELECT count(*) n, count(DISTINCT id) d, min(id) lo, max(id) hi FROM read_parquet('$D/packer/acme/fw/data/parquet/**/*.parquet')")
  assert_eq "$R" "[{\"n\":\"$TOTAL\",\"d\":\"$TOTAL\",\"lo\":\"0\",\"hi\":\"$((TOTAL - 1))\"}]" "$step: exactly once"
  echo "crash at $step: OK ($R)"
done
echo "packer_crash OK"
