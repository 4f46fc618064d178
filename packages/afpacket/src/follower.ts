/**
 * InterfaceFollower: the "follow one interface" lifecycle shared by the layer-2 speakers of
 * @lbkit/arp and @lbkit/ndp (open a socket session when the interface exists, drop it when the
 * interface is deleted, reopen it on re-creation or a MAC change, pause on down, resume on up).
 */
import { EventEmitter } from 'eventemitter3';
import { interfaceInfo, type InterfaceInfo } from './iface.js';
import { isLinkStateError } from './socket.js';
import { InterfaceWatcher } from './watcher.js';

/** Options of {@link InterfaceFollower}; `S` is whatever the owner opens per socket (its "session"). */
export interface InterfaceFollowerOptions<S> {
  /** Interface to follow. */
  ifname: string;
  /** Owner's name, used in errors (`<name>: interface <ifname> not found`). */
  name: string;
  /** Interface poll period in ms (default 500); 0 disables following (no watcher). */
  watchIntervalMs?: number | undefined;
  /**
   * MAC to use. A string is fixed for the follower's lifetime (a MAC change does not reopen); a
   * function is asked again on every (re)opening. Default: the interface's current MAC.
   */
  mac?: string | ((ifname: string) => string | undefined) | undefined;
  /** Reads the interface's state (default {@link interfaceInfo}); tests pass a fake. */
  readInterface?: ((ifname: string) => InterfaceInfo | undefined) | undefined;
  /** Opens a session (socket and protocol state) for the lower-cased `mac`; may throw. */
  open: (mac: string) => S;
  /**
   * Closes `session`, the one being dropped (undefined when none is open); called before every
   * reopening, on deletion and on close, after {@link InterfaceFollower.session} was cleared.
   */
  close: (session: S | undefined) => void;
}

/** Events of {@link InterfaceFollower}. */
export interface InterfaceFollowerEvents {
  /** The interface became usable again: the owner re-announces. */
  up: () => void;
  /** The interface went down (the session is kept, announcements should pause). */
  down: () => void;
  /** The interface was deleted; the session was closed already. */
  removed: () => void;
  /** A new session was opened (re-created interface or MAC change) with `mac`. */
  reopened: (mac: string) => void;
  /** A reopening failed; the follower retries on the next re-creation or MAC change. */
  error: (err: Error) => void;
}

/** Wraps a thrown value as an Error. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Owns an {@link InterfaceWatcher} subscription for one interface and the open/close/reopen
 * lifecycle of the owner's session: `start` opens it (throws when the interface is missing), the
 * watcher's `new` (and `mac`, unless the MAC is fixed) reopen it, `removed` closes it. Tracks
 * whether the link is usable (IFF_UP and carrier) and filters send errors explained by the link
 * state ({@link InterfaceFollower.reportError}).
 */
export class InterfaceFollower<S> extends EventEmitter<InterfaceFollowerEvents> {
  private watcher: InterfaceWatcher | undefined;
  private cur: S | undefined;
  private usableNow = true;
  private closed = false;
  private readonly linkErrors: { err: Error; report: (e: Error) => void }[] = [];

  /** @param opts interface, owner name, MAC source and the session's open/close hooks; call {@link start}. */
  constructor(private readonly opts: InterfaceFollowerOptions<S>) {
    super();
  }

  /** Reads the interface now (through `readInterface` when given). */
  readInterface(): InterfaceInfo | undefined {
    return (this.opts.readInterface ?? interfaceInfo)(this.opts.ifname);
  }

  /** True while the link is usable (true before start and when not followed). */
  get usable(): boolean {
    return this.usableNow;
  }

  /** The current session (undefined before start, after deletion and after a failed reopening). */
  get session(): S | undefined {
    return this.cur;
  }

  /** Opens the session and starts the watcher (once). Throws if the session cannot be opened. */
  start(): this {
    this.open();
    const ms = this.opts.watchIntervalMs ?? 500;
    if (ms > 0 && !this.watcher) {
      const w = new InterfaceWatcher(this.opts.ifname, { intervalMs: ms, read: () => this.readInterface() });
      w.on('new', () => this.reopen());
      w.on('mac', () => {
        if (typeof this.opts.mac !== 'string') this.reopen(); // a fixed MAC does not follow the interface
      });
      w.on('removed', () => {
        this.drop();
        this.emit('removed');
      });
      w.on('up', () => {
        this.usableNow = true;
        this.emit('up');
      });
      w.on('down', () => {
        this.usableNow = false;
        this.emit('down');
      });
      w.start();
      const info = this.readInterface();
      this.usableNow = info ? info.up && info.carrier : true;
      this.watcher = w;
    }
    return this;
  }

  /** The MAC to open with: the fixed string, the function's answer, or the interface's MAC. */
  private resolveMac(): string | undefined {
    const m = this.opts.mac;
    if (typeof m === 'string') return m;
    if (typeof m === 'function') return m(this.opts.ifname);
    return this.readInterface()?.mac;
  }

  private open(): string {
    const found = this.resolveMac();
    if (!found) throw new Error(`${this.opts.name}: interface ${this.opts.ifname} not found`);
    const mac = found.toLowerCase();
    this.cur = this.opts.open(mac);
    return mac;
  }

  private drop(): void {
    const s = this.cur;
    this.cur = undefined;
    this.opts.close(s);
  }

  /** New ifindex or new MAC: a fresh session; `reopened` is emitted, or `error` if opening failed. */
  private reopen(): void {
    if (this.closed) return;
    this.drop();
    let mac: string;
    try {
      mac = this.open();
    } catch (err) {
      this.emit('error', asError(err));
      return;
    }
    this.emit('reopened', mac);
  }

  /**
   * Reports a send error through `report`. A link-state error (ENETDOWN, ENXIO/ENODEV) usually
   * means the watcher has not noticed yet that the link went down or the interface was deleted:
   * poll now, and report the error only if the link still looks usable on the same session.
   */
  reportError(err: unknown, report: (e: Error) => void): void {
    const e = asError(err);
    if (!this.watcher || !isLinkStateError(e)) {
      report(e);
      return;
    }
    this.linkErrors.push({ err: e, report });
    if (this.linkErrors.length > 1) return; // a poll is already queued
    const cur = this.cur;
    setImmediate(() => {
      const errs = this.linkErrors.splice(0);
      if (this.closed) return;
      this.watcher?.poll();
      if (this.usableNow && this.cur !== undefined && this.cur === cur) for (const x of errs) x.report(x.err);
    }).unref();
  }

  /** Stops the watcher and closes the session; later watcher events are ignored. */
  close(): void {
    this.closed = true;
    this.watcher?.stop();
    this.drop();
  }
}
