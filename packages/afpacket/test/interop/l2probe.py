#!/usr/bin/env python3
"""Raw-socket L2 probe for the interop tests (no scapy): sends ARP requests or neighbour
solicitations built byte by byte and reports the answers as JSON on stdout.

  l2probe.py arp IFACE TARGET SENDER_IP DST_MAC|bcast COUNT WAIT_S
  l2probe.py ns IFACE TARGET SRC_IP DST_IP DST_MAC COUNT WAIT_S
  l2probe.py sniff IFACE SECONDS          (counts ARP / ICMPv6 NA frames seen)
"""
import json
import socket
import struct
import sys
import time


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(':'))


def fmt_mac(b):
    return ':'.join('%02x' % x for x in b)


def if_mac(iface):
    with open('/sys/class/net/%s/address' % iface) as f:
        return f.read().strip()


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def collect(sock, wait, match):
    out = []
    end = time.time() + wait
    sock.settimeout(0.05)
    while time.time() < end:
        try:
            f = sock.recv(2048)
        except socket.timeout:
            continue
        r = match(f)
        if r is not None:
            out.append(r)
    return out


def arp(iface, target, sender, dst, count, wait):
    me = if_mac(iface)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    s.bind((iface, 0))
    eth_dst = b'\xff' * 6 if dst == 'bcast' else mac_bytes(dst)
    frame = eth_dst + mac_bytes(me) + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac_bytes(me) + \
        socket.inet_aton(sender) + b'\0' * 6 + socket.inet_aton(target)
    for _ in range(count):
        s.send(frame)
    tgt = socket.inet_aton(target)

    def match(f):
        if len(f) >= 42 and f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x02' and f[28:32] == tgt and f[0:6] == mac_bytes(me):
            return {'sha': fmt_mac(f[22:28]), 'ethSrc': fmt_mac(f[6:12])}
        return None
    print(json.dumps({'sent': count, 'replies': collect(s, wait, match)}))


def ns(iface, target, src, dst, dst_mac, count, wait):
    me = if_mac(iface)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    s.bind((iface, 0))
    t = socket.inet_pton(socket.AF_INET6, target)
    sa = socket.inet_pton(socket.AF_INET6, src)
    da = socket.inet_pton(socket.AF_INET6, dst)
    icmp = struct.pack('!BBHI', 135, 0, 0, 0) + t + b'\x01\x01' + mac_bytes(me)
    pseudo = sa + da + struct.pack('!IxxxB', len(icmp), 58)
    c = csum(pseudo + icmp)
    icmp = icmp[:2] + struct.pack('!H', c) + icmp[4:]
    ip6 = struct.pack('!IHBB', 0x60000000, len(icmp), 58, 255) + sa + da
    frame = mac_bytes(dst_mac) + mac_bytes(me) + b'\x86\xdd' + ip6 + icmp
    for _ in range(count):
        s.send(frame)

    def match(f):
        if len(f) >= 78 and f[12:14] == b'\x86\xdd' and f[20] == 58 and f[54] == 136 and f[62:78] == t and f[0:6] == mac_bytes(me):
            return {'ethSrc': fmt_mac(f[6:12]), 'flags': f[58]}
        return None
    print(json.dumps({'sent': count, 'replies': collect(s, wait, match)}))


def sniff(iface, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE (root): hold a whole burst
    s.bind((iface, 0))
    garp, na, other = set(), set(), 0
    n_garp = n_na = 0
    end = time.time() + seconds
    s.settimeout(0.05)
    print('ready', flush=True)
    while time.time() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        if len(f) >= 42 and f[12:14] == b'\x08\x06' and f[28:32] == f[38:42]:
            n_garp += 1
            garp.add(f[28:32])
        elif len(f) >= 78 and f[12:14] == b'\x86\xdd' and f[20] == 58 and f[54] == 136:
            n_na += 1
            na.add(f[62:78])
        else:
            other += 1
    print(json.dumps({'garp': n_garp, 'garpIps': len(garp), 'na': n_na, 'naIps': len(na), 'other': other}))


if __name__ == '__main__':
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == 'arp':
        arp(a[0], a[1], a[2], a[3], int(a[4]), float(a[5]))
    elif cmd == 'ns':
        ns(a[0], a[1], a[2], a[3], a[4], int(a[5]), float(a[6]))
    elif cmd == 'sniff':
        sniff(a[0], float(a[1]))
    else:
        sys.exit('usage: l2probe.py arp|ns|sniff ...')
