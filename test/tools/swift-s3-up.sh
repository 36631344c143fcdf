#!/bin/sh
# Start a single-node OpenStack Swift with the s3api middleware on 127.0.0.1:${PORT:-8080}.
# Needs: apt-get install -y --no-install-recommends swift swift-proxy swift-account swift-container swift-object memcached
# S3 credentials: access key "test:tester", secret "testing", region us-east-1, path-style, http.
set -eu
S=${1:-/tmp/swift-s3}; PORT=${PORT:-8080}; MC=${MCPORT:-11211}
OBJ=${OBJ_PORT:-6200}; CONT=${CONT_PORT:-6201}; ACCT=${ACCT_PORT:-6202}
mkdir -p "$S/srv/d1" "$S/etc" "$S/log"
cp /etc/swift/swift.conf "$S/etc/swift.conf"   # Debian default (hash suffix/prefix "changeme") is fine for tests
for t in account:$ACCT container:$CONT object:$OBJ; do n=${t%%:*}; p=${t##*:}
cat > "$S/etc/$n-server.conf" <<C
[DEFAULT]
devices = $S/srv
mount_check = false
bind_ip = 127.0.0.1
bind_port = $p
workers = 0
swift_dir = $S/etc
log_level = WARNING
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
C
if [ ! -f "$S/etc/$n.ring.gz" ]; then
  ( cd "$S/etc" && swift-ring-builder "$n.builder" create 10 1 1 && swift-ring-builder "$n.builder" add "r1z1-127.0.0.1:$p/d1" 100 && swift-ring-builder "$n.builder" rebalance ) >/dev/null
fi
done
cat > "$S/etc/proxy-server.conf" <<C
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PORT
workers = 0
swift_dir = $S/etc
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
C
memcached -d -P "$S/memcached.pid" -u root -l 127.0.0.1 -p "$MC" >"$S/log/memcached.log" 2>&1
for n in account container object proxy; do
  /usr/bin/swift-$n-server "$S/etc/$n-server.conf" >"$S/log/$n.log" 2>&1 & echo $! >"$S/$n.pid"
done
i=0; until curl -sf "http://127.0.0.1:$PORT/healthcheck" >/dev/null; do i=$((i+1)); [ $i -lt 300 ] || { echo "swift not ready" >&2; exit 1; }; sleep 0.1; done
echo "swift s3api ready on 127.0.0.1:$PORT after ${i}x0.1s"
# stop: for f in "$S"/*.pid; do kill "$(cat "$f")"; done
