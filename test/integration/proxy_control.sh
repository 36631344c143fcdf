#!/usr/bin/env bash
# Proxy with `tenants: control` against the fake control service: the datasets of
# GET /api/v1/proxy/config (original JSON shape, source.custom with the original plugin keys) become
# listeners; uploads carry the tenant's token from config.authentication.bearer_token; a dataset added
# in control starts a listener at the next registry poll; with control down (503) data keeps flowing.
set -u
. "$BF_ROOT/test/tools/proxy-lib.sh"
W=$BF_TMP/proxy_control; rm -rf "$W"; mkdir -p "$W/fx/proxy" "$W/state"
trap px_cleanup EXIT
CP=21220; SP=21221; PA=21222; P1=21223; P2=21224
fixture() { # extra dataset JSON (or empty)
  cat >"$W/fx/proxy/config.json.tmp" <<J
{"tenants": [{"tenant": {"id": "acme", "account_id": "acct1", "name": "acme", "active": true,
               "config": {"authentication": {"bearer_token": "acme-control-token"}}},
              "datasets": [{"id": "fw", "tenant_id": "acme", "name": "fw", "active": true,
                            "config": {"source": {"type": "syslog", "custom": {"port": $P1, "host": "127.0.0.1",
                                       "syslog_mode": "auto", "read_buffer_size": 1048576, "data_hint": "syslog"}}}}$1]}],
 "count": 1, "receivers": []}
J
  mv "$W/fx/proxy/config.json.tmp" "$W/fx/proxy/config.json"
}
fixture ""
python3 "$BF_ROOT/test/tools/fake-control.py" --port $CP --fixtures "$W/fx" --log "$W/control-requests.log" \
  --key ctl-key-1 >"$W/control.log" 2>&1 &
PX_PIDS+=($!)
px_wait_port $CP
px_stub "$W" $SP
cat >"$W/proxy.yaml" <<Y
admin_listen: "127.0.0.1:$PA"
tenants: control
tenants_poll: 1s
state_dir: "$W/state"
control: {url: "http://127.0.0.1:$CP", api_key: "ctl-key-1", account_id: acct1}
receiver: {url: "http://127.0.0.1:$SP"}
spool: {dir: "$W/spool", max_bytes: 64MiB}
batch: {max_age: 200ms}
Y
px_proxy "$W/proxy.yaml" "$W/proxy.log" $PA
px_wait_port $P1 udp
logger -n 127.0.0.1 -P $P1 -d --rfc3164 -t ctl "from a control-managed source"
px_wait_records "$W/stub" acme fw 1
expect_eq "$(px_records "$W/stub" acme fw | jq -r .message)" "from a control-managed source" "record"
expect_eq "$(jq -r .Authorization "$(ls "$W"/stub/acme/fw/*.headers | head -1)")" "Bearer acme-control-token" "upload token"
expect_eq "$(jq -r 'select(.path == "/api/v1/proxy/config") | .auth + " " + .query' "$W/control-requests.log" | sort -u)" \
  "Bearer ctl-key-1 account_id=acct1" "control calls (API key, account)"
ok "control-managed syslog source listening; upload with the tenant token"

fixture ', {"id": "web", "tenant_id": "acme", "name": "web", "active": true,
            "config": {"source": {"type": "tcp", "custom": {"port": '$P2', "host": "127.0.0.1", "data_format": "ndjson"}}}}'
px_wait_port $P2
python3 -c 'import socket; s=socket.create_connection(("127.0.0.1",'$P2')); s.sendall(b"{\"n\":1}\n"); s.close()'
px_wait_records "$W/stub" acme web 1
ok "dataset added in control -> listener started at the next poll"

curl -s "http://127.0.0.1:$CP/__fail" >/dev/null
sleep 2
logger -n 127.0.0.1 -P $P1 -d --rfc3164 -t ctl "control is down"
px_wait_records "$W/stub" acme fw 2
ss -Hltn "sport = :$P2" | grep -q . || die "listener lost while control is down"
ok "control down: listeners kept, data flows"
