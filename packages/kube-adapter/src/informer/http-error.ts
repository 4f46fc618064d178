/**
 * Error helpers for Kubernetes API errors, apart from the reflector so that modules needing only
 * these (the controller loop) do not load `@kubernetes/client-node` (about 1 s of start-up CPU) in
 * YAML-file mode.
 */
import { errMsg } from '../errors.js';

/** HTTP status of a client-node error (ApiException.code, Watch's statusCode), or undefined. */
export function httpCode(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; statusCode?: unknown };
  if (typeof o.code === 'number') return o.code;
  if (typeof o.statusCode === 'number') return o.statusCode;
  return undefined;
}

/** A short error text: `HTTP 403` for API errors (client-node's messages embed whole headers). */
export function shortErr(e: unknown): string {
  const c = httpCode(e);
  if (c !== undefined) {
    const body = (e as { body?: unknown }).body;
    const msg = body && typeof body === 'object' ? (body as { message?: unknown }).message : typeof body === 'string' ? body : undefined;
    return `HTTP ${c}${typeof msg === 'string' && msg ? `: ${msg.slice(0, 200)}` : ''}`;
  }
  return errMsg(e).split('\n')[0]!.slice(0, 300);
}
