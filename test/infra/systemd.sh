#!/usr/bin/env bash
# systemd units: `systemd-analyze verify` prints nothing on stderr, and the exposure score of
# `systemd-analyze security` is at most 2.5 for each unit.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BF_BIN:-$ROOT/build/bin}
T=${BF_TMP:-/tmp/bf-test}/infra-systemd; rm -rf "$T"; mkdir -p "$T"
fail=0
for u in "$ROOT"/infra/systemd/*.service; do
  n=$(basename "$u"); d=${n#bytefreezer-}; d=${d%.service}
  # verify needs the ExecStart binary to exist: point it at the built one
  sed "s|/usr/local/bin/bytefreezer-$d|$BIN/bytefreezer-$d|" "$u" >"$T/$n"
  systemd-analyze verify "$T/$n" 2>"$T/$n.err" >/dev/null || true
  if [ -s "$T/$n.err" ]; then echo "FAIL $n: systemd-analyze verify:"; cat "$T/$n.err"; fail=1; else echo "ok   $n verifies cleanly"; fi
  score=$(systemd-analyze security --offline=true "$T/$n" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  [ -n "$score" ] || { echo "FAIL $n: no exposure score"; fail=1; continue; }
  echo "     $n exposure $score"
  awk -v s="$score" 'BEGIN{exit !(s <= 2.5)}' || { echo "FAIL $n: exposure $score > 2.5"; fail=1; }
  grep -q '^Type=notify' "$u" && grep -q '^ExecReload=.*HUP' "$u" && grep -q '^StateDirectory=' "$u" \
    || { echo "FAIL $n: needs Type=notify, ExecReload with SIGHUP and StateDirectory"; fail=1; }
  if [ "$d" = proxy ]; then grep -q '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' "$u" || { echo "FAIL proxy needs CAP_NET_BIND_SERVICE only"; fail=1; }
  else grep -q '^CapabilityBoundingSet=$' "$u" || { echo "FAIL $n must have an empty capability set"; fail=1; }; fi
done
exit $fail
