#!/usr/bin/env bash
# Store benchmark: PUT and LIST of 1 KiB objects, file store and Swift s3api.
# Peers: file store vs a `cp` + `sync FILE` loop (both make each object durable);
#        Swift vs one curl process uploading the same objects with --aws-sigv4 over keep-alive.
# Prints BENCH|<figure>|<ours>|<peer>|<peer value>|<ratio> lines (ratio = ours / peer, higher is better).
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${BF_BUILD:-build}/bench/bench_common_store
[ -x "$BIN" ] || make -s "$BIN" >/dev/null || exit 1
T=${BF_TMP:-/tmp/bf-bench}/store-bench.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
N_FILE=${BF_BENCH_STORE_N_FILE:-2000}
N_S3=${BF_BENCH_STORE_N_S3:-1000}

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

head -c 1024 /dev/urandom >"$T/obj"

# ---- file store ----
out=$("$BIN" "file://$T/ours" "$N_FILE" 1024 1) || { echo "bench_common_store (file) failed"; exit 1; }
put=$(echo "$out" | field put_ops_per_s); list=$(echo "$out" | field list_keys_per_s)
mkdir -p "$T/peer"
t0=$(now)
for i in $(seq 1 "$N_FILE"); do cp "$T/obj" "$T/peer/obj-$i" && sync "$T/peer/obj-$i"; done
t1=$(now)
peer=$(rate "$N_FILE" "$t0" "$t1")
echo "BENCH|store file put 1KiB (ops/s, durable)|$put|cp+sync loop|$peer|$(ratio "$put" "$peer")"
t0=$(now); n=$(find "$T/peer" -type f | sort | wc -l); t1=$(now)
peer=$(rate "$n" "$t0" "$t1")
echo "BENCH|store file list (keys/s)|$list|find+sort|$peer|$(ratio "$list" "$peer")"

# ---- Swift s3api ----
if [ -z "${BF_TEST_S3_ENDPOINT:-}" ]; then
  echo "BF_TEST_S3_ENDPOINT not set: Swift figures skipped"; exit 0
fi
bucket=bf-bench-$$-$(date +%s)
out=$("$BIN" "s3://$bucket/ours" "$N_S3" 1024 1) || { echo "bench_common_store (s3) failed"; exit 1; }
put=$(echo "$out" | field put_ops_per_s); list=$(echo "$out" | field list_keys_per_s)
out8=$("$BIN" "s3://$bucket-p/ours" "$N_S3" 1024 8) || { echo "bench_common_store (s3, 8 threads) failed"; exit 1; }
put8=$(echo "$out8" | field put_ops_per_s)
# peer: one curl process, one keep-alive connection, same objects
for i in $(seq 1 "$N_S3"); do
  printf 'url = "%s/%s/peer/obj-%06d"\nupload-file = "%s"\noutput = "/dev/null"\n' "$BF_TEST_S3_ENDPOINT" "$bucket" "$i" "$T/obj"
done >"$T/curl.cfg"
# the access key contains ':' which --user would split on; netrc keeps login and password apart
host=$(echo "$BF_TEST_S3_ENDPOINT" | sed 's#^[a-z]*://##; s#[:/].*##')
printf 'machine %s login %s password %s\n' "$host" "$BF_TEST_S3_AK" "$BF_TEST_S3_SK" >"$T/netrc"
t0=$(now)
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --netrc-file "$T/netrc" \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -K "$T/curl.cfg" || { echo "curl peer failed"; exit 1; }
t1=$(now)
peer=$(rate "$N_S3" "$t0" "$t1")
echo "BENCH|store s3(Swift) put 1KiB, 1 thread (ops/s)|$put|curl --aws-sigv4 keep-alive|$peer|$(ratio "$put" "$peer")"
echo "BENCH|store s3(Swift) put 1KiB, 8 threads (ops/s)|$put8|curl --aws-sigv4 keep-alive|$peer|$(ratio "$put8" "$peer")"
echo "BENCH|store s3(Swift) list (keys/s)|$list|-|-|-"
