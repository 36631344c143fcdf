#!/usr/bin/env bash
# Receiver with store.intake on the file store: gzip, zstd and identity bodies with the original proxy's
# headers land under the DESIGN §6 key, byte-identical (identity stored compressed), with metadata;
# a retried batch lands on the same key; X-Proxy-Filename of another tenant falls back to "raw".
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_file_store; rm -rf "$W"; mkdir -p "$W"
trap rcv_cleanup EXIT
PORT=20010; ADMIN=20011; TOKEN="file-store-token-1"
make_tenants "$W/tenants.yaml" "$TOKEN"
cat >"$W/r.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$W/store/intake"}
intake: {codec: gzip}
Y
rcv_start "$W/r.yaml" "$W/log" $PORT
URL=http://127.0.0.1:$PORT
IN=$W/store/intake

# gzip batch, exact proxy headers
ndjson 1000 gz >"$W/b.ndjson"; gzip -c "$W/b.ndjson" >"$W/b.gz"
proxy_headers "$TOKEN" acme fw 1736938245123456789 ndjson gz gzip 1000 "$(stat -c %s "$W/b.gz")"
r=$(post "$URL/acme/fw" "$W/b.gz" "${PH[@]}")
expect_eq "${r%% *}" 200 "gzip status ($r)"
h=$(sha256sum "$W/b.gz" | cut -c1-16)
key=$(json_field "${r#* }" key)
expect_eq "$key" "acme/fw/acme--fw--1736938245123456789--ndjson--$h.gz" "gzip key"
expect_eq "$(json_field "${r#* }" lines)" 1000 "gzip lines"
cmp "$W/b.gz" "$IN/$key" || die "stored gzip object differs from the body"
meta=$(cat "$IN/acme/fw/.bfmeta.${key##*/}.json")   # the file store's metadata sidecar (bf_store_file.c)
expect_eq "$(echo "$meta" | jq -r .tenant)/$(echo "$meta" | jq -r .dataset)" acme/fw "meta tenant/dataset"
expect_eq "$(echo "$meta" | jq -r .lines)" 1000 "meta lines"
expect_eq "$(echo "$meta" | jq -r '."original-bytes"')" "$(stat -c %s "$W/b.ndjson")" "meta original-bytes"
expect_eq "$(echo "$meta" | jq -r '."proxy-batch-id"')" "acme--fw--1736938245123456789--ndjson" "meta batch id"
[ -n "$(echo "$meta" | jq -r '."receiver-instance"')" ] || die "meta receiver-instance empty"
ok "gzip batch stored at $key"

# the same batch again (a proxy retry): same key, still one object
r=$(post "$URL/acme/fw" "$W/b.gz" "${PH[@]}")
expect_eq "$(json_field "${r#* }" key)" "$key" "retried batch key"
expect_eq "$(find "$IN/acme/fw" -type f ! -name '.bfmeta.*' | wc -l)" 1 "objects after retry"
ok "retry lands on the same key"

# zstd batch
ndjson 777 zs >"$W/z.ndjson"; zstd -q -c "$W/z.ndjson" >"$W/z.zst"
proxy_headers "$TOKEN" acme fw 1736938245999999999 ndjson zst zstd 777 1
r=$(post "$URL/acme/fw" "$W/z.zst" "${PH[@]}")
expect_eq "${r%% *}" 200 "zstd status ($r)"
key=$(json_field "${r#* }" key)
expect_eq "$key" "acme/fw/acme--fw--1736938245999999999--ndjson--$(sha256sum "$W/z.zst" | cut -c1-16).zst" "zstd key"
expect_eq "$(json_field "${r#* }" lines)" 777 "zstd lines"
cmp "$W/z.zst" "$IN/$key" || die "stored zstd object differs"
ok "zstd batch stored"

# zstd without Content-Encoding: recognised by magic
r=$(post "$URL/acme/fw" "$W/z.zst" -H "Authorization: Bearer $TOKEN")
expect_eq "${r%% *}" 200 "zstd by magic ($r)"
case "$(json_field "${r#* }" key)" in acme/fw/acme--fw--*--raw--*.zst) ;; *) die "zstd by magic key: $r" ;; esac
ok "zstd detected by magic bytes"

# identity body: stored compressed with intake.codec (gzip here), content intact
ndjson 50 id >"$W/i.ndjson"
r=$(post "$URL/webhook/acme/fw" "$W/i.ndjson" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/x-ndjson")
expect_eq "${r%% *}" 200 "identity status ($r)"
key=$(json_field "${r#* }" key)
case "$key" in acme/fw/acme--fw--[0-9]*--raw--[0-9a-f]*.gz) ;; *) die "identity key $key" ;; esac
expect_eq "$(json_field "${r#* }" lines)" 50 "identity lines"
gzip -dc "$IN/$key" | cmp - "$W/i.ndjson" || die "identity body not stored as its gzip"
expect_eq "$(sha256sum "$IN/$key" | cut -c1-16)" "$(echo "${key##*--}" | cut -d. -f1)" "identity hash is of the stored bytes"
ok "identity body stored as gzip"

# filename of another tenant: not trusted, receive time and raw
proxy_headers "$TOKEN" other fw 1736938245123456789 ndjson gz gzip 1000 1
r=$(post "$URL/acme/fw" "$W/b.gz" "${PH[@]}")
case "$(json_field "${r#* }" key)" in acme/fw/acme--fw--*--raw--"$h".gz) ;; *) die "mismatched filename key: $r" ;; esac
ok "foreign X-Proxy-Filename ignored"

# metrics reflect it
m=$(curl -s "http://127.0.0.1:$ADMIN/metrics")
echo "$m" | grep -q 'bytefreezer_receiver_requests_total{tenant="acme",dataset="fw",status="200"} 6' || die "metrics: $(echo "$m" | grep requests_total)"
expect_eq "$(curl -s "http://127.0.0.1:$ADMIN/api/v1/health" | jq -r .status)" healthy "health"
rcv_stop "$RCV_PID"
ok "all file-store checks passed"
