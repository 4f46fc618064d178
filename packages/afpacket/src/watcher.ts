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
}

/** Options of {@link InterfaceWatcher}. */
export interface InterfaceWatcherOptions {
  /** Poll period in ms (default 500). */
  intervalMs?: number;
}

/**
 * Watches one interface by polling `/sys/class/net/<if>/{ifindex,flags,carrier}` every
 * `intervalMs` (chosen over `ip monitor` for having no child process and no parser; the cost is a
 * detection delay of at most one period). Emits `new` on appearance / ifindex change, then `up`
 * when usable, and `down` when it stops being usable or disappears.
 */
export class InterfaceWatcher extends EventEmitter<InterfaceWatcherEvents> {
  private timer: NodeJS.Timeout | undefined;
  private lastIndex = 0;
  private lastUsable = false;

  /** @param ifname interface to watch; @param opts poll period. Call {@link start} to begin. */
  constructor(readonly ifname: string, private readonly opts: InterfaceWatcherOptions = {}) {
    super();
  }

  /** Records the current state and starts polling; with `emitInitial` also emits `new`/`up` for it. */
  start(emitInitial = false): this {
    if (this.timer) return this;
    const info = interfaceInfo(this.ifname);
    this.lastIndex = info?.index ?? 0;
    this.lastUsable = info ? info.up && info.carrier : false;
    if (emitInitial && info) {
      this.emit('new', info);
      if (this.lastUsable) this.emit('up', info);
    }
    this.timer = setInterval(() => this.poll(), this.opts.intervalMs ?? 500);
    this.timer.unref();
    return this;
  }

  /** Runs one poll now (also called by the timer). */
  poll(): void {
    let info: InterfaceInfo | undefined;
    try {
      info = interfaceInfo(this.ifname);
    } catch {
      info = undefined;
    }
    const index = info?.index ?? 0;
    const usable = info ? info.up && info.carrier : false;
    if (info && index !== this.lastIndex) {
      if (this.lastUsable) this.emit('down', this.ifname);
      this.lastIndex = index;
      this.lastUsable = usable;
      this.emit('new', info);
      if (usable) this.emit('up', info);
      return;
    }
    this.lastIndex = index;
    if (usable !== this.lastUsable) {
      this.lastUsable = usable;
      if (usable && info) this.emit('up', info);
      else this.emit('down', this.ifname);
    }
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
