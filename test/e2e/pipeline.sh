#!/usr/bin/env bash
# End to end: the four daemons against Swift S3, fed by real clients — logger (UDP, TCP LF-framed, TCP
# octet-counted; RFC 3164 and 5424), rsyslog forwarding with omfwd, curl to the HTTP input — and the
# Parquet output checked with DuckDB: every record present exactly once, with the expected fields and
# hive partition columns.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export BF_ROOT=$ROOT
T=${BF_TMP:-/tmp/bf-test}/e2e-pipeline; rm -rf "$T"; mkdir -p "$T"
export STACK_PORT=25000 STACK_STORE=s3 STACK_BUCKET="e2e-$(date +%s)-$$"
D=$T/stack
P=$STACK_PORT
# GeoIP test database for the grok + geoip pipeline
perl "$ROOT/test/tools/make-test-mmdb.pl" >/dev/null && mv test.mmdb "$T/test.mmdb"
export STACK_GEOIP=$T/test.mmdb
RS=""
cleanup() {
  [ -n "$RS" ] && kill "$RS" 2>/dev/null || true
  bash "$ROOT/test/tools/stack.sh" down "$D" || true
}
trap cleanup EXIT
bash "$ROOT/test/tools/stack.sh" up "$D"
RUN=$(date +%s%N)
N=${E2E_N:-25}

# ---- senders ----
for i in $(seq $N); do
  logger -n 127.0.0.1 -P $((P+514)) -d --rfc3164 -t e2eapp "id=e2e-$RUN-u3164-$i user=alice ip=127.0.0.$i bytes=$i"
  logger -n 127.0.0.1 -P $((P+514)) -d --rfc5424 -t e2eapp --sd-id origin@32473 --sd-param "ip=\"127.0.0.1\"" \
    "id=e2e-$RUN-u5424-$i user=bob ip=127.0.1.$i bytes=$((i*10))"
  logger -n 127.0.0.1 -P $((P+515)) -T --rfc3164 -t e2eapp "id=e2e-$RUN-tlf-$i"
  logger -n 127.0.0.1 -P $((P+515)) -T --rfc5424 --octet-count -t e2eapp "id=e2e-$RUN-toct-$i"
done
# rsyslog forwarding with omfwd (octet-counted TCP) from its own UDP input
mkdir -p "$T/rsyslog"
cat >"$T/rsyslog/rsyslog.conf" <<C
global(workDirectory="$T/rsyslog")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$((P+516))" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="$((P+515))" protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format")
}
C
rsyslogd -n -f "$T/rsyslog/rsyslog.conf" -i "$T/rsyslog/pid" >"$T/rsyslog/log" 2>&1 & RS=$!
for _ in $(seq 50); do ss -lun | grep -q ":$((P+516)) " && break; sleep 0.1; done
for i in $(seq $N); do logger -n 127.0.0.1 -P $((P+516)) -d --rfc3164 -t fwdapp "id=e2e-$RUN-rsys-$i"; done
# HTTP input (NDJSON)
body=$(for i in $(seq $N); do printf '{"id":"e2e-%s-http-%d","n":%d,"big":4611686018427387905}\n' "$RUN" "$i" "$i"; done)
code=$(curl -s -o "$T/http.out" -w '%{http_code}' -X POST --data-binary "$body" -H 'Content-Type: application/x-ndjson' \
  "http://127.0.0.1:$((P+90))/webhook")
[ "$code" = 200 ] || { echo "HTTP input answered $code: $(cat "$T/http.out")"; exit 1; }

# NetFlow v9 from softflowd replaying a pcap of known flows
python3 "$ROOT/test/tools/make-flows-pcap.py" "$T/flows.pcap" "$T/flows-expect.json"
softflowd -r "$T/flows.pcap" -n 127.0.0.1:$((P+995)) -v 9 >"$T/softflowd.log" 2>&1 || { echo "FAIL: softflowd"; cat "$T/softflowd.log"; exit 1; }
NFLOWS=$(jq length "$T/flows-expect.json")

# ---- wait for Parquet ----
EXPECT=$((N*6))
OUT=$T/parquet
q() { node "$ROOT/test/e2e/duckq.mjs" "$1"; }
ids_sql() {
  echo "SELECT coalesce(regexp_extract(message, 'e2e-[0-9]+-[a-z0-9]+-[0-9]+'), '') AS id FROM read_parquet('$OUT/packer/demo/sys*/data/parquet/**/*.parquet', union_by_name=true)
        UNION ALL SELECT id FROM read_parquet('$OUT/packer/demo/webhook/data/parquet/**/*.parquet', union_by_name=true)"
}
got=0
for _ in $(seq 120); do
  rm -rf "$OUT"; python3 "$ROOT/test/tools/s3cp.py" sync "$STACK_BUCKET" packer/ "$OUT" >/dev/null
  if ls "$OUT"/packer/demo/sys/data/parquet >/dev/null 2>&1 && ls "$OUT"/packer/demo/webhook/data/parquet >/dev/null 2>&1; then
    got=$(q "SELECT count(*) AS n FROM ($(ids_sql)) WHERE id LIKE 'e2e-$RUN-%'" | jq -r .n)
    [ "$got" -ge "$EXPECT" ] && break
  fi
  sleep 1
done
echo "records in Parquet: $got of $EXPECT"
[ "$got" -eq "$EXPECT" ] || { echo "FAIL: expected $EXPECT records"; for d in receiver proxy piper packer; do echo "--- $d"; tail -5 "$D/logs/$d.log"; done; exit 1; }

fail=0
dups=$(q "SELECT id, count(*) AS c FROM ($(ids_sql)) WHERE id LIKE 'e2e-$RUN-%' GROUP BY id HAVING count(*) <> 1" | wc -l)
distinct=$(q "SELECT count(DISTINCT id) AS n FROM ($(ids_sql)) WHERE id LIKE 'e2e-$RUN-%'" | jq -r .n)
echo "distinct ids: $distinct, duplicated: $dups"
[ "$dups" -eq 0 ] && [ "$distinct" -eq "$EXPECT" ] || { echo "FAIL: every record must appear exactly once"; fail=1; }

SY="read_parquet('$OUT/packer/demo/sys/data/parquet/**/*.parquet', hive_partitioning=true, union_by_name=true)"
# syslog fields and values (RFC 5424 over UDP with structured data; grok captures; geoip)
row=$(q "SELECT rfc, facility, severity, app_name, hostname, user, client_ip, bytes, pipeline, year, month, day, hour,
           CAST(structured_data AS VARCHAR) AS sd, CAST(geo AS VARCHAR) AS geo, typeof(BfTs) AS bfts_type, typeof(bytes) AS bytes_type
         FROM $SY WHERE message LIKE '%e2e-$RUN-u5424-3 %' OR message LIKE '%e2e-$RUN-u5424-3'")
echo "5424 row: $row"
check() { local expr=$1 what=$2; echo "$row" | jq -e "$expr" >/dev/null || { echo "FAIL: $what"; fail=1; }; }
check '.rfc == "5424"' "rfc 5424"
check '(.facility|tonumber) == 1 and (.severity|tonumber) == 5' "facility user(1), severity notice(5)"
check '.app_name == "e2eapp"' "app_name"
check '.user == "bob" and .client_ip == "127.0.1.3" and (.bytes|tostring) == "30"' "grok captures"
check '.bytes_type == "BIGINT"' "typed grok capture is an integer column"
check '.bfts_type | startswith("TIMESTAMP")' "BfTs is a TIMESTAMP"
check '.pipeline == "demo"' "add_field"
check '(.geo | fromjson | .country_code) == "ZZ" and (.geo | fromjson | .city) == "Loopback"' "geoip enrichment from the test mmdb"
check '.sd | contains("origin@32473")' "structured data kept"
check '(.year|tostring|length) == 4 and .hour != null' "hive partition columns year/month/day/hour"
row=$(q "SELECT rfc, app_name FROM $SY WHERE message LIKE '%e2e-$RUN-u3164-2 %' OR message LIKE '%e2e-$RUN-u3164-2'")
check '.rfc == "3164" and .app_name == "e2eapp"' "3164 over UDP"
TC="read_parquet('$OUT/packer/demo/systcp/data/parquet/**/*.parquet', hive_partitioning=true, union_by_name=true)"
row=$(q "SELECT count(*) FILTER (WHERE message LIKE '%e2e-$RUN-toct-%' AND rfc='5424') AS oct,
                count(*) FILTER (WHERE message LIKE '%e2e-$RUN-tlf-%' AND rfc='3164') AS lf,
                count(*) FILTER (WHERE message LIKE '%e2e-$RUN-rsys-%' AND rfc='5424') AS rsys FROM $TC")
check "(.oct|tonumber) == $N and (.lf|tonumber) == $N and (.rsys|tonumber) == $N" "TCP octet-counted, LF-framed and rsyslog-forwarded records parsed"
WH="read_parquet('$OUT/packer/demo/webhook/data/parquet/**/*.parquet', hive_partitioning=true)"
row=$(q "SELECT CAST(big AS VARCHAR) AS big, typeof(n) AS nt, year, month, day FROM $WH WHERE id = 'e2e-$RUN-http-7'")
check '.big == "4611686018427387905" and .nt == "BIGINT"' "HTTP records with exact big integers"
check '.day != null' "hive_day partitions"
# NetFlow: one record per flow with the pcap's addresses, ports, protocol, packets and bytes
FL="read_parquet('$OUT/packer/demo/flows/data/parquet/**/*.parquet', hive_partitioning=true, union_by_name=true)"
for _ in $(seq 60); do
  [ -d "$OUT/packer/demo/flows" ] && break
  sleep 1; rm -rf "$OUT"; python3 "$ROOT/test/tools/s3cp.py" sync "$STACK_BUCKET" packer/ "$OUT" >/dev/null
done
n=$(q "SELECT count(*) AS n FROM $FL" | jq -r .n)
[ "$n" = "$NFLOWS" ] || { echo "FAIL: $n NetFlow records in Parquet, expected $NFLOWS"; fail=1; }
while read -r f; do
  src=$(echo "$f" | jq -r .src); dst=$(echo "$f" | jq -r .dst); sp=$(echo "$f" | jq -r .sport); dp=$(echo "$f" | jq -r .dport)
  row=$(q "SELECT protocol, packets, bytes, flow_type FROM $FL WHERE src_addr='$src' AND dst_addr='$dst' AND src_port=$sp AND dst_port=$dp")
  want=$(echo "$f" | jq -c '{protocol: .proto, packets, bytes}')
  echo "$row" | jq -e --argjson w "$want" '(.protocol|tonumber) == $w.protocol and (.packets|tonumber) == $w.packets and (.bytes|tonumber) == $w.bytes and .flow_type == "netflow_v9"' >/dev/null \
    || { echo "FAIL: flow $src:$sp -> $dst:$dp: got $row want $want"; fail=1; }
done < <(jq -c '.[]' "$T/flows-expect.json")
echo "netflow: $n records checked against the pcap"
exit $fail
