#!/usr/bin/env python3
"""Steady HTTP-input load with sequence-numbered records.

loadgen.py URL SECONDS ACKED_FILE [RATE_BATCHES_PER_S] [BATCH]
POSTs NDJSON batches of BATCH records {"seq":N,"run":...} to the proxy's HTTP input. A batch answered 200
is acknowledged: its sequence numbers are appended to ACKED_FILE (one per line). Anything else (503 when
the spool is full, connection refused while the proxy is down) is counted as rejected and never retried
with the same numbers, so ACKED_FILE is exactly what the pipeline promised to keep.
"""
import http.client, sys, time, urllib.parse, json, os

url, seconds, acked_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 50
u = urllib.parse.urlparse(url)
seq = 0
sent = acked = rejected = 0
codes = {}
deadline = time.time() + seconds
with open(acked_path, "w") as acked_f:
    while time.time() < deadline:
        t0 = time.time()
        first = seq
        lines = []
        for _ in range(batch):
            seq += 1
            # random padding: compresses poorly, so an outage really fills the spool quota
            lines.append(json.dumps({"seq": seq, "kind": "fault", "pad": os.urandom(60).hex()}))
        body = ("\n".join(lines) + "\n").encode()
        sent += batch
        code = "err"
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            c.request("POST", u.path, body, {"Content-Type": "application/x-ndjson"})
            r = c.getresponse(); r.read(); code = r.status
            c.close()
        except OSError:
            pass
        codes[code] = codes.get(code, 0) + 1
        if code == 200:
            acked += batch
            acked_f.write("".join(f"{n}\n" for n in range(first + 1, seq + 1)))
            acked_f.flush()
        else:
            rejected += batch
        dt = 1.0 / rate - (time.time() - t0)
        if dt > 0:
            time.sleep(dt)
print(json.dumps({"sent": sent, "acked": acked, "rejected": rejected, "codes": {str(k): v for k, v in codes.items()}}))
