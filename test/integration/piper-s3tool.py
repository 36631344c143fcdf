#!/usr/bin/env python3
"""S3 helper for the piper integration tests (boto3 against the loopback moto/Swift servers).
usage: piper-s3tool.py ENDPOINT BUCKET CMD ARGS...
  mkbucket
  put-ndjson PREFIX TENANT DATASET FIRST COUNT LINES   gzip objects of LINES records {"o":n,"l":k}
  put-raw KEY FILE                                     upload a local file as is
  count PREFIX                                         number of keys under PREFIX
  wait-key PREFIX SECONDS                              exit 0 as soon as a key exists under PREFIX
  verify PREFIX OBJECTS LINES                          every (o,l) exactly once in the gzip outputs
"""
import gzip, json, sys, time, concurrent.futures
import boto3
from botocore.config import Config

ep, bucket, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s3 = boto3.client("s3", endpoint_url=ep, aws_access_key_id="test:tester", aws_secret_access_key="testing",
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))

def keys(prefix):
    out, tok = [], None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix}
        if tok: kw["ContinuationToken"] = tok
        r = s3.list_objects_v2(**kw)
        out += [o["Key"] for o in r.get("Contents", [])]
        if not r.get("IsTruncated"): return out
        tok = r["NextContinuationToken"]

def name(t, d, n):
    return "%s--%s--%019d--raw--%016x.gz" % (t, d, 1764237600000000000 + n, n)

if cmd == "mkbucket":
    s3.create_bucket(Bucket=bucket)
elif cmd == "put-ndjson":
    prefix, t, d, first, count, lines = args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5])
    def put(n):
        body = "".join(json.dumps({"o": n, "l": k, "pad": "x" * 40}) + "\n" for k in range(lines))
        s3.put_object(Bucket=bucket, Key="%s%s/%s/%s" % (prefix, t, d, name(t, d, n)), Body=gzip.compress(body.encode()))
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        list(ex.map(put, range(first, first + count)))
elif cmd == "put-raw":
    with open(args[1], "rb") as f:
        s3.put_object(Bucket=bucket, Key=args[0], Body=f.read())
elif cmd == "count":
    print(len(keys(args[0])))
elif cmd == "wait-key":
    end = time.time() + float(args[1])
    while time.time() < end:
        if s3.list_objects_v2(Bucket=bucket, Prefix=args[0], MaxKeys=1).get("KeyCount", 0): sys.exit(0)
        time.sleep(0.02)
    sys.exit(1)
elif cmd == "verify":
    prefix, objects, lines = args[0], int(args[1]), int(args[2])
    ks = [k for k in keys(prefix) if k.endswith("--ndjson.gz")]
    seen = {}
    def get(k):
        return gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()).decode().splitlines()
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        for ls in ex.map(get, ks):
            for line in ls:
                r = json.loads(line)
                seen[(r["o"], r["l"])] = seen.get((r["o"], r["l"]), 0) + 1
    dup = sum(1 for v in seen.values() if v > 1)
    print("objects=%d records=%d distinct=%d duplicates=%d" % (len(ks), sum(seen.values()), len(seen), dup))
    sys.exit(0 if len(ks) == objects and len(seen) == objects * lines and dup == 0 else 1)
else:
    sys.exit("unknown command " + cmd)
