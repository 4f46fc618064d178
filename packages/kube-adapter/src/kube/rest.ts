/**
 * A lean REST client for lbkit's writes (merge PATCH, POST, DELETE, labelled GET), authenticated
 * by `@kubernetes/client-node`'s KubeConfig (the same headers, tokens, exec plugins and TLS
 * options as its generated clients) but sent over one keep-alive `node:http(s)` agent and without
 * the generated clients' object (de)serialisation, which costs about 3× the CPU per request (a
 * controller writes two or three times per Service). Lists and watches stay on client-node.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** An API error: `code` is the HTTP status, `body` the decoded Status object when there is one. */
export class RestError extends Error {
  /** @param code HTTP status @param body decoded body @param what method and path */
  constructor(
    readonly code: number,
    readonly body: unknown,
    what: string,
  ) {
    const msg = body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
    super(`${what}: HTTP ${code}${typeof msg === 'string' ? `: ${msg}` : ''}`);
  }
}

interface Auth {
  headers: Record<string, string>;
  agent: HttpAgent;
  at: number;
}

/** Per-request options of {@link RestClient.request}. */
export interface RequestOptions {
  /**
   * `low`: informational writes (Events, the pool annotation) that wait while normal requests
   * (status writes, lists) are in flight, so they never compete with what speakers act on; one low
   * request still goes out when the oldest has waited `starveMs` (default 1000 ms).
   */
  priority?: 'low';
  /** Resolve with undefined on success without reading the response body into an object. */
  discardBody?: boolean;
}

/** Options of {@link RestClient}. */
export interface RestClientOptions {
  /** Sockets per origin (default 32). */
  maxSockets?: number;
  /** Re-read credentials (tokens, exec plugins) this often (default 30 000 ms). */
  authTtlMs?: number;
  /** Per-request timeout (default 30 000 ms). */
  timeoutMs?: number;
  /** A low-priority request waiting this long goes out even while normal ones are busy (default 1000 ms). */
  starveMs?: number;
}

/** The REST client. */
export class RestClient {
  private auth: Promise<Auth> | undefined;
  private agent: HttpAgent | undefined;
  private readonly base: URL;
  private readonly https: boolean;
  private readonly host: string;
  private readonly port: number;
  private normalInFlight = 0;
  private lowInFlight = 0;
  private readonly lowWaiting: Array<{ since: number; go: () => void }> = [];
  private lowHead = 0;
  /** Counters: requests sent, low-priority requests that had to wait. */
  readonly stats = { requests: 0, lowDeferred: 0 };

  /** @param kc a loaded KubeConfig */
  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: RestClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    this.base = new URL(cluster.server);
    this.https = this.base.protocol === 'https:';
    this.host = this.base.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(this.base.port) || (this.https ? 443 : 80);
  }

  private getAuth(): Promise<Auth> {
    const ttl = this.opts.authTtlMs ?? 30_000;
    const cur = this.auth;
    if (cur) return cur.then((a) => (Date.now() - a.at < ttl ? a : this.refresh()));
    return this.refresh();
  }

  private refresh(): Promise<Auth> {
    const p = (async () => {
      const o = await this.kc.applyToFetchOptions({});
      const headers: Record<string, string> = { accept: 'application/json' };
      const h = o.headers as unknown as { forEach?: (cb: (v: string, k: string) => void) => void } | Record<string, string> | undefined;
      if (h && typeof (h as { forEach?: unknown }).forEach === 'function') (h as { forEach: (cb: (v: string, k: string) => void) => void }).forEach((v, k) => (headers[k] = v));
      else if (h) Object.assign(headers, h);
      if (!this.agent) {
        const made = o.agent as HttpAgent | undefined;
        const base = made ? { ...(made as unknown as { options: Record<string, unknown> }).options } : {};
        this.agent = this.https ? new HttpsAgent({ ...base, keepAlive: true, maxSockets: this.opts.maxSockets ?? 32 }) : new HttpAgent({ ...base, keepAlive: true, maxSockets: this.opts.maxSockets ?? 32 });
        made?.destroy?.();
      }
      return { headers, agent: this.agent, at: Date.now() };
    })();
    this.auth = p;
    p.catch(() => {
      if (this.auth === p) this.auth = undefined;
    });
    return p;
  }

  /** Sends one request; resolves with the decoded JSON body, rejects with {@link RestError}. */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json', ro: RequestOptions = {}): Promise<unknown> {
    const low = ro.priority === 'low';
    if (low) await this.lowSlot();
    else this.normalInFlight++;
    try {
      return await this.send(method, path, body, contentType, ro.discardBody === true);
    } finally {
      if (low) this.lowInFlight--;
      else this.normalInFlight--;
      this.releaseLow();
    }
  }

  /** Waits until a low-priority request may go out (no normal request in flight, or starving). */
  private lowSlot(): Promise<void> {
    if (this.normalInFlight === 0 && this.lowHead >= this.lowWaiting.length) {
      this.lowInFlight++;
      return Promise.resolve();
    }
    this.stats.lowDeferred++;
    return new Promise((go) => this.lowWaiting.push({ since: Date.now(), go }));
  }

  private releaseLow(): void {
    while (this.lowHead < this.lowWaiting.length) {
      const w = this.lowWaiting[this.lowHead]!;
      const starving = this.lowInFlight === 0 && Date.now() - w.since >= (this.opts.starveMs ?? 1000);
      if (this.normalInFlight > 0 && !starving) break;
      this.lowHead++;
      this.lowInFlight++;
      w.go();
    }
    if (this.lowHead > 1024 && this.lowHead * 2 > this.lowWaiting.length) {
      this.lowWaiting.splice(0, this.lowHead);
      this.lowHead = 0;
    }
  }

  private async send(method: string, path: string, body: unknown, contentType: string, discard: boolean): Promise<unknown> {
    const a = await this.getAuth();
    this.stats.requests++;
    // a string body goes out in one write together with the headers
    const data = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string | number> = a.headers;
    if (data !== undefined) headers = { ...a.headers, 'content-type': contentType, 'content-length': Buffer.byteLength(data) };
    const req = this.https ? httpsRequest : httpRequest;
    const what = (): string => `${method} ${path.split('?')[0]}`;
    return new Promise((resolve, reject) => {
      const r = req({ host: this.host, port: this.port, path, method, headers, agent: a.agent, timeout: this.opts.timeoutMs ?? 30_000 }, (res: IncomingMessage) => {
        const code = res.statusCode ?? 0;
        res.on('error', reject);
        if (discard && code >= 200 && code < 300) {
          // the body is not needed: drain it without buffering or parsing
          res.on('end', () => resolve(undefined));
          res.resume();
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON: keep the text */
          }
          if (code >= 200 && code < 300) resolve(parsed);
          else reject(new RestError(code, parsed, what()));
        });
      });
      r.on('timeout', () => r.destroy(new Error(`${what()}: timeout`)));
      r.on('error', reject);
      r.end(data);
    });
  }

  /** Merge PATCH. */
  mergePatch(path: string, body: unknown, ro?: RequestOptions): Promise<unknown> {
    return this.request('PATCH', path, body, 'application/merge-patch+json', ro);
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.auth = undefined;
  }
}

/** `encodeURIComponent` for path segments. */
export const seg = (s: string): string => encodeURIComponent(s);
