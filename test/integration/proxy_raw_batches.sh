#!/usr/bin/env bash
# When the spool writer falls behind the inputs (batch.raw_backlog of other sealed data waiting),
# batches are spooled and uploaded uncompressed (.raw, Content-Encoding: identity) instead of taking
# CPU from the inputs. The receiver keeps the proxy's batch name (same key on a retry) and stores them
# compressed; every record arrives once, in order. Writer kept behind by tiny batches (each one an
# fsync'd spool write) under a fast TCP sender; the real receiver on loopback. Then batch.codec none:
# every batch uncompressed by configuration, identity on the wire. Also: batches go out from memory on
# their first try (no spool read back), or from the spool file with spool.memory_bytes 0.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_raw_batches; rm -rf "$W"; mkdir -p "$W"
trap px_cleanup EXIT
RP=21260; RA=21261; PA=21262; TP=21263
N=30000
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    token: "acme-token-raw"
    datasets:
      - {id: bulk, source: {type: tcp, port: $TP, host: 127.0.0.1, data_format: ndjson}}
Y
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: "file://$W/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RP"}
spool: {dir: "$W/spool", max_bytes: 256MiB}
batch: {max_age: 100ms, max_bytes: 4KiB, raw_backlog: 8KiB}
Y
px_receiver "$W" $RP $RA "$W/tenants.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $TP

python3 - "$TP" "$N" <<'P' || die "sender failed"
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(b'{"seq":%d,"msg":"record number %d of the raw batch test"}\n' % (i, i) for i in range(n)))
s.close()
P
px_wait_records "$W/intake" acme bulk $N 120
v=$(px_records "$W/intake" acme bulk | jq -r .seq)
expect_eq "$(echo "$v" | wc -l)" $N "records in the intake"
echo "$v" | awk 'NR - 1 != $1 { bad = 1 } END { exit bad }' || die "records missing, duplicated or out of order"
ok "all $N records arrived once, in order"

raw=$(px_metric $PA 'bytefreezer_proxy_uncompressed_batches_total{tenant="acme",dataset="bulk"}')
all=$(px_metric $PA 'bytefreezer_proxy_batches_total{tenant="acme",dataset="bulk"}')
[ "$raw" -gt 0 ] || die "no batch went out uncompressed although the writer was behind ($all batches)"
[ "$raw" -lt "$all" ] || die "every batch went out uncompressed ($raw of $all): compression never resumed"
ok "$raw of $all batches spooled and sent uncompressed while the writer was behind"

# the receiver took the proxy's names (hint ndjson, the batch's own time), not its receive-time fallback
keys=$(find "$W/intake/acme/bulk" -maxdepth 1 -type f ! -name '.*' | sort)
expect_eq "$(echo "$keys" | grep -c -- '--ndjson--')" "$(echo "$keys" | wc -l)" "intake keys named after the proxy's batches"
echo "$keys" | grep -q -- '--raw--' && die "an uncompressed batch lost its name at the receiver"
echo "$keys" | grep -qv '\.zst$' && die "an intake object is not zstd (identity bodies are compressed by the receiver)"
ok "receiver kept the batch names and stored every object compressed"
[ -z "$(find "$W/spool" -type f -name '*.raw')" ] || die "uncompressed batches left in the spool"
ok "spool drained"
# the receiver was up throughout: every batch went out from memory on its first try (spool.memory_bytes)
expect_eq "$(px_metric $PA bytefreezer_proxy_upload_spool_reads_total)" 0 "uploads read back from the spool"

# batch.codec none: every batch uncompressed by configuration (not counted as the writer falling behind)
kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null
wire0=$(px_metric $RA bytefreezer_receiver_bytes_total); infl0=$(px_metric $RA bytefreezer_receiver_inflated_bytes_total)
sed -i 's/batch: {.*}/batch: {max_age: 100ms, max_bytes: 64KiB, codec: none}/' "$W/proxy.yaml"
# and spool.memory_bytes 0: every upload reads its batch back from the spool file
sed -i 's/spool: {\(.*\)}/spool: {\1, memory_bytes: 0}/' "$W/proxy.yaml"
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $TP
python3 - "$TP" "$N" <<'P' || die "sender failed"
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(b'{"seq":%d,"msg":"second part"}\n' % i for i in range(n, n + 1000)))
s.close()
P
px_wait_records "$W/intake" acme bulk $((N + 1000)) 60
v=$(px_records "$W/intake" acme bulk | jq -r .seq)
echo "$v" | awk 'NR - 1 != $1 { bad = 1 } END { exit bad || NR != '$((N + 1000))' }' || die "records of the codec-none part missing or out of order"
expect_eq "$(px_metric $PA 'bytefreezer_proxy_uncompressed_batches_total{tenant="acme",dataset="bulk"}')" 0 \
  "batches counted as fallen behind with codec none"
[ "$(px_metric $PA 'bytefreezer_proxy_batches_total{tenant="acme",dataset="bulk"}')" -gt 0 ] || die "no batch sealed"
wire=$(( $(px_metric $RA bytefreezer_receiver_bytes_total) - wire0 ))
infl=$(( $(px_metric $RA bytefreezer_receiver_inflated_bytes_total) - infl0 ))
[ "$wire" -gt 0 ] && [ "$wire" = "$infl" ] || die "codec none: receiver got $wire bytes on the wire for $infl decoded (want identity)"
ok "batch.codec none: 1000 more records arrived in order, uploaded uncompressed"
reads=$(px_metric $PA bytefreezer_proxy_upload_spool_reads_total)
sent=$(px_metric $PA 'bytefreezer_proxy_uploads_ok_total{tenant="acme",dataset="bulk"}')
[ "$reads" -gt 0 ] && [ "$reads" = "$sent" ] || die "spool.memory_bytes 0: $reads reads back for $sent uploads"
ok "spool.memory_bytes 0: each of the $sent uploads read its batch from the spool"
