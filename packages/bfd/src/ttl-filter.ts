/**
 * Receive-side TTL / hop-limit checks (RFC 5881 §5 GTSM, RFC 5883 §5) for `node:dgram` sockets.
 * Node cannot read a datagram's TTL (no IP_RECVTTL), so a classic BPF socket filter is attached
 * through libc (koffi): it loads the TTL (IPv4 byte 8) or hop limit (IPv6 byte 7) of the network
 * header and lets the kernel drop what fails before it reaches the socket.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:dgram';

interface Koffi {
  load(n: string): { func(sig: string): (...a: unknown[]) => number };
  struct(name: string, def: Record<string, unknown>): unknown;
  pointer(t: unknown): unknown;
  sizeof(t: unknown): number;
  errno(): number;
}

let setsockopt: ((fd: number, level: number, name: number, prog: unknown, len: number) => number) | undefined;
let setsockoptInt: ((fd: number, level: number, name: number, v: Buffer, len: number) => number) | undefined;
let progSize = 0;
let errno: () => number = () => 0;

function load(): NonNullable<typeof setsockopt> {
  if (setsockopt) return setsockopt;
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const filter = koffi.struct('lbkit_bfd_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
  const fprog = koffi.struct('lbkit_bfd_sock_fprog', { len: 'uint16', filter: koffi.pointer(filter) });
  progSize = koffi.sizeof(fprog);
  errno = () => koffi.errno();
  const lib = koffi.load('libc.so.6');
  const f = lib.func('int setsockopt(int, int, int, const lbkit_bfd_sock_fprog *, uint32_t)');
  const g = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  setsockopt = (fd, level, name, prog, len) => f(fd, level, name, prog, len);
  setsockoptInt = (fd, level, name, v, len) => g(fd, level, name, v, len);
  return setsockopt;
}

/** The OS file descriptor of a bound dgram socket (without the deprecated `_handle` getter). */
export function socketFd(s: Socket): number {
  const sym = Object.getOwnPropertySymbols(s).find((x) => x.description === 'state symbol');
  const st = sym ? (s as unknown as Record<symbol, { handle?: { fd?: number } }>)[sym] : undefined;
  const fd = st?.handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('BFD: cannot reach the socket file descriptor');
  return fd;
}

const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SKF_NET_OFF = -0x100000;

/** The BPF program (instructions) accepting datagrams whose TTL / hop limit is ≥ `min`. */
export function ttlProgram(family: 4 | 6, min: number): Array<{ code: number; jt: number; jf: number; k: number }> {
  const off = (SKF_NET_OFF + (family === 4 ? 8 : 7)) >>> 0;
  return [
    { code: 0x30, jt: 0, jf: 0, k: off }, // ldb [net + ttl]
    { code: 0x35, jt: 0, jf: 1, k: min }, // jge #min
    { code: 0x06, jt: 0, jf: 0, k: 0xffffffff }, // accept
    { code: 0x06, jt: 0, jf: 0, k: 0 }, // drop
  ];
}

/** Attaches the TTL ≥ `min` filter to a bound socket; throws with errno when the kernel refuses. */
export function attachTtlFilter(s: Socket, family: 4 | 6, min: number): void {
  const fn = load();
  const prog = ttlProgram(family, min);
  const rc = fn(socketFd(s), SOL_SOCKET, SO_ATTACH_FILTER, { len: prog.length, filter: prog }, progSize);
  if (rc !== 0) throw new Error(`BFD: SO_ATTACH_FILTER failed (errno ${errno()})`);
}

const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;

/**
 * Sets a socket's receive buffer to `bytes`: SO_RCVBUFFORCE when privileged (beyond
 * net.core.rmem_max), SO_RCVBUF otherwise. Returns false when both were refused. Many sessions
 * on one socket need room for bursts while the event loop is busy.
 */
export function setReceiveBuffer(s: Socket, bytes: number): boolean {
  load();
  const v = Buffer.alloc(4);
  v.writeInt32LE(bytes);
  const fd = socketFd(s);
  if (setsockoptInt!(fd, SOL_SOCKET, SO_RCVBUFFORCE, v, 4) === 0) return true;
  return setsockoptInt!(fd, SOL_SOCKET, SO_RCVBUF, v, 4) === 0;
}
