#!/usr/bin/env python3
"""Fake ByteFreezer control service for tests (the only allowed fake; stdlib only).

Usage: fake-control.py --port N --fixtures DIR --log FILE [--key KEY] [--host 127.0.0.1]

* GET /api/v1/<path>  answers the JSON file DIR/<path>.json (query string ignored; the request
  log keeps it), 404 {"error":"not found"} when there is none. Fixture files are read on every
  request, so a test changes the service's answers by rewriting them.
* Every /api/v1 call except GET /api/v1/health needs "Authorization: Bearer KEY" (401 otherwise).
* Piper file locks (POST /api/v1/piper/locks/files, POST .../release) and packer tenant locks
  (POST /api/v1/packer/locks/tenants, POST .../tenants/<t>/release) are kept in memory with
  their TTL: 409 when held by someone else.
* Other POST/PUT/DELETE calls (reports, metrics, errors) answer 200 {"success": true}.
* GET /__fail makes every /api/v1 answer 503 until GET /__recover. GET /__ping answers "ok".
* Every request is appended to --log as one JSON line: method, path, query, auth, body.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, unquote

STATE = {"fail": False, "file_locks": {}, "tenant_locks": {}}
LOCK = threading.Lock()


def lock_take(table, key, owner, ttl):
    now = time.time()
    with LOCK:
        cur = table.get(key)
        if cur and cur["owner"] != owner and cur["expires"] > now:
            return 409, {"success": False, "error": "locked", "locked_by": cur["owner"]}
        table[key] = {"owner": owner, "expires": now + ttl}
        return 200, {"success": True, "lock_id": "%s@%s" % (key, owner), "ttl": ttl}


def lock_release(table, key, owner):
    now = time.time()
    with LOCK:
        cur = table.get(key)
        if not cur or cur["expires"] <= now:
            table.pop(key, None)
            return 404, {"success": False, "error": "not locked"}
        if cur["owner"] != owner:
            return 409, {"success": False, "error": "held by another owner"}
        del table[key]
        return 200, {"success": True}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-control/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, path, query, body):
        entry = {"method": self.command, "path": path, "query": query,
                 "auth": self.headers.get("Authorization"), "body": body}
        with LOCK:
            with open(self.server.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n <= 0:
            return None
        raw = self.rfile.read(n)
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def handle_any(self):
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        body = self.read_body()
        self.record(path, query, body)
        if path == "/__ping":
            return self.send_json(200, {"ok": True})
        if path == "/__fail":
            STATE["fail"] = True
            return self.send_json(200, {"fail": True})
        if path == "/__recover":
            STATE["fail"] = False
            return self.send_json(200, {"fail": False})
        if not path.startswith("/api/v1/"):
            return self.send_json(404, {"error": "not found"})
        if STATE["fail"]:
            return self.send_json(503, {"error": "unavailable (test failure mode)"})
        if path == "/api/v1/health" and self.command == "GET":
            return self.send_json(200, {"status": "healthy"})
        if self.headers.get("Authorization") != "Bearer " + self.server.key:
            return self.send_json(401, {"error": "unauthorized"})
        if self.command == "GET":
            return self.serve_fixture(path)
        return self.handle_write(path, body if isinstance(body, dict) else {})

    def serve_fixture(self, path):
        rel = unquote(path[len("/api/v1/"):]).strip("/")
        if ".." in rel.split("/"):
            return self.send_json(400, {"error": "bad path"})
        f = os.path.join(self.server.fixtures, rel + ".json")
        if not os.path.isfile(f):
            return self.send_json(404, {"error": "not found"})
        with open(f) as fh:
            try:
                obj = json.load(fh)
            except ValueError as e:
                return self.send_json(500, {"error": "bad fixture: %s" % e})
        return self.send_json(200, obj)

    def handle_write(self, path, body):
        if path == "/api/v1/piper/locks/files" and self.command == "POST":
            st, obj = lock_take(STATE["file_locks"], body.get("file_key", ""), body.get("locked_by", ""),
                                int(body.get("lock_duration_seconds") or 600))
            return self.send_json(st, obj)
        if path == "/api/v1/piper/locks/files/release" and self.command == "POST":
            st, obj = lock_release(STATE["file_locks"], body.get("file_key", ""), body.get("locked_by", ""))
            return self.send_json(st, obj)
        if path == "/api/v1/packer/locks/tenants" and self.command == "POST":
            st, obj = lock_take(STATE["tenant_locks"], body.get("tenant_id", ""), body.get("locked_by", ""),
                                int(body.get("lock_duration_seconds") or 600))
            if st == 200:
                obj = {"lock": {"tenant_id": body.get("tenant_id"), "locked_by": body.get("locked_by"),
                                "ttl": obj["ttl"]}}
            return self.send_json(st, obj)
        if path.startswith("/api/v1/packer/locks/tenants/") and path.endswith("/release"):
            tenant = unquote(path[len("/api/v1/packer/locks/tenants/"):-len("/release")])
            st, obj = lock_release(STATE["tenant_locks"], tenant, body.get("locked_by", ""))
            return self.send_json(st, obj)
        return self.send_json(200, {"success": True})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


def main():
    ap = argparse.ArgumentParser(description="fake control service for tests")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--key", default="test-control-key")
    a = ap.parse_args()
    try:
        srv = ThreadingHTTPServer((a.host, a.port), Handler)
    except OSError as e:
        print("fake-control: cannot listen on %s:%d: %s" % (a.host, a.port, e), file=sys.stderr)
        return 2
    srv.daemon_threads = True
    srv.fixtures = os.path.abspath(a.fixtures)
    srv.log_path = a.log
    srv.key = a.key
    print("fake-control listening on %s:%d" % (a.host, a.port), file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
