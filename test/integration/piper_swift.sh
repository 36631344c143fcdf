#!/usr/bin/env bash
# piper against the Swift S3 API (SigV4 verified): 40 objects in, NDJSON out (gzip), inputs deleted,
# metadata on the outputs; a corrupt zstd object among them ends in _dlq/ with its error record after
# max_attempts while the rest flow; and a wrong secret makes health report the store unreachable.
. "$(dirname "$0")/piper-lib.bash"
: "${BF_TEST_S3_ENDPOINT:?run under test/run-all.sh or source the s3-up env}"
W=$BF_TMP/piper_swift; rm -rf "$W"; mkdir -p "$W"
EP=$BF_TEST_S3_ENDPOINT; B=piper-swift-$$-$RANDOM; T="python3 $(dirname "$0")/piper-s3tool.py $EP $B"
$T mkbucket
cat >"$W/tenants.yaml" <<Y
tenants:
  - id: acme
    active: true
    token: "t0k"
    datasets:
      - {id: app, active: true, format: ndjson, pipeline: [{type: mutate, config: {convert: {l: string}}}]}
Y
conf() { cat >"$W/p$1.yaml" <<Y
admin_listen: "127.0.0.1:$2"
tenants: "file://$W/tenants.yaml"
store: {intake: "s3://$B/intake", piper: "s3://$B/out"}
s3: {endpoint: "$EP", region: us-east-1, path_style: true, access_key: "$BF_TEST_S3_AK", secret_key: "$3", retry_deadline: 2s}
poll_interval: 200ms
workers: 2
lease: {mode: none}
max_attempts: 3
output: {codec: gzip}
tmp_dir: "$W"
state_dir: "$W/state$1"
Y
}
conf 1 22051 "$BF_TEST_S3_SK"
$T put-ndjson intake/ acme app 0 40 25
printf '\x28\xb5\x2f\xfdnot-a-real-frame' >"$W/poison.zst"
POISON=acme/app/acme--app--1764237600999999999--raw--ffffffffffffffff.zst
$T put-raw "intake/$POISON" "$W/poison.zst"
"$PIPER" -c "$W/p1.yaml" 2>"$W/p1.log" & PIDS+=($!)
drained() { [ "$($T count intake/acme/)" = 0 ]; }
wait_for 120 drained || { tail -5 "$W/p1.log"; fail "not drained"; }
# lines are {"o","l"} with l converted to a string: verify counts via the generic checker on a copy
python3 - "$EP" "$B" <<'P' || fail "outputs"
import boto3, gzip, json, sys
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="test:tester", aws_secret_access_key="testing",
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
ks = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2], Prefix="out/").get("Contents", [])]
assert len(ks) == 40, len(ks)
dl = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2], Prefix="intake/_dlq/").get("Contents", []))
assert dl == ["intake/_dlq/acme/app/acme--app--1764237600999999999--raw--ffffffffffffffff.zst",
              "intake/_dlq/acme/app/acme--app--1764237600999999999--raw--ffffffffffffffff.zst.error.json"], dl
err = json.loads(s3.get_object(Bucket=sys.argv[2], Key=dl[1])["Body"].read())
assert err["attempts"] == 3 and "corrupt" in err["last_error"], err
assert s3.get_object(Bucket=sys.argv[2], Key=dl[0])["Body"].read().startswith(b"\x28\xb5\x2f\xfd")
n = 0
for k in ks:
    r = s3.get_object(Bucket=sys.argv[2], Key=k)
    assert r["Metadata"]["input-records"] == "25" and r["Metadata"]["output-records"] == "25", r["Metadata"]
    for line in gzip.decompress(r["Body"].read()).decode().splitlines():
        rec = json.loads(line)
        assert isinstance(rec["l"], str) and rec["BfTs"] == 1764237600000, rec
        n += 1
assert n == 1000, n
P
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || fail "exit"; PIDS=()
conf 2 22052 "wrong-secret"
"$PIPER" -c "$W/p2.yaml" 2>"$W/p2.log" & PIDS+=($!)
unhealthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:22052/api/v1/health)" = 503 ]; }
wait_for 30 unhealthy || fail "health did not report the store failure"
curl -s http://127.0.0.1:22052/api/v1/health | jq -e '.store == "unreachable"' >/dev/null || fail "health detail"
echo "piper_swift: ok"
