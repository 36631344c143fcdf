#!/usr/bin/env bash
# Proxy HTTP input: bearer token (401), gzip and zstd bodies, 404/405, 413 over http.max_body, corrupt
# body 400; every POST answered 200 is in the receiver's intake after kill -9 of the proxy (receiver down
# meanwhile) and a restart; a corrupt spool entry is quarantined at start; the spool drains afterwards.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_http_durable; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
RP=21120; RA=21121; PA=21122; HP=21123
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-2"
    datasets:
      - {id: hook, source: {type: http, port: $HP, host: 127.0.0.1, token: "in-secret", data_format: auto}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 5s}
http: {max_body: 64KiB}
retry: {initial: 200ms, max: 1s}
Y
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $HP
U=http://127.0.0.1:$HP/webhook
A=(-H "Authorization: Bearer in-secret")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

expect_eq "$(code -X POST --data-binary 'x' "$U")" 401 "no token"
expect_eq "$(code -X POST -H 'Authorization: Bearer wrong-secret' --data-binary 'x' "$U")" 401 "wrong token"
expect_eq "$(code "${A[@]}" "$U")" 405 "GET on the input path"
expect_eq "$(code -X POST "${A[@]}" --data-binary 'x' "http://127.0.0.1:$HP/other")" 404 "other path"
head -c 70000 /dev/zero | tr '\0' 'a' >"$W/big"
expect_eq "$(code -X POST "${A[@]}" --data-binary @"$W/big" "$U")" 413 "body over http.max_body"
head -c 200000 /dev/zero | gzip -c >"$W/bomb.gz"
expect_eq "$(code -X POST "${A[@]}" -H 'Content-Encoding: gzip' --data-binary @"$W/bomb.gz" "$U")" 413 "inflated over max"
printf 'not gzip at all' >"$W/bad.gz"
expect_eq "$(code -X POST "${A[@]}" -H 'Content-Encoding: gzip' --data-binary @"$W/bad.gz" "$U")" 400 "corrupt gzip"
ok "token, path, method, size and corrupt body answers"

# accepted requests while the receiver is down: each 200 must survive kill -9
n=0
for i in $(seq 1 20); do
  body=$(printf '{"seq":%d,"id":1234567890123456789}\nplain %d' "$i" "$i")
  case $((i % 3)) in
    0) printf '%s' "$body" | gzip -c >"$W/b"; enc=(-H 'Content-Encoding: gzip') ;;
    1) printf '%s' "$body" | zstd -qc >"$W/b"; enc=() ;;   # zstd recognised by magic bytes
    2) printf '%s' "$body" >"$W/b"; enc=() ;;
  esac
  c=$(code -X POST "${A[@]}" "${enc[@]}" --data-binary @"$W/b" "$U")
  expect_eq "$c" 200 "POST $i"
  n=$((n + 2))
done
ok "20 POSTs answered 200 (receiver down)"
kill -9 "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
[ "$(find "$W/spool/acme/hook" -type f -name 'acme--*' ! -name '*.meta' | wc -l)" -ge 1 ] || die "nothing in the spool"
# a partial batch (as left by a crash in the middle of a write by another tool) must be quarantined
printf '\x28\xb5\x2f\xfd\x00\x58' >"$W/spool/acme/hook/queue/acme--hook--0000000000000000001--ndjson.zst"
px_receiver "$W" $RP $RA "$W/tenants.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
expect_eq "$(curl -s "http://127.0.0.1:$PA/api/v1/health" | jq -r .spool.quarantined)" 1 "quarantined at start"
[ -n "$(find "$W/spool/quarantine" -name 'acme--hook--0000000000000000001*' 2>/dev/null)" ] || die "not in quarantine/"
ok "corrupt spool entry quarantined at start"
px_wait_records "$W/intake" acme hook $n 30
R=$(px_records "$W/intake" acme hook)
expect_eq "$(echo "$R" | jq -r 'select(.seq) | .seq' | sort -n | paste -sd,)" "$(seq -s, 1 20)" "json records after kill -9"
expect_eq "$(echo "$R" | jq -r 'select(.message) | .message' | sed 's/plain //' | sort -n | paste -sd,)" "$(seq -s, 1 20)" "text records"
echo "$R" | grep -q '"id":1234567890123456789' || die "integer not exact"
expect_eq "$(echo "$R" | wc -l)" $n "no duplicates"
ok "all $n records acknowledged before kill -9 arrived, no duplicates"
for _ in $(seq 50); do
  [ "$(find "$W/spool/acme" -type f -name 'acme--*' | wc -l)" -eq 0 ] && break; sleep 0.1
done
expect_eq "$(find "$W/spool/acme" -type f -name 'acme--*' | wc -l)" 0 "spool empty after upload"
ok "spool drained"
