#!/usr/bin/env bash
# Receiver against the real Swift S3 (SigV4): gzip/zstd/identity batches with the original proxy's headers
# land in the intake prefix under the DESIGN key, byte-identical, with metadata; then every rejection
# (410, 401 incl. a 3-character token, 400 dataset, 413 by Content-Length / chunked / inflation, 400
# corrupt gzip and truncated zstd) answers its status and leaves no object behind.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
: "${BF_TEST_S3_ENDPOINT:?run under test/run-all.sh or source the s3-up env}"
W=$BF_TMP/receiver_s3; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
PORT=20020; ADMIN=20021; PORT2=20022; ADMIN2=20023; TOKEN=s3-token-$RANDOM
EP=$BF_TEST_S3_ENDPOINT; BUCKET=rcv-s3-$$-$RANDOM
s3_mkbucket "$EP" "$BUCKET"
make_tenants "$W/tenants.yaml" "$TOKEN"
conf() { # file port admin extra-yaml
  cat >"$1" <<Y
listen: "127.0.0.1:$2"
admin_listen: "127.0.0.1:$3"
tenants: "file://$W/tenants.yaml"
store: {intake: "s3://$BUCKET/intake"}
s3: {endpoint: "$EP", region: us-east-1, path_style: true, access_key: "$BF_TEST_S3_AK", secret_key: "env:RCV_TEST_SK"}
max_body_bytes: 2MiB
$4
Y
}
export RCV_TEST_SK=$BF_TEST_S3_SK
conf "$W/r.yaml" $PORT $ADMIN $'max_inflated_bytes: 1GiB\nspill: {threshold: 256KiB, dir: "'"$W"'/spill"}'
mkdir -p "$W/spill"
rcv_start "$W/r.yaml" "$W/log" $PORT
URL=http://127.0.0.1:$PORT

# ---- accepted bodies ----
ndjson 2000 s3 >"$W/b.ndjson"; gzip -c "$W/b.ndjson" >"$W/b.gz"
proxy_headers "$TOKEN" acme fw 1736938245123456789 ndjson gz gzip 2000 "$(stat -c %s "$W/b.gz")"
r=$(post "$URL/acme/fw" "$W/b.gz" "${PH[@]}")
expect_eq "${r%% *}" 200 "gzip ($r)"
key=$(json_field "${r#* }" key)
expect_eq "$key" "acme/fw/acme--fw--1736938245123456789--ndjson--$(sha256sum "$W/b.gz" | cut -c1-16).gz" "gzip key"
s3_get "$EP" "$BUCKET" "intake/$key" "$W/got.gz"
cmp "$W/b.gz" "$W/got.gz" || die "S3 object differs from the gzip body"
expect_eq "$(s3_meta "$EP" "$BUCKET" "intake/$key" lines)" 2000 "meta lines"
expect_eq "$(s3_meta "$EP" "$BUCKET" "intake/$key" tenant)" acme "meta tenant"
expect_eq "$(s3_meta "$EP" "$BUCKET" "intake/$key" dataset)" fw "meta dataset"
expect_eq "$(s3_meta "$EP" "$BUCKET" "intake/$key" original-bytes)" "$(stat -c %s "$W/b.ndjson")" "meta original-bytes"
expect_eq "$(s3_meta "$EP" "$BUCKET" "intake/$key" proxy-batch-id)" "acme--fw--1736938245123456789--ndjson" "meta batch id"
[ -n "$(s3_meta "$EP" "$BUCKET" "intake/$key" receiver-instance)" ] || die "meta receiver-instance"
ok "gzip batch in S3 with metadata"

zstd -q -c "$W/b.ndjson" >"$W/b.zst"
proxy_headers "$TOKEN" acme fw 1736938245123456790 ndjson zst zstd 2000 1
r=$(post "$URL/acme/fw" "$W/b.zst" "${PH[@]}")
expect_eq "${r%% *}" 200 "zstd ($r)"
key=$(json_field "${r#* }" key)
s3_get "$EP" "$BUCKET" "intake/$key" "$W/got.zst"
cmp "$W/b.zst" "$W/got.zst" || die "S3 zstd object differs"
ok "zstd batch in S3"

r=$(post "$URL/acme/fw" "$W/b.ndjson" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "identity ($r)"
key=$(json_field "${r#* }" key)
case "$key" in *--raw--*.zst) ;; *) die "identity key $key (default intake.codec is zstd)" ;; esac
s3_get "$EP" "$BUCKET" "intake/$key" "$W/got-id.zst"
zstd -q -dc "$W/got-id.zst" | cmp - "$W/b.ndjson" || die "identity not stored as zstd of the body"
expect_eq "$(json_field "${r#* }" lines)" 2000 "identity lines"
ok "identity body stored as zstd"
# a body over spill.threshold goes through a temp file (and a streaming PUT from it)
head -c 1100000 /dev/urandom | base64 -w 76 | gzip -1 >"$W/spill.gz"
r=$(post "$URL/acme/fw" "$W/spill.gz" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "spilled body ($r)"
key=$(json_field "${r#* }" key)
s3_get "$EP" "$BUCKET" "intake/$key" "$W/got-spill.gz"
cmp "$W/spill.gz" "$W/got-spill.gz" || die "spilled body differs in S3"
expect_eq "$(find "$W/spill" -type f | wc -l)" 0 "temp files left in spill.dir"
ok "spilled body stored, temp file removed"
n_ok=$(s3_keys "$EP" "$BUCKET" intake/ | wc -l)
expect_eq "$n_ok" 4 "objects after the accepted bodies"

# ---- rejections: status and nothing stored ----
expect_status() { # want label file curl-args...
  local want=$1 label=$2 file=$3; shift 3
  local r; r=$(post "$URL/acme/fw" "$file" "$@")
  expect_eq "${r%% *}" "$want" "$label ($r)"
  ok "$label -> $want"
}
r=$(post "$URL/nobody/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN"); expect_eq "${r%% *}" 410 "unknown tenant"
r=$(post "$URL/gone/fw" "$W/b.gz" -H "Authorization: Bearer gone-token"); expect_eq "${r%% *}" 410 "inactive tenant"
ok "410 unknown and inactive tenant"
expect_status 401 "missing token" "$W/b.gz"
expect_status 401 "wrong token" "$W/b.gz" -H "Authorization: Bearer wrong-$TOKEN"
expect_status 401 "3-character token" "$W/b.gz" -H "Authorization: Bearer abc"
expect_status 401 "not a bearer header" "$W/b.gz" -H "Authorization: Basic $TOKEN"
grep -q 'abc' "$W/log" && die "token characters appear in the log"
r=$(post "$URL/acme/nothere" "$W/b.gz" -H "Authorization: Bearer $TOKEN"); expect_eq "${r%% *}" 400 "unknown dataset"
r=$(post "$URL/acme/off" "$W/b.gz" -H "Authorization: Bearer $TOKEN"); expect_eq "${r%% *}" 400 "inactive dataset"
ok "400 unknown and inactive dataset"

head -c 3145728 /dev/urandom >"$W/big.bin"
expect_status 413 "Content-Length over max_body_bytes" "$W/big.bin" -H "Authorization: Bearer $TOKEN"
expect_status 413 "chunked body over max_body_bytes" "$W/big.bin" -H "Authorization: Bearer $TOKEN" -H "Transfer-Encoding: chunked"

# a 1 MiB gzip that inflates to 1 GiB: 16 members of 64 MiB of zeros each
head -c 67108864 /dev/zero | gzip -9 >"$W/m.gz"
for _ in $(seq 16); do cat "$W/m.gz"; done >"$W/bomb.gz"
expect_status 413 "gzip bomb (ratio)" "$W/bomb.gz" -H "Authorization: Bearer $TOKEN" -H "Content-Encoding: gzip"

cp "$W/b.gz" "$W/corrupt.gz"
printf 'XXXXXXXXXXXXXXXX' | dd of="$W/corrupt.gz" bs=1 seek=200 conv=notrunc status=none
expect_status 400 "corrupt gzip" "$W/corrupt.gz" -H "Authorization: Bearer $TOKEN" -H "Content-Encoding: gzip"
head -c $(( $(stat -c %s "$W/b.zst") / 2 )) "$W/b.zst" >"$W/trunc.zst"
expect_status 400 "truncated zstd" "$W/trunc.zst" -H "Authorization: Bearer $TOKEN" -H "Content-Encoding: zstd"
head -c 10 "$W/b.gz" >"$W/trunc.gz"
expect_status 400 "truncated gzip header" "$W/trunc.gz" -H "Authorization: Bearer $TOKEN"
: >"$W/empty"
expect_status 400 "empty body" "$W/empty" -H "Authorization: Bearer $TOKEN"
expect_status 400 "unsupported Content-Encoding" "$W/b.gz" -H "Authorization: Bearer $TOKEN" -H "Content-Encoding: br"

# size limit separately from the ratio: a second receiver with a huge ratio allowance and 256 MiB cap
conf "$W/r2.yaml" $PORT2 $ADMIN2 $'max_inflated_bytes: 256MiB\nmax_inflate_ratio: 1000000'
rcv_start "$W/r2.yaml" "$W/log2" $PORT2
r=$(post "http://127.0.0.1:$PORT2/acme/fw" "$W/bomb.gz" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 413 "inflated size over max_inflated_bytes ($r)"
ok "413 on inflated size"

expect_eq "$(s3_keys "$EP" "$BUCKET" intake/ | wc -l)" "$n_ok" "objects after the rejections"
ok "no object left behind by any rejection"

# the receiver is still fine after all that
r=$(post "$URL/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "accepted after rejections"
m=$(curl -s "http://127.0.0.1:$ADMIN/metrics")
echo "$m" | grep -q 'bytefreezer_receiver_requests_total{tenant="acme",dataset="fw",status="413"} 3' || die "413 metric: $(echo "$m" | grep requests_total)"
expect_eq "$(find "$W/spill" -type f | wc -l)" 0 "temp files left in spill.dir after rejections"

# an unreachable store at start is not fatal (the original exited): the receiver starts and answers 503
sed -e "s#$EP#http://127.0.0.1:20029#" -e "s/$PORT2/20024/" -e "s/$ADMIN2/20025/" "$W/r2.yaml" >"$W/r3.yaml"
BYTEFREEZER_RECEIVER__S3__RETRY_DEADLINE=1s BYTEFREEZER_RECEIVER__S3__TIMEOUT=1s rcv_start "$W/r3.yaml" "$W/log3" 20024
r=$(post "http://127.0.0.1:20024/acme/fw" "$W/b.gz" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 503 "unreachable store ($r)"
ok "starts with the store unreachable, answers 503"
"$RCV_BIN" -c "$W/r.yaml" --healthcheck || die "--healthcheck failed on a healthy receiver"
rcv_stop "$RCV_PID"
ok "all S3 checks passed"
