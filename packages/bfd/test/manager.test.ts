import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthType, BfdManager, State, encode, type SessionConfig, type StateEvent } from '@lbkit/bfd';

const managers: BfdManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

function base(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** Two managers on loopback, each listening on its own port and sending to the other's. */
function pair(cfg: Partial<SessionConfig> = {}, cfgB: Partial<SessionConfig> = cfg) {
  const pa = base();
  const pb = pa + 1;
  const A = new BfdManager({ ports: { singleHop: pa } });
  const B = new BfdManager({ ports: { singleHop: pb } });
  managers.push(A, B);
  const sa = A.addSession({ peer: '127.0.0.1', remotePort: pb, transmitInterval: 20, receiveInterval: 20, ...cfg });
  const sb = B.addSession({ peer: '127.0.0.1', remotePort: pa, transmitInterval: 20, receiveInterval: 20, ...cfgB });
  return { A, B, sa, sb, pa, pb };
}

function once<T>(m: BfdManager, ev: 'up' | 'down', ms = 5000): Promise<T> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no ${ev} within ${ms} ms`)), ms);
    m.once(ev, (x: unknown) => {
      clearTimeout(t);
      res(x as T);
    });
  });
}

describe('BfdManager over loopback UDP', () => {
  it('two managers bring a session Up, negotiate 20 ms timers and detect a silent peer in ~60 ms', async () => {
    const { A, B, sa, sb } = pair();
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    expect(sa.up && sb.up).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(sa.fsm.polling).toBe(false);
    expect(sa.status().txIntervalMs).toBe(20);
    expect(sa.status().detectionTimeMs).toBe(60);
    // B goes silent (as if its process hung): A detects within its detection time
    for (const s of B.sessions()) s.txAt = s.detectAt = Infinity; // its queued deadlines go stale
    const t0 = performance.now();
    const e = await once<StateEvent>(A, 'down');
    const took = performance.now() - t0;
    expect(e.diag).toBe(1);
    expect(e.peerAdminDown).toBe(false);
    expect(took).toBeLessThan(1000);
  });

  it('stop() tells the peer AdminDown: it goes Down with diag 3 and peerAdminDown', async () => {
    const { A, B } = pair();
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    const d = once<StateEvent>(A, 'down');
    await B.stop();
    const e = await d;
    expect(e.diag).toBe(3);
    expect(e.peerAdminDown).toBe(true);
  });

  it('keyed MD5 sessions come up; a wrong key never does', async () => {
    const key = { type: AuthType.KeyedMD5, keyId: 1, secret: 'lbkit' } as const;
    const { A, B } = pair({ auth: key });
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    const bad = pair({ auth: key }, { auth: { ...key, secret: 'other' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(bad.sa.fsm.state).not.toBe(State.Up);
    expect(bad.sa.stats.dropped).toBeGreaterThan(0);
  });

  it('setTimers while Up runs a Poll sequence the peer answers', async () => {
    const { A, B, sa, sb } = pair();
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    A.setTimers(sa.key, { receiveInterval: 40 });
    await new Promise((r) => setTimeout(r, 200));
    expect(sa.fsm.polling).toBe(false);
    expect(sb.status().txIntervalMs).toBe(40);
    expect(sa.status().detectionTimeMs).toBe(120);
  });

  it('counts and drops garbage and packets with TTL below 255 (BPF filter)', async () => {
    // slow timers: a flap caused by a loaded machine must not pass for the forged packet's effect
    const { A, B, pa } = pair({ transmitInterval: 500, receiveInterval: 500, detectMultiplier: 5 });
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    const c = dgram.createSocket('udp4');
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
    const before = { ...A.stats };
    c.setTTL(255);
    await new Promise((r) => c.send(Buffer.from('garbage'), pa, '127.0.0.1', r));
    // a well-formed AdminDown for the session, but with TTL 64: must never arrive
    const sess = A.sessions()[0]!;
    const downs = sess.stats.downCount;
    const p = encode({ diag: 7, state: State.AdminDown, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscriminator: sess.fsm.remoteDiscr, yourDiscriminator: sess.fsm.localDiscr, desiredMinTx: 1e6, requiredMinRx: 1e6, requiredMinEchoRx: 0 });
    c.setTTL(64);
    await new Promise((r) => c.send(p, pa, '127.0.0.1', r));
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    expect(A.stats.malformed).toBe(before.malformed + 1);
    expect(sess.fsm.state).toBe(State.Up);
    expect(sess.stats.downCount).toBe(downs); // the TTL-64 AdminDown never reached the machine
  });

  it('IPv6: sessions come up over ::1 and a hop limit below 255 is filtered (BPF at IPv6 byte 7)', async () => {
    const pa = base();
    const pb = pa + 1;
    const A = new BfdManager({ ports: { singleHop: pa } });
    const B = new BfdManager({ ports: { singleHop: pb } });
    managers.push(A, B);
    const cfg = { peer: '::1', transmitInterval: 500, receiveInterval: 500, detectMultiplier: 5 };
    const sa = A.addSession({ ...cfg, remotePort: pb });
    B.addSession({ ...cfg, remotePort: pa });
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    const downs = sa.stats.downCount;
    const c = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    await new Promise<void>((r) => c.bind(0, '::1', () => r()));
    const p = encode({ diag: 7, state: State.AdminDown, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscriminator: sa.fsm.remoteDiscr, yourDiscriminator: sa.fsm.localDiscr, desiredMinTx: 1e6, requiredMinRx: 1e6, requiredMinEchoRx: 0 });
    c.setTTL(64);
    await new Promise((r) => c.send(p, pa, '::1', r));
    await new Promise((r) => setTimeout(r, 100));
    expect(sa.stats.downCount).toBe(downs);
    expect(sa.up).toBe(true);
    c.setTTL(255);
    await new Promise((r) => c.send(p, pa, '::1', r));
    await new Promise((r) => setTimeout(r, 100));
    expect(sa.stats.downCount).toBe(downs + 1); // the same packet with hop limit 255 is accepted
    c.close();
  });

  it('drives any number of sessions with one Node timer (a min-heap of deadlines)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const before = timers();
    const m = new BfdManager({ ports: { singleHop: base() } });
    managers.push(m);
    for (let i = 1; i <= 300; i++) m.addSession({ peer: `127.0.1.${i % 250}`, local: '127.0.0.1', remotePort: 9, multihop: i >= 250, transmitInterval: 50, receiveInterval: 50 });
    await new Promise((r) => setTimeout(r, 100));
    expect(m.sessions().length).toBe(300);
    expect(m.stats.packetsOut).toBeGreaterThanOrEqual(300); // every session sent its first packet
    expect(timers() - before).toBeLessThanOrEqual(1);
  });

  it('echo: only on single-hop IPv4 sessions; without a reachable interface it stays off with a reason', async () => {
    const m = new BfdManager({ ports: { singleHop: base(), multihop: base() } });
    managers.push(m);
    expect(() => m.addSession({ peer: '::1', echoInterval: 50 })).toThrow(/echo function/);
    expect(() => m.addSession({ peer: '10.0.0.1', multihop: true, echoInterval: 50 })).toThrow(/echo function/);
    expect(() => m.addSession({ peer: '10.0.0.1', echoInterval: 0.5 })).toThrow(/echoTransmitInterval/);
    expect(m.addSession({ peer: '127.0.0.1', echoInterval: 50 }).status().echo).toMatch(/waiting/);
  });

  it('echo with a peer that loops echo packets but no interface to send them on: an error event, the session stays Up', async () => {
    const { A, B, sa } = pair({ echoInterval: 20 }, { echoReceiveInterval: 20 });
    const errors: Error[] = [];
    A.on('error', (e) => errors.push(e));
    await Promise.all([once(A, 'up'), once(B, 'up')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(sa.fsm.echoTxIntervalMs()).toBe(20);
    expect(sa.status().echo).toMatch(/no IPv4 interface/); // loopback is not an interface echo can use
    expect(errors.some((e) => /echo function off/.test(e.message))).toBe(true);
    expect(sa.up).toBe(true);
  });

  it('rejects bad session configuration naming the field', () => {
    const m = new BfdManager({ ports: { singleHop: base() } });
    managers.push(m);
    expect(() => m.addSession({ peer: 'nope' })).toThrow(/peer/);
    expect(() => m.addSession({ peer: '10.0.0.1', local: 'fd00::1' })).toThrow(/local/);
    expect(() => m.addSession({ peer: '10.0.0.1', minimumTtl: 300 })).toThrow(/minimumTtl/);
    expect(() => m.addSession({ peer: '10.0.0.1', auth: { type: AuthType.KeyedMD5, keyId: 1, secret: 'x'.repeat(17) } })).toThrow(/secret/);
  });
});
