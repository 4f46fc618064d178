/**
 * A small in-test Kubernetes API server: list, watch (?watch=true, JSON lines, resourceVersion),
 * get, create (generateName), PUT/PATCH (merge patch) incl. /status, DELETE, labelSelector.
 * Enough for @kubernetes/client-node's informers and the calls lbkit makes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Obj = { apiVersion?: string; kind?: string; metadata: { name?: string; generateName?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };

interface Watcher {
  coll: string;
  ns: string | undefined;
  res: ServerResponse;
}

/** Request log entry. */
export interface Req {
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
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
};

/** The fake API server. */
export class FakeApiServer {
  private rv = 100;
  private gen = 0;
  readonly store = new Map<string, Map<string, Obj>>();
  private readonly log: Array<{ rv: number; coll: string; ns: string | undefined; type: string; obj: Obj }> = [];
  private readonly watchers = new Set<Watcher>();
  readonly requests: Req[] = [];
  /** Collections (e.g. `/apis/metallb.io/v1beta1/ipaddresspools`) whose list/watch answers 500. */
  readonly failing = new Set<string>();
  private server: Server | undefined;
  url = '';

  /** Starts listening on 127.0.0.1 (random port). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Closes every watch and the server. */
  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
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

  private commit(c: string, type: string, obj: Obj): Obj {
    const o = structuredClone(obj);
    o.metadata.resourceVersion = String(++this.rv);
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (type === 'DELETED') this.coll(c).delete(key);
    else this.coll(c).set(key, o);
    this.log.push({ rv: this.rv, coll: c, ns: o.metadata.namespace, type, obj: o });
    for (const w of this.watchers) if (w.coll === c && (!w.ns || w.ns === o.metadata.namespace)) w.res.write(JSON.stringify({ type, object: o }) + '\n');
    return o;
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    const t = Buffer.concat(chunks).toString('utf8');
    return t ? JSON.parse(t) : undefined;
  }

  private send(res: ServerResponse, code: number, obj: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([a-z0-9]+)(?:\/([^/]+))?(\/status)?$/.exec(u.pathname);
    let body: unknown;
    try {
      body = await this.body(req);
    } catch {
      return this.send(res, 400, { kind: 'Status', status: 'Failure', message: 'bad json' });
    }
    this.requests.push({ method: req.method ?? '', path: u.pathname + (u.search || ''), contentType: req.headers['content-type'], body });
    if (!m) return this.send(res, 404, { kind: 'Status', status: 'Failure', message: `no route ${u.pathname}` });
    let [, prefix, ns, plural, name, status] = m as unknown as [string, string, string | undefined, string, string | undefined, string | undefined];
    // "/api/v1/namespaces" and "/api/v1/namespaces/x" address namespaces themselves
    if (plural === 'namespaces' || (ns && !plural)) {
      /* handled below */
    }
    if (!plural) return this.send(res, 404, {});
    const c = this.collOf(prefix, plural);
    const items = this.coll(c);
    const method = req.method ?? 'GET';
    if (method === 'GET' && !name) {
      if (this.failing.has(c)) return this.send(res, 500, { kind: 'Status', status: 'Failure', message: 'injected failure', code: 500 });
      const sel = u.searchParams.get('labelSelector');
      const match = (o: Obj) =>
        (!ns || o.metadata.namespace === ns) &&
        (!sel ||
          sel.split(',').every((p) => {
            const [k, v] = p.split('=');
            return o.metadata.labels?.[k!] === v;
          }));
      if (u.searchParams.get('watch') === 'true') {
        const from = Number(u.searchParams.get('resourceVersion') ?? '0');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        for (const e of this.log) if (e.rv > from && e.coll === c && (!ns || e.ns === ns)) res.write(JSON.stringify({ type: e.type, object: e.obj }) + '\n');
        const w: Watcher = { coll: c, ns, res };
        this.watchers.add(w);
        req.on('close', () => this.watchers.delete(w));
        return;
      }
      return this.send(res, 200, { kind: `${KINDS[plural] ?? 'Object'}List`, apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items: [...items.values()].filter(match) });
    }
    const key = `${ns ?? ''}/${name ?? ''}`;
    if (method === 'GET') {
      const o = items.get(key);
      return o ? this.send(res, 200, o) : this.send(res, 404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    }
    if (method === 'POST' && !name) {
      const o = body as Obj;
      o.metadata = o.metadata ?? {};
      if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${(++this.gen).toString(36).padStart(5, 'x')}`;
      if (ns) o.metadata.namespace = ns;
      if (items.has(`${ns ?? ''}/${o.metadata.name}`)) return this.send(res, 409, { kind: 'Status', reason: 'AlreadyExists', code: 409 });
      return this.send(res, 201, this.commit(c, 'ADDED', o));
    }
    const cur = items.get(key);
    if (!cur) return this.send(res, 404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    if (method === 'DELETE') {
      this.commit(c, 'DELETED', cur);
      return this.send(res, 200, { kind: 'Status', status: 'Success' });
    }
    if (method === 'PUT') {
      const o = body as Obj;
      const next = status ? { ...cur, status: o.status } : { ...o, status: cur.status };
      return this.send(res, 200, this.commit(c, 'MODIFIED', next as Obj));
    }
    if (method === 'PATCH') {
      if (!String(req.headers['content-type']).includes('merge-patch')) return this.send(res, 415, { message: 'only merge patch' });
      const p = body as Record<string, unknown>;
      let next: Obj;
      if (status) next = { ...cur, status: mergePatch(cur.status, p.status) } as Obj;
      else {
        const { status: _ignored, ...rest } = p;
        void _ignored;
        next = mergePatch(cur, rest) as Obj;
      }
      return this.send(res, 200, this.commit(c, 'MODIFIED', next));
    }
    return this.send(res, 405, {});
  }
}
