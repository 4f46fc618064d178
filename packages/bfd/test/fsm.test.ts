import { describe, expect, it } from 'vitest';
import { AuthType, BfdFsm, Diag, State, decode, encode, encodeSigned, type FsmOptions } from '@lbkit/bfd';

/** Two machines wired back to back with a manual clock; packets go through the codec. */
function pair(a: Partial<FsmOptions> = {}, b: Partial<FsmOptions> = {}) {
  const A = new BfdFsm({ localDiscriminator: 1, transmitInterval: 100, receiveInterval: 100, ...a });
  const B = new BfdFsm({ localDiscriminator: 2, transmitInterval: 100, receiveInterval: 100, ...b });
  const xfer = (from: BfdFsm, to: BfdFsm, now: number) => {
    const p = from.nextPacket();
    const raw = from.auth ? encodeSigned(p, from.auth, from.authSequence()) : encode(p);
    return to.receive(decode(raw), now, raw);
  };
  return { A, B, xfer };
}

describe('BFD state machine (RFC 5880 §6.8.6)', () => {
  it('three-way handshake: Down → Init → Up on both sides', () => {
    const { A, B, xfer } = pair();
    expect(xfer(A, B, 0).transition).toEqual({ from: State.Down, to: State.Init, diag: Diag.None });
    expect(xfer(B, A, 1).transition).toEqual({ from: State.Down, to: State.Up, diag: Diag.None });
    expect(xfer(A, B, 2).transition).toEqual({ from: State.Init, to: State.Up, diag: Diag.None });
    expect(A.remoteDiscr).toBe(2);
    expect(B.remoteDiscr).toBe(1);
  });

  it('slow start: 1 s while not Up, then a Poll sequence moves to the configured 100 ms', () => {
    const { A, B, xfer } = pair();
    expect(A.nextPacket().desiredMinTx).toBe(1_000_000);
    xfer(A, B, 0);
    xfer(B, A, 1);
    xfer(A, B, 2);
    expect(A.state).toBe(State.Up);
    const pa = A.nextPacket();
    expect(pa.desiredMinTx).toBe(100_000);
    expect(pa.poll).toBe(true);
    // B answers the Poll with a Final
    const r = B.receive(pa, 3);
    expect(r.sendNow).toBe(true);
    const fb = B.nextPacket();
    expect(fb.final).toBe(true);
    expect(fb.poll).toBe(false);
    A.receive(fb, 4);
    expect(A.polling).toBe(false);
    expect(A.nextPacket().poll).toBe(false);
    // B finishes its own poll once A answers
    B.receive(A.nextPacket(), 5);
    const pb = B.nextPacket();
    expect(pb.poll).toBe(true);
    A.receive(pb, 6);
    B.receive(A.nextPacket(), 7);
    expect(B.polling).toBe(false);
    expect(A.txIntervalMs()).toBe(100);
    expect(A.detectionTimeMs()).toBe(300);
  });

  it('a slower RX takes effect at once, a faster RX only after the Final (§6.8.3)', () => {
    const { A, B, xfer } = pair();
    xfer(A, B, 0), xfer(B, A, 0), xfer(A, B, 0);
    for (let i = 0; i < 4; i++) xfer(A, B, 0), xfer(B, A, 0);
    expect(A.polling || B.polling).toBe(false);
    expect(A.detectionTimeMs()).toBe(300);
    A.setTimers({ receiveInterval: 500 });
    expect(A.polling).toBe(true);
    expect(A.detectionTimeMs()).toBe(1500); // B's multiplier 3 × our new 500 ms, immediately
    A.setTimers({ receiveInterval: 50 });
    expect(A.detectionTimeMs()).toBe(1500); // still the old value until the Final
    xfer(A, B, 1);
    xfer(B, A, 2); // Final
    expect(A.polling).toBe(false);
    expect(A.detectionTimeMs()).toBe(300); // max(our 50, B's TX 100) × 3
    expect(B.txIntervalMs()).toBe(100);
  });

  it('detection time expiry takes the session Down with diag 1, only after the deadline', () => {
    const { A, B, xfer } = pair({ detectMultiplier: 3 }, { detectMultiplier: 4 });
    xfer(A, B, 0), xfer(B, A, 0), xfer(A, B, 0);
    for (let i = 0; i < 3; i++) xfer(A, B, 10), xfer(B, A, 10);
    expect(A.detectionTimeMs()).toBe(400); // B's multiplier 4 × 100 ms
    expect(A.checkDetection(409)).toBeUndefined();
    expect(A.checkDetection(410)).toEqual({ from: State.Up, to: State.Down, diag: Diag.ControlDetectionTimeExpired });
    expect(A.remoteDiscr).toBe(0);
    expect(A.nextPacket().desiredMinTx).toBe(1_000_000);
    // B learns about it from A's Down packet
    expect(xfer(A, B, 420).transition).toEqual({ from: State.Up, to: State.Down, diag: Diag.NeighborSignaledSessionDown });
  });

  it('admin down: the peer goes Down with diag 3 and says the peer is AdminDown; no Init while AdminDown', () => {
    const { A, B, xfer } = pair();
    xfer(A, B, 0), xfer(B, A, 0), xfer(A, B, 0);
    expect(A.adminDown()).toEqual({ from: State.Up, to: State.AdminDown, diag: Diag.AdministrativelyDown });
    expect(xfer(A, B, 1).transition).toEqual({ from: State.Up, to: State.Down, diag: Diag.NeighborSignaledSessionDown });
    expect(B.remoteState).toBe(State.AdminDown);
    expect(xfer(A, B, 2).transition).toBeUndefined(); // stays Down
    expect(xfer(B, A, 3).dropped).toMatch(/AdminDown/);
    expect(A.checkDetection(10_000)).toBeUndefined();
    A.adminUp();
    expect(A.state).toBe(State.Down);
    xfer(A, B, 4), xfer(B, A, 4), xfer(A, B, 4);
    expect([A.state, B.state]).toEqual([State.Up, State.Up]);
  });

  it('discriminator rules: wrong Your Discriminator dropped; zero only in Down/AdminDown packets', () => {
    const { A, B, xfer } = pair();
    const p = B.nextPacket();
    expect(A.receive({ ...p, yourDiscriminator: 99 }, 0).dropped).toMatch(/Your Discriminator/);
    expect(A.receive({ ...p, state: State.Init }, 0).dropped).toMatch(/zero/);
    expect(A.receive({ ...p, state: State.Up }, 0).dropped).toMatch(/zero/);
    xfer(A, B, 0), xfer(B, A, 0);
    expect(A.state).toBe(State.Up);
    expect(A.receive({ ...B.nextPacket(), yourDiscriminator: 0, state: State.Up }, 1).dropped).toMatch(/zero/);
  });

  it('passive: sends nothing until the peer speaks, then answers at once', () => {
    const { A, B, xfer } = pair({ passive: true });
    expect(A.txIntervalMs()).toBe(Infinity);
    expect(xfer(B, A, 0).sendNow).toBe(true);
    expect(A.txIntervalMs()).toBe(1000);
  });

  it('a peer with Required Min RX 0 gets no periodic packets; TX interval honours the peer RX', () => {
    const { A, B } = pair();
    A.receive({ ...B.nextPacket(), requiredMinRx: 0 }, 0);
    expect(A.txIntervalMs()).toBe(Infinity);
    A.receive({ ...B.nextPacket(), yourDiscriminator: 1, requiredMinRx: 2_000_000 }, 1);
    expect(A.txIntervalMs()).toBe(2000);
  });

  it('jitter: 75–100 % of the interval, 75–90 % with multiplier 1', () => {
    const { A, B } = pair({ detectMultiplier: 1 });
    const { A: C } = pair();
    expect(C.jitteredTxMs(0)).toBe(750);
    expect(C.jitteredTxMs(0.999999)).toBeCloseTo(1000, 2);
    expect(A.jitteredTxMs(0.999999)).toBeCloseTo(900, 2);
    expect(B.jitteredTxMs(0.5)).toBeCloseTo(875, 5);
    for (let i = 0; i < 100; i++) {
      const v = C.jitteredTxMs();
      expect(v).toBeGreaterThanOrEqual(750);
      expect(v).toBeLessThanOrEqual(1000);
    }
  });

  it('authentication: meticulous SHA1 sessions come up; replayed, unsigned and wrongly keyed packets are dropped', () => {
    const key = { type: AuthType.MeticulousKeyedSHA1, keyId: 3, secret: 'k' } as const;
    const { A, B, xfer } = pair({ auth: key }, { auth: key });
    xfer(A, B, 0), xfer(B, A, 0), xfer(A, B, 0);
    expect([A.state, B.state]).toEqual([State.Up, State.Up]);
    const raw = encodeSigned(A.nextPacket(), key, A.authSequence());
    expect(B.receive(decode(raw), 1, raw).dropped).toBeUndefined();
    expect(B.receive(decode(raw), 2, raw).dropped).toMatch(/sequence/); // replay
    expect(B.receive(A.nextPacket(), 3).dropped).toMatch(/A bit clear/);
    const wrong = encodeSigned(A.nextPacket(), { ...key, secret: 'x' }, A.authSequence());
    expect(B.receive(decode(wrong), 4, wrong).dropped).toMatch(/failed/);
    const { B: C } = pair();
    expect(C.receive(decode(raw), 0, raw).dropped).toMatch(/no authentication configured/);
  });

  it('rejects bad configuration naming the field', () => {
    expect(() => new BfdFsm({ localDiscriminator: 0 })).toThrow(/localDiscriminator/);
    expect(() => new BfdFsm({ localDiscriminator: 1, detectMultiplier: 0 })).toThrow(/detectMultiplier/);
    expect(() => new BfdFsm({ localDiscriminator: 1, transmitInterval: 0 })).toThrow(/transmitInterval/);
    expect(() => new BfdFsm({ localDiscriminator: 1, receiveInterval: 70_000 })).toThrow(/receiveInterval/);
  });
});
