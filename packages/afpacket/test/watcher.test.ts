import { describe, expect, it } from 'vitest';
import { InterfaceWatcher } from '@lbkit/afpacket';
import { fakeIface, type FakeTable } from '../../../test-utils/l2-fakes.js';

function watch(state: FakeTable): { w: InterfaceWatcher; events: string[] } {
  const events: string[] = [];
  const w = new InterfaceWatcher('eth0', { intervalMs: 1_000_000, read: () => state.cur });
  w.on('new', (i) => events.push(`new ${i.index} ${i.mac}`));
  w.on('up', (i) => events.push(`up ${i.index}`));
  w.on('down', (n) => events.push(`down ${n}`));
  w.on('removed', (n, idx) => events.push(`removed ${n} ${idx}`));
  w.on('mac', (i, prev) => events.push(`mac ${prev}->${i.mac}`));
  return { w, events };
}

describe('InterfaceWatcher', () => {
  it('reports down/up, deletion (down then removed) and re-creation (new then up) with the new ifindex', () => {
    const state: FakeTable = { cur: fakeIface(7, '02:00:00:00:00:01') };
    const { w, events } = watch(state);
    w.start();
    expect(w.index).toBe(7);
    w.poll();
    expect(events).toEqual([]);
    state.cur = fakeIface(7, '02:00:00:00:00:01', false);
    w.poll();
    state.cur = fakeIface(7, '02:00:00:00:00:01', true);
    w.poll();
    expect(events.splice(0)).toEqual(['down eth0', 'up 7']);
    state.cur = undefined;
    w.poll();
    w.poll();
    expect(events.splice(0)).toEqual(['down eth0', 'removed eth0 7']);
    expect(w.index).toBe(0);
    state.cur = fakeIface(9, '02:00:00:00:00:02', false);
    w.poll();
    state.cur = fakeIface(9, '02:00:00:00:00:02', true);
    w.poll();
    expect(events.splice(0)).toEqual(['new 9 02:00:00:00:00:02', 'up 9']);
    // deleted and re-created between two polls: no `removed`, but down/new/up
    state.cur = fakeIface(11, '02:00:00:00:00:03', true);
    w.poll();
    expect(events.splice(0)).toEqual(['down eth0', 'new 11 02:00:00:00:00:03', 'up 11']);
    w.stop();
  });

  it('reports a MAC change on the same ifindex, before `up` and after `down`', () => {
    const state: FakeTable = { cur: fakeIface(3, '02:00:00:00:00:01') };
    const { w, events } = watch(state);
    w.start();
    state.cur = fakeIface(3, '02:00:00:00:00:aa');
    w.poll();
    expect(events.splice(0)).toEqual(['mac 02:00:00:00:00:01->02:00:00:00:00:aa']);
    state.cur = fakeIface(3, '02:00:00:00:00:bb', false);
    w.poll();
    state.cur = fakeIface(3, '02:00:00:00:00:cc', true);
    w.poll();
    expect(events.splice(0)).toEqual(['down eth0', 'mac 02:00:00:00:00:aa->02:00:00:00:00:bb', 'mac 02:00:00:00:00:bb->02:00:00:00:00:cc', 'up 3']);
    w.stop();
  });

  it('start(true) emits new/up for an existing interface and nothing for a missing one', () => {
    const state: FakeTable = { cur: fakeIface(5, '02:00:00:00:00:05') };
    const a = watch(state);
    a.w.start(true);
    expect(a.events).toEqual(['new 5 02:00:00:00:00:05', 'up 5']);
    a.w.stop();
    const b = watch({ cur: undefined });
    b.w.start(true);
    b.w.poll();
    expect(b.events).toEqual([]);
    b.w.stop();
  });
});

describe('isLinkStateError', () => {
  it('recognises the addon messages of ENETDOWN, ENXIO and ENODEV, and nothing else', async () => {
    const { isLinkStateError } = await import('@lbkit/afpacket');
    expect(isLinkStateError(new Error('sendto(AF_PACKET): Network is down (errno 100)'))).toBe(true);
    expect(isLinkStateError(new Error('sendto(AF_PACKET): No such device or address (errno 6)'))).toBe(true);
    expect(isLinkStateError(new Error('bind(AF_PACKET): No such device (errno 19)'))).toBe(true);
    expect(isLinkStateError(new Error('sendto(AF_PACKET): Message too long (errno 90)'))).toBe(false);
    expect(isLinkStateError('sendto(AF_PACKET): Operation not permitted (errno 1)')).toBe(false);
  });
});
