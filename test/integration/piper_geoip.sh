#!/usr/bin/env bash
# GeoIP: test databases built here (test/tools/make-test-mmdb.pl), synced from a store URI
# (geoip.uri), looked up by the geoip filter (city, country code, ASN; unknown → tag), then a newer
# database is published while objects keep flowing: it is swapped in without a restart, every record
# carries a consistent answer from one of the two databases, and later objects see the new one.
. "$(dirname "$0")/piper-lib.bash"
W=$BF_TMP/piper_geoip; rm -rf "$W"; mkdir -p "$W/geo" "$W/build"
IN=$W/store/intake; OUT=$W/store/piper; mkdir -p "$IN" "$OUT"
PORT=22041
(cd "$W/build" && perl "$BF_ROOT/test/tools/make-test-mmdb.pl" && mv test.mmdb v1.mmdb)
sed -e "s/'Loopback'/'Loopback2'/" -e "s/64512/64999/" "$BF_ROOT/test/tools/make-test-mmdb.pl" >"$W/build/v2.pl"
(cd "$W/build" && perl v2.pl && mv test.mmdb v2.mmdb)
[[ "$(mmdblookup --file "$W/build/v2.mmdb" --ip 127.0.0.1 city)" == *Loopback2* ]] || fail "v2 db"
cp "$W/build/v1.mmdb" "$W/geo/GeoLite2-City.mmdb"; touch -d '2025-01-01' "$W/geo/GeoLite2-City.mmdb"
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - id: net
        active: true
        format: ndjson
        pipeline:
          - {type: geoip, config: {source_field: "client.ip", target_field: geo, fields: [city, country_code, asn]}}
Y
cat >"$W/piper.yaml" <<Y
admin_listen: "127.0.0.1:$PORT"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$IN", piper: "file://$OUT"}
poll_interval: 100ms
workers: 2
geoip: {uri: "file://$W/geo", dir: "$W/geodata", sync_interval: 1s}
tmp_dir: "$W"
state_dir: "$W/state"
Y
"$PIPER" -c "$W/piper.yaml" 2>"$W/piper.log" & PIDS+=($!)
wait_for 15 curl -sf "http://127.0.0.1:$PORT/api/v1/health" -o /dev/null || { cat "$W/piper.log"; fail "health"; }
printf '{"client":{"ip":"127.0.0.1"}}\n{"client":{"ip":"192.0.2.5"}}\n{"client":{"ip":"10.0.0.1"}}\n{"client":{"ip":"not-an-ip"}}\n' | put_file_obj "$IN" acme net 1 zst
wait_for 15 test -f "$OUT/acme/net/$(key_name acme net 1)--ndjson.zst" || { cat "$W/piper.log"; fail "output 1"; }
O=$(zstd -q -d -c "$OUT/acme/net/$(key_name acme net 1)--ndjson.zst")
echo "$O" | sed -n 1p | jq -e '.geo == {"city":"Loopback","country_code":"ZZ","asn":64512}' >/dev/null || fail "loopback: $O"
echo "$O" | sed -n 2p | jq -e '.geo == {"city":"TestNet","country_code":"XA","asn":64513}' >/dev/null || fail "testnet"
echo "$O" | sed -n 3p | jq -e '.tags == ["_geoip_lookup_failure"] and (.geo == null)' >/dev/null || fail "unknown ip"
echo "$O" | sed -n 4p | jq -e '(.tags == null) and (.geo == null)' >/dev/null || fail "invalid ip"
# keep objects flowing while a newer database is published
( for n in $(seq 10 69); do
    for k in $(seq 1 50); do echo '{"client":{"ip":"127.0.0.1"}}'; done | put_file_obj "$IN" acme net "$n" zst
    sleep 0.05
  done ) & FEED=$!
sleep 0.5
cp "$W/build/v2.mmdb" "$W/geo/GeoLite2-City.mmdb.new"; mv "$W/geo/GeoLite2-City.mmdb.new" "$W/geo/GeoLite2-City.mmdb"
wait $FEED
gen2() { local m; m=$(curl -sf "http://127.0.0.1:$PORT/metrics") || return 1; grep -q '^bytefreezer_piper_geoip_generation 2' <<<"$m"; }
wait_for 20 gen2 || fail "database not swapped"
printf '{"client":{"ip":"127.0.0.1"}}\n' | put_file_obj "$IN" acme net 99 zst
wait_for 15 test -f "$OUT/acme/net/$(key_name acme net 99)--ndjson.zst" || fail "output after swap"
zstd -q -d -c "$OUT/acme/net/$(key_name acme net 99)--ndjson.zst" | jq -e '.geo == {"city":"Loopback2","country_code":"ZZ","asn":64999}' >/dev/null || fail "new db not used"
drained() { [ -z "$(find "$IN/acme" -type f ! -name '.*' 2>/dev/null)" ]; }
wait_for 30 drained || fail "intake not drained"
# every record during the swap came from exactly one database generation
cat_outputs "$OUT/acme/net" | jq -c 'select(.client.ip == "127.0.0.1") | .geo' | sort | uniq -c >"$W/answers"
cat "$W/answers"
grep -v -e '{"city":"Loopback","country_code":"ZZ","asn":64512}' -e '{"city":"Loopback2","country_code":"ZZ","asn":64999}' "$W/answers" && fail "inconsistent answers"
[ "$(awk '{s+=$1} END {print s}' "$W/answers")" -eq $((60 * 50 + 2)) ] || fail "record count"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || fail "exit"; PIDS=()
echo "piper_geoip: ok"
