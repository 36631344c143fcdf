#!/usr/bin/env bash
# Makes the syslog peers of the ingest benchmark available (idempotent, safe to run again):
#  - rsyslog: the Debian package (installed with apt-get when missing).
#  - syslog-ng: Conflicts with rsyslog in Debian (both Provide system-log-daemon), so its
#    syslog-ng-core .deb is downloaded with apt-get and unpacked with dpkg -x into build/peers/sng
#    (never installed, never committed); only its runtime libraries are apt-installed.
# Prints the paths it set up. Exit 0 when both peers are usable; 1 when one of them could not be
# prepared (the benchmark then skips that peer).
set -u
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PEERS=${BF_PEERS:-$ROOT/build/peers}
SNG=$PEERS/sng
mkdir -p "$PEERS"
export DEBIAN_FRONTEND=noninteractive
rc=0

updated=0
apt_install() { # packages...: installs those not yet installed; one apt-get update at most
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $updated -eq 0 ]; then apt-get update -qq >"$PEERS/apt.log" 2>&1; updated=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$PEERS/apt.log" 2>&1 ||
    { tail -n 5 "$PEERS/apt.log" >&2; return 1; }
}

if ! command -v rsyslogd >/dev/null 2>&1; then
  apt_install rsyslog || { echo "ingest-peers: rsyslog could not be installed" >&2; rc=1; }
fi
# the zstd CLI reads the proxy's intake objects
command -v zstd >/dev/null 2>&1 || apt_install zstd || rc=1

# syslog-ng runtime libraries, then the unpacked daemon
if ! apt_install libivykis0 libjson-c5 libnet1 libpcre3 libwrap0 libglib2.0-0; then
  echo "ingest-peers: syslog-ng runtime libraries could not be installed" >&2; rc=1
fi
if [ ! -x "$SNG/usr/sbin/syslog-ng" ]; then
  rm -rf "$SNG" "$PEERS"/syslog-ng-core_*.deb
  if [ $updated -eq 0 ]; then apt-get update -qq >"$PEERS/apt.log" 2>&1; updated=1; fi
  ( cd "$PEERS" && apt-get download -qq syslog-ng-core >/dev/null 2>&1 ) &&
    dpkg -x "$PEERS"/syslog-ng-core_*.deb "$SNG" ||
    { echo "ingest-peers: could not download/unpack syslog-ng-core" >&2; rc=1; }
fi
if [ -x "$SNG/usr/sbin/syslog-ng" ]; then
  MOD=$(ls -d "$SNG"/usr/lib/syslog-ng/[0-9]* 2>/dev/null | head -n1)
  if LD_LIBRARY_PATH="$SNG/usr/lib/syslog-ng" "$SNG/usr/sbin/syslog-ng" --version >/dev/null 2>&1; then
    echo "syslog-ng: $SNG/usr/sbin/syslog-ng (modules $MOD)"
  else
    echo "ingest-peers: unpacked syslog-ng does not start (missing libraries?)" >&2; rc=1
  fi
fi
command -v rsyslogd >/dev/null 2>&1 && echo "rsyslog: $(command -v rsyslogd)"
exit $rc
