/**
 * Real-network entry point: opens the UDP + TCP {@link NetTransport}, builds a {@link Memberlist}
 * with a profile (serf or MetalLB version vectors), timings, encryption and metadata, starts it and
 * optionally joins seeds.
 */
import { defaultLANTimings, fastLANTimings, metallbProfile, serfProfile, type Profile, type Timings } from './config.js';
import type { Clock } from './clock.js';
import type { Address } from './engine/transport.js';
import { Memberlist, type Delegate } from './memberlist.js';
import { NetTransport } from './net/transport.js';
import { Keyring, metallbKey } from './security/keyring.js';
import { encodeSerfTags } from './serf/codec.js';
import { SerfDelegate } from './serf/delegate.js';

/** Options of {@link createMemberlist}. */
export interface CreateMemberlistOptions {
  /** Unique node name (MetalLB: the Kubernetes node name). */
  name: string;
  /** Address to bind UDP and TCP on (default `0.0.0.0`; then `advertise.addr` is required). */
  bindAddr?: string;
  /** Port for UDP and TCP (default 7946; 0 picks a free port usable by both). */
  bindPort?: number;
  /** Address and port announced to peers (default: the bound address and port). */
  advertise?: { addr?: string; port?: number };
  /**
   * Version vector + initial meta: `'metallb'` (default, Vsn [1,5,2,0,0,0]) to join MetalLB
   * speakers, `'serf'` (Vsn [1,5,2,2,5,5], serf tags meta, serf delegate) to join serf/Consul-style
   * clusters, or an explicit {@link Profile}. The two cannot be mixed in one cluster.
   */
  profile?: 'metallb' | 'serf' | Profile;
  /** `'lan'` (memberlist DefaultLANConfig, default), `'fast'` (sub-second detection) or overrides of the LAN timings. */
  timings?: 'lan' | 'fast' | Partial<Timings>;
  /** Encryption keys (AES-128/192/256, primary first), as a {@link Keyring} or a key list. */
  keyring?: Keyring | Uint8Array[];
  /**
   * MetalLB memberlist secret (the `secretkey` of the `memberlist` Secret); turned into the AES-256
   * key with {@link metallbKey}. Added as the primary key. An empty string means no encryption.
   */
  secretKey?: string;
  /** Label prefixed to every packet and stream (memberlist ≥ 0.3; Debian's serf 0.2.2 does not speak it). */
  label?: string;
  /** Node metadata (overrides the profile's). At most 512 bytes. */
  meta?: Uint8Array;
  /** serf tags, encoded into the metadata (serf profile; ignored when `meta` is given). */
  tags?: Record<string, string>;
  /**
   * Seeds to join right after start (`host:port`, `[v6]:port`, or addresses; default port =
   * bindPort). Events of that first join fire before the promise resolves: to see them, omit this
   * and call {@link NetMemberlist.join} after attaching listeners.
   */
  seeds?: Array<Address | string>;
  /** Application hooks (default for the serf profile: a {@link SerfDelegate}). */
  delegate?: Delegate;
  /** Compress packets and streams when it helps (default true, like Go). */
  compress?: boolean;
  /** Clock (default wall clock) and random source, for tests. */
  clock?: Clock;
  random?: () => number;
}

/** A started node on real sockets. */
export interface NetMemberlist {
  /** The engine: events (`join`, `update`, `leave`, `fail`, …), `members()`, `updateMeta()`, `broadcast()`. */
  readonly memberlist: Memberlist;
  /** The UDP + TCP transport (its `stats` count dropped input). */
  readonly transport: NetTransport;
  /** The address peers reach us at. */
  readonly address: Address;
  /** The serf delegate, when the serf profile is used without a custom delegate. */
  readonly serf: SerfDelegate | undefined;
  /** Push/pull with seeds; resolves with the number that answered, rejects when none did. */
  join(seeds: Array<Address | string>): Promise<number>;
  /** Graceful leave (serf profile: serf leave intent, then `dead{From: self}`), then close. */
  leave(timeoutMs?: number): Promise<void>;
  /** Stops without leaving (peers will detect a failure) and closes the sockets. */
  close(): void;
}

/** Parses `host:port`, `[v6]:port`, `host` or a bare IPv6 address into an {@link Address}. */
export function parseAddress(s: string, defaultPort: number): Address {
  const bad = () => new Error(`address "${s}": expected host, host:port or [ipv6]:port`);
  let host = s;
  let port = defaultPort;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else if ((s.match(/:/g) ?? []).length === 1) {
    const i = s.indexOf(':');
    host = s.slice(0, i);
    if (!/^\d+$/.test(s.slice(i + 1))) throw bad();
    port = Number(s.slice(i + 1));
  }
  if (!host) throw bad();
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`address "${s}": port ${port} out of range 1..65535`);
  return { addr: host, port };
}

function resolveProfile(p: CreateMemberlistOptions['profile']): Profile {
  if (p === undefined || p === 'metallb') return metallbProfile();
  if (p === 'serf') return serfProfile();
  if (typeof p !== 'object') throw new TypeError(`createMemberlist: options.profile must be 'metallb', 'serf' or a Profile`);
  return { ...p, meta: Uint8Array.from(p.meta) };
}

function resolveTimings(t: CreateMemberlistOptions['timings']): Timings {
  if (t === undefined || t === 'lan') return defaultLANTimings();
  if (t === 'fast') return fastLANTimings();
  if (typeof t !== 'object') throw new TypeError(`createMemberlist: options.timings must be 'lan', 'fast' or an object`);
  return { ...defaultLANTimings(), ...t };
}

/**
 * Opens the sockets, creates and starts a {@link Memberlist}, and joins `seeds` if given (a join
 * where no seed answers rejects, after closing the node).
 */
export async function createMemberlist(opts: CreateMemberlistOptions): Promise<NetMemberlist> {
  if (!opts || typeof opts.name !== 'string' || !opts.name) throw new TypeError('createMemberlist: options.name must be a non-empty string');
  const bindAddr = opts.bindAddr ?? '0.0.0.0';
  const wildcard = bindAddr === '0.0.0.0' || bindAddr === '::';
  if (wildcard && !opts.advertise?.addr) {
    throw new Error(`createMemberlist: options.advertise.addr is required when bindAddr is ${bindAddr}`);
  }
  const profile = resolveProfile(opts.profile);
  const isSerf = opts.profile === 'serf';
  if (opts.meta) profile.meta = Uint8Array.from(opts.meta);
  else if (opts.tags) profile.meta = encodeSerfTags(opts.tags);
  if (profile.meta.length > 512) throw new Error(`createMemberlist: node meta is ${profile.meta.length} bytes, memberlist allows 512`);
  const timings = resolveTimings(opts.timings);

  let keyring: Keyring | undefined;
  if (opts.keyring) keyring = opts.keyring instanceof Keyring ? opts.keyring : new Keyring(opts.keyring);
  const derived = opts.secretKey ? metallbKey(opts.secretKey) : null;
  if (derived) {
    keyring ??= new Keyring();
    keyring.addKey(derived);
    keyring.useKey(derived);
  }

  let ml: Memberlist | undefined;
  const transport = await NetTransport.create({
    bindAddr,
    bindPort: opts.bindPort ?? 7946,
    nodeName: opts.name,
    compress: opts.compress ?? true,
    // Go adds a CRC when the destination's PMax is at least 5.
    crc: (toNode) => !!toNode && !!ml && ml.protocolMax(toNode) >= 5,
    ...(keyring ? { keyring } : {}),
    ...(opts.label ? { label: opts.label } : {}),
  });
  const address: Address = {
    addr: opts.advertise?.addr ?? transport.localAddress.addr,
    port: opts.advertise?.port ?? transport.localAddress.port,
  };
  const serf = !opts.delegate && isSerf ? new SerfDelegate(opts.name) : undefined;
  const delegate = opts.delegate ?? serf;
  ml = new Memberlist({
    name: opts.name,
    transport,
    advertise: address,
    timings,
    profile,
    ...(delegate ? { delegate } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const engine = ml;
  ml.start();
  const defaultPort = opts.bindPort || 7946;
  const node: NetMemberlist = {
    memberlist: engine,
    transport,
    address,
    serf,
    join: (seeds) => engine.join(seeds.map((s) => (typeof s === 'string' ? parseAddress(s, defaultPort) : s))),
    leave: async (timeoutMs?: number) => {
      await engine.leave(timeoutMs);
      engine.shutdown();
    },
    close: () => engine.shutdown(),
  };
  if (opts.seeds?.length) {
    try {
      await node.join(opts.seeds);
    } catch (err) {
      node.close();
      throw err;
    }
  }
  return node;
}
