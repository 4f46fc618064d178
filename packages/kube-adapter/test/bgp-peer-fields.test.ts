/**
 * The FRR-mode BGPPeer fields (issue #11): `localASN`, `dynamicASN`, `vrf`, `connectTime`,
 * `enableGracefulRestart` as the BGP backends apply them. The lbkit backend is checked on the wire:
 * a TCP listener on 127.0.0.1 plays the router, decodes the OPEN lbkitd sends and counts its
 * connection attempts. Fields no backend supports leave that one session out, said naming the
 * object and the field, in the log, in `lbkitd --check` and in the webhook's warnings.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { codec } from '@lbkit/bgp';
import { afterEach, describe, expect, it } from 'vitest';
import { gobgpConfig } from '../src/adapters/gobgp-bgp.js';
import { LbkitBgpAnnouncer, lbkitPeerOptions } from '../src/adapters/lbkit-bgp.js';
import { parseConfig, type PeerConfig } from '../src/config.js';
import { sessionASNs, unsupportedPeerFields } from '../src/config/peer-support.js';
import type { Logger } from '../src/log.js';
import { checkConfigText } from '../src/validation/check.js';
import { reviewAdmission } from '../src/webhook/admission.js';
import { emptySnapshot } from '../src/types.js';
import { until as poll } from './helpers.js';

const NS = 'metallb-system';

function peerCfg(spec: Record<string, unknown>, name = 'r1'): PeerConfig {
  // the fake router listens on an ephemeral port, above the CRD's peerPort limit (16384): set after parsing
  const { peerPort, ...rest } = spec;
  spec = rest;
  const snap = { ...emptySnapshot(), bgpPeers: [{ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer' as const, metadata: { name, namespace: NS }, spec: { myASN: 64512, peerAddress: '127.0.0.1', ...spec } }] };
  const p = parseConfig(snap).peers[0]!;
  return peerPort === undefined ? p : { ...p, peerPort: peerPort as number };
}

/** A fake router: accepts connections, records each connection time and the first message (the OPEN) of each. */
async function router(): Promise<{ port: number; opens: codec.OpenMessage[]; connects: number[]; close: () => Promise<void> }> {
  const opens: codec.OpenMessage[] = [];
  const connects: number[] = [];
  const socks = new Set<Socket>();
  const srv: Server = createServer((s) => {
    connects.push(Date.now());
    socks.add(s);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
        const m = codec.decode(buf.subarray(0, buf.readUInt16BE(16)));
        if (m.type === 'open') opens.push(m);
        s.destroy(); // the router goes away: lbkitd has to come back
      }
    });
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    opens,
    connects,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

function captureLog(): Logger & { lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const l = { lines, log: (level: string, msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields }), child: () => l };
  return l as Logger & { lines: typeof lines };
}

/** Polls `fn` until it returns a value (see helpers.ts), naming `what` on timeout. */
const until = <T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> => poll(fn, ms, what);

describe('BGPPeer FRR-mode fields in the BGP backends', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  /** A fake router and an lbkit backend logging into `log`, both closed after the test. */
  const lab = async () => {
    const r = await router();
    cleanup.push(r.close);
    const log = captureLog();
    const bgp = new LbkitBgpAnnouncer({ node: 'n1', routerID: '10.0.0.9', log });
    cleanup.push(() => bgp.close());
    await bgp.start();
    return { r, log, bgp };
  };

  it('session ASNs: localASN replaces myASN on the session; dynamicASN internal expects our own AS', () => {
    expect(sessionASNs(peerCfg({ peerASN: 64513 }))).toEqual({ local: 64512, peer: 64513 });
    expect(sessionASNs(peerCfg({ peerASN: 64513, localASN: 4200000001 }))).toEqual({ local: 4200000001, peer: 64513 });
    expect(sessionASNs(peerCfg({ dynamicASN: 'internal' }))).toEqual({ local: 64512, peer: 64512 });
    expect(lbkitPeerOptions(peerCfg({ dynamicASN: 'internal' })).asn).toBe(64512);
    const o = lbkitPeerOptions(peerCfg({ peerASN: 64513, connectTime: '7s', enableGracefulRestart: true }));
    expect(o).toMatchObject({ asn: 64513, connectRetry: 7, backoff: { initialMs: 7000, maxMs: 7000 }, gracefulRestart: { restartTime: 120 } });
    const plain = lbkitPeerOptions(peerCfg({ peerASN: 64513 }));
    expect(plain.gracefulRestart).toBeUndefined();
    expect(plain.backoff).toBeUndefined();
  });

  it('lbkit backend on the wire: the OPEN carries localASN (4-octet, AS_TRANS in the 2-octet field) and the graceful-restart capability; connectTime paces the reconnects', async () => {
    const { r, log, bgp } = await lab();
    const s = peerCfg({ peerASN: 64513, peerPort: r.port, localASN: 4200000001, enableGracefulRestart: true, connectTime: '1s' });
    await bgp.update([s], new Map([[s.name, []]]));
    await until('three connection attempts', () => r.connects.length >= 3 && r.opens.length >= 1);
    const open = r.opens[0]!;
    expect(open.myAsn).toBe(23456);
    const caps = open.capabilities;
    expect(caps.find((c) => c.type === 'as4')).toMatchObject({ asn: 4200000001 });
    expect(caps.find((c) => c.type === 'graceful-restart')).toMatchObject({ restartTime: 120 });
    // connectTime 1 s: every retry 1 s later (±20 % jitter), where the default back-off doubles (1 s, 2 s, 4 s)
    const gaps = r.connects.slice(1, 3).map((t, i) => t - r.connects[i]!);
    for (const g of gaps) {
      expect(g).toBeGreaterThan(700);
      expect(g).toBeLessThan(1700);
    }
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  }, 20_000);

  it('without enableGracefulRestart the OPEN has no graceful-restart capability and the AS is myASN', async () => {
    const { r, bgp } = await lab();
    const s = peerCfg({ peerASN: 64513, peerPort: r.port });
    await bgp.update([s], new Map([[s.name, []]]));
    const open = await until('OPEN', () => r.opens[0]);
    expect(open.myAsn).toBe(64512);
    expect(open.capabilities.some((c) => c.type === 'graceful-restart')).toBe(false);
  });

  it('vrf and dynamicASN external: that session is left out with an error naming the object and the field; the others run', async () => {
    const { r, log, bgp } = await lab();
    const vrf = peerCfg({ peerASN: 64513, peerAddress: '127.0.0.2', peerPort: r.port, vrf: 'red' }, 'in-vrf');
    const ext = peerCfg({ dynamicASN: 'external', peerAddress: '127.0.0.3', peerPort: r.port }, 'any-as');
    const ok = peerCfg({ peerASN: 64513, peerPort: r.port }, 'fine');
    await bgp.update([vrf, ext, ok], new Map());
    await bgp.update([vrf, ext, ok], new Map()); // said once, not on every update
    await until('the supported session connects', () => r.opens.length >= 1);
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors.map((e) => [e.fields?.peer, e.fields?.field])).toEqual([
      ['in-vrf', 'spec.vrf'],
      ['any-as', 'spec.dynamicASN'],
    ]);
    expect(String(errors[0]!.fields?.err)).toBe(`BGPPeer ${NS}/in-vrf: spec.vrf: sessions from a host VRF ("red") are not supported by lbkit's BGP backends; this session is not established`);
    expect(String(errors[1]!.fields?.err)).toMatch(/^BGPPeer metallb-system\/any-as: spec\.dynamicASN: "external" .* set spec\.peerASN/);
    // only the supported peer dialled (127.0.0.1); nothing came from 127.0.0.2/.3
    expect(bgp.sessionStates?.().map((x) => x.peer).sort()).toEqual(['fine']);
  });

  it('gobgp backend config: local-as, peer-as for dynamicASN internal, connect-retry, graceful restart per family', () => {
    const a = peerCfg({ peerASN: 64513, localASN: 65010, connectTime: '9s', enableGracefulRestart: true }, 'a');
    const b = peerCfg({ dynamicASN: 'internal', peerAddress: '10.0.0.2' }, 'b');
    const toml = gobgpConfig([a, b], '10.0.0.9');
    const [global, na, nb] = toml.split('[[neighbors]]');
    expect(global).toContain('as = 64512');
    expect(na).toMatch(/peer-as = 64513\n\s+local-as = 65010\n/);
    expect(na).toContain('connect-retry = 9');
    expect(na).toMatch(/\[neighbors\.graceful-restart\.config\]\n\s+enabled = true\n\s+restart-time = 120/);
    expect(na!.match(/mp-graceful-restart/g)).toHaveLength(2);
    expect(nb).toContain('peer-as = 64512');
    expect(nb).not.toContain('local-as');
    expect(nb).toContain('connect-retry = 1');
    expect(nb).not.toContain('graceful-restart');
  });

  it('--check and the webhook warn (the object is valid MetalLB configuration)', () => {
    const yaml = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: red, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 10.0.0.1, vrf: red }
`;
    const r = checkConfigText(yaml);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([unsupportedPeerFields({ name: 'red', vrf: 'red' }, NS)[0]!.message]);
    const reply = reviewAdmission(
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', operation: 'CREATE', namespace: NS, kind: { kind: 'BGPPeer' }, object: { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'ext', namespace: NS }, spec: { myASN: 64512, dynamicASN: 'external', peerAddress: '10.0.0.1' } } } },
      { namespace: NS, snapshot: emptySnapshot },
    );
    expect(reply.response.allowed).toBe(true);
    expect(reply.response.warnings).toEqual([expect.stringMatching(/^BGPPeer metallb-system\/ext: spec\.dynamicASN: "external"/)]);
  });
});
