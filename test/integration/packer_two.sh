#!/usr/bin/env bash
# Two packers on the same store.piper prefix while inputs keep arriving: the dataset lease and the
# manifests make sure no record is packed twice and none is lost.
source "$(dirname "$0")/packer-lib.bash"
W=$BF_TMP/packer_two; rm -rf "$W"; mkdir -p "$W"/{piper,packer,spill1,spill2}
printf 'tenants:\n  - id: acme\n    active: true\n    token: "x"\n    datasets:\n      - id: fw\n        active: true\n      - id: dns\n        active: true\n' > "$W/tenants.yaml"
write_config "$W/p1.yaml" 23021 "$W/piper" "$W/packer" "$W/spill1" "$W/tenants.yaml" "target_bytes: 2KiB"
write_config "$W/p2.yaml" 23022 "$W/piper" "$W/packer" "$W/spill2" "$W/tenants.yaml" "target_bytes: 2KiB"
"$BF_BIN/bytefreezer-packer" -c "$W/p1.yaml" 2> "$W/p1.log" & PIDS+=($!)
"$BF_BIN/bytefreezer-packer" -c "$W/p2.yaml" 2> "$W/p2.log" & PIDS+=($!)
OBJS=60 PER=50
for ((o = 0; o < OBJS; o++)); do
  for ds in fw dns; do
    for ((i = 0; i < PER; i++)); do
      printf '{"BfTs":%d,"id":%d,"ds":"%s"}\n' $((1764237600000 + o * 1000 + i)) $((o * PER + i)) "$ds"
    done | put_piper "$W/piper" acme "$ds" $((1764237600000000000 + o)) zst
  done
  ((o % 10 == 0)) && sleep 0.1
done
wait_until 60 no_inputs "$W/piper" || fail "inputs left"
sleep 0.5
TOTAL=$((OBJS * PER))
for ds in fw dns; do
  R=$($PQ_DUCK "SELECT count(*) n, count(DISTINCT id) d FROM read_parquet('$W/packer/acme/$ds/data/parquet/**/*.parquet')")
  assert_eq "$R" "[{\"n\":\"$TOTAL\",\"d\":\"$TOTAL\"}]" "$ds: each record exactly once"
done
b1=$(grep -c '"batch packed"' "$W/p1.log" || true); b2=$(grep -c '"batch packed"' "$W/p2.log" || true)
echo "batches: packer1=$b1 packer2=$b2"
[ $((b1 + b2)) -ge 2 ] || fail "expected several batches"
assert_eq "$(count_manifests "$W/piper")" 0 "manifests left"
echo "packer_two OK"
