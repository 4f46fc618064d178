/**
 * Validating admission for the metallb.io kinds (AdmissionReview v1), with the rules of file mode:
 * the object's CRD schema, then `parseConfig` over the cluster's current objects with the
 * submitted one put in place, as MetalLB's webhooks do (`ipAddressListWithUpdate` + `Validate`).
 * Only problems the change introduces deny it, so an older bad object elsewhere does not block
 * every later edit. References that may be satisfied later (a BFDProfile, a password Secret, a
 * Community alias) are not required to exist, as in MetalLB (`resetTransientErrorsFields`); a
 * password Secret that exists must still be a basic-auth Secret with a `password` key.
 */
import { parseConfig } from '../config.js';
import { unsupportedPeerFields } from '../config/peer-support.js';
import { ConfigErrors } from '../errors.js';
import { crdSchemas } from '../validation/crd-schema.js';
import { FIELD_OF_KIND, keyOf, METALLB_KINDS, type KubeObject, type Snapshot } from '../types.js';

/** Snapshot list of each validated kind. */
export const WEBHOOK_KINDS: Readonly<Record<string, keyof Snapshot>> = Object.fromEntries(METALLB_KINDS.map((k) => [k, FIELD_OF_KIND[k]]));

/** The AdmissionReview `response`. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
}

/** A complete AdmissionReview v1 reply. */
export interface AdmissionReviewReply {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** What the validator needs from the daemon. */
export interface AdmissionContext {
  /** The cluster's current objects (the object source's last good state). */
  snapshot(): Snapshot;
  /** Namespace the metallb.io objects must live in. */
  namespace: string;
}

/** A request that is not a well-formed AdmissionReview v1 (the server answers HTTP 400). */
export class BadReviewError extends Error {}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fields whose CRD carries `self == oldSelf` (immutable after creation). */
const IMMUTABLE: Record<string, string[]> = { BGPPeer: ['enableGracefulRestart'] };

/** Errors of a snapshot as message strings (empty when valid). */
function problems(snap: Snapshot, namespace: string): string[] {
  try {
    parseConfig(snap, { namespace, lenientReferences: true, unknownFields: false });
    return [];
  } catch (e) {
    if (e instanceof ConfigErrors) return e.errors.map((x) => x.message);
    throw e; // a bug, not a bad object: the server answers 500 and logs it
  }
}

/** `snap` with `obj` replacing the object of the same name (or added). */
function withObject(snap: Snapshot, field: keyof Snapshot, obj: KubeObject): Snapshot {
  const list = ((snap[field] as KubeObject[] | undefined) ?? []).filter((o) => o.metadata?.name !== obj.metadata?.name);
  return { ...snap, [field]: [...list, obj] };
}

/**
 * Decides one AdmissionReview. Throws {@link BadReviewError} for a body that is not one; never
 * throws for a bad object (that is a denial).
 */
export function reviewAdmission(body: unknown, ctx: AdmissionContext): AdmissionReviewReply {
  if (!isObj(body) || body.kind !== 'AdmissionReview' || body.apiVersion !== 'admission.k8s.io/v1') throw new BadReviewError('expected an admission.k8s.io/v1 AdmissionReview');
  const req = body.request;
  if (!isObj(req) || typeof req.uid !== 'string' || req.uid === '') throw new BadReviewError('AdmissionReview.request.uid missing');
  const reply = (r: Omit<AdmissionResponse, 'uid'>): AdmissionReviewReply => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: req.uid as string, ...r } });
  const deny = (message: string, code = 403): AdmissionReviewReply => reply({ allowed: false, status: { code, message, reason: code === 403 ? 'Forbidden' : 'BadRequest' } });

  const op = req.operation;
  if (op === 'DELETE') {
    // MetalLB validateBFDDelete: a BFDProfile in use by a BGPPeer cannot be deleted
    const old = isObj(req.oldObject) ? req.oldObject : undefined;
    const kind = String(old?.kind ?? (isObj(req.kind) ? req.kind.kind : ''));
    const name = isObj(old?.metadata) ? old.metadata.name : req.name;
    const ns = isObj(old?.metadata) && typeof old.metadata.namespace === 'string' ? old.metadata.namespace : typeof req.namespace === 'string' ? req.namespace : ctx.namespace;
    // only the profiles of lbkitd's namespace can be in use (BGPPeers refer to their own namespace's)
    if (kind === 'BFDProfile' && typeof name === 'string' && ns === ctx.namespace) {
      const user = ctx.snapshot().bgpPeers.find((p) => p.spec?.bfdProfile === name && (p.metadata?.namespace ?? ctx.namespace) === ctx.namespace);
      if (user) return deny(`failed to delete BFDProfile ${name}, used by BGPPeer ${user.metadata?.name ?? ''}`);
    }
    return reply({ allowed: true });
  }
  if (op === 'CONNECT') return reply({ allowed: true });
  if (op !== 'CREATE' && op !== 'UPDATE') return deny(`unsupported operation ${JSON.stringify(op)}`, 400);
  const obj = req.object;
  if (!isObj(obj) || !isObj(obj.metadata)) return deny('request.object missing or without metadata', 400);
  const kind = typeof obj.kind === 'string' ? obj.kind : isObj(req.kind) && typeof req.kind.kind === 'string' ? req.kind.kind : '';
  const field = WEBHOOK_KINDS[kind];
  if (!field) return reply({ allowed: true, warnings: [`lbkit webhook: kind ${JSON.stringify(kind)} is not validated`] });
  const o = { ...obj, kind } as KubeObject;
  if (!o.metadata!.namespace && typeof req.namespace === 'string') o.metadata = { ...o.metadata, namespace: req.namespace };
  const key = `${kind} ${keyOf(o)}`;
  const warnings: string[] = [];

  if (op === 'CREATE' && o.metadata!.namespace !== ctx.namespace) return deny(`${key}: metadata.namespace: resource must be created in ${ctx.namespace} namespace`);
  // the API server has already pruned or rejected fields its CRD does not know; fields only our
  // copy does not know (a newer MetalLB CRD installed) are not a reason to deny
  const schemaErrs = crdSchemas().validate(o, kind, { unknownFields: false });
  if (schemaErrs.length) return deny(schemaErrs.map((e) => e.message).join('; '));
  const dep = crdSchemas().deprecation(o);
  if (dep) warnings.push(dep);
  const spec = isObj(o.spec) ? o.spec : {};
  if (kind === 'BGPPeer' && spec.disableMP === true) warnings.push("disable mp is deprecated and has no effect since it's the default behavior now");
  if (kind === 'BGPPeer') {
    const p = { name: String(o.metadata!.name ?? ''), vrf: typeof spec.vrf === 'string' ? spec.vrf : undefined, dynamicASN: spec.dynamicASN === 'external' ? ('external' as const) : undefined };
    for (const u of unsupportedPeerFields(p, ctx.namespace)) warnings.push(u.message);
  }

  if (op === 'UPDATE' && isObj(req.oldObject)) {
    const old = isObj(req.oldObject.spec) ? req.oldObject.spec : {};
    for (const f of IMMUTABLE[kind] ?? [])
      if ((old[f] ?? false) !== (spec[f] ?? false)) return deny(`${key}: spec.${f}: ${f === 'enableGracefulRestart' ? 'EnableGracefulRestart cannot be changed after creation' : 'Value is immutable'}`);
  }

  const current = ctx.snapshot();
  // computed per request: a source may update its snapshot in place, so nothing is cached
  const before = new Set(problems(current, ctx.namespace));
  const after = problems(withObject(current, field, o), ctx.namespace);
  const introduced = after.filter((m) => !before.has(m));
  if (introduced.length) return deny(introduced.join('; '));
  return reply(warnings.length ? { allowed: true, warnings } : { allowed: true });
}
