#!/usr/bin/env bash
# Proxy forwarder against the scriptable receiver stub: 500 and 429 (Retry-After) are retried with
# backoff, 413 splits the batch (recursively, until the halves fit), 410 moves the batch to the DLQ,
# GET /api/v1/dlq lists it and POST /api/v1/dlq/replay sends it again. Batch order per dataset holds
# throughout (records carry a sequence number; stored objects sorted by name must be in order).
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_retry_dlq; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
SP=21140; PA=21141; TP=21142
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-3"
    datasets:
      - {id: applog, source: {type: tcp, port: $TP, host: 127.0.0.1, data_format: ndjson}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$SP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 300ms, codec: gzip}
retry: {initial: 100ms, max: 2s}
Y
px_stub "$W" $SP
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $TP
STORE=$W/stub
script() { curl -s -X POST "http://127.0.0.1:$SP/_script" -d "$1" >/dev/null; }
send() { # first last: records {"seq":N,"pad":"<random hex>"} over one TCP connection
  python3 - "$1" "$2" "$TP" <<'P'
import os, socket, sys
a, b, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(b'{"seq":%d,"pad":"%s"}\n' % (i, os.urandom(24).hex().encode()) for i in range(a, b + 1)))
s.close()
P
}
in_order() { # all seq values in stored-object order must be strictly increasing
  px_records "$STORE" acme applog | jq -r .seq | awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad }'
}

# 1. 500 then 429 with Retry-After: retried, then accepted
script '{"statuses": [500, [429, 1]]}'
send 1 50
px_wait_records "$STORE" acme applog 50 30
expect_eq "$(px_metric $PA 'bytefreezer_proxy_upload_retries_total')" 2 "retries counted"
grep -q '"reason":"HTTP 429' "$W/proxy.log" || die "429 retry not logged"
ok "500 and 429 retried, then delivered"

# 2. 413 for everything above 2000 bytes: the batch is split until every part fits
script '{"statuses": [], "max_body": 2000}'
send 51 400
px_wait_records "$STORE" acme applog 400 60
[ "$(px_metric $PA 'bytefreezer_proxy_splits_total')" -ge 3 ] || die "expected several splits"
for f in "$STORE"/acme/applog/*.gz; do [ "$(stat -c %s "$f")" -le 2000 ] || die "stored part over 2000 bytes: $f"; done
in_order || die "order broken after splits"
ok "413 split into $(px_metric $PA 'bytefreezer_proxy_splits_total') splits, all parts fit, order kept"

# 3. 410: the batch goes to the DLQ; the next batches still flow
script '{"statuses": [410], "max_body": 0}'
send 401 420
for _ in $(seq 100); do [ "$(px_metric $PA 'bytefreezer_proxy_dlq_moves_total')" -ge 1 ] && break; sleep 0.1; done
send 421 440
px_wait_records "$STORE" acme applog 420 30
dl=$(curl -s "http://127.0.0.1:$PA/api/v1/dlq")
expect_eq "$(echo "$dl" | jq -r .count)" 1 "dlq entries"
echo "$dl" | jq -e '.entries[0].meta.failure_reason | startswith("HTTP 410")' >/dev/null || die "dlq reason: $dl"
expect_eq "$(echo "$dl" | jq -r '.entries[0].meta.line_count')" 20 "dlq entry line count"
expect_eq "$(px_metric $PA 'bytefreezer_proxy_dlq_moves_total')" 1 "dlq moves"
ok "410 -> DLQ ($(echo "$dl" | jq -r '.entries[0].name'))"

# 4. replay: the DLQ entry is sent again and the DLQ is empty
r=$(curl -s -X POST "http://127.0.0.1:$PA/api/v1/dlq/replay" -d '{"tenant":"acme","dataset":"applog"}')
expect_eq "$(echo "$r" | jq -r .replayed)" 1 "replayed"
px_wait_records "$STORE" acme applog 440 30
expect_eq "$(curl -s "http://127.0.0.1:$PA/api/v1/dlq" | jq -r .count)" 0 "dlq after replay"
expect_eq "$(px_records "$STORE" acme applog | jq -r .seq | sort -n | uniq | wc -l)" 440 "distinct records"
ok "DLQ replay re-sent the batch"

# the stub saw the contract headers
h=$(ls "$STORE"/acme/applog/*.headers | head -1)
jq -e '."Content-Encoding" == "gzip" and ."Content-Type" == "application/octet-stream"
  and (."Authorization" == "Bearer acme-token-3") and (."X-Proxy-Data-Hint" == "ndjson")
  and (."X-Proxy-Batch-ID" + ".gz" == ."X-Proxy-Filename") and (."X-Proxy-Created-At" | test("Z$"))
  and ((."X-Proxy-Line-Count" | tonumber) > 0) and ((."X-Proxy-Original-Bytes" | tonumber) > 0)' "$h" >/dev/null ||
  die "headers: $(cat "$h")"
f=${h%.headers}
expect_eq "$(gzip -dc "$f" | wc -l)" "$(jq -r '."X-Proxy-Line-Count"' "$h")" "X-Proxy-Line-Count"
expect_eq "$(gzip -dc "$f" | wc -c)" "$(jq -r '."X-Proxy-Original-Bytes"' "$h")" "X-Proxy-Original-Bytes"
ok "upload headers match the batch"
