/** LazyBgpAnnouncer: the BGP backend is created at the first update that has a session, once. */
import { describe, expect, it } from 'vitest';
import { LazyBgpAnnouncer } from '../src/adapters/lazy-bgp.js';
import type { BgpRoute } from '../src/bgp-decision.js';
import type { PeerConfig } from '../src/config.js';
import type { BgpAnnouncer } from '../src/speaker.js';

function fake() {
  const calls: string[] = [];
  let creations = 0;
  let failNext = false;
  const create = async (): Promise<BgpAnnouncer> => {
    creations++;
    await new Promise((r) => setTimeout(r, 5));
    if (failNext) {
      failNext = false;
      throw new Error('backend unavailable');
    }
    return {
      update: (sessions) => void calls.push(`update ${sessions.map((s) => s.name).join(',')}`),
      sessionStates: () => [{ peer: 'tor', state: 'Established' } as never],
      close: () => void calls.push('close'),
    };
  };
  return { calls, create, creations: () => creations, failNextCreate: () => (failNext = true) };
}

const peer = { name: 'tor' } as PeerConfig;
const routes = new Map<string, BgpRoute[]>();

describe('LazyBgpAnnouncer', () => {
  it('loads nothing while the configuration has no session for this node, then creates the backend once', async () => {
    const f = fake();
    const a = new LazyBgpAnnouncer(f.create);
    await a.update([], routes);
    await a.update([], routes);
    expect(f.creations()).toBe(0);
    expect(a.started).toBe(false);
    expect(a.sessionStates()).toEqual([]);
    // two updates racing: one creation, both reach the backend in order
    await Promise.all([a.update([peer], routes), a.update([peer, { name: 'tor2' } as PeerConfig], routes)]);
    expect(f.creations()).toBe(1);
    expect(a.started).toBe(true);
    expect(f.calls).toEqual(['update tor', 'update tor,tor2']);
    // from then on every update goes through, an empty one too (it ends the sessions)
    await a.update([], routes);
    expect(f.calls.at(-1)).toBe('update ');
    expect(a.sessionStates()).toEqual([{ peer: 'tor', state: 'Established' }]);
    await a.close();
    expect(f.calls.at(-1)).toBe('close');
    await a.update([peer], routes); // closed: nothing more
    expect(f.calls.at(-1)).toBe('close');
  });

  it('a backend that fails to load fails that update, and the next update tries again', async () => {
    const f = fake();
    const a = new LazyBgpAnnouncer(f.create);
    f.failNextCreate();
    await expect(a.update([peer], routes)).rejects.toThrow('backend unavailable');
    expect(a.started).toBe(false);
    await a.update([peer], routes);
    expect(f.creations()).toBe(2);
    expect(f.calls).toEqual(['update tor']);
  });

  it('closed while the backend loads: the backend is closed and gets no update', async () => {
    const f = fake();
    const a = new LazyBgpAnnouncer(f.create);
    const u = a.update([peer], routes); // the backend is loading (5 ms)
    await a.close();
    await u;
    expect(f.creations()).toBe(1);
    expect(f.calls).toEqual(['close']);
  });

  it('closing before any session never creates the backend', async () => {
    const f = fake();
    const a = new LazyBgpAnnouncer(f.create);
    await a.close();
    expect(f.creations()).toBe(0);
  });
});
