// InterfaceFollower over a fake interface table: the session's open/close/reopen lifecycle, the
// usable state and the link-state error filter (the watcher's timer and setImmediate run on
// vitest's fake clock).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InterfaceFollower, type InterfaceFollowerOptions } from '@lbkit/afpacket';
import { fakeIface, recordEvents, type FakeTable } from '../../../test-utils/l2-fakes.js';

const MAC1 = '02:00:00:00:00:01';
const MAC2 = '02:00:00:00:00:02';
const ENETDOWN = 'sendto(AF_PACKET): Network is down (errno 100)';
const EMSGSIZE = 'sendto(AF_PACKET): Message too long (errno 90)';

interface Session {
  id: number;
  mac: string;
  ifindex: number;
}

function setup(table: FakeTable, extra: Partial<InterfaceFollowerOptions<Session>> = {}) {
  const log: string[] = [];
  let n = 0;
  const f = new InterfaceFollower<Session>({
    ifname: 'eth0',
    name: 'Owner',
    watchIntervalMs: 100,
    readInterface: () => table.cur,
    open: (mac) => {
      if (!table.cur) throw new Error('bind(AF_PACKET): No such device');
      const s = { id: ++n, mac, ifindex: table.cur.index };
      log.push(`open ${s.id} ${mac} ${s.ifindex}`);
      return s;
    },
    close: (s) => log.push(`close ${s?.id ?? '-'}`),
    ...extra,
  });
  const events = recordEvents(f, ['up', 'down', 'removed', 'reopened', 'error']);
  return { f, log, events };
}

describe('InterfaceFollower', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('opens with the lower-cased interface MAC, and throws naming the owner when the interface is missing', () => {
    const table: FakeTable = { cur: fakeIface(4, '02:00:00:00:00:AB') };
    const a = setup(table);
    a.f.start();
    expect(a.log).toEqual(['open 1 02:00:00:00:00:ab 4']);
    expect(a.f.session).toEqual({ id: 1, mac: '02:00:00:00:00:ab', ifindex: 4 });
    expect(a.f.usable).toBe(true);
    a.f.close();
    expect(a.log.at(-1)).toBe('close 1');
    expect(a.f.session).toBeUndefined();
    const b = setup({ cur: undefined });
    expect(() => b.f.start()).toThrow('Owner: interface eth0 not found');
    expect(b.log).toEqual([]);
  });

  it('deleted: down, session closed, removed; re-created: reopened with the new MAC, then up', () => {
    const table: FakeTable = { cur: fakeIface(5, MAC1) };
    const { f, log, events } = setup(table);
    f.start();
    table.cur = undefined;
    vi.advanceTimersByTime(100);
    expect(events.splice(0)).toEqual(['down', 'removed']);
    expect(log.splice(0)).toEqual(['open 1 02:00:00:00:00:01 5', 'close 1']);
    expect(f.session).toBeUndefined();
    expect(f.usable).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(events).toEqual([]);
    table.cur = fakeIface(9, MAC2, false); // re-created, still down
    vi.advanceTimersByTime(100);
    expect(log.splice(0)).toEqual(['close -', 'open 2 02:00:00:00:00:02 9']);
    expect(events.splice(0)).toEqual([`reopened ${MAC2}`]);
    expect(f.usable).toBe(false);
    table.cur = fakeIface(9, MAC2, true);
    vi.advanceTimersByTime(100);
    expect(events.splice(0)).toEqual(['up']);
    expect(f.usable).toBe(true);
    expect(f.session?.id).toBe(2);
    f.close();
  });

  it('a MAC change reopens; a fixed MAC never follows the interface; a MAC function is asked on every opening', () => {
    const table: FakeTable = { cur: fakeIface(5, MAC1) };
    const a = setup(table);
    a.f.start();
    table.cur = fakeIface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(a.log).toEqual(['open 1 02:00:00:00:00:01 5', 'close 1', 'open 2 02:00:00:00:00:02 5']);
    expect(a.events).toEqual([`reopened ${MAC2}`]);
    a.f.close();

    table.cur = fakeIface(5, MAC1);
    const b = setup(table, { mac: '02:00:00:00:00:FF' });
    b.f.start();
    table.cur = fakeIface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(b.log).toEqual(['open 1 02:00:00:00:00:ff 5']);
    table.cur = fakeIface(6, MAC2); // re-created: reopened, still with the fixed MAC
    vi.advanceTimersByTime(100);
    expect(b.log.slice(1)).toEqual(['close 1', 'open 2 02:00:00:00:00:ff 6']);
    b.f.close();

    const asked: string[] = [];
    table.cur = fakeIface(5, MAC1);
    const c = setup(table, { mac: (ifname) => (asked.push(ifname), `02:00:00:00:01:0${asked.length}`) });
    c.f.start();
    table.cur = fakeIface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(asked).toEqual(['eth0', 'eth0']);
    expect(c.log).toEqual(['open 1 02:00:00:00:01:01 5', 'close 1', 'open 2 02:00:00:00:01:02 5']);
    c.f.close();
  });

  it('a failing reopening is an error event, not a throw from the timer; the next re-creation recovers', () => {
    const table: FakeTable = { cur: fakeIface(5, MAC1) };
    const { f, log, events } = setup(table);
    f.start();
    table.cur = { ...fakeIface(20, ''), mac: '' }; // appears without a readable MAC
    expect(() => vi.advanceTimersByTime(100)).not.toThrow();
    expect(events.splice(0)).toEqual(['down', 'error Owner: interface eth0 not found', 'up']);
    expect(f.session).toBeUndefined();
    table.cur = fakeIface(21, MAC2);
    vi.advanceTimersByTime(100);
    expect(log.at(-1)).toBe('open 2 02:00:00:00:00:02 21');
    expect(events.splice(0)).toEqual(['down', `reopened ${MAC2}`, 'up']);
    f.close();
  });

  it('starts not usable on a down link, and ignores watcher events after close', () => {
    const table: FakeTable = { cur: fakeIface(5, MAC1, false) };
    const { f, log, events } = setup(table);
    f.start();
    expect(f.usable).toBe(false);
    f.close();
    table.cur = fakeIface(8, MAC2);
    vi.advanceTimersByTime(1000);
    expect(events).toEqual([]);
    expect(log).toEqual(['open 1 02:00:00:00:00:01 5', 'close 1']);
  });
});

describe('InterfaceFollower.reportError', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reports other errors at once; a link-state error only if an immediate poll still finds the link usable on the same session', () => {
    const table: FakeTable = { cur: fakeIface(5, MAC1) };
    const { f, events } = setup(table, { watchIntervalMs: 60_000 });
    f.start();
    const reported: string[] = [];
    const report = (e: Error): number => reported.push(e.message);

    f.reportError(new Error(EMSGSIZE), report);
    f.reportError('plain string', report);
    expect(reported.splice(0)).toEqual([EMSGSIZE, 'plain string']);

    f.reportError(new Error(ENETDOWN), report); // link still up: reported after the poll
    f.reportError(new Error(ENETDOWN), report); // batched into the same poll
    expect(reported).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(reported.splice(0)).toEqual([ENETDOWN, ENETDOWN]);

    table.cur = fakeIface(5, MAC1, false); // went down; the watcher's tick is a minute away
    f.reportError(new Error(ENETDOWN), report);
    vi.advanceTimersByTime(1);
    expect(events.splice(0)).toEqual(['down']); // noticed through the immediate poll
    expect(reported).toEqual([]);

    table.cur = fakeIface(7, MAC1, true); // re-created between two polls: a new session
    f.reportError(new Error(ENETDOWN), report);
    vi.advanceTimersByTime(1);
    expect(events.splice(0)).toEqual([`reopened ${MAC1}`, 'up']);
    expect(reported).toEqual([]); // the error belonged to the old socket

    f.reportError(new Error(ENETDOWN), report);
    f.close();
    vi.advanceTimersByTime(1);
    expect(reported).toEqual([]);
  });

  it('without a watcher (watchIntervalMs 0) nothing is polled: link-state errors are reported at once', () => {
    const table: FakeTable = { cur: fakeIface(5, MAC1) };
    const { f, events } = setup(table, { watchIntervalMs: 0 });
    f.start();
    const reported: string[] = [];
    f.reportError(new Error(ENETDOWN), (e) => reported.push(e.message));
    expect(reported).toEqual([ENETDOWN]);
    table.cur = undefined;
    vi.advanceTimersByTime(10_000);
    expect(events).toEqual([]);
    expect(f.session?.id).toBe(1);
    f.close();
  });
});
