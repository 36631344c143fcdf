#!/usr/bin/env python3
"""Small S3 helper for tests (boto3 against BF_TEST_S3_ENDPOINT, path-style, SigV4).

  s3cp.py mb BUCKET              create a bucket (ok if it exists)
  s3cp.py ls BUCKET [PREFIX]     list keys, one per line (all pages)
  s3cp.py get BUCKET KEY FILE    download
  s3cp.py put BUCKET KEY FILE    upload
  s3cp.py rm BUCKET KEY          delete
  s3cp.py sync BUCKET PREFIX DIR download every key under PREFIX into DIR/<key>
  s3cp.py head BUCKET KEY        print metadata as JSON
"""
import json, os, sys
import boto3
from botocore.config import Config

def client():
    return boto3.client("s3", endpoint_url=os.environ["BF_TEST_S3_ENDPOINT"],
                        aws_access_key_id=os.environ.get("BF_TEST_S3_AK", "test:tester"),
                        aws_secret_access_key=os.environ.get("BF_TEST_S3_SK", "testing"),
                        region_name=os.environ.get("BF_TEST_S3_REGION", "us-east-1"),
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))

def keys(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            yield o["Key"]

def main(a):
    s3 = client()
    cmd = a[0]
    if cmd == "mb":
        try:
            s3.create_bucket(Bucket=a[1])
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    elif cmd == "ls":
        for k in keys(s3, a[1], a[2] if len(a) > 2 else ""):
            print(k)
    elif cmd == "get":
        s3.download_file(a[1], a[2], a[3])
    elif cmd == "put":
        s3.upload_file(a[3], a[1], a[2])
    elif cmd == "rm":
        s3.delete_object(Bucket=a[1], Key=a[2])
    elif cmd == "head":
        h = s3.head_object(Bucket=a[1], Key=a[2])
        print(json.dumps({"size": h["ContentLength"], "etag": h["ETag"], "meta": h.get("Metadata", {})}))
    elif cmd == "sync":
        n = 0
        for k in keys(s3, a[1], a[2]):
            dst = os.path.join(a[3], k)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            s3.download_file(a[1], k, dst)
            n += 1
        print(n)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
