/**
 * The validating webhook (issue #12): AdmissionReview v1 posted over HTTPS (a certificate made by
 * openssl for the test) to MetalLB's webhook paths; the same rules as file mode.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookServer } from '../src/webhook/server.js';
import { emptySnapshot, type BGPPeer, type KubeObject, type Snapshot } from '../src/types.js';
import { NS, node, pool } from './helpers.js';

let dir: string;
let ca: Buffer;
let srv: WebhookServer;
let snap: Snapshot;

function post(path: string, body: unknown, opts: { method?: string; raw?: string; ca?: Buffer | null } = {}): Promise<{ code: number; json: any }> {
  const text = opts.raw ?? JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: srv.port, path, method: opts.method ?? 'POST', ca: opts.ca === null ? undefined : (opts.ca ?? ca), agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(opts.method === 'GET' ? undefined : text);
  });
}

let uid = 0;
function review(op: string, object: KubeObject | undefined, oldObject?: KubeObject) {
  const kind = String(object?.kind ?? oldObject?.kind);
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: `uid-${++uid}`, kind: { group: 'metallb.io', version: 'v1beta1', kind }, operation: op, namespace: NS, object, oldObject },
  };
}
const bgpPeer = (name: string, spec: BGPPeer['spec'], apiVersion = 'metallb.io/v1beta2'): BGPPeer => ({ apiVersion, kind: 'BGPPeer', metadata: { name, namespace: NS }, spec });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbkit-webhook-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=lbkit-webhook', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'tls.crt'));
  snap = {
    ...emptySnapshot(),
    nodes: [node('n1'), node('n2')],
    pools: [pool('existing', ['10.0.0.0/24'])],
    secrets: [{ kind: 'Secret', metadata: { name: 'opaque', namespace: NS }, type: 'Opaque', data: { password: 'eA==' } }],
    bgpPeers: [bgpPeer('gr', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.1', enableGracefulRestart: true })],
  };
  srv = new WebhookServer({ certDir: dir, port: 0, host: '127.0.0.1', namespace: NS, snapshot: () => snap });
  await srv.start();
});

afterAll(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('validating webhook over HTTPS', () => {
  it('denies an overlapping pool and accepts a disjoint one, echoing the uid', async () => {
    const bad = review('CREATE', pool('clash', ['10.0.0.128/25']));
    const r = await post('/validate-metallb-io-v1beta1-ipaddresspool', bad);
    expect(r.code).toBe(200);
    expect(r.json.apiVersion).toBe('admission.k8s.io/v1');
    expect(r.json.response.uid).toBe(bad.request.uid);
    expect(r.json.response.allowed).toBe(false);
    expect(r.json.response.status.code).toBe(403);
    expect(r.json.response.status.message).toContain('IPAddressPool metallb-system/clash: spec.addresses[0]: CIDR "10.0.0.128/25" in pool "clash" overlaps with already defined CIDR "10.0.0.0/24"');
    const ok = await post('/validate-metallb-io-v1beta1-ipaddresspool', review('CREATE', pool('fresh', ['10.1.0.0/24'])));
    expect(ok.json.response).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('denies wrong types, another namespace and bad selectors, naming object and field', async () => {
    // the API server prunes unknown fields before admission; one reaching us comes from a newer
    // CRD than ours and is ignored, but a wrong type is still denied
    const newer = await post('/validate', review('CREATE', { ...pool('newer', ['10.2.0.0/24']), spec: { addresses: ['10.2.0.0/24'], futureField: 1 } }));
    expect(newer.json.response.allowed).toBe(true);
    const typed = await post('/validate', review('CREATE', { ...pool('typed', ['10.2.0.0/24']), spec: { addresses: ['10.2.0.0/24'], autoAssign: 'no' } }));
    expect(typed.json.response.status.message).toBe('IPAddressPool metallb-system/typed: spec.autoAssign: Invalid value: must be of type boolean');
    const elsewhere = await post('/validate', review('CREATE', { ...pool('x', ['10.3.0.0/24']), metadata: { name: 'x', namespace: 'default' } }));
    expect(elsewhere.json.response.status.message).toBe('IPAddressPool default/x: metadata.namespace: resource must be created in metallb-system namespace');
    const sel = { matchExpressions: [{ key: 'rack', operator: 'In', values: ['a', 'b'] }, { key: 'rack', operator: 'In', values: ['b', 'a'] }] };
    const l2 = await post('/validate-metallb-io-v1beta1-l2advertisement', review('CREATE', { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: NS }, spec: { nodeSelectors: [sel] } }));
    expect(l2.json.response.allowed).toBe(false);
    expect(l2.json.response.status.message).toContain('L2Advertisement metallb-system/l2: spec.nodeSelectors[0].matchExpressions[1]: duplicate definition of match expressions');
  });

  it('passwordSecret: a Secret not created yet is allowed (as MetalLB); a wrong Secret or both passwords are denied', async () => {
    const later = await post('/validate-metallb-io-v1beta2-bgppeer', review('CREATE', bgpPeer('later', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.2', passwordSecret: { name: 'not-yet' } })));
    expect(later.json.response.allowed).toBe(true);
    const wrong = await post('/validate-metallb-io-v1beta2-bgppeer', review('CREATE', bgpPeer('wrong', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.3', passwordSecret: { name: 'opaque' } })));
    expect(wrong.json.response.status.message).toBe('BGPPeer metallb-system/wrong: spec.passwordSecret.name: secret type mismatch on "metallb-system/opaque", type "kubernetes.io/basic-auth" is expected');
    const both = await post('/validate-metallb-io-v1beta2-bgppeer', review('CREATE', bgpPeer('both', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.4', password: 'x', passwordSecret: { name: 'not-yet' } })));
    expect(both.json.response.status.message).toContain('BGPPeer metallb-system/both: spec.passwordSecret: can not have both password and secret ref set');
  });

  it('enableGracefulRestart is immutable; v1beta1 BGPPeers are allowed with the deprecation warning; deletes pass', async () => {
    const old = snap.bgpPeers[0]!;
    const flip = await post('/validate-metallb-io-v1beta2-bgppeer', review('UPDATE', bgpPeer('gr', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.1', enableGracefulRestart: false }), old));
    expect(flip.json.response.status.message).toBe('BGPPeer metallb-system/gr: spec.enableGracefulRestart: EnableGracefulRestart cannot be changed after creation');
    const keep = await post('/validate-metallb-io-v1beta2-bgppeer', review('UPDATE', bgpPeer('gr', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.1', enableGracefulRestart: true, holdTime: '30s' }), old));
    expect(keep.json.response.allowed).toBe(true);
    const v1 = await post('/validate-metallb-io-v1beta2-bgppeer', review('CREATE', bgpPeer('old', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.5' }, 'metallb.io/v1beta1')));
    expect(v1.json.response).toMatchObject({ allowed: true, warnings: ['v1beta1 is deprecated, please use v1beta2'] });
    expect((await post('/validate', review('DELETE', undefined, pool('existing', ['10.0.0.0/24'])))).json.response.allowed).toBe(true);
    // a BFDProfile in use cannot be deleted (MetalLB validateBFDDelete); an unused one can
    const saved = snap;
    snap = { ...snap, bgpPeers: [...snap.bgpPeers, bgpPeer('bfd', { myASN: 64513, peerASN: 64512, peerAddress: '10.9.0.9', bfdProfile: 'fast' })] };
    try {
      const prof = (name: string): KubeObject => ({ apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name, namespace: NS }, spec: {} });
      const used = await post('/validate-metallb-io-v1beta1-bfdprofile', review('DELETE', undefined, prof('fast')));
      expect(used.json.response.status.message).toBe('failed to delete BFDProfile fast, used by BGPPeer bfd');
      expect((await post('/validate-metallb-io-v1beta1-bfdprofile', review('DELETE', undefined, prof('unused')))).json.response.allowed).toBe(true);
      // a profile of the same name in another namespace is not the one the peer uses
      const elsewhere = { ...review('DELETE', undefined, { ...prof('fast'), metadata: { name: 'fast', namespace: 'other' } }) };
      elsewhere.request.namespace = 'other';
      expect((await post('/validate-metallb-io-v1beta1-bfdprofile', elsewhere)).json.response.allowed).toBe(true);
      // the API server may send only the name (no oldObject): still denied
      const byName = review('DELETE', undefined, undefined) as any;
      byName.request.kind.kind = 'BFDProfile';
      byName.request.name = 'fast';
      const denied = await post('/validate-metallb-io-v1beta1-bfdprofile', byName);
      expect(denied.json.response).toMatchObject({ allowed: false, status: { code: 403, message: 'failed to delete BFDProfile fast, used by BGPPeer bfd' } });
    } finally {
      snap = saved;
    }
  });

  it('a bad object already stored does not block an unrelated change', async () => {
    const saved = snap;
    snap = { ...snap, pools: [...snap.pools, pool('broken', ['10.0.0.0/25'])] }; // overlaps "existing"
    try {
      expect((await post('/validate', review('CREATE', pool('other', ['10.5.0.0/24'])))).json.response.allowed).toBe(true);
      expect((await post('/validate', review('CREATE', pool('worse', ['10.0.0.64/26'])))).json.response.allowed).toBe(false);
    } finally {
      snap = saved;
    }
  });

  it('malformed requests get HTTP errors, not a crash; TLS is required', async () => {
    expect((await post('/validate', null, { raw: '{not json' })).code).toBe(400);
    expect((await post('/validate', { kind: 'Pod' })).code).toBe(400);
    expect((await post('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })).code).toBe(400);
    const noObj = await post('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE', object: 'x' } });
    expect(noObj.json.response).toMatchObject({ uid: 'u', allowed: false, status: { code: 400 } });
    expect((await post('/validate', null, { method: 'GET' })).code).toBe(405);
    expect((await post('/nope', {})).code).toBe(404);
    // a client that does not trust the certificate cannot talk to it: it is really HTTPS
    await expect(post('/validate', {}, { ca: null })).rejects.toThrow(/self.signed|certificate/i);
    // and the server still answers afterwards
    expect((await post('/healthz', null, { method: 'GET' })).code).toBe(200);
  });

  it('a rotated certificate (new tls.crt/tls.key in the directory) is picked up without a restart', async () => {
    const old = ca;
    const next = mkdtempSync(join(tmpdir(), 'lbkit-webhook-next-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=lbkit-webhook-2', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(next, 'tls.key'), '-out', join(next, 'tls.crt')], { stdio: 'ignore' });
      // kubelet swaps the whole projection; here: rename both files into place
      renameSync(join(next, 'tls.key'), join(dir, 'tls.key'));
      renameSync(join(next, 'tls.crt'), join(dir, 'tls.crt'));
      ca = readFileSync(join(dir, 'tls.crt'));
      const deadline = Date.now() + 5000;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        ok = await post('/healthz', null, { method: 'GET' }).then(
          (r) => r.code === 200,
          () => false,
        );
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
      await expect(post('/healthz', null, { method: 'GET', ca: old })).rejects.toThrow();
    } finally {
      rmSync(next, { recursive: true, force: true });
    }
  });
});

describe('reviewAdmission on malformed input', () => {
  it('2000 randomly mutated reviews: a reply or BadReviewError, never another throw', async () => {
    const { reviewAdmission, BadReviewError } = await import('../src/webhook/admission.js');
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const junk = (): unknown => [null, 0, -1, 1e300, 'x', '', true, [], {}, [1, 'a'], { a: { b: [] } }, '10.0.0.0/33', 'In', 'metallb.io/v1beta2'][Math.floor(rnd() * 14)];
    const mutate = (v: unknown, depth: number): unknown => {
      if (rnd() < 0.08) return junk();
      if (Array.isArray(v)) return v.map((x) => mutate(x, depth + 1));
      if (v && typeof v === 'object') {
        const o: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) if (rnd() > 0.05) o[rnd() < 0.03 ? `${k}x` : k] = mutate(x, depth + 1);
        return o;
      }
      return v;
    };
    const bases = [
      review('CREATE', pool('p', ['10.7.0.0/24'], { serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }] } })),
      review('UPDATE', bgpPeer('gr', { myASN: 1, peerASN: 2, peerAddress: '10.9.0.1', enableGracefulRestart: true, passwordSecret: { name: 's' }, nodeSelectors: [{ matchLabels: { a: 'b' } }] }), snap.bgpPeers[0]),
      review('CREATE', { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'a', namespace: NS }, spec: { aggregationLength: 24, localPref: 5, communities: ['1:1', 'alias'], peers: ['x'] } }),
      review('DELETE', undefined, { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'fast', namespace: NS } }),
    ];
    let replies = 0;
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      const body = mutate(bases[i % bases.length], 0);
      try {
        const r = reviewAdmission(body, { namespace: NS, snapshot: () => snap });
        expect(typeof r.response.allowed).toBe('boolean');
        replies++;
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(BadReviewError);
        bad++;
      }
    }
    expect(replies).toBeGreaterThan(500);
    expect(bad).toBeGreaterThan(0);
  });
});
