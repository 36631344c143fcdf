#!/usr/bin/env bash
# docs/CONFIG.md must equal what the daemons' config tables generate now.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BF_BIN:-$ROOT/build/bin}
T=${BF_TMP:-/tmp/bf-test}; mkdir -p "$T"
sh "$ROOT/test/tools/gen-config-doc.sh" "$BIN" >"$T/CONFIG.md"
if ! diff -u "$ROOT/docs/CONFIG.md" "$T/CONFIG.md"; then
  echo "FAIL: docs/CONFIG.md is out of date: run sh test/tools/gen-config-doc.sh > docs/CONFIG.md"; exit 1
fi
# the example configuration files are valid for the daemons
for d in proxy receiver piper packer; do
  "$BIN/bytefreezer-$d" -c "$ROOT/infra/config/$d.yaml" --check-config >"$T/check-$d.txt" 2>&1 \
    || { echo "FAIL: infra/config/$d.yaml: $(cat "$T/check-$d.txt")"; exit 1; }
done
echo "ok: docs/CONFIG.md current; example configs valid"
