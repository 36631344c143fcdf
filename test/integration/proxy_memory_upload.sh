#!/usr/bin/env bash
# Batches uploaded from memory (spool.memory_bytes) keep the spool's semantics: a batch whose spool file
# was removed before its turn (an operator clearing a poison batch, DLQ tools) is not sent, exactly as
# when the body is read from the file. The stub receiver answers the first upload 503 with Retry-After
# 3, so the second batch waits in memory behind the first while its file is removed.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_memory_upload; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
SP=21270; PA=21271; TP=21272
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-mem"
    datasets:
      - {id: applog, source: {type: tcp, port: $TP, host: 127.0.0.1, data_format: ndjson}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$SP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 200ms}
retry: {initial: 100ms, max: 5s}
Y
px_stub "$W" $SP
curl -s -X POST "http://127.0.0.1:$SP/_script" -d '{"statuses": [[503, 3]]}' >/dev/null
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $TP
send() { printf '%s\n' "$1" | python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",'"$TP"')); s.sendall(sys.stdin.buffer.read()); s.close()'; }
Q=$W/spool/acme/applog
send '{"seq":1}'
for _ in $(seq 50); do [ -n "$(ls "$Q/retry" 2>/dev/null | grep -v '\.meta')" ] && break; sleep 0.1; done
[ -n "$(ls "$Q/retry" 2>/dev/null | grep -v '\.meta')" ] || die "first batch did not fail over to retry/"
send '{"seq":2}'
for _ in $(seq 50); do [ -n "$(ls "$Q/queue" 2>/dev/null)" ] && break; sleep 0.1; done
b=$(ls "$Q/queue" 2>/dev/null | grep -v '\.meta' | head -1)
[ -n "$b" ] || die "second batch not spooled"
rm -f "$Q/queue/$b"*
ok "second batch $b spooled (kept in memory) and its file removed while the first waits out Retry-After"
for _ in $(seq 100); do [ "$(px_metric $PA bytefreezer_proxy_uploads_ok_total)" -ge 1 ] && break; sleep 0.1; done
sleep 1
expect_eq "$(px_metric $PA bytefreezer_proxy_uploads_ok_total)" 1 "batches accepted"
got=$(find "$W/stub/acme/applog" -type f ! -name '*.headers' | wc -l)
expect_eq "$got" 1 "objects at the receiver"
for f in "$W/stub/acme/applog/"*; do case $f in *.headers) ;; *) zstd -dcq "$f" 2>/dev/null || cat "$f";; esac; done | grep -q '"seq":1' || die "first batch missing"
[ -z "$(find "$W/stub/acme/applog" -type f -name "${b%.*}*")" ] || die "the removed batch was sent from memory"
expect_eq "$(px_metric $PA bytefreezer_proxy_upload_spool_reads_total)" 1 "spool reads (the retry of the first batch)"
ok "the removed batch was not sent; the first went through on its retry, read from its file"
