#!/usr/bin/env python3
"""Receiver stub for proxy tests: accepts POST /<tenant>/<dataset> like bytefreezer-receiver and stores
each accepted body in DIR/<tenant>/<dataset>/<X-Proxy-Filename> plus a .headers JSON beside it.

Scripted answers exercise the proxy's retry/split/DLQ logic:
  POST /_script  body {"statuses": [500, [429, 2], 413, 410], "max_body": N}
    statuses: consumed one per data request ([code, retry_after_seconds] adds Retry-After);
              when empty, requests get 200 (or 413 when the body is over max_body, if set)
  GET /_stats    {"requests": N, "accepted": N, "by_status": {...}}
Usage: proxy-receiver-stub.py PORT DIR
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"statuses": [], "max_body": 0, "requests": 0, "accepted": 0, "by_status": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                self.answer(200, {k: STATE[k] for k in ("requests", "accepted", "by_status")})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/_script":
            conf = json.loads(body or b"{}")
            with LOCK:
                STATE["statuses"] = list(conf.get("statuses", []))
                STATE["max_body"] = int(conf.get("max_body", 0))
            self.answer(200, {"ok": True})
            return
        parts = [p for p in self.path.split("/") if p]
        if len(parts) != 2:
            self.answer(404, {"error": "want /<tenant>/<dataset>"})
            return
        with LOCK:
            STATE["requests"] += 1
            code, retry_after = 200, None
            if STATE["statuses"]:
                s = STATE["statuses"].pop(0)
                code, retry_after = (s[0], s[1]) if isinstance(s, list) else (s, None)
            elif STATE["max_body"] and len(body) > STATE["max_body"]:
                code = 413
            STATE["by_status"][str(code)] = STATE["by_status"].get(str(code), 0) + 1
            if code == 200:
                STATE["accepted"] += 1
        if code != 200:
            extra = {"Retry-After": str(retry_after)} if retry_after is not None else None
            self.answer(code, {"error": "scripted"}, extra)
            return
        name = os.path.basename(self.headers.get("X-Proxy-Filename", "") or "unnamed")
        d = os.path.join(self.server.store, parts[0], parts[1])
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        with open(path + ".headers", "w") as f:
            json.dump({k: v for k, v in self.headers.items()}, f)
        os.rename(path + ".tmp", path)
        self.answer(200, {"status": "ok", "key": f"{parts[0]}/{parts[1]}/{name}"})


def main():
    port, store = int(sys.argv[1]), sys.argv[2]
    os.makedirs(store, exist_ok=True)
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.store = store
    srv.serve_forever()


if __name__ == "__main__":
    main()
