/**
 * TCP transport for BGP: outgoing connections with an optional source address, IP TTL (eBGP
 * multihop / GTSM) and RFC 2385 TCP-MD5, and a listener that can carry per-peer MD5 keys.
 * Node's `net` has no TTL or TCP_MD5SIG setter for TCP sockets, so the socket is created through
 * libc with koffi (`socket`, `setsockopt`, `bind`) and handed to `net.Socket` / `net.Server` by fd.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { ipBytes } from './wire.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const IP_TTL = 2;
const IP_MINTTL = 21;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MINHOPCOUNT = 73;
const TCP_MD5SIG = 14;

interface Libc {
  socket: (d: number, t: number, p: number) => number;
  setsockopt: (fd: number, level: number, name: number, val: Buffer, len: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  close: (fd: number) => number;
  errno: () => number;
}

let libc: Libc | undefined;

/** Loads libc through koffi on first use (so plain sessions never need the FFI). */
function getLibc(): Libc {
  if (libc) return libc;
  const require = createRequire(import.meta.url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as {
    load(n: string): { func(sig: string): (...a: unknown[]) => number };
    errno(): number;
  };
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int, int, int)');
  const setsockopt = lib.func('int setsockopt(int, int, int, void *, uint32_t)');
  const bind = lib.func('int bind(int, void *, uint32_t)');
  const close = lib.func('int close(int)');
  libc = {
    socket: (d, t, p) => socket(d, t, p),
    setsockopt: (fd, l, n, v, len) => setsockopt(fd, l, n, v, len),
    bind: (fd, a, len) => bind(fd, a, len),
    close: (fd) => close(fd),
    errno: () => koffi.errno(),
  };
  return libc;
}

/** Encodes a sockaddr_in / sockaddr_in6 (IPv4 addresses become v4-mapped when `family6`). */
export function sockaddr(address: string, port: number, family6 = net.isIPv6(address)): Buffer {
  if (!family6) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    Buffer.from(address.split('.').map(Number)).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  const a = net.isIPv4(address) ? `::ffff:${address}` : address;
  ipBytes(a).copy(b, 8);
  return b;
}

function check(rc: number, what: string): void {
  if (rc !== 0) throw new Error(`${what} failed (errno ${getLibc().errno()})`);
}

/** Sets (or, with an empty key, removes) the RFC 2385 key for `peer` on socket `fd`. */
export function setMd5Key(fd: number, peer: string, key: string, socketIs6: boolean): void {
  const k = Buffer.from(key, 'utf8');
  if (k.length > 80) throw new Error('password: TCP-MD5 keys are at most 80 bytes');
  const s = Buffer.alloc(216);
  sockaddr(peer, 0, socketIs6).copy(s, 0);
  s.writeUInt16LE(k.length, 130);
  k.copy(s, 136);
  check(getLibc().setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, s, s.length), `setsockopt(TCP_MD5SIG) for ${peer}`);
}

/** Sets the outgoing IP TTL / hop limit, and optionally the GTSM minimum TTL, on `fd`. */
export function setTtl(fd: number, ttl: number, socketIs6: boolean, minTtl?: number): void {
  const v = Buffer.alloc(4);
  v.writeInt32LE(ttl);
  const lc = getLibc();
  if (socketIs6) check(lc.setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, v, 4), 'setsockopt(IPV6_UNICAST_HOPS)');
  // For v4-mapped peers on an IPv6 socket the IPv4 TTL applies too; ignore failures there.
  const rc = lc.setsockopt(fd, IPPROTO_IP, IP_TTL, v, 4);
  if (!socketIs6) check(rc, 'setsockopt(IP_TTL)');
  if (minTtl !== undefined) {
    v.writeInt32LE(minTtl);
    if (socketIs6) check(lc.setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, v, 4), 'setsockopt(IPV6_MINHOPCOUNT)');
    else check(lc.setsockopt(fd, IPPROTO_IP, IP_MINTTL, v, 4), 'setsockopt(IP_MINTTL)');
  }
}

/** The fd behind a connected `net.Socket` (Linux/libuv), or -1. */
export function socketFd(s: net.Socket | net.Server): number {
  const h = (s as unknown as { _handle?: { fd?: number } })._handle;
  return typeof h?.fd === 'number' ? h.fd : -1;
}

/** Options of an outgoing BGP connection. */
export interface DialOptions {
  host: string;
  port: number;
  localAddress?: string | undefined;
  /** IP TTL for the session (1 for directly connected eBGP, 255 for GTSM); default: OS default. */
  ttl?: number | undefined;
  /** GTSM (RFC 5082): drop segments arriving with a TTL below this. */
  minTtl?: number | undefined;
  /** RFC 2385 shared key. */
  password?: string | undefined;
}

/** Opens a TCP connection; `connect` fires on the returned socket as usual. */
export function dial(o: DialOptions): net.Socket {
  if (!o.password && o.ttl === undefined && o.minTtl === undefined) {
    const s = net.connect(o.localAddress ? { host: o.host, port: o.port, localAddress: o.localAddress } : { host: o.host, port: o.port });
    return s;
  }
  const lc = getLibc();
  const v6 = net.isIPv6(o.host);
  const fd = lc.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket() failed (errno ${lc.errno()})`);
  try {
    if (o.password) setMd5Key(fd, o.host, o.password, v6);
    if (o.ttl !== undefined || o.minTtl !== undefined) setTtl(fd, o.ttl ?? 64, v6, o.minTtl);
    if (o.localAddress) {
      const sa = sockaddr(o.localAddress, 0, v6);
      check(lc.bind(fd, sa, sa.length), `bind(${o.localAddress})`);
    }
  } catch (e) {
    lc.close(fd);
    throw e;
  }
  const s = new net.Socket({ fd, readable: true, writable: true });
  s.connect({ host: o.host, port: o.port });
  return s;
}

/** A listening socket that accepts BGP connections and can hold per-peer MD5 keys. */
export class Listener {
  /** The underlying Node server (emits accepted sockets to the constructor's callback). */
  readonly server: net.Server;
  private fd = -1;
  private is6 = false;

  /** @param onConnection called with every accepted socket */
  constructor(onConnection: (s: net.Socket) => void) {
    this.server = net.createServer({ noDelay: true }, onConnection);
  }

  /**
   * Starts listening. When `withFd` is true (needed for MD5), the socket is created through libc
   * so keys can be added before and after listen().
   */
  listen(port: number, address: string, withFd: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      this.server.once('error', onErr);
      const done = (): void => {
        this.server.off('error', onErr);
        resolve();
      };
      if (!withFd) {
        this.is6 = net.isIPv6(address);
        this.server.listen({ port, host: address }, done);
        return;
      }
      const lc = getLibc();
      this.is6 = net.isIPv6(address);
      const fd = lc.socket(this.is6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return reject(new Error(`socket() failed (errno ${lc.errno()})`));
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      lc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
      const sa = sockaddr(address, port, this.is6);
      if (lc.bind(fd, sa, sa.length) !== 0) {
        const err = lc.errno();
        lc.close(fd);
        return reject(new Error(`bind(${address}:${port}) failed (errno ${err})`));
      }
      this.fd = fd;
      this.server.listen({ fd }, done);
    });
  }

  /** Port actually bound. */
  port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Installs (or removes with '') the MD5 key for `peer` on the listening socket. */
  setPeerKey(peer: string, key: string): void {
    const fd = this.fd >= 0 ? this.fd : socketFd(this.server);
    if (fd < 0) throw new Error('listener has no fd for TCP_MD5SIG');
    setMd5Key(fd, peer, key, this.is6);
  }

  /** True when the listener was created through libc (MD5-capable). */
  get md5Capable(): boolean {
    return this.fd >= 0;
  }

  /** Stops accepting connections; resolves once the listening socket is closed. */
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
