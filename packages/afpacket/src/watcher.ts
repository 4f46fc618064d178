import { EventEmitter } from 'eventemitter3';
import { interfaceInfo, type InterfaceInfo } from './iface.js';

/** Events of {@link InterfaceWatcher}. */
export interface InterfaceWatcherEvents {
  /** The interface became usable (IFF_UP and carrier) after being down. */
  up: (info: InterfaceInfo) => void;
  /** The interface lost IFF_UP or carrier, or disappeared. */
  down: (ifname: string) => void;
  /** The interface appeared, or was re-created (ifindex changed): sockets must be reopened. */
  new: (info: InterfaceInfo) => void;
  /** The interface disappeared (deleted or moved away); `index` is the ifindex it had. Emitted after `down`. */
  removed: (ifname: string, index: number) => void;
  /** The interface's MAC address changed (same ifindex); `previous` is the old MAC. */
  mac: (info: InterfaceInfo, previous: string) => void;
}

/** Options of {@link InterfaceWatcher}. */
export interface InterfaceWatcherOptions {
  /** Poll period in ms (default 500). */
  intervalMs?: number;
  /** Reads the interface's state (default {@link interfaceInfo}); tests pass a fake. */
  read?: (ifname: string) => InterfaceInfo | undefined;
}

/**
 * Watches one interface by polling `/sys/class/net/<if>/{ifindex,flags,carrier,address}` every
 * `intervalMs` (chosen over `ip monitor` for having no child process and no parser; the cost is a
 * detection delay of at most one period). Emits `new` on appearance / ifindex change, then `up`
 * when usable, `down` when it stops being usable or disappears, `removed` when it disappears and
 * `mac` when its address changes. Listeners' exceptions do not stop the polling.
 */
export class InterfaceWatcher extends EventEmitter<InterfaceWatcherEvents> {
  private timer: NodeJS.Timeout | undefined;
  private lastIndex = 0;
  private lastUsable = false;
  private lastMac = '';

  /** @param ifname interface to watch; @param opts poll period. Call {@link start} to begin. */
  constructor(readonly ifname: string, private readonly opts: InterfaceWatcherOptions = {}) {
    super();
  }

  private read(): InterfaceInfo | undefined {
    try {
      return (this.opts.read ?? interfaceInfo)(this.ifname);
    } catch {
      return undefined;
    }
  }

  /** The ifindex seen by the last poll (0 when the interface is absent). */
  get index(): number {
    return this.lastIndex;
  }

  /** Records the current state and starts polling; with `emitInitial` also emits `new`/`up` for it. */
  start(emitInitial = false): this {
    if (this.timer) return this;
    const info = this.read();
    this.lastIndex = info?.index ?? 0;
    this.lastUsable = info ? info.up && info.carrier : false;
    this.lastMac = info?.mac ?? '';
    if (emitInitial && info) {
      this.emit('new', info);
      if (this.lastUsable) this.emit('up', info);
    }
    this.timer = setInterval(() => {
      try {
        this.poll();
      } catch {
        /* a throwing listener must not kill the timer */
      }
    }, this.opts.intervalMs ?? 500);
    this.timer.unref();
    return this;
  }

  /** Runs one poll now (also called by the timer). */
  poll(): void {
    const info = this.read();
    const index = info?.index ?? 0;
    const usable = info ? info.up && info.carrier : false;
    if (info && index !== this.lastIndex) {
      if (this.lastUsable) this.emit('down', this.ifname);
      this.lastIndex = index;
      this.lastUsable = usable;
      this.lastMac = info.mac;
      this.emit('new', info);
      if (usable) this.emit('up', info);
      return;
    }
    const gone = !info && this.lastIndex !== 0 ? this.lastIndex : 0;
    this.lastIndex = index;
    const wasUsable = this.lastUsable;
    this.lastUsable = usable;
    // Order: `down` first, then `removed`/`mac`, then `up`, so a listener re-announcing on `mac`
    // only does so on a usable link and `up` finds the new MAC already in place.
    if (wasUsable && !usable) this.emit('down', this.ifname);
    if (gone) {
      this.lastMac = '';
      this.emit('removed', this.ifname, gone);
    } else if (info && info.mac !== this.lastMac) {
      const previous = this.lastMac;
      this.lastMac = info.mac;
      this.emit('mac', info, previous);
    }
    if (!wasUsable && usable && info) this.emit('up', info);
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
