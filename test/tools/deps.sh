#!/bin/sh
# make deps: idempotent install of everything the build and the tests need on Debian 12 (as root).
set -eu
PKGS="build-essential pkgconf libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libzstd-dev zlib1g-dev
 libyaml-dev libpcre2-dev libmaxminddb-dev mmdb-bin libssl-dev libcmocka-dev libsnappy-dev clang libclang-rt-14-dev
 swift swift-proxy swift-account swift-container swift-object memcached zstd gzip curl jq
 libmaxmind-db-writer-perl rsyslog softflowd pmacct tcpdump iproute2 procps prometheus nodejs npm"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node/npm may come from outside Debian on the base image: accept any working npm.
if command -v npm >/dev/null 2>&1; then missing=$(echo "$missing" | tr ' ' '\n' | grep -v -x -e nodejs -e npm | tr '\n' ' '); fi
missing=$(echo $missing)
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then echo "deps: missing packages: $missing (run as root)" >&2; exit 1; fi
  echo "deps: installing $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # rsyslog's postinst may try to start a service; there is no init here, which is fine.
  apt-get install -y -q --no-install-recommends $missing >/tmp/bf-deps-apt.log 2>&1 || { tail -30 /tmp/bf-deps-apt.log >&2; exit 1; }
fi
# npm packages for the Parquet readers and infra checks, into test/node (ignored by git).
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$here/test/node/node_modules/.bf-installed" ] || [ "$here/test/node/package.json" -nt "$here/test/node/node_modules/.bf-installed" ]; then
  (cd "$here/test/node" && npm install --no-audit --no-fund --loglevel=error >/tmp/bf-deps-npm.log 2>&1) || { tail -30 /tmp/bf-deps-npm.log >&2; exit 1; }
  touch "$here/test/node/node_modules/.bf-installed"
fi
echo "deps: ok"
