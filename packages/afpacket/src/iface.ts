import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** Information about one network interface of the current network namespace. */
export interface InterfaceInfo {
  name: string;
  index: number;
  mac: string;
  mtu: number;
  /** Raw IFF_* flags from `/sys/class/net/<if>/flags`. */
  flags: number;
  /** IFF_UP is set (administratively up). */
  up: boolean;
  /** Kernel operstate (`up`, `down`, `unknown`, ...). */
  operstate: string;
  /** Carrier present (false when unknown or down). */
  carrier: boolean;
  ipv4: string[];
  ipv6: string[];
}

function readSys(ifname: string, file: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${ifname}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Reads interface information from `/sys/class/net/<ifname>` and `os.networkInterfaces()`
 * (both reflect the calling process's network namespace). Returns `undefined` if it does not exist.
 */
export function interfaceInfo(ifname: string): InterfaceInfo | undefined {
  if (!/^[^/\0\s]{1,15}$/.test(ifname)) throw new TypeError(`interfaceInfo: invalid interface name "${ifname}"`);
  const index = readSys(ifname, 'ifindex');
  if (index === undefined) return undefined;
  const flags = parseInt(readSys(ifname, 'flags') ?? '0', 16);
  const addrs = networkInterfaces()[ifname] ?? [];
  return {
    name: ifname,
    index: Number(index),
    mac: (readSys(ifname, 'address') ?? '').toLowerCase(),
    mtu: Number(readSys(ifname, 'mtu') ?? 0),
    flags,
    up: (flags & 1) !== 0,
    operstate: readSys(ifname, 'operstate') ?? 'unknown',
    carrier: readSys(ifname, 'carrier') === '1',
    ipv4: addrs.filter((a) => a.family === 'IPv4').map((a) => a.address),
    ipv6: addrs.filter((a) => a.family === 'IPv6').map((a) => a.address),
  };
}
