/**
 * Offline structural validation of Kubernetes objects against the API models that
 * @kubernetes/client-node generates from Kubernetes' OpenAPI spec (`attributeTypeMap` of each
 * model): unknown fields and wrong types are reported with their path, as `kubectl apply
 * --validate=strict` would. Not checked: required fields, enums and formats other than Secret data
 * being base64 (the generated models do not carry them).
 */
import * as k8s from '@kubernetes/client-node';

type Attr = { baseName: string; type: string };
type Model = { getAttributeTypeMap(): Attr[] };

const KINDS: Record<string, string> = {
  Deployment: 'V1Deployment',
  DaemonSet: 'V1DaemonSet',
  Service: 'V1Service',
  ServiceAccount: 'V1ServiceAccount',
  Secret: 'V1Secret',
  ConfigMap: 'V1ConfigMap',
  Namespace: 'V1Namespace',
  ClusterRole: 'V1ClusterRole',
  Role: 'V1Role',
  ClusterRoleBinding: 'V1ClusterRoleBinding',
  RoleBinding: 'V1RoleBinding',
  ValidatingWebhookConfiguration: 'V1ValidatingWebhookConfiguration',
  CustomResourceDefinition: 'V1CustomResourceDefinition',
};

function model(name: string): Model | undefined {
  const m = (k8s as unknown as Record<string, unknown>)[name] as Partial<Model> | undefined;
  return m && typeof m.getAttributeTypeMap === 'function' ? (m as Model) : undefined;
}

function check(v: unknown, type: string, path: string, errs: string[]): void {
  if (v === null || v === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (arr) {
    if (!Array.isArray(v)) errs.push(`${path}: expected a list, got ${typeof v}`);
    else v.forEach((x, i) => check(x, arr[1]!, `${path}[${i}]`, errs));
  } else if (map) {
    if (typeof v !== 'object' || Array.isArray(v)) errs.push(`${path}: expected a map`);
    else for (const [k, x] of Object.entries(v)) check(x, map[1]!, `${path}.${k}`, errs);
  } else if (type === 'string' || type === 'Date') {
    if (typeof v !== 'string') errs.push(`${path}: expected a string, got ${JSON.stringify(v)}`);
  } else if (type === 'number') {
    if (typeof v !== 'number') errs.push(`${path}: expected a number, got ${JSON.stringify(v)}`);
  } else if (type === 'boolean') {
    if (typeof v !== 'boolean') errs.push(`${path}: expected a boolean, got ${JSON.stringify(v)}`);
  } else if (type === 'IntOrString') {
    if (typeof v !== 'string' && typeof v !== 'number') errs.push(`${path}: expected an int or a string`);
  } else if (type === 'any' || type === 'object') {
    /* free-form */
  } else {
    const m = model(type);
    if (!m) {
      errs.push(`${path}: no model ${type}`);
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      errs.push(`${path}: expected an object (${type})`);
      return;
    }
    const attrs = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    for (const [k, x] of Object.entries(v)) {
      const t = attrs.get(k);
      if (!t) errs.push(`${path}.${k}: unknown field in ${type}`);
      else check(x, t, `${path}.${k}`, errs);
    }
  }
}

/** Returns the problems of one object (empty when it matches its kind's model). */
export function validateK8sObject(o: Record<string, unknown>): string[] {
  const kind = o.kind as string;
  const name = KINDS[kind];
  const where = `${kind} ${(o.metadata as { name?: string } | undefined)?.name ?? '?'}`;
  if (!name) return [`${where}: kind not known to the validator`];
  const errs: string[] = [];
  check(o, name, where, errs);
  if (kind === 'Secret')
    for (const [k, v] of Object.entries((o.data as Record<string, string> | undefined) ?? {}))
      if (typeof v !== 'string' || Buffer.from(v, 'base64').toString('base64') !== v) errs.push(`${where}.data.${k}: not base64`);
  return errs;
}
