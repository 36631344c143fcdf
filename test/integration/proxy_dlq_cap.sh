#!/usr/bin/env bash
# dlq.max_bytes: with every upload refused (410), batches pile up in the DLQ; above the cap the oldest
# entries are evicted first, each eviction counted (bytefreezer_proxy_dlq_evicted_total) and logged,
# and the DLQ stays within the cap. The newest batches are the ones kept.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_dlq_cap; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
SP=21240; PA=21241; TP=21242
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-7"
    datasets:
      - {id: gone, source: {type: tcp, port: $TP, host: 127.0.0.1, data_format: ndjson}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$SP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
dlq: {max_bytes: 20KiB}
batch: {max_records: 100, max_age: 10s, level: 1}
Y
px_stub "$W" $SP
curl -s -X POST "http://127.0.0.1:$SP/_script" -d "{\"statuses\": [$(printf '410,%.0s' $(seq 40))410]}" >/dev/null
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $TP
# 30 batches of 100 incompressible-ish records (~4 KiB compressed each): far over the 20 KiB cap
python3 - $TP <<'P'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"".join(b'{"seq":%d,"r":"%s"}\n' % (i, os.urandom(16).hex().encode()) for i in range(3000)))
s.close()
P
for _ in $(seq 200); do [ "$(px_metric $PA 'bytefreezer_proxy_dlq_moves_total')" -ge 30 ] && break; sleep 0.1; done
expect_eq "$(px_metric $PA 'bytefreezer_proxy_dlq_moves_total')" 30 "batches moved to the DLQ"
dl=$(curl -s "http://127.0.0.1:$PA/api/v1/dlq")
[ "$(echo "$dl" | jq -r .bytes)" -le 20480 ] || die "DLQ over its cap: $(echo "$dl" | jq -c '{count, bytes}')"
kept=$(echo "$dl" | jq -r .count)
ev=$(px_metric $PA 'bytefreezer_proxy_dlq_evicted_total')
[ "$ev" -ge 1 ] || die "no eviction counted"
expect_eq "$((kept + ev))" 30 "kept + evicted"
expect_eq "$(grep -c 'evicted oldest entry' "$W/proxy.log")" "$ev" "evictions logged"
# the survivors are the newest: their records are the highest sequence numbers
first_kept=$(for f in "$W"/spool/acme/gone/dlq/*.zst; do zstd -qdc "$f"; done | jq -r .seq | sort -n | head -1)
expect_eq "$first_kept" "$(( (30 - kept) * 100 ))" "oldest surviving record"
ok "DLQ capped at 20 KiB: $kept batches kept, $ev oldest evicted (counted and logged)"
