/**
 * Connection + FSM on a fake clock (vi.useFakeTimers) and a fake socket: keepalive cadence,
 * hold-timer expiry sending NOTIFICATION 4/0, and the exponential reconnect backoff.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, type ConnectionHooks } from '../src/session/connection.js';

class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  destroyed = false;
  ended = false;
  localAddress = '10.0.0.11';
  setNoDelay(): this {
    return this;
  }
  write(b: Buffer): boolean {
    this.written.push(Buffer.from(b));
    return true;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  types(): number[] {
    return this.written.map((b) => b[18]!);
  }
}

const hdr = (type: number, body: number[]) => {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, Buffer.from(body)]);
};
// OPEN from AS 64512, hold 9, id 10.0.0.1, capability AS4 64512
const OPEN = hdr(1, [4, 0xfc, 0x00, 0, 9, 10, 0, 0, 1, 8, 2, 6, 65, 4, 0, 0, 0xfc, 0x00]);
const KA = hdr(4, []);

describe('Connection timers on a fake clock', () => {
  let sockets: FakeSocket[];
  let downs: string[];
  let conn: Connection;
  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    downs = [];
    const hooks: ConnectionHooks = {
      dial: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s as unknown as net.Socket;
      },
      openParams: () => ({ asn: 64513, bgpId: 0x0a00000b, families: ['1/1'] }),
      onState: () => undefined,
      onOpen: () => true,
      onEstablished: () => undefined,
      onDown: (_c, reason) => void downs.push(reason),
      onUpdate: () => undefined,
      onRouteRefresh: () => undefined,
      onNotificationSent: () => undefined,
      onMessage: () => undefined,
      onError: () => undefined,
    };
    conn = new Connection(
      { localAsn: 64513, peerAsn: 64512, localId: 0x0a00000b, holdTime: 9, backoff: { initialMs: 1000, maxMs: 4000, jitter: 0 } },
      hooks,
    );
  });
  afterEach(() => {
    conn.dispose();
    vi.useRealTimers();
  });

  function establish(s: FakeSocket): void {
    s.emit('connect');
    s.emit('data', Buffer.concat([OPEN, KA]));
  }

  it('sends keepalives every hold/3 and expires the hold timer with NOTIFICATION 4/0', () => {
    conn.dispatch({ type: 'ManualStart' });
    const s = sockets[0]!;
    establish(s);
    expect(conn.state).toBe('Established');
    expect(s.types()).toEqual([1, 4]); // OPEN, KEEPALIVE
    vi.advanceTimersByTime(3000);
    expect(s.types()).toEqual([1, 4, 4]);
    vi.advanceTimersByTime(3000);
    expect(s.types()).toEqual([1, 4, 4, 4]);
    s.emit('data', KA); // at t=6 s: hold restarts, now expires at t=15 s
    vi.advanceTimersByTime(8900);
    expect(conn.state).toBe('Established');
    vi.advanceTimersByTime(200);
    expect(conn.state).toBe('Idle');
    const last = s.written.at(-1)!;
    expect([last[18], last[19], last[20]]).toEqual([3, 4, 0]);
    expect(s.ended).toBe(true);
    expect(downs).toEqual(['hold timer expired']);
  });

  it('reconnects with exponential backoff (1 s, 2 s, 4 s, 4 s cap) on connect timeouts', () => {
    conn.dispatch({ type: 'ManualStart' });
    expect(sockets.length).toBe(1);
    const dialTimes: number[] = [0];
    let t = 0;
    while (sockets.length < 5) {
      vi.advanceTimersByTime(100);
      t += 100;
      if (sockets.length > dialTimes.length) dialTimes.push(t);
    }
    // connect timeout 5 s, then idle hold 1, 2, 4, 4 s
    expect(dialTimes).toEqual([0, 6000, 13000, 22000, 31000]);
  });

  it('an OPEN with an unacceptable hold time is answered with 2/6', () => {
    conn.dispatch({ type: 'ManualStart' });
    const s = sockets[0]!;
    s.emit('connect');
    const bad = Buffer.from(OPEN);
    bad.writeUInt16BE(2, 19 + 3);
    s.emit('data', bad);
    const last = s.written.at(-1)!;
    expect([last[18], last[19], last[20]]).toEqual([3, 2, 6]);
    expect(conn.state).toBe('Idle');
  });
});
