#!/usr/bin/env bash
# Store outage against a PRIVATE Swift (started and stopped here; the shared one is never touched):
#  - ack: store answers 503 with Retry-After while the store is down, and health turns degraded;
#  - ack: spool answers 200, and once Swift is back every accepted body is in the store, byte-identical;
#  - ack: spool with a full spool answers 503 with Retry-After;
#  - kill -9 of a spool-mode receiver under load, then restart: every body that got a 200 is in the
#    store, and no body is stored twice.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_outage; rm -rf "$W"; mkdir -p "$W"
SW=$W/swift; SPORT=20090; EP=http://127.0.0.1:$SPORT
cleanup() { touch "$W/stop-load"; rcv_cleanup; swift_private_down "$SW"; }
trap cleanup EXIT
swift_private_up "$SW" $SPORT
BUCKET=rcv-outage-$$; s3_mkbucket "$EP" "$BUCKET"
TOKEN=outage-token-$RANDOM
make_tenants "$W/tenants.yaml" "$TOKEN"
export RCV_TEST_SK=$BF_TEST_S3_SK
conf() { # file port admin extra
  cat >"$1" <<Y
listen: "127.0.0.1:$2"
admin_listen: "127.0.0.1:$3"
tenants: "file://$W/tenants.yaml"
store: {intake: "s3://$BUCKET/intake"}
s3: {endpoint: "$EP", region: us-east-1, path_style: true, access_key: "$BF_TEST_S3_AK", secret_key: "env:RCV_TEST_SK", timeout: 2s, retry_deadline: 2s}
retry_after: 7s
$4
Y
}
conf "$W/a.yaml" 20030 20031 "ack: store"
conf "$W/b.yaml" 20032 20033 $'ack: spool\nspool: {dir: "'"$W"'/spool-b", retry_initial: 200ms, retry_max: 1s}'
rcv_start "$W/a.yaml" "$W/log-a" 20030; A=$RCV_PID
rcv_start "$W/b.yaml" "$W/log-b" 20032; B=$RCV_PID

# body N SEED -> $W/body-SEED.gz
body() { ndjson "$1" "$2" | gzip -c >"$W/body-$2.gz"; }
# send PORT SEED: POST with a unique proxy filename; prints "<code> <key>"
send() {
  local ns; ns=$(date +%s%N)
  proxy_headers "$TOKEN" acme fw "$ns" ndjson gz gzip 0 0
  local r; r=$(post "http://127.0.0.1:$1/acme/fw" "$W/body-$2.gz" "${PH[@]}" -D "$W/hdr-$2")
  echo "${r%% *} $(json_field "${r#* }" key 2>/dev/null)"
}
body 100 up
r=$(send 20030 up); expect_eq "${r%% *}" 200 "ack store while up"
r=$(send 20032 up); expect_eq "${r%% *}" 200 "ack spool while up"
ok "both modes accept while the store is up"

swift_proxy "$SW" $SPORT stop || die "could not stop the private swift proxy"
body 100 down
r=$(send 20030 down)
expect_eq "${r%% *}" 503 "ack store while down"
grep -qi '^Retry-After: 7' "$W/hdr-down" || die "no Retry-After 7 on 503: $(cat "$W/hdr-down")"
expect_eq "$(curl -s http://127.0.0.1:20031/api/v1/health | jq -r .status)" degraded "ack store health while down"
ok "ack store: 503 + Retry-After, degraded"

: >"$W/acked-b"
for i in $(seq 1 8); do
  body $((50 + i)) "spool$i"
  r=$(send 20032 "spool$i"); expect_eq "${r%% *}" 200 "ack spool while down #$i"
  echo "${r#* } spool$i" >>"$W/acked-b"
done
[ "$(metric 20033 bytefreezer_receiver_spool_bytes)" != 0 ] || die "spool empty while store down"
ds_bytes() { metric 20033 'bytefreezer_receiver_spool_dataset_bytes{tenant="acme",dataset="fw"}'; }
has_ds_bytes() { [ "$(ds_bytes)" != "" ] && [ "$(ds_bytes)" != 0 ]; }
wait_for 10 has_ds_bytes || die "per-dataset spool gauge not set: '$(ds_bytes)'"
ok "ack spool: 8 bodies accepted while the store is down"

# a small spool fills up: 503 with Retry-After
# (bodies here also spill to a temp file: spill.threshold 64KiB, exercising the spool copy path)
conf "$W/c.yaml" 20034 20035 $'ack: spool\nmax_body_bytes: 512KiB\nspill: {threshold: 64KiB}\nspool: {dir: "'"$W"'/spool-c", max_bytes: 1MiB}'
rcv_start "$W/c.yaml" "$W/log-c" 20034
for i in 1 2 3; do head -c 380000 /dev/urandom | base64 -w 100 | gzip -1 >"$W/body-big$i.gz"; done
expect_eq "$(send 20034 big1 | cut -d' ' -f1)" 200 "spool c first"
expect_eq "$(send 20034 big2 | cut -d' ' -f1)" 200 "spool c second"
expect_eq "$(send 20034 big3 | cut -d' ' -f1)" 503 "spool c over quota"
grep -qi '^Retry-After: 7' "$W/hdr-big3" || die "no Retry-After on spool-full 503"
mapfile -t spooled < <(find "$W/spool-c/acme/fw/queue" -name '*.gz' | sort)
for i in 1 2; do cmp "$W/body-big$i.gz" "${spooled[$((i - 1))]}" || die "spooled spilled body $i differs"; done
ok "full spool: 503 + Retry-After"

swift_proxy "$SW" $SPORT start || die "could not restart the private swift proxy"
spool_empty() { [ "$(metric 20033 bytefreezer_receiver_spool_bytes)" = 0 ]; }
wait_for 60 spool_empty || die "spool of b not drained after the store came back"
ds_zero() { [ "$(ds_bytes)" = 0 ]; }
wait_for 10 ds_zero || die "per-dataset spool gauge not back to 0: '$(ds_bytes)'"
while read -r key seed; do
  s3_get "$EP" "$BUCKET" "intake/$key" "$W/got" 
  cmp "$W/got" "$W/body-$seed.gz" || die "object $key differs from its body"
done <"$W/acked-b"
ok "every body accepted during the outage is in the store"
a_healthy() { [ "$(curl -s http://127.0.0.1:20031/api/v1/health | jq -r .status)" = healthy ]; }
wait_for 30 a_healthy || die "ack store health did not recover"
expect_eq "$(send 20030 up | cut -d' ' -f1)" 200 "ack store after recovery"
ok "ack store healthy again"

# ---- kill -9 under load in spool mode ----
swift_proxy "$SW" $SPORT stop || die "stop swift (kill test)"
loader() { # id: post unique bodies until told to stop; record acked keys with their body file
  local id=$1 n=0
  while [ ! -f "$W/stop-load" ]; do
    n=$((n + 1))
    local s="k$id-$n" ns; ns=$(date +%s%N)
    ndjson 200 "$s" | gzip -1 -c >"$W/body-$s.gz"
    local code; code=$(curl -s -o "$W/out-$s" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
      -H "Content-Encoding: gzip" -H "X-Proxy-Filename: acme--fw--$ns--ndjson.gz" \
      --data-binary @"$W/body-$s.gz" http://127.0.0.1:20032/acme/fw) || true
    [ "$code" = 200 ] && echo "$(jq -r .key "$W/out-$s") $s" >>"$W/acked-k$id"
  done
}
LOADERS=()
for id in 1 2 3 4; do : >"$W/acked-k$id"; loader $id & LOADERS+=($!); done
enough_acks() { [ "$(cat "$W"/acked-k* | wc -l)" -ge 40 ]; }
wait_for 30 enough_acks || die "load produced too few acks"
kill -9 "$B"; wait "$B" 2>/dev/null
sleep 0.5; touch "$W/stop-load"
wait "${LOADERS[@]}" 2>/dev/null
swift_proxy "$SW" $SPORT start || die "start swift (kill test)"
rcv_start "$W/b.yaml" "$W/log-b2" 20032
wait_for 90 spool_empty || die "spool not drained after restart"
cat "$W"/acked-k* >"$W/acked-kill"
n=0
while read -r key seed; do
  s3_get "$EP" "$BUCKET" "intake/$key" "$W/got"
  cmp "$W/got" "$W/body-$seed.gz" || die "object $key differs after kill -9"
  n=$((n + 1))
done <"$W/acked-kill"
# each load body (acknowledged or not) may be stored at most once
s3_keys "$EP" "$BUCKET" intake/acme/fw/ | sed 's/.*--\([0-9a-f]*\)\.gz$/\1/' | sort >"$W/stored-h"
for f in "$W"/body-k*.gz; do sha256sum "$f" | cut -c1-16; done | sort -u >"$W/load-h"
grep -Fxf "$W/load-h" "$W/stored-h" | uniq -d >"$W/dups"
[ ! -s "$W/dups" ] || die "bodies stored twice: $(cat "$W/dups")"
ok "kill -9 under load: all $n acknowledged bodies in the store, none twice"
rcv_stop "$A"
ok "all outage checks passed"
