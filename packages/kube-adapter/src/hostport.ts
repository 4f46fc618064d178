/** `HOST:PORT` handling for memberlist and BGP addresses: IPv6 hosts are always bracketed. */
import { isIP } from 'node:net';

/** A malformed `HOST:PORT`; the message names the field. */
export class HostPortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostPortError';
  }
}

/**
 * Normalises a memberlist `HOST:PORT`: IPv6 hosts come out bracketed (`[fd00::11]:7946`). An
 * unbracketed IPv6 address with a port (`fd00::11:7946`, what `$(STATUS_HOST_IP):7946` gives in a pod
 * spec on an IPv6 node) is read as address + port: a bind address always carries a port.
 * Throws {@link HostPortError} naming `field` when the value is not an address with a port.
 */
export function normalizeHostPort(value: string, field: string): string {
  const bad = () => new HostPortError(`${field}: expected HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(value)}`);
  const port = (p: string) => {
    if (!/^\d+$/.test(p) || Number(p) > 65535) throw bad();
    return p;
  };
  const br = /^\[([^\]]+)\]:([^:]+)$/.exec(value);
  if (br) {
    if (isIP(br[1]!) !== 6) throw bad();
    return `[${br[1]}]:${port(br[2]!)}`;
  }
  const i = value.lastIndexOf(':');
  if (i <= 0) throw bad();
  const host = value.slice(0, i);
  const p = port(value.slice(i + 1));
  if (host.includes(':')) {
    if (isIP(host) !== 6) throw bad();
    return `[${host}]:${p}`;
  }
  if (host.includes('[') || host.includes(']')) throw bad();
  return `${host}:${p}`;
}

/** Joins a bind address and port as memberlist expects (`[v6]:port` for IPv6). */
export function joinHostPort(addr: string, port: string | number): string {
  return isIP(addr) === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

