#!/usr/bin/env bash
# Dockerfiles: dockerfile-utils lint is clean; the runtime stage installs a Debian package for every
# shared library `ldd` reports for the built binary; non-root user, HEALTHCHECK via --healthcheck and the
# daemon's ports are EXPOSEd.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BF_BIN:-$ROOT/build/bin}
LINT=$ROOT/test/node/node_modules/.bin/dockerfile-utils
fail=0
declare -A PORTS=([receiver]="8080 8081" [proxy]="8008" [piper]="8082" [packer]="8083")
for d in receiver proxy piper packer; do
  f="$ROOT/$d/Dockerfile"
  [ -x "$BIN/bytefreezer-$d" ] || { echo "FAIL $d: $BIN/bytefreezer-$d not built"; fail=1; continue; }
  out=$("$LINT" lint "$f" 2>&1) || { echo "FAIL $d/Dockerfile lint: $out"; fail=1; }
  [ -z "$out" ] || { echo "FAIL $d/Dockerfile lint output: $out"; fail=1; }
  runtime=$(awk '/^FROM /{n++} n==2' "$f")
  pkgs=$(echo "$runtime" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
  # packages the runtime stage gets: those listed plus everything they depend on (apt's closure)
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
      --no-enhances --no-pre-depends $(echo "$pkgs" | grep -E '^lib|^zlib|^ca-certificates') 2>/dev/null | grep -E '^[a-z0-9]' | sed 's/:.*//' | sort -u)
  missing=""
  for lib in $(ldd "$BIN/bytefreezer-$d" | awk '/=>/ {print $3}'); do
    real=$(readlink -f "$lib")
    pkg=""
    for cand in "$real" "$lib" "${lib#/usr}" "/usr$lib" "${real#/usr}" "/usr$real"; do
      pkg=$(dpkg -S "$cand" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$pkg" ] && break
    done
    case "$pkg" in libc6|"") continue ;; esac   # libc6 is in every Debian image
    echo "$closure" | grep -qx "$pkg" || missing="$missing $pkg($(basename "$lib"))"
  done
  [ -z "$missing" ] && echo "ok   $d: every library ldd reports comes from a package the runtime stage installs" || { echo "FAIL $d: runtime stage lacks$missing"; fail=1; }
  echo "$runtime" | grep -q '^USER [0-9]' || { echo "FAIL $d: no non-root USER"; fail=1; }
  echo "$runtime" | grep -q "HEALTHCHECK .*bytefreezer-$d\", \"--healthcheck\"" || { echo "FAIL $d: HEALTHCHECK must use --healthcheck"; fail=1; }
  for p in ${PORTS[$d]}; do echo "$runtime" | grep -Eq "^EXPOSE .*\b$p\b" || { echo "FAIL $d: port $p not exposed"; fail=1; }; done
  echo "$runtime" | grep -q '^FROM debian:bookworm-slim' || { echo "FAIL $d: runtime base must be debian:bookworm-slim"; fail=1; }
done
exit $fail
