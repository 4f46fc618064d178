import { describe, expect, it } from 'vitest';
import { backendKeyOf, descriptorFromService, deprecatedAnnotationsOf, requestedIPsOf, serviceFamilyOf, sharingKeyOf, poolAnnotationOf, type KubeServiceLike } from '../src/index.js';

const base = (o: Partial<KubeServiceLike['spec']> = {}, annotations: Record<string, string> = {}): KubeServiceLike => ({
  metadata: { name: 'web', namespace: 'ns1', labels: { app: 'web' }, annotations },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ protocol: 'TCP', port: 80 }], ...o },
});

describe('service helpers (controller/service.go semantics)', () => {
  it('requested IPs', () => {
    expect(requestedIPsOf(base())).toEqual([]);
    expect(requestedIPsOf(base({ loadBalancerIP: '1.2.3.1' }))).toEqual(['1.2.3.1']);
    expect(requestedIPsOf(base({}, { 'metallb.io/loadBalancerIPs': ' 1.2.3.0 , 1000:0::0 ' }))).toEqual(['1.2.3.0', '1000::']);
    expect(() => requestedIPsOf(base({ loadBalancerIP: '1.2.3.1' }, { 'metallb.io/loadBalancerIPs': '1.2.3.1' }))).toThrow('service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP');
    expect(() => requestedIPsOf(base({ loadBalancerIP: 'invalid' }))).toThrow('invalid spec.loadBalancerIP');
    expect(() => requestedIPsOf(base({}, { 'metallb.io/loadBalancerIPs': '1.2.3.1,bad' }))).toThrow('invalid metallb.io/loadBalancerIPs annotation');
    expect(() => requestedIPsOf(base({}, { 'metallb.io/loadBalancerIPs': '1.2.3.1,1.2.3.2' }))).toThrow('same address family');
    expect(() => requestedIPsOf(base({}, { 'metallb.io/loadBalancerIPs': '1.2.3.1,1000::,1.2.3.3' }))).toThrow('invalid ips length 3');
    // legacy prefix is read; the new one wins
    expect(requestedIPsOf(base({}, { 'metallb.universe.tf/loadBalancerIPs': '1.2.3.5' }))).toEqual(['1.2.3.5']);
    expect(requestedIPsOf(base({}, { 'metallb.universe.tf/loadBalancerIPs': '1.2.3.5', 'metallb.io/loadBalancerIPs': '1.2.3.6' }))).toEqual(['1.2.3.6']);
  });
  it('keys, pool, family, descriptor', () => {
    expect(sharingKeyOf(base({}, { 'metallb.universe.tf/allow-shared-ip': 'old', 'metallb.io/allow-shared-ip': 'new' }))).toBe('new');
    expect(sharingKeyOf(base())).toBe('');
    expect(poolAnnotationOf(base({}, { 'metallb.universe.tf/address-pool': 'p1' }))).toBe('p1');
    expect(deprecatedAnnotationsOf(base({}, { 'metallb.universe.tf/address-pool': 'p1', 'metallb.io/x': 'y' }))).toEqual(['metallb.universe.tf/address-pool']);
    expect(backendKeyOf(base({ externalTrafficPolicy: 'Local', selector: { z: '1', a: '2' } }))).toBe('a=2,z=1');
    expect(backendKeyOf(base({ externalTrafficPolicy: 'Cluster', selector: { z: '1' } }))).toBe('');
    expect(serviceFamilyOf(base({ clusterIPs: ['10.96.0.1', 'fd00::1'] }))).toBe('dual');
    expect(() => serviceFamilyOf(base({ clusterIP: 'None', clusterIPs: ['None'] }))).toThrow();
    expect(() => serviceFamilyOf(base({ clusterIPs: ['10.96.0.1', '10.96.0.2'] }))).toThrow('same address family');
    expect(descriptorFromService(base({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'], clusterIPs: ['fd00::1', '10.96.0.1'] }, { 'metallb.io/allow-shared-ip': 'k' }))).toEqual({
      key: 'ns1/web', namespace: 'ns1', labels: { app: 'web' }, family: 'dual', ipFamilyPolicy: 'PreferDualStack', primaryFamily: 'ipv6',
      ports: [{ protocol: 'TCP', port: 80 }], sharingKey: 'k', backendKey: '',
    });
  });
});
