# Test helper (run with /usr/bin/python3 inside the client namespace).
#   ns IFACE DSTMAC SRC VIP [slla]  -> sends one NS (unicast if DSTMAC given), prints the NA answer as JSON
#   bad IFACE DSTMAC SRC VIP        -> sends a set of malformed NS frames, prints how many
import json, sys
from scapy.all import Ether, IPv6, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, Raw, raw, sendp, srp1, conf, get_if_hwaddr
conf.verb = 0
mode, iface, dstmac, src, vip = sys.argv[1:6]
me = get_if_hwaddr(iface)
if mode == 'ns':
    p = Ether(src=me, dst=dstmac) / IPv6(src=src, dst=vip, hlim=255) / ICMPv6ND_NS(tgt=vip)
    if len(sys.argv) > 6 and sys.argv[6] == 'slla':
        p = p / ICMPv6NDOptSrcLLAddr(lladdr=me)
    r = srp1(p, iface=iface, timeout=5, filter='icmp6 and ip6[40] = 136')
    if r is None or ICMPv6ND_NA not in r:
        print(json.dumps(None)); sys.exit(0)
    na = r[ICMPv6ND_NA]
    tll = r[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in r else None
    print(json.dumps({'ethSrc': r[Ether].src, 'ethDst': r[Ether].dst, 'src': r[IPv6].src, 'dst': r[IPv6].dst, 'hlim': r[IPv6].hlim,
                      'R': int(na.R), 'S': int(na.S), 'O': int(na.O), 'tgt': na.tgt, 'tlla': tll}))
elif mode == 'bad':
    base = Ether(src=me, dst=dstmac) / IPv6(src=src, dst=vip, hlim=255)
    frames = [
        Ether(src=me, dst=dstmac) / IPv6(src=src, dst=vip, hlim=64) / ICMPv6ND_NS(tgt=vip),
        base / ICMPv6ND_NS(tgt=vip, cksum=0x1234),
        base / ICMPv6ND_NS(tgt=vip) / Raw(b'\x01\x00\x00\x00\x00\x00\x00\x00'),
        base / ICMPv6ND_NS(tgt=vip, code=3),
        base / ICMPv6ND_NS(tgt='ff02::1'),
    ]
    bs = [raw(f) for f in frames]
    t = bytearray(raw(base / ICMPv6ND_NS(tgt=vip))[:60])
    t[18:20] = (6).to_bytes(2, 'big')  # consistent IPv6 length, but a 6-byte NS (bridges drop bad IPv6 lengths)
    bs.append(bytes(t))
    import socket, time
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sk.bind((iface, 0))
    for b in bs:
        sk.send(b)  # exact bytes, no re-parsing by scapy
        time.sleep(0.01)
    print(len(bs))
