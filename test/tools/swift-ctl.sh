#!/bin/sh
# swift-ctl.sh stop|start: stop or restart the Swift proxy server only (simulates a store outage).
# Uses BF_TEST_SWIFT_DIR from the s3-up env.
set -eu
D=${BF_TEST_SWIFT_DIR:?source the s3-up env first}
case "$1" in
  stop) [ -f "$D/proxy.pid" ] && kill "$(cat "$D/proxy.pid")" 2>/dev/null; rm -f "$D/proxy.pid"
        i=0; while curl -sf "${BF_TEST_S3_ENDPOINT}/healthcheck" >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done ;;
  start) /usr/bin/swift-proxy-server "$D/etc/proxy-server.conf" >>"$D/log/proxy.log" 2>&1 & echo $! >"$D/proxy.pid"
        i=0; until curl -sf "${BF_TEST_S3_ENDPOINT}/healthcheck" >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done ;;
  *) echo "usage: swift-ctl.sh stop|start" >&2; exit 2 ;;
esac
