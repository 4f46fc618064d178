/** IP-sharing state of the allocator: per-IP records, port keys, sharing-key rules and the sharing-key index. */
import type { PoolInfo } from './pool-index.js';
import type { IPFamily, ServicePort } from './types.js';

/** The two keys that decide whether services may share an IP. */
export interface SharingKey {
  /** `metallb.io/allow-shared-ip` value (`''` = no sharing). */
  sharing: string;
  /** Backend key (selector for externalTrafficPolicy Local, else `''`). */
  backend: string;
}

/** A (protocol, port) pair as a Map key: a number for integer ports 0…65535, else the `proto/port` text. */
export type PortKey = number | string;

/** A service's port keys: a single key inline (the common case, no array), or a list. */
export type PortKeys = PortKey | readonly PortKey[];

/** The keys as a list. */
export const portKeyList = (k: PortKeys): readonly PortKey[] => (typeof k === 'object' ? k : [k]);

/** True when the keys contain `pk`. */
export const hasPortKey = (k: PortKeys, pk: PortKey): boolean => (typeof k === 'object' ? k.includes(pk) : k === pk);

/** True when there is no port. */
export const noPorts = (k: PortKeys): boolean => typeof k === 'object' && k.length === 0;

/** One service's recorded allocation; it is its own {@link SharingKey} (no separate key object per allocation). */
export interface Alloc extends SharingKey {
  /** Service key. */
  key: string;
  /** Pool name. */
  pool: string;
  /** First IP record (the IPv4 one for dual-stack). */
  e0: IpEntry;
  /** Second IP record (IPv6) for dual-stack, else undefined. */
  e1: IpEntry | undefined;
  /** Port keys of the service's ports: one key inline, or a list (never mutated; empty list for no ports). */
  portKeys: PortKeys;
}

/** Services on an IP once a second one joined: arrival order and port key → service. */
export interface Group {
  /** Services in arrival order. */
  members: Map<string, Alloc>;
  /** Port key → service holding it. */
  ports: Map<PortKey, string>;
}

/**
 * What is recorded for one IP in use. A single service is kept in `solo`; from the second service on a
 * {@link Group} takes over, so the common unshared IP costs no Map.
 */
export interface IpEntry {
  /** Family. */
  family: IPFamily;
  /** IPv4 value (0 for IPv6). */
  n: number;
  /** IPv6 value (0n for IPv4). */
  b: bigint;
  /** Canonical text. */
  text: string;
  /** The pool holding the IP (its counters are bumped when the record is created or dropped). */
  info: PoolInfo;
  /** Recorded sharing key; undefined = the IP counts as free. */
  sk: SharingKey | undefined;
  /** The only service, while no second one has joined. */
  solo: Alloc | undefined;
  /** Services and ports, once a second service joined. */
  group: Group | undefined;
}

/** IP records of an allocation, IPv4 first. */
export const entriesOf = (a: Alloc): IpEntry[] => (a.e1 ? [a.e0, a.e1] : [a.e0]);

/** True when both keys are equal. */
export const sameKey = (x: SharingKey, y: SharingKey): boolean => x.sharing === y.sharing && x.backend === y.backend;

/** `proto/port` text used in error messages. */
export const portText = (p: ServicePort): string => `${p.protocol}/${p.port}`;

/** Index id of a sharing key. */
export const sharingId = (sk: SharingKey): string => `${sk.sharing}\u0000${sk.backend}`;

/** Interns protocol names so that (protocol, port) pairs become small numbers. */
export class PortKeyer {
  private protos = new Map<string, number>();

  /** Key of one pair (never allocates for integer ports of a known protocol). */
  key(p: ServicePort): PortKey {
    const port = p.port;
    if (Number.isInteger(port) && port >= 0 && port <= 65535) {
      let id = this.protos.get(p.protocol);
      if (id === undefined && this.protos.size < 4096) this.protos.set(p.protocol, (id = this.protos.size));
      if (id !== undefined) return id * 65536 + port;
    }
    return portText(p);
  }

  private static readonly NONE: readonly PortKey[] = Object.freeze([]);

  /** Keys of a port list, in order; a single port gives its key inline. */
  keys(ports: readonly ServicePort[]): PortKeys {
    if (ports.length === 0) return PortKeyer.NONE;
    if (ports.length === 1) return this.key(ports[0]!);
    const out: PortKey[] = new Array<PortKey>(ports.length);
    for (let i = 0; i < ports.length; i++) out[i] = this.key(ports[i]!);
    return out;
  }
}

/** MetalLB `sharingOK`: undefined when a service with `next` may join an IP recorded with `existing`. */
export function sharingOK(existing: SharingKey, next: SharingKey): string | undefined {
  if (existing.sharing === '') return 'existing service does not allow sharing';
  if (next.sharing === '') return 'new service does not allow sharing';
  if (existing.sharing !== next.sharing) return `sharing key ${JSON.stringify(next.sharing)} does not match ${JSON.stringify(existing.sharing)}`;
  if (existing.backend !== next.backend) return `backend key ${JSON.stringify(next.backend)} does not match ${JSON.stringify(existing.backend)}`;
  return undefined;
}

/** Services on the IP, in arrival order. */
export function servicesOfEntry(e: IpEntry): string[] {
  if (e.solo) return [e.solo.key];
  return e.group ? [...e.group.members.keys()] : [];
}

/** Services other than `svc` on the IP. */
export function othersOn(e: IpEntry, svc: string): string[] {
  return servicesOfEntry(e).filter((s) => s !== svc);
}

/** The service holding port key `pk` on the IP, or undefined. */
export function portHolder(e: IpEntry, pk: PortKey): string | undefined {
  if (e.solo) return hasPortKey(e.solo.portKeys, pk) ? e.solo.key : undefined;
  return e.group?.ports.get(pk);
}

/** Records one more service on the IP (switching to a {@link Group} on the second one). */
export function addService(e: IpEntry, a: Alloc): void {
  if (!e.solo && !e.group) { e.solo = a; return; }
  if (e.solo) {
    const s = e.solo;
    const g: Group = { members: new Map([[s.key, s]]), ports: new Map() };
    for (const pk of portKeyList(s.portKeys)) g.ports.set(pk, s.key);
    e.group = g;
    e.solo = undefined;
  }
  const g = e.group!;
  g.members.set(a.key, a);
  for (const pk of portKeyList(a.portKeys)) g.ports.set(pk, a.key);
}

/** Removes a service from the IP; returns true when no ports remain held on it. */
export function removeService(e: IpEntry, a: Alloc): boolean {
  if (e.solo) {
    if (e.solo.key === a.key) e.solo = undefined;
    return e.solo === undefined || noPorts(e.solo.portKeys);
  }
  const g = e.group!;
  for (const pk of portKeyList(a.portKeys)) if (g.ports.get(pk) === a.key) g.ports.delete(pk);
  g.members.delete(a.key);
  return g.ports.size === 0;
}

/** Number of services on the IP. */
export function serviceCount(e: IpEntry): number {
  return e.solo ? 1 : e.group ? e.group.members.size : 0;
}

/** Distinct port keys of a list. */
export function distinctKeys(k: PortKeys): readonly PortKey[] {
  if (typeof k !== 'object') return [k];
  return k.length <= 1 ? k : [...new Set(k)];
}

/** Distinct port keys held on the IP. */
export function heldPortKeys(e: IpEntry): readonly PortKey[] {
  if (e.solo) return distinctKeys(e.solo.portKeys);
  return e.group ? [...e.group.ports.keys()] : [];
}

interface KeyRecord {
  ipv4: IpEntry[];
  ipv6: IpEntry[];
  /** Port key → number of this key's IPv4 IPs holding it. */
  p4: Map<PortKey, number>;
  /** Port key → number of this key's IPv6 IPs holding it. */
  p6: Map<PortKey, number>;
}

/**
 * IPs with a non-empty sharing key, per key id and family, sorted by address (for lowest-first candidate
 * search), plus how many of them hold each port: when every IP of a key already holds one of a new service's
 * ports, none can take it and the candidate scan is skipped (many services with one key and one port stay O(1)).
 */
export class SharedIndex {
  private m = new Map<string, KeyRecord>();

  private static pos(list: IpEntry[], e: IpEntry): number {
    let lo = 0;
    let hi = list.length;
    if (e.family === 'ipv4') {
      while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid]!.n < e.n) lo = mid + 1; else hi = mid; }
    } else {
      while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid]!.b < e.b) lo = mid + 1; else hi = mid; }
    }
    return lo;
  }

  /** Adds the IP under `id`, counting the ports it holds. */
  add(id: string, e: IpEntry, held: readonly PortKey[]): void {
    let f = this.m.get(id);
    if (!f) this.m.set(id, (f = { ipv4: [], ipv6: [], p4: new Map(), p6: new Map() }));
    const list = f[e.family];
    const i = SharedIndex.pos(list, e);
    if (list[i] === e) return;
    list.splice(i, 0, e);
    SharedIndex.count(e.family === 'ipv4' ? f.p4 : f.p6, held, 1);
  }

  /** Removes the IP from `id`, uncounting the ports it holds. */
  delete(id: string, e: IpEntry, held: readonly PortKey[]): void {
    const f = this.m.get(id);
    if (!f) return;
    const list = f[e.family];
    const i = SharedIndex.pos(list, e);
    if (list[i] !== e) return;
    list.splice(i, 1);
    SharedIndex.count(e.family === 'ipv4' ? f.p4 : f.p6, held, -1);
    if (f.ipv4.length === 0 && f.ipv6.length === 0) this.m.delete(id);
  }

  /** Counts ports that started (d = 1) or stopped (d = -1) being held on an IP of `id`. */
  ports(id: string, family: IPFamily, pks: readonly PortKey[], d: number): void {
    const f = this.m.get(id);
    if (f) SharedIndex.count(family === 'ipv4' ? f.p4 : f.p6, pks, d);
  }

  private static count(m: Map<PortKey, number>, pks: readonly PortKey[], d: number): void {
    for (const pk of pks) {
      const v = (m.get(pk) ?? 0) + d;
      if (v === 0) m.delete(pk); else m.set(pk, v);
    }
  }

  /** True when every IP of `id` in the family holds one of these ports (so none can take a new service with them). */
  saturated(id: string, family: IPFamily, pks: PortKeys): boolean {
    const f = this.m.get(id);
    if (!f) return false;
    const n = f[family].length;
    if (n === 0) return false;
    const m = family === 'ipv4' ? f.p4 : f.p6;
    if (typeof pks !== 'object') return m.get(pks) === n;
    for (const pk of pks) if (m.get(pk) === n) return true;
    return false;
  }

  /** The sorted IPs recorded under `id` for a family (read-only view). */
  list(id: string, family: IPFamily): readonly IpEntry[] | undefined {
    return this.m.get(id)?.[family];
  }

  /** First position in `list` whose IPv4 value is >= n. */
  static lowerBound4(list: readonly IpEntry[], n: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid]!.n < n) lo = mid + 1; else hi = mid; }
    return lo;
  }

  /** First position in `list` whose IPv6 value is >= b. */
  static lowerBound6(list: readonly IpEntry[], b: bigint): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid]!.b < b) lo = mid + 1; else hi = mid; }
    return lo;
  }
}
