/**
 * Lease-based leader election (coordination.k8s.io/v1 Lease), client-go's `leaderelection`
 * algorithm: a candidate reads the Lease; it takes it when the Lease is missing, released (no
 * holder) or not renewed by its holder for `leaseDuration` as observed on the candidate's own clock;
 * every update carries the read resourceVersion, so of two candidates only one wins (the other gets
 * 409 Conflict). The leader renews every `retryPeriod`; when it could not renew for `renewDeadline`
 * it stops leading (lbkitd then exits, as client-go's controllers do). Defaults: 15 s / 10 s / 2 s.
 */
import { httpCode, shortErr } from '../informer/reflector.js';
import { nullLogger, type Logger } from '../log.js';
import { seg, type RestClient } from './rest.js';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  namespace: string;
  /** Lease name (lbkitd: `lbkit-controller`). */
  name: string;
  /** This candidate's identity (lbkitd: pod name or hostname, plus a random suffix). */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: Logger;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** A Kubernetes MicroTime (RFC 3339 with microseconds). */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The elector. */
export class LeaderElector {
  private readonly log: Logger;
  private observed: { holder: string; renew: string; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private leading = false;
  private lastRenew = 0;
  private wake: (() => void) | undefined;
  /** Called once when leadership is lost (renew deadline passed). */
  onLost: (() => void) | undefined;

  /** @param rest the REST client; @param opts see {@link LeaderElectorOptions} */
  constructor(
    private readonly rest: RestClient,
    private readonly opts: LeaderElectorOptions,
  ) {
    this.log = opts.log ?? nullLogger;
  }

  private get leaseMs(): number {
    return this.opts.leaseDurationMs ?? 15_000;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${seg(this.opts.namespace)}/leases`;
  }

  /** Whether this candidate holds the Lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** One client-go `tryAcquireOrRenew`: true when this candidate holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const me = this.opts.identity;
    const spec = (transitions: number, acquire: string): LeaseSpec => ({ holderIdentity: me, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), acquireTime: acquire, renewTime: microTime(now), leaseTransitions: transitions });
    let cur: Lease;
    try {
      cur = (await this.rest.request('GET', `${this.path}/${seg(this.opts.name)}`)) as Lease;
    } catch (e) {
      if (httpCode(e) !== 404) throw e;
      await this.rest.request('POST', this.path, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.name, namespace: this.opts.namespace }, spec: spec(0, microTime(now)) }, 'application/json', { discardBody: true });
      this.observed = { holder: me, renew: microTime(now), at: now };
      return true;
    }
    const s = cur.spec ?? {};
    const holder = s.holderIdentity ?? '';
    const renew = s.renewTime ?? '';
    // expiry is judged on our clock: from when we first saw this holder/renewTime pair
    if (!this.observed || this.observed.holder !== holder || this.observed.renew !== renew) this.observed = { holder, renew, at: now };
    const duration = (s.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000;
    if (holder && holder !== me && now < this.observed.at + duration) return false;
    const next = holder === me ? spec(s.leaseTransitions ?? 0, s.acquireTime ?? microTime(now)) : spec((s.leaseTransitions ?? 0) + 1, microTime(now));
    try {
      await this.rest.request('PUT', `${this.path}/${seg(this.opts.name)}`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...cur.metadata, name: this.opts.name, namespace: this.opts.namespace }, spec: next }, 'application/json', { discardBody: true });
    } catch (e) {
      if (httpCode(e) === 409) return false;
      throw e;
    }
    this.observed = { holder: me, renew: next.renewTime!, at: now };
    return true;
  }

  /** Resolves once this candidate leads (retrying every retry period), or with false when stopped. */
  async acquire(): Promise<boolean> {
    let logged = false;
    while (!this.stopped) {
      try {
        if (await this.tryAcquireOrRenew()) break;
        if (!logged) this.log.log('info', 'waiting for the leader lease', { lease: `${this.opts.namespace}/${this.opts.name}`, holder: this.observed?.holder });
        logged = true;
      } catch (e) {
        this.log.log('warn', 'leader lease not readable or writable, retrying', { err: shortErr(e) });
      }
      await new Promise<void>((r) => {
        this.wake = r;
        this.timer = setTimeout(r, this.opts.retryPeriodMs ?? 2000);
      });
    }
    if (this.stopped) return false;
    this.leading = true;
    this.lastRenew = Date.now();
    this.log.log('info', 'became leader', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
    this.scheduleRenew();
    return true;
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.renew(), this.opts.retryPeriodMs ?? 2000);
  }

  private async renew(): Promise<void> {
    if (this.stopped || !this.leading) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.log.log('warn', 'leader lease renewal failed', { err: shortErr(e) });
    }
    if (this.stopped) return;
    if (ok) this.lastRenew = Date.now();
    else if (Date.now() - this.lastRenew >= (this.opts.renewDeadlineMs ?? 10_000) || this.observed?.holder !== this.opts.identity) {
      this.leading = false;
      this.log.log('error', 'leader lease lost', { lease: `${this.opts.namespace}/${this.opts.name}`, holder: this.observed?.holder });
      this.onLost?.();
      return;
    }
    this.scheduleRenew();
  }

  /** Stops campaigning/renewing; with `release` a leader clears the holder so another takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    if (!release || !this.leading) return;
    this.leading = false;
    try {
      const cur = (await this.rest.request('GET', `${this.path}/${seg(this.opts.name)}`)) as Lease;
      if (cur.spec?.holderIdentity !== this.opts.identity) return;
      await this.rest.request('PUT', `${this.path}/${seg(this.opts.name)}`, { ...cur, spec: { ...cur.spec, holderIdentity: null, renewTime: microTime(Date.now()), leaseDurationSeconds: 1 } }, 'application/json', { discardBody: true });
    } catch (e) {
      this.log.log('warn', 'leader lease release failed', { err: shortErr(e) });
    }
  }
}
