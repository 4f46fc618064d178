/**
 * BGPPeer (metallb.io v1beta2, v1beta1 converts field-for-field) parsing with the rules of
 * MetalLB's `peerFromCR`, the CRD's validation (ranges, CEL rules on connectTime) and the
 * password Secret lookup (`passwordFromSecretForPeer`).
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../duration.js';
import { parseIP } from '../ip.js';
import { matchAny } from '../labels.js';
import { keyOf, type BGPPeer, type LabelSelector, type Node, type Secret } from '../types.js';
import type { PeerConfig } from '../config.js';
import { bool, err, isObj, selectors, uint, type Ctx } from './fields.js';

/** Options of {@link parsePeers}. */
export interface PeerParseOptions {
  namespace: string;
  /** BFDProfile names defined. */
  bfdProfiles: ReadonlySet<string>;
  /** Secrets of the namespace (for `spec.passwordSecret`). */
  secrets: readonly Secret[];
  nodes: readonly Node[];
  /**
   * Skip checks of references to objects that may be created later (a missing BFDProfile or
   * password Secret): MetalLB's webhooks do the same (`resetTransientErrorsFields`).
   */
  lenientReferences: boolean;
}

/** The Secret type MetalLB requires for BGP passwords. */
export const BASIC_AUTH = 'kubernetes.io/basic-auth';

/** The `password` key of a Secret (`stringData` wins, `data` is base64), or undefined. */
export function secretPassword(s: Secret): string | undefined {
  const sd = s.stringData?.password;
  if (typeof sd === 'string') return sd;
  const d = s.data?.password;
  if (typeof d !== 'string') return undefined;
  return Buffer.from(d, 'base64').toString('utf8');
}

/**
 * A digest of what `parseConfig` reads from Secrets (name, type, password), so a configuration
 * signature notices a changed password without holding it in clear text.
 */
export function secretsDigest(secrets: readonly Secret[]): string {
  const h = createHash('sha256');
  for (const s of secrets) h.update(JSON.stringify([s.metadata?.namespace ?? '', s.metadata?.name ?? '', s.type ?? '', secretPassword(s) ?? null]));
  return h.digest('hex');
}

function durationField(c: Ctx, v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' ? parseDuration(v) : null;
  if (ms === null) {
    err(c, field, `invalid duration ${JSON.stringify(v)}`);
    return undefined;
  }
  return ms;
}

function nodeNames(sels: LabelSelector[], nodes: readonly Node[]): Set<string> {
  return new Set(nodes.filter((n) => matchAny(sels, n.metadata?.labels)).map((n) => n.metadata?.name ?? ''));
}

/** Parses one BGPPeer; returns undefined when its name is missing (the error is recorded). */
function parsePeer(c: Ctx, o: BGPPeer, name: string, opts: PeerParseOptions): PeerConfig | undefined {
  const s = o.spec as Record<string, unknown> | undefined;
  if (!isObj(s)) {
    err(c, 'spec', 'missing spec');
    return undefined;
  }
  if (s.interface !== undefined && s.interface !== '')
    err(c, 'spec.interface', 'unnumbered BGP sessions (interface) are not supported by lbkit: set spec.peerAddress');
  const myASN = uint(c, s.myASN, 'spec.myASN', 0xffffffff);
  if (!myASN) err(c, 'spec.myASN', 'missing local ASN');
  const peerASN = uint(c, s.peerASN, 'spec.peerASN', 0xffffffff) ?? 0;
  const localASN = uint(c, s.localASN, 'spec.localASN', 0xffffffff, 1);
  let dynamicASN: 'internal' | 'external' | undefined;
  if (s.dynamicASN !== undefined && s.dynamicASN !== '') {
    if (s.dynamicASN === 'internal' || s.dynamicASN === 'external') dynamicASN = s.dynamicASN;
    else err(c, 'spec.dynamicASN', `invalid dynamicASN ${JSON.stringify(s.dynamicASN)}: must be internal or external`);
  }
  if (!peerASN && s.dynamicASN === undefined) err(c, 'spec.peerASN', 'missing peer ASN and dynamicASN');
  if (peerASN && s.dynamicASN !== undefined && s.dynamicASN !== '') err(c, 'spec.dynamicASN', 'both peer ASN and dynamicASN specified');
  const addr = typeof s.peerAddress === 'string' ? parseIP(s.peerAddress) : null;
  if (!addr && (s.interface === undefined || s.interface === '')) err(c, 'spec.peerAddress', s.peerAddress === undefined ? 'peer has no Address or Interface specified' : `invalid peer IP ${JSON.stringify(s.peerAddress)}`);
  const port = uint(c, s.peerPort, 'spec.peerPort', 16384, 1) ?? 179;
  if (s.sourceAddress !== undefined && s.sourceAddress !== '' && !parseIP(String(s.sourceAddress))) err(c, 'spec.sourceAddress', `invalid source IP ${JSON.stringify(s.sourceAddress)}`);
  if (s.routerID !== undefined && s.routerID !== '' && parseIP(String(s.routerID))?.family !== 'ipv4') err(c, 'spec.routerID', `invalid router ID ${JSON.stringify(s.routerID)}`);

  // timers (MetalLB parseTimers): each derives from the other; hold rounded to seconds
  const holdMs = durationField(c, s.holdTime, 'spec.holdTime');
  const kaMs = durationField(c, s.keepaliveTime, 'spec.keepaliveTime');
  let hold: number;
  let ka: number;
  if (holdMs === undefined && kaMs === undefined) {
    hold = 90;
    ka = 30;
  } else {
    hold = Math.floor((holdMs ?? kaMs! * 3) / 1000);
    ka = Math.floor((kaMs ?? (holdMs ?? 0) / 3) / 1000);
    if (hold !== 0 && hold < 3) err(c, 'spec.holdTime', `invalid hold time ${hold}s: must be 0 or >= 3s`);
    if ((kaMs ?? (holdMs ?? 0) / 3) > (holdMs ?? kaMs! * 3)) err(c, 'spec.keepaliveTime', `keepalive ${ka}s must be lower than the hold time ${hold}s`);
  }
  // connectTime: the CRD's CEL rules (1..65535 s, whole seconds)
  const ctMs = durationField(c, s.connectTime, 'spec.connectTime');
  let connectTime: number | undefined;
  if (ctMs !== undefined) {
    if (ctMs < 1000 || ctMs >= 65536_000) err(c, 'spec.connectTime', 'connect time should be between 1 seconds to 65535');
    else if (ctMs % 1000 !== 0) err(c, 'spec.connectTime', 'connect time should contain a whole number of seconds');
    else connectTime = ctMs / 1000;
  }

  const ebgpMultiHop = bool(c, s.ebgpMultiHop, 'spec.ebgpMultiHop') ?? false;
  if (ebgpMultiHop && myASN !== undefined && myASN === peerASN) err(c, 'spec.ebgpMultiHop', 'invalid ebgpMultiHop parameter set for an ibgp peer');
  const enableGracefulRestart = bool(c, s.enableGracefulRestart, 'spec.enableGracefulRestart') ?? false;
  const dualStackAddressFamily = bool(c, s.dualStackAddressFamily, 'spec.dualStackAddressFamily') ?? false;
  bool(c, s.disableMP, 'spec.disableMP');
  if (s.vrf !== undefined && typeof s.vrf !== 'string') err(c, 'spec.vrf', 'must be a string');
  if (s.bfdProfile !== undefined && typeof s.bfdProfile !== 'string') err(c, 'spec.bfdProfile', 'must be a string');
  else if (s.bfdProfile && !opts.lenientReferences && !opts.bfdProfiles.has(s.bfdProfile)) err(c, 'spec.bfdProfile', `BFDProfile ${JSON.stringify(s.bfdProfile)} not found`);

  // password: inline or from a basic-auth Secret of the namespace, never both
  let password: string | undefined;
  if (s.password !== undefined && typeof s.password !== 'string') err(c, 'spec.password', 'must be a string');
  else if (s.password) password = s.password;
  let passwordSecret: { name: string; namespace?: string } | undefined;
  if (s.passwordSecret !== undefined && s.passwordSecret !== null) {
    const ps = s.passwordSecret;
    if (!isObj(ps) || (ps.name !== undefined && typeof ps.name !== 'string') || (ps.namespace !== undefined && typeof ps.namespace !== 'string'))
      err(c, 'spec.passwordSecret', 'must be a secret reference {name, namespace}');
    else if (ps.name) {
      passwordSecret = { name: ps.name as string };
      if (ps.namespace) passwordSecret.namespace = ps.namespace as string;
      if (password !== undefined) err(c, 'spec.passwordSecret', `can not have both password and secret ref set in peer config "${opts.namespace}"/"${name}"`);
      const sec = opts.secrets.find((x) => x.metadata?.name === ps.name && (x.metadata?.namespace ?? opts.namespace) === opts.namespace);
      if (!sec) {
        if (!opts.lenientReferences) err(c, 'spec.passwordSecret.name', `secret ref not found for peer config "${opts.namespace}"/"${name}": no Secret ${JSON.stringify(ps.name)} of type ${BASIC_AUTH} in namespace ${opts.namespace}`);
      } else if (sec.type !== BASIC_AUTH) {
        err(c, 'spec.passwordSecret.name', `secret type mismatch on "${keyOf(sec)}", type "${BASIC_AUTH}" is expected`);
      } else {
        const pw = secretPassword(sec);
        if (pw === undefined) err(c, 'spec.passwordSecret.name', `password not specified in the secret "${keyOf(sec)}"`);
        else if (password === undefined) password = pw;
      }
    }
  }

  const peer: PeerConfig = {
    name,
    myASN: myASN ?? 0,
    peerASN,
    peerAddress: addr ? String(s.peerAddress).trim() : '',
    peerPort: port,
    holdTime: hold,
    keepaliveTime: ka,
    ebgpMultiHop,
    nodeSelectors: selectors(c, s.nodeSelectors, 'spec.nodeSelectors'),
    enableGracefulRestart,
    dualStackAddressFamily,
  };
  if (dynamicASN) peer.dynamicASN = dynamicASN;
  if (localASN !== undefined) peer.localASN = localASN;
  if (connectTime !== undefined) peer.connectTime = connectTime;
  if (typeof s.vrf === 'string' && s.vrf) peer.vrf = s.vrf;
  if (typeof s.routerID === 'string' && s.routerID) peer.routerID = s.routerID;
  if (typeof s.sourceAddress === 'string' && s.sourceAddress) peer.sourceAddress = s.sourceAddress;
  if (password !== undefined) peer.password = password;
  if (passwordSecret) peer.passwordSecret = passwordSecret;
  if (typeof s.bfdProfile === 'string' && s.bfdProfile) peer.bfdProfile = s.bfdProfile;
  return peer;
}

/**
 * Parses every BGPPeer. Two peers with the same address (and VRF) that share a node are rejected
 * (two sessions to one router from one node cannot coexist).
 */
export function parsePeers(list: readonly BGPPeer[], meta: (c: Ctx, o: BGPPeer) => string | undefined, errs: Ctx['errs'], opts: PeerParseOptions): PeerConfig[] {
  const out: PeerConfig[] = [];
  const nodesOf = new Map<PeerConfig, Set<string>>();
  for (const o of list) {
    const c: Ctx = { errs, kind: 'BGPPeer', key: keyOf(o) };
    const name = meta(c, o);
    if (!name) continue;
    const p = parsePeer(c, o, name, opts);
    if (!p) continue;
    const id = p.vrf ? `${p.peerAddress}-${p.vrf}` : p.peerAddress;
    const mine = nodeNames(p.nodeSelectors, opts.nodes);
    const clash = out.find((q) => (q.vrf ? `${q.peerAddress}-${q.vrf}` : q.peerAddress) === id && (opts.nodes.length === 0 || [...nodesOf.get(q)!].some((n) => mine.has(n))));
    if (clash && id) err(c, 'spec.peerAddress', `peer ${id} already exists (${clash.name}) on the same nodes`);
    nodesOf.set(p, mine);
    out.push(p);
  }
  return out;
}
