#!/usr/bin/env python3
"""Slow HTTP client for the receiver tests: sends a request one byte per interval.

usage: receiver-slowloris.py PORT headers|body [interval_s] [give_up_s] [token]
  headers: the request headers themselves trickle in (never complete)
  body:    headers complete at once, then a 10000-byte body trickles in
Prints "cut <seconds>" when the server closed the connection, "answered <status line>" when it
answered, or "not-cut" after give_up_s. Exit code 0 in every case (the test judges the output)."""
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    mode = sys.argv[2]
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    give_up = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    token = sys.argv[5] if len(sys.argv) > 5 else "slow"
    head = b"POST /acme/fw HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
    if mode == "headers":
        prefix, trickle = b"", head + b"X-Slow: " + b"a" * 100000
    else:
        prefix, trickle = head + b"Content-Length: 10000\r\n\r\n", b"x" * 10000
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(interval)
    t0 = time.monotonic()
    try:
        if prefix:
            s.sendall(prefix)
        for i in range(len(trickle)):
            if time.monotonic() - t0 > give_up:
                print("not-cut")
                return
            s.sendall(trickle[i:i + 1])
            try:
                data = s.recv(4096)
            except socket.timeout:
                continue
            if not data:
                print("cut %.1f" % (time.monotonic() - t0))
                return
            print("answered " + data.split(b"\r\n")[0].decode(errors="replace"))
            return
    except (BrokenPipeError, ConnectionResetError):
        print("cut %.1f" % (time.monotonic() - t0))
        return
    print("not-cut")


if __name__ == "__main__":
    main()
