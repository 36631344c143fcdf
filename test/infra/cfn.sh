#!/usr/bin/env bash
# CloudFormation: cfn-lint (zero errors and warnings) on both templates, then deploy both into a private
# moto_server (fresh state) and check CREATE_COMPLETE and the resources created.
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=${BF_TMP:-/tmp/bf-test}/infra-cfn; rm -rf "$T"; mkdir -p "$T"
for t in infra/ecs/bytefreezer/cloudformation.yaml infra/ecs/proxy/cloudformation.yaml; do
  echo "cfn-lint $t"; cfn-lint "$ROOT/$t"
done
PORT=24901
moto_server -H 127.0.0.1 -p $PORT >"$T/moto.log" 2>&1 & MOTO=$!
trap 'kill $MOTO 2>/dev/null' EXIT
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/moto-api/" && break; sleep 0.1; done
python3 "$ROOT/test/infra/cfn_deploy.py" "http://127.0.0.1:$PORT" "$ROOT"
