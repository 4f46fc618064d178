/**
 * An in-test Kubernetes API server that behaves like kube-apiserver where lbkit depends on it:
 * list (with the collection's resourceVersion, `limit`/`continue` pagination), watch (`?watch=true`, JSON lines, from a
 * resourceVersion, synthetic ADDED for a watch without one, `timeoutSeconds` honoured, periodic
 * BOOKMARKs with `allowWatchBookmarks`, an ERROR 410 Expired event when the requested version was
 * compacted away), get, create (generateName, 409 AlreadyExists), PUT with optimistic concurrency
 * (409 Conflict on a stale metadata.resourceVersion), merge PATCH (with an optional
 * resourceVersion precondition), the status subresource (`/status` writes change only .status;
 * writes to the object never change .status), DELETE and labelSelector.
 *
 * Fault injection: {@link FakeApiServer.addFault} answers matching requests with a status code
 * (optionally N times or until a deadline), {@link FakeApiServer.latencyMs} delays every non-watch
 * request, {@link FakeApiServer.stallWatches} keeps watch connections open but silent,
 * {@link FakeApiServer.compact} drops history (→ 410 for older watches), {@link FakeApiServer.failing}
 * makes a collection's list/watch answer 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Obj = { apiVersion?: string; kind?: string; metadata: { name?: string; generateName?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };

interface Watcher {
  coll: string;
  ns: string | undefined;
  sel: ((o: Obj) => boolean) | undefined;
  res: ServerResponse;
  timers: NodeJS.Timeout[];
}

/** Request log entry. */
export interface Req {
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
  /** The Authorization header (tells which client sent it). */
  auth?: string;
}

/** An injected fault: requests matching `method` and `path` answer `status`. */
export interface Fault {
  /** HTTP method (any when absent). */
  method?: string;
  /** Substring or regular expression on `path?query` (any when absent). */
  path?: string | RegExp;
  /** Only watch requests (true), only non-watch requests (false), or both (absent). */
  watch?: boolean;
  /** Status code answered. */
  status: number;
  /** How many matching requests fail (default: unlimited). */
  times?: number;
  /** Epoch ms after which the fault no longer applies. */
  until?: number;
}

/** One committed change (for benches: when did a write land). */
export interface Commit {
  type: string;
  coll: string;
  obj: Obj;
  /** Subresource written (`status`) or undefined. */
  sub?: string;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const KINDS: Record<string, string> = {
  services: 'Service',
  endpointslices: 'EndpointSlice',
  nodes: 'Node',
  namespaces: 'Namespace',
  events: 'Event',
  ipaddresspools: 'IPAddressPool',
  l2advertisements: 'L2Advertisement',
  bgpadvertisements: 'BGPAdvertisement',
  bgppeers: 'BGPPeer',
  communities: 'Community',
  bfdprofiles: 'BFDProfile',
  servicel2statuses: 'ServiceL2Status',
  servicebgpstatuses: 'ServiceBGPStatus',
  // coordination.k8s.io/v1 (leader election): PUT with a stale resourceVersion answers 409
  leases: 'Lease',
};

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' };

/** Options of {@link FakeApiServer}. */
export interface FakeApiServerOptions {
  /** Watch events kept for replay; older ones are compacted away (default 200 000). */
  history?: number;
  /** BOOKMARK period for watches asking for them (default 0 = never). */
  bookmarkMs?: number;
  /** Longest watch in s when the client asks for none (default 1800). */
  maxWatchSeconds?: number;
  /** Keep a log of every request in {@link FakeApiServer.requests} (default true). */
  recordRequests?: boolean;
}

/** The fake API server. */
export class FakeApiServer {
  private rv = 100;
  private gen = 0;
  readonly store = new Map<string, Map<string, Obj>>();
  private log: Array<{ rv: number; coll: string; ns: string | undefined; type: string; obj: Obj }> = [];
  /** Oldest resourceVersion still replayable (watches from before it get 410). */
  private compactedRv = 0;
  private readonly watchers = new Set<Watcher>();
  readonly requests: Req[] = [];
  /** Collections (e.g. `/apis/metallb.io/v1beta1/ipaddresspools`) whose list/watch answers 500. */
  readonly failing = new Set<string>();
  /** Injected faults, checked in order. */
  readonly faults: Fault[] = [];
  /** Delay of every non-watch request in ms. */
  latencyMs = 0;
  /** Called on every committed change. */
  onCommit: ((c: Commit) => void) | undefined;
  /** Counters: requests by method, 409s, 410s sent, watches opened. */
  readonly counts = { requests: 0, conflicts: 0, gone: 0, watches: 0, faults: 0 };
  private stalled = false;
  private server: Server | undefined;
  url = '';

  /** @param opts see {@link FakeApiServerOptions} */
  constructor(private readonly opts: FakeApiServerOptions = {}) {}

  /** Starts listening on 127.0.0.1 (random port). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Closes every watch and the server. */
  async stop(): Promise<void> {
    for (const w of this.watchers) this.endWatch(w);
    this.watchers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** Injects a fault; returns it (remove with {@link removeFault}). */
  addFault(f: Fault): Fault {
    this.faults.push(f);
    return f;
  }

  /** Removes one fault. */
  removeFault(f: Fault): void {
    const i = this.faults.indexOf(f);
    if (i >= 0) this.faults.splice(i, 1);
  }

  /** Keeps every watch connection open but sends nothing more (until {@link unstall}); new watches stall too. */
  stallWatches(): void {
    this.stalled = true;
  }

  /** Ends the stall: events flow again to watches opened from now on (stalled connections stay dead). */
  unstall(): void {
    this.stalled = false;
  }

  /** Ends every open watch from the server side (as a kube-apiserver restart or timeout would). */
  dropWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  /** Open watch connections. */
  get watchCount(): number {
    return this.watchers.size;
  }

  /** The current resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  /** Forgets the whole watch history: any watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.log = [];
  }

  private collOf(prefix: string, plural: string): string {
    return `${prefix}/${plural}`;
  }

  private coll(c: string): Map<string, Obj> {
    let m = this.store.get(c);
    if (!m) {
      m = new Map();
      this.store.set(c, m);
    }
    return m;
  }

  /** Creates or replaces an object from the test side (e.g. `put('/api/v1', 'services', obj)`). */
  put(prefix: string, plural: string, obj: Obj): Obj {
    const c = this.collOf(prefix, plural);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const exists = this.coll(c).has(key);
    return this.commit(c, exists ? 'MODIFIED' : 'ADDED', { kind: KINDS[plural], ...obj });
  }

  /** Deletes an object from the test side. */
  remove(prefix: string, plural: string, ns: string | undefined, name: string): void {
    const c = this.collOf(prefix, plural);
    const o = this.coll(c).get(`${ns ?? ''}/${name}`);
    if (o) this.commit(c, 'DELETED', o);
  }

  /** Reads an object. */
  get(prefix: string, plural: string, ns: string | undefined, name: string): Obj | undefined {
    return this.coll(this.collOf(prefix, plural)).get(`${ns ?? ''}/${name}`);
  }

  /** Lists a collection. */
  list(prefix: string, plural: string): Obj[] {
    return [...this.coll(this.collOf(prefix, plural)).values()];
  }

  private commit(c: string, type: string, obj: Obj, sub?: string): Obj {
    const o = type === 'DELETED' ? obj : structuredClone(obj);
    o.metadata.resourceVersion = String(++this.rv);
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (type === 'DELETED') this.coll(c).delete(key);
    else this.coll(c).set(key, o);
    this.log.push({ rv: this.rv, coll: c, ns: o.metadata.namespace, type, obj: o });
    const max = this.opts.history ?? 200_000;
    if (this.log.length > max * 1.25) {
      const drop = this.log.length - max;
      this.compactedRv = this.log[drop - 1]!.rv;
      this.log = this.log.slice(drop);
    }
    if (!this.stalled) {
      let line: string | undefined;
      for (const w of this.watchers)
        if (w.coll === c && (!w.ns || w.ns === o.metadata.namespace) && (!w.sel || w.sel(o)) && !w.res.destroyed) w.res.write((line ??= JSON.stringify({ type, object: o }) + '\n'));
    }
    this.onCommit?.({ type, coll: c, obj: o, sub });
    return o;
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    const t = Buffer.concat(chunks).toString('utf8');
    return t ? JSON.parse(t) : undefined;
  }

  private send(res: ServerResponse, code: number, obj: unknown): void {
    if (res.destroyed) return;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  }

  private fault(method: string, path: string, watch: boolean): Fault | undefined {
    const now = Date.now();
    for (const f of this.faults) {
      if (f.until !== undefined && now > f.until) continue;
      if (f.times !== undefined && f.times <= 0) continue;
      if (f.method && f.method !== method) continue;
      if (f.watch !== undefined && f.watch !== watch) continue;
      if (f.path !== undefined && !(typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))) continue;
      if (f.times !== undefined) f.times--;
      return f;
    }
    return undefined;
  }

  private endWatch(w: Watcher): void {
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
    if (!w.res.destroyed) w.res.end();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([a-z0-9]+)(?:\/([^/]+))?(\/status)?$/.exec(u.pathname);
    let body: unknown;
    try {
      body = await this.body(req);
    } catch {
      return this.send(res, 400, status(400, 'BadRequest', 'bad json'));
    }
    const method = req.method ?? 'GET';
    const isWatch = u.searchParams.get('watch') === 'true';
    const full = u.pathname + (u.search || '');
    this.counts.requests++;
    if (this.opts.recordRequests !== false) this.requests.push({ method, path: full, contentType: req.headers['content-type'], body, auth: req.headers.authorization });
    const f = this.fault(method, full, isWatch);
    if (f) {
      this.counts.faults++;
      return this.send(res, f.status, status(f.status, REASONS[f.status] ?? 'Unknown', `injected fault ${f.status}`));
    }
    if (this.latencyMs > 0 && !isWatch) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (!m) return this.send(res, 404, status(404, 'NotFound', `no route ${u.pathname}`));
    const [, prefix, ns, plural, name, sub] = m as unknown as [string, string, string | undefined, string, string | undefined, string | undefined];
    if (!plural) return this.send(res, 404, status(404, 'NotFound', 'no resource'));
    const c = this.collOf(prefix, plural);
    const items = this.coll(c);
    if (method === 'GET' && !name) {
      if (this.failing.has(c)) return this.send(res, 500, status(500, 'InternalError', 'injected failure'));
      const selText = u.searchParams.get('labelSelector');
      const sel = selText
        ? (o: Obj) =>
            selText.split(',').every((p) => {
              const [k, v] = p.split('=');
              return o.metadata.labels?.[k!] === v;
            })
        : undefined;
      const match = (o: Obj) => (!ns || o.metadata.namespace === ns) && (!sel || sel(o));
      if (isWatch) return this.watch(req, res, u, c, ns, sel, match);
      // pagination (limit / continue): pages in key order; the continue token carries the first
      // page's resourceVersion (a token older than the compacted history answers 410 Expired)
      const limit = Number(u.searchParams.get('limit') ?? '0');
      const cont = u.searchParams.get('continue');
      let after = '';
      let listRv = this.rv;
      if (cont) {
        try {
          const t = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { rv: number; after: string };
          after = t.after;
          listRv = t.rv;
        } catch {
          return this.send(res, 400, status(400, 'BadRequest', 'bad continue token'));
        }
        if (listRv < this.compactedRv) return this.send(res, 410, status(410, 'Expired', 'the continue token is too old'));
      }
      let out: Obj[] = [];
      for (const [k, o] of items) if ((!after || k > after) && match(o)) out.push(o);
      let next: string | undefined;
      if (limit > 0) {
        out.sort((a, b) => {
          const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
          const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
          return ka < kb ? -1 : ka > kb ? 1 : 0;
        });
        if (out.length > limit) {
          out = out.slice(0, limit);
          const last = out[out.length - 1]!;
          next = Buffer.from(JSON.stringify({ rv: listRv, after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url');
        }
      }
      return this.send(res, 200, { kind: `${KINDS[plural] ?? 'Object'}List`, apiVersion: 'v1', metadata: { resourceVersion: String(listRv), ...(next ? { continue: next } : {}) }, items: out });
    }
    const key = `${ns ?? ''}/${name ?? ''}`;
    if (method === 'GET') {
      const o = items.get(key);
      return o ? this.send(res, 200, o) : this.send(res, 404, status(404, 'NotFound', `${plural} "${name}" not found`));
    }
    if (method === 'POST' && !name) {
      const o = (body ?? {}) as Obj;
      o.metadata = o.metadata ?? {};
      if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${(++this.gen).toString(36).padStart(5, 'x')}`;
      if (ns) o.metadata.namespace = ns;
      if (items.has(`${ns ?? ''}/${o.metadata.name}`)) return this.send(res, 409, status(409, 'AlreadyExists', `${plural} "${o.metadata.name}" already exists`));
      // with a status subresource (every kind here but Event), create ignores .status
      if (plural !== 'events') delete o.status;
      return this.send(res, 201, this.commit(c, 'ADDED', o));
    }
    const cur = items.get(key);
    if (!cur) return this.send(res, 404, status(404, 'NotFound', `${plural} "${name}" not found`));
    if (method === 'DELETE') {
      this.commit(c, 'DELETED', cur);
      return this.send(res, 200, { kind: 'Status', status: 'Success' });
    }
    const wantRv = (body as Obj | undefined)?.metadata?.resourceVersion;
    if ((method === 'PUT' || method === 'PATCH') && wantRv !== undefined && wantRv !== cur.metadata.resourceVersion) {
      this.counts.conflicts++;
      return this.send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`));
    }
    if (method === 'PUT') {
      if (!body || typeof body !== 'object' || Array.isArray(body)) return this.send(res, 400, status(400, 'BadRequest', 'PUT needs an object'));
      const o = body as Obj;
      // as kube-apiserver: the object is the one the path names (namespace from the URL)
      o.metadata = { ...(o.metadata ?? {}), name: cur.metadata.name, ...(cur.metadata.namespace !== undefined ? { namespace: cur.metadata.namespace } : {}) };
      const next = sub ? { ...cur, status: o.status } : { ...o, status: cur.status };
      return this.send(res, 200, this.commit(c, 'MODIFIED', next as Obj, sub ? 'status' : undefined));
    }
    if (method === 'PATCH') {
      if (!String(req.headers['content-type']).includes('merge-patch')) return this.send(res, 415, status(415, 'UnsupportedMediaType', 'only merge patch'));
      const p = (body ?? {}) as Record<string, unknown>;
      let next: Obj;
      if (sub) next = { ...cur, status: mergePatch(cur.status, p.status) } as Obj;
      else {
        const { status: _ignored, ...rest } = p;
        void _ignored;
        next = mergePatch(cur, rest) as Obj;
      }
      return this.send(res, 200, this.commit(c, 'MODIFIED', next, sub ? 'status' : undefined));
    }
    return this.send(res, 405, status(405, 'MethodNotAllowed', method));
  }

  private watch(req: IncomingMessage, res: ServerResponse, u: URL, c: string, ns: string | undefined, sel: ((o: Obj) => boolean) | undefined, match: (o: Obj) => boolean): void {
    this.counts.watches++;
    const rvParam = u.searchParams.get('resourceVersion');
    const from = rvParam === null || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from !== undefined && from < this.compactedRv) {
      this.counts.gone++;
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`) }) + '\n');
      return;
    }
    const w: Watcher = { coll: c, ns, sel, res, timers: [] };
    if (!this.stalled) {
      if (from === undefined) {
        for (const o of this.coll(c).values()) if (match(o)) res.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
      } else {
        // binary search the first event after `from`
        let lo = 0;
        let hi = this.log.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (this.log[mid]!.rv <= from) lo = mid + 1;
          else hi = mid;
        }
        for (let i = lo; i < this.log.length; i++) {
          const e = this.log[i]!;
          if (e.coll === c && (!ns || e.ns === ns) && (!sel || sel(e.obj))) res.write(JSON.stringify({ type: e.type, object: e.obj }) + '\n');
        }
      }
    }
    const timeout = Number(u.searchParams.get('timeoutSeconds') ?? '') || this.opts.maxWatchSeconds || 1800;
    w.timers.push(setTimeout(() => this.endWatch(w), timeout * 1000));
    const bm = this.opts.bookmarkMs ?? 0;
    if (bm > 0 && u.searchParams.get('allowWatchBookmarks') === 'true') {
      const tick = (): void => {
        if (!this.stalled && !res.destroyed) res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: KINDS[c.split('/').pop()!] ?? 'Object', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }) + '\n');
        w.timers[1] = setTimeout(tick, bm);
      };
      w.timers[1] = setTimeout(tick, bm);
    }
    this.watchers.add(w);
    const gone = (): void => {
      for (const t of w.timers) clearTimeout(t);
      this.watchers.delete(w);
    };
    req.on('close', gone);
    res.on('close', gone);
  }
}
