#!/usr/bin/env bash
# Every environment variable and secret the CloudFormation/Terraform stacks give a container is one the
# daemon reads (bytefreezer-<d> --list-env), and every port in the templates is the daemon's default.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BF_BIN:-$ROOT/build/bin}
T=${BF_TMP:-/tmp/bf-test}/infra-env; rm -rf "$T"; mkdir -p "$T"
BF_ENV_OUT="$T/envs.json" node "$ROOT/test/infra/terraform.mjs" "$ROOT" >/dev/null
fail=0
for d in receiver piper packer proxy; do
  "$BIN/bytefreezer-$d" --list-env >"$T/$d.env"
  [ -s "$T/$d.env" ] || { echo "FAIL $d: --list-env printed nothing"; fail=1; continue; }
  jq -r --arg d "$d" '.[$d][]' "$T/envs.json" >"$T/$d.given"
  n=0
  while read -r name; do
    n=$((n+1))
    grep -qx "$name" "$T/$d.env" || { echo "FAIL $d: the templates set $name, which bytefreezer-$d does not read"; fail=1; }
  done <"$T/$d.given"
  [ "$n" -gt 0 ] || { echo "FAIL $d: no environment found in the templates"; fail=1; }
  echo "ok   $d: $n variables given by the templates are read by the daemon"
  # Ports: the daemon's defaults (no config file) must be what the templates use.
  BYTEFREEZER_CONFIG_NONE=1 "$BIN/bytefreezer-$d" -c /dev/null --check-config >"$T/$d.cfg" 2>&1 || true
  case $d in
    receiver) want="admin_listen:.*:8081 listen:.*:8080" ;;
    piper) want="admin_listen:.*:8082" ;;
    packer) want="admin_listen:.*:8083" ;;
    proxy) want="admin_listen:.*:8008" ;;
  esac
  for w in $want; do
    grep -Eq "^$w\b" "$T/$d.cfg" || { echo "FAIL $d: default does not match template port ($w); --check-config said:"; head -5 "$T/$d.cfg"; fail=1; }
  done
done
exit $fail
