import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

const dir = join(__dirname, '..', 'manifests');
const load = (f: string) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, any>);

describe('manifests', () => {
  it('CRDs define every metallb.io kind lbkitd reads or writes, in the versions KubeSource uses', () => {
    const crds = load('crds.yaml');
    const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));
    const want: Record<string, string> = {
      IPAddressPool: 'v1beta1',
      L2Advertisement: 'v1beta1',
      BGPAdvertisement: 'v1beta1',
      BGPPeer: 'v1beta2',
      Community: 'v1beta1',
      BFDProfile: 'v1beta1',
      ServiceL2Status: 'v1beta1',
      ServiceBGPStatus: 'v1beta1',
    };
    for (const [kind, version] of Object.entries(want)) {
      const c = byKind.get(kind);
      expect(c, kind).toBeDefined();
      expect(c.spec.group).toBe('metallb.io');
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.metadata.name).toBe(`${c.spec.names.plural}.metallb.io`);
      expect(c.spec.versions.map((v: any) => v.name)).toContain(version);
    }
    // status subresources for the objects whose status lbkitd patches
    for (const k of ['ServiceL2Status', 'ServiceBGPStatus', 'IPAddressPool']) expect(byKind.get(k).spec.versions[0].subresources).toEqual({ status: {} });
  });

  it('RBAC grants what KubeSource calls; workloads run lbkitd with the right modes', () => {
    const rbac = load('rbac.yaml');
    const ctrl = rbac.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'lbkit:controller');
    expect(ctrl.rules.some((r: any) => r.resources.includes('services/status') && r.verbs.includes('update'))).toBe(true);
    expect(ctrl.rules.some((r: any) => r.resources.includes('services') && r.verbs.includes('patch'))).toBe(true);
    const role = rbac.find((o) => o.kind === 'Role');
    expect(role.rules.some((r: any) => r.resources.includes('servicel2statuses/status') && r.verbs.includes('patch'))).toBe(true);
    const dep = load('controller.yaml')[0]!;
    expect(dep.kind).toBe('Deployment');
    expect(dep.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--mode', 'controller']));
    const ds = load('speaker.yaml')[0]!;
    expect(ds.kind).toBe('DaemonSet');
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    expect(ds.spec.template.spec.containers[0].securityContext.capabilities.add).toContain('NET_RAW');
    expect(ds.spec.template.spec.containers[0].args).toContain('--mode=speaker');
  });
});
