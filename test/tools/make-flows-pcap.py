#!/usr/bin/env python3
"""Write a pcap of known flows (TCP both ways, UDP DNS, UDP over IPv6, TCP in VLAN 42) with timestamps
just after now, and the expected per-flow values as JSON.  Usage: make-flows-pcap.py OUT.pcap EXPECT.json
Used by test/integration/proxy_flows_decode.sh and test/e2e (replayed by softflowd / pmacctd)."""
import json, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def eth(t, vlan=None):
    h = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01'
    if vlan is not None: h += struct.pack('!HH', 0x8100, vlan)
    return h + struct.pack('!H', t)
def ip4(src, dst, proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
def ip6(src, dst, nh, payload):
    return (struct.pack('!IHBB', 0x60000000, len(payload), nh, 64) + socket.inet_pton(socket.AF_INET6, src)
            + socket.inet_pton(socket.AF_INET6, dst) + payload)
def tcp(sp, dp, flags, n): return struct.pack('!HHIIBBHHH', sp, dp, 1, 0, 0x50, flags, 8192, 0, 0) + b'x' * n
def udp(sp, dp, n): return struct.pack('!HHHH', sp, dp, 8 + n, 0) + b'y' * n
t0 = time.time() + 5
flows = [  # name, ip version, src, dst, proto, sport, dport, packets, IP bytes per packet, vlan, start offset
    ('tcp_fwd', 4, '10.1.0.1', '10.2.0.2', 6, 40001, 80, 5, 100, None, 0.0),
    ('tcp_rev', 4, '10.2.0.2', '10.1.0.1', 6, 80, 40001, 3, 60, None, 0.05),
    ('udp_dns', 4, '10.1.0.3', '10.2.0.4', 17, 5353, 53, 2, 80, None, 0.5),
    ('udp_v6', 6, '2001:db8::10', '2001:db8::20', 17, 6000, 7000, 4, 88, None, 0.7),
    ('tcp_vlan', 4, '10.5.0.1', '10.6.0.2', 6, 1234, 443, 2, 52, 42, 1.1),
]
pkts, expect = [], []
for name, v, src, dst, proto, sp, dp, n, size, vlan, off in flows:
    for i in range(n):
        if v == 4:
            l4 = tcp(sp, dp, 0x18, size - 40) if proto == 6 else udp(sp, dp, size - 28)
            frame = eth(0x800, vlan) + ip4(src, dst, proto, l4)
        else:
            frame = eth(0x86dd, vlan) + ip6(src, dst, proto, udp(sp, dp, size - 48))
        pkts.append((t0 + off + i * 0.1, frame))
    expect.append(dict(name=name, src=src, dst=dst, proto=proto, sport=sp, dport=dp, packets=n, bytes=n * size,
                       vlan=vlan, first_ms=int((t0 + off) * 1000), last_ms=int((t0 + off + (n - 1) * 0.1) * 1000),
                       frame=size + 14 + (4 if vlan is not None else 0)))
pkts.sort(key=lambda x: x[0])
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for ts, d in pkts:
        f.write(struct.pack('<IIII', int(ts), int(round((ts % 1) * 1e6)) % 1000000, len(d), len(d)) + d)
json.dump(expect, open(sys.argv[2], 'w'))
