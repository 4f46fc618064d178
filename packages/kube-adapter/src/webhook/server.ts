/**
 * The validating webhook served by lbkitd: HTTPS (the API server only calls webhooks over TLS),
 * certificate and key read from a directory (`tls.crt`, `tls.key`, as cert-manager and MetalLB's
 * webhook Secret lay them out) and re-read when they change, AdmissionReview v1 on MetalLB's
 * paths (`/validate-metallb-io-v1beta1-ipaddresspool`, ..., `/validate-metallb-io-v1beta2-bgppeer`)
 * and on `/validate`. Malformed requests get HTTP 400, never a crash.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { errMsg } from '../errors.js';
import { BadReviewError, reviewAdmission, type AdmissionContext } from './admission.js';

/** Options of {@link WebhookServer}. */
export interface WebhookServerOptions extends AdmissionContext {
  /** Directory holding `tls.crt` and `tls.key`. */
  certDir: string;
  /** Port (0 = any free port). */
  port: number;
  /** Listen address (default all). */
  host?: string;
  /** Logger (optional). */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** MetalLB's webhook paths, all served by the same validator. */
export const WEBHOOK_PATHS = [
  '/validate-metallb-io-v1beta1-ipaddresspool',
  '/validate-metallb-io-v1beta1-l2advertisement',
  '/validate-metallb-io-v1beta1-bgpadvertisement',
  '/validate-metallb-io-v1beta1-community',
  '/validate-metallb-io-v1beta1-bfdprofile',
  '/validate-metallb-io-v1beta2-bgppeer',
  '/validate',
];

/** Largest request body accepted (the API server's object limit is ~1.5 MiB). */
const MAX_BODY = 4 * 1024 * 1024;

/** The HTTPS AdmissionReview server. */
export class WebhookServer {
  private server: Server | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  /** @param opts certificate directory, port and the admission context */
  constructor(private readonly opts: WebhookServerOptions) {}

  private readPair(): { cert: Buffer; key: Buffer } {
    return { cert: readFileSync(join(this.opts.certDir, 'tls.crt')), key: readFileSync(join(this.opts.certDir, 'tls.key')) };
  }

  /** Starts listening; rejects when the certificate cannot be read or the port is taken. */
  async start(): Promise<void> {
    let pair: { cert: Buffer; key: Buffer };
    try {
      pair = this.readPair();
    } catch (e) {
      throw new Error(`webhook: cannot read tls.crt/tls.key in ${this.opts.certDir}: ${errMsg(e)}`);
    }
    const srv = createServer(pair, (req, res) => this.handle(req, res));
    srv.on('tlsClientError', () => {}); // scanners and aborted handshakes are not our problem
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.opts.port, this.opts.host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    this.server = srv;
    // certificate rotation (a mounted Secret is swapped by kubelet): reload on any change in the dir
    try {
      this.watcher = watch(this.opts.certDir, () => {
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => this.reload(), 200);
      });
      this.watcher.on('error', () => {});
    } catch {
      /* no watch: the certificate stays as loaded */
    }
  }

  private reload(): void {
    try {
      this.server?.setSecureContext(this.readPair());
      this.opts.log?.('info', 'webhook certificate reloaded', { dir: this.opts.certDir });
    } catch (e) {
      this.opts.log?.('warn', 'webhook certificate reload failed, keeping the old one', { err: errMsg(e) });
    }
  }

  /** The bound port. */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    const srv = this.server;
    this.server = undefined;
    if (!srv) return;
    await new Promise<void>((r) => {
      srv.close(() => r());
      srv.closeAllConnections?.();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0]!;
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path === '/healthz' || path === '/readyz') return send(200, { ok: true });
    if (!WEBHOOK_PATHS.includes(path)) return send(404, { error: `no webhook at ${path}` });
    if (req.method !== 'POST') return send(405, { error: 'POST an AdmissionReview' });
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY && !aborted) {
        aborted = true;
        send(413, { error: 'request body too large' });
        req.destroy();
        return;
      }
      if (!aborted) chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (aborted) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { error: 'body is not JSON' });
      }
      try {
        const reply = reviewAdmission(body, this.opts);
        if (!reply.response.allowed) this.opts.log?.('info', 'webhook denied', { path, uid: reply.response.uid, message: reply.response.status?.message });
        send(200, reply);
      } catch (e) {
        if (e instanceof BadReviewError) return send(400, { error: e.message });
        this.opts.log?.('error', 'webhook failure', { err: errMsg(e) });
        send(500, { error: errMsg(e) });
      }
    });
  }
}
