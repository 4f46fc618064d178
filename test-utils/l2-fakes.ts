/**
 * Fakes for unit tests of the layer-2 speakers and of @lbkit/afpacket's interface watcher and
 * follower: a fake `/sys/class/net` entry, a mutable interface table, a transport factory that
 * fails like `bind(2)` while the interface is absent, and an event recorder.
 */
import type { InterfaceInfo } from '@lbkit/afpacket';

/** A fake interface entry (IFF_UP and carrier both follow `up`). */
export function fakeIface(index: number, mac: string, up = true, name = 'eth0'): InterfaceInfo {
  return { name, index, mac, mtu: 1500, flags: up ? 1 : 0, up, operstate: up ? 'up' : 'down', carrier: up, ipv4: [], ipv6: [] };
}

/** A one-interface table the test mutates between polls (`cur` undefined: the interface is deleted). */
export interface FakeTable {
  cur: InterfaceInfo | undefined;
}

/**
 * A transport factory over `table`: throws `bind(AF_PACKET): No such device` while the interface
 * is absent, else makes a transport for the current ifindex and records it in `opened`.
 */
export function fakeOpener<T>(table: FakeTable, make: (ifindex: number) => T): { opened: T[]; open: () => T } {
  const opened: T[] = [];
  return {
    opened,
    open: () => {
      if (!table.cur) throw new Error('bind(AF_PACKET): No such device');
      const t = make(table.cur.index);
      opened.push(t);
      return t;
    },
  };
}

/** Anything with an EventEmitter-style `on`. */
export interface Listenable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, fn: (...args: any[]) => void): unknown;
}

/**
 * Records `names` events of `source` as strings: `name` without an argument, else `name arg`
 * (an Error's message, an array joined by commas).
 */
export function recordEvents(source: Listenable, names: readonly string[]): string[] {
  const events: string[] = [];
  for (const e of names) {
    source.on(e, (x?: unknown) => events.push(x === undefined ? e : `${e} ${x instanceof Error ? x.message : String(x)}`));
  }
  return events;
}

/** Makes `t.send` throw an Error with `fail.message` while that is non-empty; otherwise it records the frame in `t.sent`. */
export function failingSends(t: { sent: Buffer[]; send(frame: Buffer): void }): { message: string } {
  const fail = { message: '' };
  t.send = (frame: Buffer) => {
    if (fail.message) throw new Error(fail.message);
    t.sent.push(frame);
  };
  return fail;
}
