#!/usr/bin/env bash
# Syslog ingest benchmark: our proxy against rsyslog and syslog-ng, all fed by the same generator
# (build/bench/bench_proxy_udpgen: pre-built numbered messages, sendmmsg, pinned to its own CPU).
#
# Setup (DESIGN §12): each daemon is pinned to CPU $DCPU with taskset, the generator to CPU $GCPU;
# daemons and generator run at nice -20 when we are root, so background load on the machine disturbs
# the figures less. Every daemon gets the same effective UDP receive buffer (min(8 MiB, rmem_max)) and
# writes one JSON record per message:
#   rsyslog    imudp (batchSize 128, as its guide recommends)/imtcp -> omfile with a JSON template
#              (receive and message timestamps, source ip, facility, severity, host, app, pid, msgid, msg)
#   syslog-ng  network()/syslog() sources -> file() with $(format-json ...) of the same fields;
#              keep_hostname(yes) and use_dns(no), as the others take the host from the message
#   proxy      build/bin/bytefreezer-proxy (syslog udp/tcp inputs, zstd batches, spool) uploading to a
#              real build/bin/bytefreezer-receiver with a file store; the receiver runs on $GCPU at
#              normal priority (it is the central tier, not the edge daemon being measured).
# A message counts as delivered when its sequence number is in the output: the peers' output file, or
# for the proxy the NDJSON inside the intake objects the receiver stored (zstd -dc); duplicates are
# reported, never counted twice.
#
# Figures (BENCH|figure|ours|peer|peer value|ratio; ratio > 1 means ours is better: ours/peer for rates,
# peer/ours for CPU):
#   UDP max rate: the highest offered rate (msgs/s, 300-byte RFC 3164) with < 0.1 % loss, found by a
#     probe at the generator's maximum, then bisection, then two confirmation runs. If even the
#     generator's maximum is lossless the value is printed as ">=rate" (sender-bound).
#   UDP CPU per 1M msgs: daemon utime+stime from /proc/<pid>/stat over the run (until its output stops
#     growing), per delivered message, at one common rate (80 % of the slowest daemon's max), median of 3.
#   TCP throughput: N messages through one connection (blocking socket), LF-framed RFC 3164 and
#     octet-counted RFC 5424; time from the first write until the daemon has processed the last message
#     (output file stops growing; for the proxy its records counter), median of runs.
# Environment knobs: BF_BENCH_UDP_SECS (2), BF_BENCH_TCP_MSGS (500000), BF_BENCH_TCP_RUNS (3),
# BF_BENCH_MSG_SIZE (300), BF_BENCH_DAEMON_CPU (0), BF_BENCH_GEN_CPU (1), BF_BENCH_PEERS ("rsyslog syslog-ng").
# Last line: each figure as a ratio against the better peer (the issue's goal is >= 2x).
# Every daemon first gets a sanity run (200 messages per transport must all arrive) or is skipped.
# Exit 0 even when the proxy is missing or broken ("n/a"), so that the bench runner goes on.
set -u
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BF_BUILD:-$ROOT/build}
BIN=${BF_BIN:-$BUILD/bin}
T=${BF_TMP:-/tmp/bf-bench}/ingest
SIZE=${BF_BENCH_MSG_SIZE:-300}
UDP_SECS=${BF_BENCH_UDP_SECS:-2}
TCP_N=${BF_BENCH_TCP_MSGS:-500000}
TCP_RUNS=${BF_BENCH_TCP_RUNS:-3}
DCPU=${BF_BENCH_DAEMON_CPU:-0}
GCPU=${BF_BENCH_GEN_CPU:-1}
PEERS=${BF_BENCH_PEERS:-rsyslog syslog-ng}
SNG=${BF_PEERS:-$BUILD/peers}/sng
HZ=$(getconf CLK_TCK)
LOSS_MAX=0.001
# ports: 21800-21839, inside the proxy's range 21000-21999 (the proxy's own tests stay below 21800)
declare -A UDP_PORT=([rsyslog]=21800 [syslog-ng]=21810 [proxy]=21820 [proxy-nocomp]=21822)
declare -A TCP_PORT=([rsyslog]=21801 [syslog-ng]=21811 [proxy]=21821 [proxy-nocomp]=21823)
declare -A OCT_PORT=([rsyslog]=21801 [syslog-ng]=21812 [proxy]=21821 [proxy-nocomp]=21823)
RCV_PORT=21830 RCV_ADMIN=21831
# proxy instances: the default configuration, and one with batch.codec none (uncompressed output, like
# the peers' files) measured for CPU per message only; each has its own datasets at the receiver
declare -A PX_ADMIN=([proxy]=21832 [proxy-nocomp]=21834) PX_CODEC=([proxy]=zstd [proxy-nocomp]=none)
declare -A PX_DS=([proxy]="" [proxy-nocomp]=n)
declare -A PID=() LOGF=()
RCV_PID=""
SEQ=0

log() { echo "ingest: $*"; }
fnum() { awk -v x="$1" -v d="${2:-0}" 'BEGIN{printf "%.*f", d, x}'; }
median() { # of the numeric arguments; n/a when there are none
  printf '%s\n' "$@" | awk '/^[0-9.]+$/' | sort -g | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]; else print "n/a"}'
}
now() { date +%s.%N; }

rm -rf "$T"; mkdir -p "$T"
nproc_n=$(nproc)
if [ "$nproc_n" -lt 2 ]; then DCPU=0; GCPU=0; log "only one CPU: daemon and generator share it"; fi
# the orchestration (curl, zstd, counting) stays off the daemon's CPU
taskset -pc "$GCPU" $$ >/dev/null 2>&1 || true
NICE=(); [ "$(id -u)" = 0 ] && NICE=(nice -n -20)
RMEM_MAX=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 212992)
RCVBUF=$((8 << 20)); [ "$RMEM_MAX" -lt "$RCVBUF" ] && RCVBUF=$RMEM_MAX

# ---- generator ----
GEN=$BUILD/bench/bench_proxy_udpgen
if [ ! -x "$GEN" ] || [ "$GEN" -ot "$ROOT/test/bench/bench_proxy_udpgen.c" ]; then
  make -s -C "$ROOT" "$GEN" >/dev/null 2>&1 ||
    { GEN=$T/udpgen; cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$GEN" "$ROOT/test/bench/bench_proxy_udpgen.c"; } ||
    { log "cannot build the generator"; exit 1; }
fi
# run a private copy: a parallel `make` may relink the build tree's binary in the middle of a run
cp "$GEN" "$T/udpgen.run" && GEN=$T/udpgen.run

# packets the kernel dropped before any socket (per-CPU backlog full): not the daemon's loss
softnet_drops() {
  local s=0 _a d _r
  while read -r _a d _r; do s=$((s + 16#$d)); done </proc/net/softnet_stat
  echo $s
}
# per-thread "tid cpu_ns runqueue_wait_ns" (schedstat). Over a run, the wait of the thread that used
# the most CPU shows how much other load on the machine got in the daemon's way.
sched_snap() {
  local f
  for f in /proc/"$1"/task/*/schedstat; do
    [ -r "$f" ] && { f=${f%/schedstat}; echo "${f##*/} $(cat "$f/schedstat" 2>/dev/null)"; }
  done
}
hot_wait_ms() { # BEFORE AFTER snapshots
  awk 'NR == FNR { c[$1] = $2; w[$1] = $3; next }
       ($1 in c) && $2 - c[$1] >= best { best = $2 - c[$1]; wait = $3 - w[$1] }
       END { printf "%.0f", wait / 1e6 }' <(echo "$1") <(echo "$2")
}
cpu_ticks() { [ -r "/proc/$1/stat" ] && sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}' || echo 0; }

# wait_port PROTO PORT PID: until something listens there (10 s), or the process died
wait_port() {
  local i=0 opt=-ltn; [ "$1" = udp ] && opt=-lun
  until ss -H "$opt" "sport = :$2" | grep -q .; do
    kill -0 "$3" 2>/dev/null || return 1
    i=$((i + 1)); [ $i -lt 200 ] || return 1
    sleep 0.05
  done
}

stop_pid() {
  local p=$1 i=0
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 0
}
cleanup() {
  local d
  for d in "${!PID[@]}"; do stop_pid "${PID[$d]}"; done
  stop_pid "$RCV_PID"
}
trap cleanup EXIT

# ---- rsyslog ----
start_rsyslog() {
  command -v rsyslogd >/dev/null || { log "rsyslogd not installed (run test/bench/ingest-peers.sh)"; return 1; }
  local d=$T/rsyslog; mkdir -p "$d"
  cat >"$d/rs.conf" <<EOF
global(workDirectory="$d")
module(load="imudp" batchSize="128") module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="${UDP_PORT[rsyslog]}" rcvbufSize="$RCVBUF")
input(type="imtcp" address="127.0.0.1" port="${TCP_PORT[rsyslog]}")
template(name="json" type="list" option.jsonf="on") {
  property(outname="timestamp" name="timegenerated" dateFormat="rfc3339" format="jsonf")
  property(outname="source_ip" name="fromhost-ip" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="syslog_timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app_name" name="app-name" format="jsonf")
  property(outname="proc_id" name="procid" format="jsonf")
  property(outname="msg_id" name="msgid" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
}
action(type="omfile" file="$d/out.jsonl" template="json")
EOF
  rsyslogd -N1 -f "$d/rs.conf" >"$d/check.log" 2>&1 || { cat "$d/check.log"; return 1; }
  taskset -c "$DCPU" "${NICE[@]}" rsyslogd -n -f "$d/rs.conf" -i "$d/pid" >"$d/log" 2>&1 &
  PID[rsyslog]=$!; LOGF[rsyslog]=$d/log
  OUT_rsyslog=$d/out.jsonl
  wait_port udp "${UDP_PORT[rsyslog]}" $! && wait_port tcp "${TCP_PORT[rsyslog]}" $!
}

# ---- syslog-ng (unpacked .deb, see ingest-peers.sh) ----
start_syslog-ng() {
  [ -x "$SNG/usr/sbin/syslog-ng" ] || { log "syslog-ng not available (test/bench/ingest-peers.sh failed)"; return 1; }
  local d=$T/syslog-ng mod; mkdir -p "$d"
  mod=$(ls -d "$SNG"/usr/lib/syslog-ng/[0-9]* | head -n1)
  local ver=${mod##*/}
  cat >"$d/sng.conf" <<EOF
@version: $ver
options { keep_hostname(yes); use_dns(no); stats_freq(0); };
source s_udp { network(ip("127.0.0.1") port(${UDP_PORT[syslog-ng]}) transport("udp") so-rcvbuf($RCVBUF)); };
source s_tcp { network(ip("127.0.0.1") port(${TCP_PORT[syslog-ng]}) transport("tcp")); };
source s_oct { syslog(ip("127.0.0.1") port(${OCT_PORT[syslog-ng]}) transport("tcp")); };
destination d_file { file("$d/out.jsonl" template("\$(format-json --scope none timestamp=\$R_ISODATE source_ip=\$SOURCEIP facility=\$FACILITY severity=\$LEVEL syslog_timestamp=\$ISODATE hostname=\$HOST app_name=\$PROGRAM proc_id=\$PID msg_id=\$MSGID message=\$MSG)\n")); };
log { source(s_udp); source(s_tcp); source(s_oct); destination(d_file); };
EOF
  local env=(env LD_LIBRARY_PATH="$SNG/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$SNG/usr")
  local args=(--module-path="$mod" -f "$d/sng.conf" -R "$d/persist" -p "$d/pid" -c "$d/ctl")
  "${env[@]}" "$SNG/usr/sbin/syslog-ng" "${args[@]}" --syntax-only >"$d/check.log" 2>&1 || { cat "$d/check.log"; return 1; }
  taskset -c "$DCPU" "${NICE[@]}" "${env[@]}" "$SNG/usr/sbin/syslog-ng" "${args[@]}" -F >"$d/log" 2>&1 &
  PID[syslog-ng]=$!; LOGF[syslog-ng]=$d/log
  OUT_syslog_ng=$d/out.jsonl
  wait_port udp "${UDP_PORT[syslog-ng]}" $! && wait_port tcp "${OCT_PORT[syslog-ng]}" $!
}

# ---- our proxy + receiver ----
# px_datasets DAEMON: the tenant's dataset entries for that proxy instance (sysudp/systcp + its suffix)
px_datasets() {
  local x=${PX_DS[$1]}
  cat <<EOF
      - id: sysudp$x
        active: true
        source: {type: syslog, transport: udp, port: ${UDP_PORT[$1]}, host: 127.0.0.1, rcvbuf: $RCVBUF}
      - id: systcp$x
        active: true
        source: {type: syslog, transport: tcp, port: ${TCP_PORT[$1]}, host: 127.0.0.1}
EOF
}
px_tenants() { # DAEMON...: registry with those instances' datasets
  printf 'tenants:\n  - id: bench\n    active: true\n    token: "bench-ingest-token-0123456789"\n    datasets:\n'
  local d; for d in "$@"; do px_datasets "$d"; done
}
# the receiver (central tier, on the generator's CPU) knows the datasets of every proxy instance
start_receiver() {
  local rc=$BIN/bytefreezer-receiver d=$T/receiver
  [ -n "$RCV_PID" ] && return 0
  [ -x "$rc" ] || { log "receiver binary missing in $BIN"; return 1; }
  mkdir -p "$d"
  px_tenants proxy proxy-nocomp >"$d/tenants.yaml"
  cat >"$d/receiver.yaml" <<EOF
listen: "127.0.0.1:$RCV_PORT"
admin_listen: "127.0.0.1:$RCV_ADMIN"
tenants: "file://$d/tenants.yaml"
store: {intake: "file://$d/store/intake"}
EOF
  taskset -c "$GCPU" "$rc" -c "$d/receiver.yaml" >"$d/receiver.log" 2>&1 &
  RCV_PID=$!
  STORE=$d/store/intake/bench
  wait_port tcp "$RCV_PORT" "$RCV_PID" || { log "receiver did not start:"; tail -n 5 "$d/receiver.log"; return 1; }
}
start_px() { # DAEMON
  local px=$BIN/bytefreezer-proxy n=$1 d=$T/$1
  [ -x "$px" ] || { log "proxy binary missing in $BIN"; return 1; }
  start_receiver || return 1
  mkdir -p "$d"
  px_tenants "$n" >"$d/tenants.yaml"
  cat >"$d/proxy.yaml" <<EOF
admin_listen: "127.0.0.1:${PX_ADMIN[$n]}"
tenants: "file://$d/tenants.yaml"
receiver: {url: "http://127.0.0.1:$RCV_PORT"}
spool: {dir: "$d/spool", max_bytes: 8GiB}
batch: {max_age: 1s, max_bytes: 8MiB, codec: ${PX_CODEC[$n]}}
EOF
  taskset -c "$DCPU" "${NICE[@]}" "$px" -c "$d/proxy.yaml" >"$d/proxy.log" 2>&1 &
  PID[$n]=$!; LOGF[$n]=$d/proxy.log
  wait_port udp "${UDP_PORT[$n]}" $! && wait_port tcp "${TCP_PORT[$n]}" $! ||
    { log "$n did not start:"; tail -n 5 "$d/proxy.log"; return 1; }
}
start_proxy() { start_px proxy; }
start_proxy-nocomp() { start_px proxy-nocomp; }
is_px() { case $1 in proxy|proxy-nocomp) return 0 ;; esac; return 1; }
px_ds() { # DAEMON MODE -> dataset id
  if [ "$2" = udp ]; then echo "sysudp${PX_DS[$1]}"; else echo "systcp${PX_DS[$1]}"; fi
}

# metric NAME DATASET PORT: value of a Prometheus counter for bench/DATASET (0 when absent)
metric() {
  curl -s --max-time 2 "http://127.0.0.1:$3/metrics" |
    awk -v n="$1" -v ds="dataset=\"$2\"" 'index($0, n "{") == 1 && index($0, ds) { v = $NF } END { print v + 0 }'
}

# progress D MODE: "primary secondary"; the daemon is done when both stop changing and, for the
# proxy, every record it took in has reached the store (secondary >= primary).
progress() {
  case $1 in
    proxy|proxy-nocomp) local ds; ds=$(px_ds "$1" "$2")
           echo "$(metric bytefreezer_proxy_records_total $ds "${PX_ADMIN[$1]}") $(metric bytefreezer_receiver_lines_total $ds $RCV_ADMIN)" ;;
    *) local f; f=$(out_file "$1"); echo "$(stat -c %s "$f" 2>/dev/null || echo 0) 0" ;;
  esac
}
out_file() { case $1 in rsyslog) echo "$OUT_rsyslog" ;; syslog-ng) echo "$OUT_syslog_ng" ;; esac; }

# settle D MODE T0: polls progress until it is stable; sets T_DONE (seconds from T0 to the last change
# of the primary figure, at least the generator's end) and returns 1 on timeout (60 s).
settle() {
  local d=$1 mode=$2 t0=$3 quiet=0.6 prev cur t tlast start
  prev=$(progress "$d" "$mode"); start=$(now); tlast=$start
  local pprim=${prev%% *}
  while :; do
    sleep 0.05
    cur=$(progress "$d" "$mode"); t=$(now)
    [ "${cur%% *}" != "$pprim" ] && { pprim=${cur%% *}; T_DONE=$(awk -v a="$t" -v b="$t0" 'BEGIN{print a-b}'); }
    if [ "$cur" != "$prev" ]; then prev=$cur; tlast=$t; continue; fi
    local s1=${cur% *} s2=${cur#* }
    if awk -v t="$t" -v l="$tlast" -v q="$quiet" -v a="$s1" -v b="$s2" -v px="$(is_px "$d" && echo 1 || echo 0)" \
         'BEGIN{ exit !((t - l >= q) && (!px || b + 0 >= a + 0)) }'; then return 0; fi
    awk -v t="$t" -v s="$start" 'BEGIN{ exit !(t - s > 60) }' && { log "$d: output still changing after 60 s"; return 1; }
  done
}

# "uncompressed all": the proxy's batches so far for the mode's dataset and how many of them went out
# uncompressed (its writer was behind: batch.raw_backlog); a trial logs the difference
batch_counts() { # DAEMON MODE
  local ds; ds=$(px_ds "$1" "$2")
  [ -n "${PID[$1]:-}" ] || { echo "0 0"; return; }
  echo "$(metric bytefreezer_proxy_uncompressed_batches_total $ds "${PX_ADMIN[$1]}") $(metric bytefreezer_proxy_batches_total $ds "${PX_ADMIN[$1]}")"
}

batch_delta() { # DAEMON MODE "uncompressed all" before -> " uncompressed_batches=U/A" for the trial
  local b; b=$(batch_counts "$1" "$2")
  echo " uncompressed_batches=$(( ${b% *} - ${3% *} ))/$(( ${b#* } - ${3#* } ))"
}

# delivered D FIRSTSEQ COUNT: distinct sequence numbers of this trial in the daemon's output
count_out() {
  local d=$1 r
  if is_px "$d"; then
    r=$(find "$STORE" -type f \( -name "bench--$(px_ds "$d" udp)--*" -o -name "bench--$(px_ds "$d" tcp)--*" \) 2>/dev/null | sort | while read -r f; do
          case $f in *.zst) zstd -q -dc "$f" ;; *.gz) gzip -dc "$f" ;; esac
        done | "$GEN" count -S "$2" -n "$3")
  else
    r=$("$GEN" count -S "$2" -n "$3" <"$(out_file "$d")")
  fi
  C_DISTINCT=$(echo "$r" | sed -n 's/.*distinct=\([0-9]*\).*/\1/p'); C_DISTINCT=${C_DISTINCT:-0}
  C_DUPS=$(echo "$r" | sed -n 's/.*dups=\([0-9]*\).*/\1/p'); C_DUPS=${C_DUPS:-0}
}
reset_out() {
  if is_px "$1"; then find "$STORE" -type f -delete 2>/dev/null; else : >"$(out_file "$1")"; fi
}

# trial D MODE RATE COUNT [SECS]: one run. MODE udp|tcp|tcp-octet, RATE msgs/s or max.
# Sets R_SENT R_RATE (achieved offered rate) R_DELIV R_LOSS (fraction) R_CPU (daemon CPU seconds)
# R_TPUT (delivered / time to process, msgs/s) R_OK (loss < 0.1 %).
trial() {
  local d=$1 mode=$2 rate=$3 n=$4 secs=${5:-} fmt=3164 port c0 c1 r0 r1 t0 out
  [ "$mode" = tcp-octet ] && fmt=5424
  case $mode in udp) port=${UDP_PORT[$d]} ;; tcp) port=${TCP_PORT[$d]} ;; *) port=${OCT_PORT[$d]} ;; esac
  local args=(send -t "$mode" -f "$fmt" -s "$SIZE" -p "$port" -c "$GCPU" -S "$SEQ" -n "$n" -r "$rate")
  [ -n "$secs" ] && args+=(-d "$secs")
  c0=$(cpu_ticks "${PID[$d]}"); r0=$(cpu_ticks "$RCV_PID"); local sn0; sn0=$(softnet_drops)
  local bc0=""; is_px "$d" && bc0=$(batch_counts "$d" "$mode")
  local w0; w0=$(sched_snap "${PID[$d]}")
  t0=$(now); T_DONE=0
  out=$("${NICE[@]}" "$GEN" "${args[@]}" 2>&1)
  T_DONE=$(awk -v a="$(now)" -v b="$t0" 'BEGIN{print a-b}')
  settle "$d" "$mode" "$t0"
  c1=$(cpu_ticks "${PID[$d]}"); r1=$(cpu_ticks "$RCV_PID")
  local waited; waited=$(hot_wait_ms "$w0" "$(sched_snap "${PID[$d]}")")
  R_SENT=$(echo "$out" | sed -n 's/.*sent=\([0-9]*\).*/\1/p'); R_SENT=${R_SENT:-0}
  R_RATE=$(echo "$out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p'); R_RATE=${R_RATE:-0}
  count_out "$d" "$SEQ" "$((R_SENT > 0 ? R_SENT : 1))"
  SEQ=$((SEQ + n))
  R_DELIV=$C_DISTINCT
  R_CPU=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.3f", (b - a) / hz}')
  R_LOSS=$(awk -v s="$R_SENT" -v d="$R_DELIV" 'BEGIN{ if (s <= 0) print 1; else printf "%.6f", (s - d) / s }')
  R_OK=$(awk -v l="$R_LOSS" -v m="$LOSS_MAX" -v s="$R_SENT" 'BEGIN{ print (s > 0 && l < m) ? 1 : 0 }')
  R_TPUT=$(awk -v d="$R_DELIV" -v t="$T_DONE" 'BEGIN{ if (t <= 0) t = 0.001; printf "%.0f", d / t }')
  local extra=""
  is_px "$d" && extra=" receiver_cpu=$(awk -v a="$r0" -v b="$r1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b - a) / hz}')s$(batch_delta "$d" "$mode" "$bc0")"
  [ "$C_DUPS" -gt 0 ] && extra="$extra dups=$C_DUPS"
  local sn1; sn1=$(softnet_drops); [ "$sn1" != "$sn0" ] && extra="$extra kernel_backlog_drops=$((sn1 - sn0))"
  log "$d $mode target=$rate sent=$R_SENT offered=${R_RATE}/s delivered=$R_DELIV loss=$(awk -v l="$R_LOSS" 'BEGIN{printf "%.3f", 100*l}')%" \
      "cpu=${R_CPU}s ($(per_m "$R_CPU" "$R_DELIV") s/1M) done_in=$(fnum "$T_DONE" 2)s hot_thread_runq_wait=${waited}ms$extra"
  [ "$R_SENT" -gt 0 ] || log "$d: generator failed: $out"
  reset_out "$d"
}
per_m() { awk -v c="$1" -v d="$2" 'BEGIN{ if (d <= 0) print "n/a"; else printf "%.2f", c * 1e6 / d }'; }

# warm-up and sanity: a few messages over each transport must arrive
sanity() {
  local d=$1 m
  for m in udp tcp tcp-octet; do
    trial "$d" "$m" 1000 200 >/dev/null
    [ "$R_DELIV" = 200 ] || { log "$d: sanity check over $m delivered $R_DELIV of 200"; return 1; }
  done
}

# max_rate D: sets MAXR (msgs/s) and MAXR_BOUND ("" or ">=" when sender-bound)
udp_n() { awk -v r="$1" -v s="$UDP_SECS" 'BEGIN{printf "%d", r * s}'; }
max_rate() {
  local d=$1 lo=0 hi guess i mid
  MAXR_BOUND=""; MAXR=0
  # rates below are the generator's achieved (offered) rates, which on a loaded machine can fall
  # short of the target: a pass proves the achieved rate, a failure bounds from above
  trial "$d" udp max 100000000 "$UDP_SECS"
  hi=$R_RATE
  if [ "$R_OK" = 1 ]; then MAXR=$R_RATE; MAXR_BOUND=">="; return; fi
  # first guess: what it delivered while overloaded, a little less
  guess=$(awk -v x="$R_DELIV" -v s="$UDP_SECS" -v h="$hi" 'BEGIN{g = 0.9 * x / s; if (g > 0.9 * h) g = 0.9 * h; if (g < 1000) g = 1000; printf "%d", g}')
  for i in 1 2 3 4; do
    alive "$d" || return
    trial "$d" udp "$guess" "$(udp_n "$guess")"
    if [ "$R_OK" = 1 ]; then lo=$(lower "$guess" "$R_RATE"); break; fi
    hi=$(lower "$guess" "$R_RATE"); guess=$(awk -v g="$hi" 'BEGIN{printf "%d", g * 0.6}')
  done
  [ "$lo" = 0 ] && { MAXR=0; return; }
  for i in 1 2 3 4 5 6; do
    alive "$d" || return
    awk -v l="$lo" -v h="$hi" 'BEGIN{exit !((h - l) / h > 0.03)}' || break
    mid=$(awk -v l="$lo" -v h="$hi" 'BEGIN{printf "%d", (l + h) / 2}')
    trial "$d" udp "$mid" "$(udp_n "$mid")"
    if [ "$R_OK" = 1 ]; then lo=$(lower "$mid" "$R_RATE"); else hi=$(lower "$mid" "$R_RATE"); fi
    awk -v l="$lo" -v h="$hi" 'BEGIN{exit !(l >= h)}' && hi=$(awk -v l="$lo" 'BEGIN{printf "%d", l * 1.02}')
  done
  # confirmation: two more runs at the found rate must pass too, else step down 5 % (up to 7 times:
  # a daemon whose loss comes in bursts passes single runs well above what it sustains)
  local found=$lo bisect_lo=$lo
  for i in 1 2 3 4 5 6 7 8; do
    local okc=0 _
    for _ in 1 2; do
      alive "$d" || return
      trial "$d" udp "$lo" "$(udp_n "$lo")"
      [ "$R_OK" = 1 ] || break
      okc=$((okc + 1)); found=$(lower "$found" "$R_RATE")
    done
    [ $okc = 2 ] && { MAXR=$found; return; }
    lo=$(awk -v l="$lo" 'BEGIN{printf "%d", l * 0.95}'); found=$lo
  done
  log "$d: no rate passed its two confirmation runs (noisy machine?); reporting the bisection's best single pass"
  MAXR=$bisect_lo
}
lower() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%d", (b + 0 < a + 0) ? b : a}'; }

# ---- run ----
case " $PEERS " in *" syslog-ng "*|*" rsyslog "*)
  bash "$ROOT/test/bench/ingest-peers.sh" >"$T/peers.log" 2>&1 || { log "peer setup incomplete:"; sed 's/^/  /' "$T/peers.log"; } ;;
esac
log "message size $SIZE B; daemon on CPU $DCPU, generator on CPU $GCPU; UDP rcvbuf $RCVBUF (rmem_max $RMEM_MAX); ${UDP_SECS}s per UDP run; TCP $TCP_N msgs x $TCP_RUNS"
read -r LOAD1 _ </proc/loadavg
awk -v l="$LOAD1" 'BEGIN{exit !(l > 1.0)}' &&
  log "warning: load average $LOAD1 before the run: other processes compete for the CPUs, so rates come out low and noisy (CPU per message much less so)"
DAEMONS=()
for d in proxy $PEERS; do
  if "start_$d" && sanity "$d"; then
    DAEMONS+=("$d")
    log "$d: pid ${PID[$d]}, UDP socket receive buffer $(ss -H -ulmn "sport = :${UDP_PORT[$d]}" | grep -o 'rb[0-9]*' | head -n1)"
  else
    log "$d: not benchmarked"
    [ -n "${LOGF[$d]:-}" ] && tail -n 5 "${LOGF[$d]}" 2>/dev/null | sed 's/^/  /'
    [ "$d" = proxy ] && log "(the proxy is counted through its bytefreezer_proxy_records_total and the receiver's bytefreezer_receiver_lines_total metrics)"
    stop_pid "${PID[$d]:-}"; unset "PID[$d]"
  fi
done

# a daemon that died stops being measured; its figures stay "n/a"
alive() {
  kill -0 "${PID[$1]}" 2>/dev/null && return 0
  [ -n "${DEAD[$1]:-}" ] && return 1
  DEAD[$1]=1
  log "$1 exited during the benchmark; its remaining figures are n/a. Last lines of ${LOGF[$1]}:"
  tail -n 5 "${LOGF[$1]}" 2>/dev/null | sed 's/^/  /'
  return 1
}
declare -A DEAD=() UDP_MAX=() UDP_BOUND=() UDP_CPU=() UDP_CPU_NOCOMP=() TCP_TPUT=() TCP_CPU=() OCT_TPUT=() OCT_CPU=()
START=$(now)
for d in "${DAEMONS[@]}"; do
  log "== $d: UDP max rate"
  max_rate "$d"
  alive "$d" && [ "$MAXR" -gt 0 ] || continue
  UDP_MAX[$d]=$MAXR; UDP_BOUND[$d]=$MAXR_BOUND
  log "$d: UDP max rate ${MAXR_BOUND}$MAXR msgs/s"
done

# CPU per message at one rate every daemon sustains (80 % of the lowest max rate), median of 3
COMMON=$(for d in "${!UDP_MAX[@]}"; do echo "${UDP_MAX[$d]}"; done | sort -g | head -n1)
COMMON=$(awk -v c="${COMMON:-0}" 'BEGIN{printf "%d", c * 0.8}')
if [ "$COMMON" -gt 0 ]; then
  for d in "${DAEMONS[@]}"; do
    alive "$d" || continue
    log "== $d: UDP CPU at $COMMON msgs/s"
    runs=()
    for i in 1 2 3; do
      trial "$d" udp "$COMMON" "$(awk -v r="$COMMON" 'BEGIN{printf "%d", r * 3}')"
      [ "$R_SENT" -gt 0 ] && runs+=("$(per_m "$R_CPU" "$R_DELIV")")
    done
    alive "$d" && UDP_CPU[$d]=$(median "${runs[@]}")
  done
  # like for like: the proxy writing uncompressed batches, as the peers write uncompressed files
  if [ -n "${PID[proxy]:-}" ]; then
    if start_proxy-nocomp && sanity proxy-nocomp; then
      log "== proxy-nocomp (batch.codec none): UDP CPU at $COMMON msgs/s"
      runs=()
      for i in 1 2 3; do
        trial proxy-nocomp udp "$COMMON" "$(awk -v r="$COMMON" 'BEGIN{printf "%d", r * 3}')"
        [ "$R_SENT" -gt 0 ] && runs+=("$(per_m "$R_CPU" "$R_DELIV")")
      done
      alive proxy-nocomp && UDP_CPU_NOCOMP[proxy]=$(median "${runs[@]}")
    else
      log "proxy-nocomp: not benchmarked"
    fi
    stop_pid "${PID[proxy-nocomp]:-}"; unset "PID[proxy-nocomp]"
  fi
fi

for d in "${DAEMONS[@]}"; do
  for m in tcp tcp-octet; do
    alive "$d" || continue
    log "== $d: TCP $m throughput"
    tp=(); cp=()
    for ((i = 0; i < TCP_RUNS; i++)); do
      trial "$d" "$m" max "$TCP_N"
      [ "$R_SENT" -gt 0 ] || continue
      [ "$R_DELIV" = "$R_SENT" ] || log "$d: TCP lost $((R_SENT - R_DELIV)) messages"
      tp+=("$R_TPUT"); cp+=("$(per_m "$R_CPU" "$R_DELIV")")
    done
    alive "$d" || continue
    if [ $m = tcp ]; then TCP_TPUT[$d]=$(median "${tp[@]}"); TCP_CPU[$d]=$(median "${cp[@]}")
    else OCT_TPUT[$d]=$(median "${tp[@]}"); OCT_CPU[$d]=$(median "${cp[@]}"); fi
  done
done
log "measured in $(awk -v a="$(now)" -v b="$START" 'BEGIN{printf "%.0f", a - b}') s; UDP CPU figures at $COMMON msgs/s"

# ---- report ----
# line FIGURE ARRAY HIGHER_IS_BETTER(1|0)
line() {
  local fig=$1 higher=$3 ours peer pv ratio bound=""
  local -n arr=$2
  ours=${arr[proxy]:-n/a}
  [ "$2" = UDP_MAX ] && bound=${UDP_BOUND[proxy]:-}
  for peer in $PEERS; do
    pv=${arr[$peer]:-n/a}
    local pb=""; [ "$2" = UDP_MAX ] && pb=${UDP_BOUND[$peer]:-}
    ratio=$(awk -v o="$ours" -v p="$pv" -v h="$higher" 'BEGIN{
      if (o !~ /^[0-9.]+$/ || p !~ /^[0-9.]+$/ || o + 0 <= 0 || p + 0 <= 0) { print "n/a"; exit }
      printf "%.2f", h ? o / p : p / o }')
    # a sender-bound figure is a lower bound, so the ratio is one too (ours) or an upper bound (peer's)
    if [ "$ratio" != n/a ]; then
      if [ -n "$bound" ] && [ -n "$pb" ]; then ratio="~$ratio"
      elif [ -n "$bound" ]; then ratio=">=$ratio"
      elif [ -n "$pb" ]; then ratio="<=$ratio"; fi
    fi
    echo "BENCH|$fig|$bound$ours|$peer|$pb$pv|$ratio"
  done
}
line "UDP syslog max rate <0.1% loss, 1 core (msgs/s)" UDP_MAX 1
line "UDP syslog CPU-s per 1M msgs, common rate (ratio peer/ours)" UDP_CPU 0
for peer in $PEERS; do UDP_CPU_NOCOMP[$peer]=${UDP_CPU[$peer]:-}; done
line "UDP syslog CPU-s per 1M msgs, common rate, proxy with batch.codec none (uncompressed, like the peers' files)" UDP_CPU_NOCOMP 0
line "TCP syslog LF-framed throughput, 1 conn (msgs/s)" TCP_TPUT 1
line "TCP syslog LF-framed CPU-s per 1M msgs (ratio peer/ours)" TCP_CPU 0
line "TCP syslog octet-counted 5424 throughput, 1 conn (msgs/s)" OCT_TPUT 1
line "TCP syslog octet-counted CPU-s per 1M msgs (ratio peer/ours)" OCT_CPU 0

# how much of the proxy's output went out uncompressed (writer behind the inputs), over all its runs
for m in udp tcp; do
  if [ -n "${PID[proxy]:-}" ] && alive proxy; then
    bc=$(batch_counts proxy $m)
    echo "BENCH|proxy batches sent uncompressed over all its $m runs (%)|$(awk -v r="${bc% *}" -v a="${bc#* }" 'BEGIN{ if (a > 0) printf "%.0f", 100 * r / a; else print "n/a" }')|-|-|-"
  fi
done

# the issue's goal: at least 2x the better peer
best_ratio() { # ARRAY HIGHER_IS_BETTER -> ratio against the better peer, or n/a
  local -n a=$1
  local peer vals=()
  for peer in $PEERS; do vals+=("${a[$peer]:-n/a}"); done
  printf '%s\n' "${vals[@]}" | awk -v o="${a[proxy]:-n/a}" -v h="$2" '
    $1 ~ /^[0-9.]+$/ && $1 > 0 { if (!n++ || (h ? $1 > b : $1 < b)) b = $1 }
    END { if (!n || o !~ /^[0-9.]+$/ || o <= 0) print "n/a"; else printf "%.2f", h ? o / b : b / o }'
}
g=""
for f in "UDP-rate UDP_MAX 1" "UDP-CPU UDP_CPU 0" "TCP-rate TCP_TPUT 1" "TCP-CPU TCP_CPU 0"; do
  set -- $f
  r=$(best_ratio "$2" "$3"); [ "$r" = n/a ] || r="${r}x"
  g="$g $1=$r"
done
log "against the better peer (goal >= 2x):$g"
exit 0
