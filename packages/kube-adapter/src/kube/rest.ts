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

/** Options of {@link RestClient}. */
export interface RestClientOptions {
  /** Sockets per origin (default 32). */
  maxSockets?: number;
  /** Re-read credentials (tokens, exec plugins) this often (default 30 000 ms). */
  authTtlMs?: number;
  /** Per-request timeout (default 30 000 ms). */
  timeoutMs?: number;
}

/** The REST client. */
export class RestClient {
  private auth: Promise<Auth> | undefined;
  private agent: HttpAgent | undefined;
  private readonly base: URL;
  private readonly https: boolean;

  /** @param kc a loaded KubeConfig */
  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: RestClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    this.base = new URL(cluster.server);
    this.https = this.base.protocol === 'https:';
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
      const headers: Record<string, string> = {};
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
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const a = await this.getAuth();
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(path, this.base);
    const headers: Record<string, string | number> = { ...a.headers, accept: 'application/json' };
    if (data) {
      headers['content-type'] = contentType;
      headers['content-length'] = data.length;
    }
    const req = this.https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = req(url, { method, headers, agent: a.agent, timeout: this.opts.timeoutMs ?? 30_000 }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON: keep the text */
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(parsed);
          else reject(new RestError(code, parsed, `${method} ${url.pathname}`));
        });
      });
      r.on('timeout', () => r.destroy(new Error(`${method} ${url.pathname}: timeout`)));
      r.on('error', reject);
      r.end(data);
    });
  }

  /** Merge PATCH. */
  mergePatch(path: string, body: unknown): Promise<unknown> {
    return this.request('PATCH', path, body, 'application/merge-patch+json');
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
