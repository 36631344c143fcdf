#!/usr/bin/env bash
# The proxy's flow decoders against real exporters, without the proxy daemon:
#   a pcap with known flows (written here with python3 struct) is replayed by softflowd as NetFlow v5,
#   NetFlow v9 and IPFIX, and by pmacct's pmacctd (pcap_savefile + sfprobe plugin) as sFlow v5, to a
#   loopback UDP port where test/tools/flowcat (our decoders, linked from build/lib/libproxy.a) prints
#   NDJSON; the decoded addresses, ports, protocol, bytes, packets, VLAN and flow times are asserted.
# Ports: the first free one in 21500-21599 (flowcat picks and announces it).
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
mkdir -p "${BF_TMP:-/tmp}"
T=$(mktemp -d "${BF_TMP:-/tmp}/proxy_flows_decode.XXXXXX")
fcpid=""   # the flowcat we started and have not reaped yet (never kill a pid we already waited for)
cleanup() { [ -n "$fcpid" ] && kill "$fcpid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in softflowd pmacctd python3 cc pkg-config; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (make deps)"
done

# ---- build flowcat against the built libraries ----
make -s -j2 build/lib/libproxy.a build/lib/libbfcommon.a >/dev/null
PKGS=(libuv libmicrohttpd libcurl jansson libzstd yaml-0.1 libpcre2-8 libmaxminddb zlib openssl)
read -r -a LIBS <<<"$(pkg-config --libs "${PKGS[@]}")"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Icommon test/tools/flowcat.c \
  build/lib/libproxy.a build/lib/libbfcommon.a "${LIBS[@]}" -lpthread -lm -o "$T/flowcat"

# ---- the pcap: known flows, timestamps just after now (so exporter uptimes stay positive) ----
python3 "$ROOT/test/tools/make-flows-pcap.py" "$T/flows.pcap" "$T/expect.json"
tcpdump -nr "$T/flows.pcap" 2>/dev/null | wc -l | grep -qx 16 || fail "pcap does not hold the 16 packets"

# ---- run one exporter into flowcat; prints the NDJSON file name ----
# usage: capture <name> <kind> <exporter command with @PORT@>
capture() {
  local name=$1 kind=$2; shift 2
  : >"$T/$name.err"   # exists before the background job opens it, so the polling below never races it
  "$T/flowcat" "$kind" 21500-21599 2000 30000 >"$T/$name.ndjson" 2>"$T/$name.err" &
  local fc=$!; fcpid=$fc
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^flowcat: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/$name.err" || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || fail "$name: flowcat did not start: $(cat "$T/$name.err")"
  local cmd=("${@//@PORT@/$port}")
  "${cmd[@]}" >"$T/$name.exporter.log" 2>&1 || true
  local rc=0
  wait "$fc" || rc=$?
  fcpid=""
  [ "$rc" -eq 0 ] || fail "$name: flowcat exited $rc: $(cat "$T/$name.err")"
  echo "$name: $(grep -c . "$T/$name.ndjson" || true) records; $(tail -n 1 "$T/$name.err")"
}

capture nf5 netflow softflowd -r "$T/flows.pcap" -n 127.0.0.1:@PORT@ -v 5
capture nf9 netflow softflowd -r "$T/flows.pcap" -n 127.0.0.1:@PORT@ -v 9
capture ipfix ipfix softflowd -r "$T/flows.pcap" -n 127.0.0.1:@PORT@ -v 10
cat >"$T/sfprobe.conf" <<EOF
daemonize: false
pcap_savefile: $T/flows.pcap
plugins: sfprobe
sampling_rate: 1
EOF
# pmacctd reads the pcap (pcap_savefile) and the sfprobe plugin exports every packet as an sFlow sample
capture sflow sflow sh -c "sed 's/^plugins: sfprobe\$/plugins: sfprobe\nsfprobe_receiver: 127.0.0.1:@PORT@/' $T/sfprobe.conf >$T/sf.conf && timeout 20 pmacctd -f $T/sf.conf"

# ---- assertions ----
python3 - "$T" <<'EOF'
import json, sys
T = sys.argv[1]
expect = json.load(open(T + '/expect.json'))
errors = []
def load(name):
    recs = []
    for i, line in enumerate(open('%s/%s.ndjson' % (T, name))):
        try:
            recs.append(json.loads(line))
        except ValueError as e:
            errors.append('%s line %d is not JSON: %s' % (name, i + 1, e))
    return recs
def check(cond, msg):
    if not cond: errors.append(msg)

for name, ftype, v6 in (('nf5', 'netflow_v5', False), ('nf9', 'netflow_v9', True), ('ipfix', 'ipfix', True)):
    recs = load(name)
    check(all(r.get('flow_type') == ftype and r.get('source_ip') == '127.0.0.1' for r in recs),
          '%s: flow_type/source_ip wrong' % name)
    for e in expect:
        if e['src'].count(':') and not v6:
            continue  # NetFlow v5 has no IPv6
        m = [r for r in recs if r.get('src_addr') == e['src'] and r.get('dst_addr') == e['dst']
             and r.get('src_port') == e['sport'] and r.get('dst_port') == e['dport']]
        if len(m) != 1:
            errors.append('%s: %s: %d matching records' % (name, e['name'], len(m))); continue
        r = m[0]
        for k, want in (('protocol', e['proto']), ('bytes', e['bytes']), ('packets', e['packets'])):
            check(r.get(k) == want, '%s: %s: %s = %r, want %r' % (name, e['name'], k, r.get(k), want))
        for k, want in (('flow_start_ms', e['first_ms']), ('flow_end_ms', e['last_ms'])):
            got = r.get(k)
            check(isinstance(got, int) and abs(got - want) <= 1500,
                  '%s: %s: %s = %r, want %d +- 1500' % (name, e['name'], k, got, want))
    check(len(recs) == sum(1 for e in expect if v6 or not e['src'].count(':')),
          '%s: %d records, want one per flow' % (name, len(recs)))

allrecs = load('sflow')
# sfprobe may add a counter sample (its periodic interface counters) depending on timing
recs = [r for r in allrecs if r.get('sample_type') == 'flow']
for r in allrecs:
    check(r.get('sample_type') in ('flow', 'counter'), 'sflow: sample_type %r' % r.get('sample_type'))
    if r.get('sample_type') == 'counter':
        check(isinstance(r.get('if_index'), int) and isinstance(r.get('if_in_octets'), int),
              'sflow: counter sample without interface counters: %r' % r)
check(len(recs) == sum(e['packets'] for e in expect), 'sflow: %d flow samples, want one per packet' % len(recs))
for e in expect:
    m = [r for r in recs if r.get('src_ip') == e['src'] and r.get('dst_ip') == e['dst']
         and r.get('src_port') == e['sport'] and r.get('dst_port') == e['dport']]
    check(len(m) == e['packets'], 'sflow: %s: %d samples, want %d' % (e['name'], len(m), e['packets']))
    for r in m:
        check(r.get('flow_type') == 'sflow_v5' and r.get('sample_type') == 'flow', 'sflow: type fields')
        check(r.get('protocol') == e['proto'], 'sflow: %s: protocol %r' % (e['name'], r.get('protocol')))
        check(r.get('ip_version') == (6 if ':' in e['src'] else 4), 'sflow: %s: ip_version' % e['name'])
        check(r.get('frame_length') in (e['frame'], e['frame'] + 4),
              'sflow: %s: frame_length %r, want %d (+4 FCS)' % (e['name'], r.get('frame_length'), e['frame']))
        check(r.get('vlan') == e['vlan'], 'sflow: %s: vlan %r, want %r' % (e['name'], r.get('vlan'), e['vlan']))
        check(r.get('sampling_rate') == 1, 'sflow: sampling_rate')
if errors:
    print('\n'.join(errors)); sys.exit(1)
print('all flow assertions passed')
EOF
