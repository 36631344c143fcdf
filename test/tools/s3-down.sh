#!/bin/sh
# Stop what s3-up.sh started (by pid files).
D=${1:-/tmp/bf-s3}
for f in "$D"/swift/*.pid "$D"/moto.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
exit 0
