/**
 * The daemon's view of the cluster, kept incrementally from object events: Services by key,
 * EndpointSlices indexed by their Service, Nodes by name, and the small configuration kinds. No
 * whole-cluster snapshot is built or sorted on a watch event; a configuration snapshot (pools,
 * advertisements, peers, …: small) is built only when one of those kinds changed.
 */
import { LABEL_SERVICE_NAME } from '../endpoints.js';
import { internKey } from './transform.js';
import { networkUnavailable } from '../endpoints.js';
import { emptySnapshot, keyOf, type EndpointSlice, type KubeObject, type Node, type Service, type Snapshot } from '../types.js';

/** What an applied event touched. */
export type Touched =
  | { kind: 'service'; key: string }
  | { kind: 'slice'; services: string[] }
  | { kind: 'node'; relevant: boolean }
  | { kind: 'config' }
  | { kind: 'none' };

const CONFIG_FIELDS: Array<keyof Snapshot> = ['pools', 'l2Advertisements', 'bgpAdvertisements', 'bgpPeers', 'communities', 'bfdProfiles', 'namespaces', 'secrets'];

function sliceOwner(s: EndpointSlice): string | undefined {
  const name = s?.metadata?.labels?.[LABEL_SERVICE_NAME];
  return typeof name === 'string' ? `${s.metadata?.namespace ?? ''}/${name}` : undefined;
}

/** What of a Node matters to decisions: labels (selectors, exclusion) and NetworkUnavailable. */
export function nodeSignature(n: Node | undefined): string {
  if (!n) return '';
  return JSON.stringify([n.metadata?.labels ?? {}, networkUnavailable(n)]);
}

/** The incremental cluster view. */
export class ClusterState {
  /** Services by `namespace/name`. */
  readonly services = new Map<string, Service>();
  /** Nodes by name. */
  readonly nodes = new Map<string, Node>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly slicesBySvc = new Map<string, Set<string>>();
  private readonly config = new Map<keyof Snapshot, Map<string, KubeObject>>(CONFIG_FIELDS.map((f) => [f, new Map()]));

  /** Applies one object event; says what it touched. */
  apply(field: keyof Snapshot, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old?: KubeObject): Touched {
    const key = internKey(keyOf(obj));
    switch (field) {
      case 'services':
        if (type === 'DELETED') this.services.delete(key);
        else this.services.set(key, obj as Service);
        return { kind: 'service', key };
      case 'endpointSlices': {
        const prev = this.slices.get(key);
        const owners = new Set<string>();
        const before = prev ? sliceOwner(prev) : old ? sliceOwner(old as EndpointSlice) : undefined;
        if (before) {
          owners.add(before);
          this.slicesBySvc.get(before)?.delete(key);
          if (this.slicesBySvc.get(before)?.size === 0) this.slicesBySvc.delete(before);
        }
        if (type === 'DELETED') this.slices.delete(key);
        else {
          const s = obj as EndpointSlice;
          this.slices.set(key, s);
          const o = sliceOwner(s);
          if (o) {
            owners.add(o);
            let set = this.slicesBySvc.get(o);
            if (!set) this.slicesBySvc.set(o, (set = new Set()));
            set.add(key);
          }
        }
        return { kind: 'slice', services: [...owners] };
      }
      case 'nodes': {
        const name = obj.metadata?.name ?? '';
        const prev = this.nodes.get(name);
        if (type === 'DELETED') this.nodes.delete(name);
        else this.nodes.set(name, obj as Node);
        const relevant = type !== 'MODIFIED' || nodeSignature(prev) !== nodeSignature(obj as Node);
        return { kind: 'node', relevant };
      }
      default: {
        const m = this.config.get(field);
        if (!m) return { kind: 'none' };
        if (type === 'DELETED') m.delete(key);
        else m.set(key, obj);
        return { kind: 'config' };
      }
    }
  }

  /** The EndpointSlices of a service. */
  slicesOf(svcKey: string): EndpointSlice[] {
    const set = this.slicesBySvc.get(svcKey);
    if (!set) return [];
    const out: EndpointSlice[] = [];
    for (const k of set) {
      const s = this.slices.get(k);
      if (s) out.push(s);
    }
    return out;
  }

  /** Number of EndpointSlices held. */
  get sliceCount(): number {
    return this.slices.size;
  }

  /** A snapshot of the configuration kinds and the Nodes (sorted by key), for `parseConfig`. */
  configSnapshot(): Snapshot {
    const s = emptySnapshot();
    const sorted = <T extends KubeObject>(m: Map<string, KubeObject>): T[] => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, o]) => o as T);
    for (const f of CONFIG_FIELDS) (s[f] as KubeObject[]) = sorted(this.config.get(f)!);
    s.nodes = sorted(this.nodes as Map<string, KubeObject>);
    return s;
  }

  /** Every object as a snapshot (sorted by key): for callers that want the whole picture once. */
  fullSnapshot(): Snapshot {
    const s = this.configSnapshot();
    const sorted = <T extends KubeObject>(m: Map<string, KubeObject>): T[] => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, o]) => o as T);
    s.services = sorted(this.services as Map<string, KubeObject>);
    s.endpointSlices = sorted(this.slices as Map<string, KubeObject>);
    return s;
  }
}

/**
 * Turns successive snapshots of a non-incremental source (the YAML file) into object events by
 * comparing object identity first and JSON second. An object's JSON is computed only when a later
 * snapshot holds another object under its key (the first snapshot, at start, serializes nothing).
 */
export class SnapshotDiffer {
  private last = new Map<keyof Snapshot, Map<string, { obj: KubeObject; json?: string }>>();

  /** Emits the events that turn the previous snapshot into `snap`. */
  diff(snap: Snapshot, emit: (field: keyof Snapshot, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined) => void): void {
    for (const field of Object.keys(snap) as Array<keyof Snapshot>) {
      const prev = this.last.get(field) ?? new Map<string, { obj: KubeObject; json?: string }>();
      const next = new Map<string, { obj: KubeObject; json?: string }>();
      for (const o of snap[field] as KubeObject[]) {
        if (!o || typeof o !== 'object') continue;
        const k = keyOf(o);
        const p = prev.get(k);
        if (p && p.obj === o) {
          next.set(k, p);
          continue;
        }
        if (!p) {
          next.set(k, { obj: o });
          emit(field, 'ADDED', o, undefined);
          continue;
        }
        const json = JSON.stringify(o);
        next.set(k, { obj: o, json });
        if ((p.json ?? JSON.stringify(p.obj)) !== json) emit(field, 'MODIFIED', o, p.obj);
      }
      for (const [k, p] of prev) if (!next.has(k)) emit(field, 'DELETED', p.obj, p.obj);
      this.last.set(field, next);
    }
  }

  /**
   * Records that `obj` replaced the object under its key outside a snapshot (a status write the
   * source emitted itself), so the next {@link diff} compares against it.
   */
  replace(field: keyof Snapshot, obj: KubeObject): void {
    let m = this.last.get(field);
    if (!m) this.last.set(field, (m = new Map()));
    m.set(keyOf(obj), { obj });
  }
}
