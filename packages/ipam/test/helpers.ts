import { expect } from 'vitest';
import { IpamConfigError, type ServiceDescriptor, type ServiceFamily, type IPFamilyPolicy, type ServicePort } from '../src/index.js';

export function svc(name: string, family: ServiceFamily, o: { ns?: string; labels?: Record<string, string>; policy?: IPFamilyPolicy; ports?: ServicePort[]; sk?: string; bk?: string } = {}): ServiceDescriptor {
  const ns = o.ns ?? 'default';
  return {
    key: `${ns}/${name}`, namespace: ns, labels: o.labels ?? {}, family,
    ipFamilyPolicy: o.policy ?? (family === 'dual' ? 'RequireDualStack' : 'SingleStack'),
    ports: o.ports ?? [], sharingKey: o.sk ?? '', backendKey: o.bk ?? '',
  };
}
export const tcp = (port: number): ServicePort => ({ protocol: 'TCP', port });
export const udp = (port: number): ServicePort => ({ protocol: 'UDP', port });

/** Runs `fn`, expects it to throw an IpamConfigError and returns that error for further checks. */
export function configError(fn: () => unknown): IpamConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IpamConfigError);
    return e as IpamConfigError;
  }
  throw new Error('expected an IpamConfigError');
}
