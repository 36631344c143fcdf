#!/usr/bin/env bash
# ack: spool with a body larger than spill.threshold: the spilled body goes from its temp file into the
# spool in chunks (bf_spool_write_fd), never read back into memory whole. A ~36 MiB gzip body: 200,
# the receiver's peak RSS stays far below the body's size, and the object in the intake store is the
# body byte for byte.
set -u
. "$BF_ROOT/test/tools/receiver-lib.sh"
W=$BF_TMP/receiver_spool_spill; rm -rf "$W"; mkdir -p "$W/spill"
trap rcv_cleanup EXIT
PORT=20100; ADMIN=20101
TOKEN=spill-token-$RANDOM
make_tenants "$W/tenants.yaml" "$TOKEN"
cat >"$W/rcv.yaml" <<Y
listen: "127.0.0.1:$PORT"
admin_listen: "127.0.0.1:$ADMIN"
tenants: "file://$W/tenants.yaml"
store: {intake: "file://$W/intake"}
ack: spool
spool: {dir: "$W/spool", retry_initial: 200ms, retry_max: 1s}
spill: {threshold: 1MiB, dir: "$W/spill"}
max_body_bytes: 64MiB
Y
rcv_start "$W/rcv.yaml" "$W/log" $PORT

# ~66 MB of NDJSON with random hex (compresses about 2:1), gzip -1
python3 - "$W/body.ndjson" <<'P' || die "body generation failed"
import os, sys
with open(sys.argv[1], "w") as f:
    for i in range(300000):
        f.write('{"n":%d,"r":"%s"}\n' % (i, os.urandom(100).hex()))
P
gzip -1 -c "$W/body.ndjson" >"$W/body.gz"
size=$(stat -c %s "$W/body.gz")
[ "$size" -gt $((30 << 20)) ] || die "test body too small ($size bytes)"

rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$RCV_PID/status")
proxy_headers "$TOKEN" acme fw "$(date +%s%N)" ndjson gz gzip 300000 "$(stat -c %s "$W/body.ndjson")"
r=$(post "http://127.0.0.1:$PORT/acme/fw" "$W/body.gz" "${PH[@]}")
expect_eq "${r%% *}" 200 "spilled body under ack: spool"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$RCV_PID/status")
echo "receiver RSS before ${rss0} KiB, peak ${hwm} KiB; body $((size >> 10)) KiB"
# growth over the idle RSS (an ASan build starts higher): reading the body back costs its whole size
[ $((hwm - rss0)) -lt $(( (size >> 10) / 2 )) ] ||
  die "receiver peak RSS ${hwm} KiB (idle ${rss0}) for a $((size >> 10)) KiB spilled body: read into memory"
ok "spilled body spooled without holding it in memory (peak ${hwm} KiB)"

wait_for 30 sh -c "find '$W/intake' -type f ! -name '.*' | grep -q ." || die "body never reached the intake"
obj=$(find "$W/intake" -type f ! -name '.*' | head -1)
wait_for 30 sh -c "[ \"\$(find '$W/spool' -type f -path '*/queue/*' ! -name '*.meta*' | wc -l)\" = 0 ]" || die "spool not drained"
cmp "$W/body.gz" "$obj" || die "stored object differs from the body"
ok "object in the intake is the body byte for byte; spool drained"
rcv_stop "$RCV_PID"
