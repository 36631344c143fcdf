#!/bin/sh
# Start the test S3 servers on loopback and write their settings to $1/env (sourced by tests):
#   Swift + s3api (verifies SigV4): BF_TEST_S3_ENDPOINT, BF_TEST_S3_AK/SK (test:tester / testing)
#   moto_server (conditional writes):  BF_TEST_MOTO_ENDPOINT
# Stop with test/tools/s3-down.sh $1. Idempotent: a running instance is reused.
set -eu
D=${1:-/tmp/bf-s3}
mkdir -p "$D"
SWIFT_PORT=${SWIFT_PORT:-18080}; MC_PORT=${MC_PORT:-11311}; MOTO_PORT=${MOTO_PORT:-15000}
here=$(cd "$(dirname "$0")" && pwd)
if ! curl -sf "http://127.0.0.1:$SWIFT_PORT/healthcheck" >/dev/null 2>&1; then
  PORT=$SWIFT_PORT MCPORT=$MC_PORT sh "$here/swift-s3-up.sh" "$D/swift" >"$D/swift-up.log" 2>&1 || { cat "$D/swift-up.log" >&2; exit 1; }
fi
if ! curl -sf -o /dev/null "http://127.0.0.1:$MOTO_PORT/moto-api/" 2>/dev/null; then
  if command -v moto_server >/dev/null 2>&1; then
    (nohup moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$D/moto.log" 2>&1 & echo $! >"$D/moto.pid")
    i=0; until curl -sf -o /dev/null "http://127.0.0.1:$MOTO_PORT/moto-api/"; do i=$((i+1)); [ $i -lt 200 ] || { echo "moto not ready" >&2; exit 1; }; sleep 0.1; done
  fi
fi
cat >"$D/env" <<E
export BF_TEST_S3_ENDPOINT=http://127.0.0.1:$SWIFT_PORT
export BF_TEST_S3_AK=test:tester
export BF_TEST_S3_SK=testing
export BF_TEST_S3_REGION=us-east-1
export BF_TEST_SWIFT_DIR=$D/swift
export BF_TEST_MOTO_ENDPOINT=http://127.0.0.1:$MOTO_PORT
E
echo "s3 servers up: swift :$SWIFT_PORT moto :$MOTO_PORT (env in $D/env)"
