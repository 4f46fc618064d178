import { describe, expect, it } from 'vitest';
import { SnapshotDiffer } from '../src/informer/cluster-state.js';
import { emptySnapshot, type KubeObject, type Snapshot } from '../src/types.js';

const svc = (name: string, ip: string): KubeObject => ({ kind: 'Service', metadata: { name, namespace: 'default' }, status: { loadBalancer: { ingress: [{ ip }] } } }) as KubeObject;
const snap = (...services: KubeObject[]): Snapshot => ({ ...emptySnapshot(), services: services as Snapshot['services'] });

describe('SnapshotDiffer (YAML file source → object events)', () => {
  it('first snapshot: ADDED for each object; re-parsed equal objects: nothing; changed: MODIFIED with the old one; gone: DELETED', () => {
    const d = new SnapshotDiffer();
    const events: string[] = [];
    const rec = (_f: keyof Snapshot, t: string, o: KubeObject, old?: KubeObject) => events.push(`${t} ${o.metadata?.name}${old ? ` (was ${JSON.stringify(old.status)})` : ''}`);
    const a = svc('a', '10.0.0.1');
    d.diff(snap(a, svc('b', '10.0.0.2')), rec);
    expect(events.splice(0)).toEqual(['ADDED a', 'ADDED b']);
    // the same object again (identity), and a re-parse of b with equal content: no events
    d.diff(snap(a, svc('b', '10.0.0.2')), rec);
    expect(events.splice(0)).toEqual([]);
    d.diff(snap(svc('a', '10.0.0.9')), rec);
    expect(events.splice(0)).toEqual(['MODIFIED a (was {"loadBalancer":{"ingress":[{"ip":"10.0.0.1"}]}})', 'DELETED b (was {"loadBalancer":{"ingress":[{"ip":"10.0.0.2"}]}})']);
    // compared with the version last seen, not the first one
    d.diff(snap(svc('a', '10.0.0.9')), rec);
    expect(events.splice(0)).toEqual([]);
  });
});
