/**
 * ObjectSource reading a multi-document YAML file (any of the supported kinds, `kind: List`
 * too), watched with fs.watch and re-parsed on change. A bad file is reported through onError and
 * the last good state is kept. Status written by the controller is kept in an overlay that
 * survives re-parses. Its incremental feed ({@link YamlFileSource.onObject}) turns each re-parse
 * into object events and each status write into one event for that Service.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadAllYaml, YamlSyntaxError } from '../yaml-load.js';
import { fileStamp, unchangedSince, type FileStamp } from '../file-stamp.js';
import { MemoryEventRecorder, type EventRecorder, type RecordedEvent, type StatusWriter } from '../events.js';
import type { SpeakerStatusSink } from '../speaker.js';
import { emptySnapshot, FIELD_OF_KIND, keyOf, type KubeObject, type Service, type Snapshot } from '../types.js';
import { SnapshotDiffer } from '../informer/cluster-state.js';
import { Listeners, type ObjectListener, type ObjectSource } from './source.js';

const KIND_TO_FIELD: Readonly<Record<string, keyof Snapshot>> = FIELD_OF_KIND;

const NAMESPACED = new Set(['Service', 'EndpointSlice', 'IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'Community', 'BFDProfile', 'Secret']);

/** Error in a YAML input: names the file, the document index and, when known, the object. */
export class YamlSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlSourceError';
  }
}

/**
 * Parses YAML text into a snapshot. Throws {@link YamlSourceError} naming the document and field.
 * @param defaultNamespace namespace given to namespaced objects without one (Services default to `default`)
 */
export function parseYamlObjects(text: string, file = '<input>', defaultNamespace = 'metallb-system'): Snapshot {
  const snap = emptySnapshot();
  let docs: unknown[];
  try {
    docs = loadAllYaml(text);
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw new YamlSourceError(`${file}: document ${e.document}: YAML syntax error: ${e.message}`);
    throw e;
  }
  const seen = new Set<string>();
  const add = (o: unknown, where: string): void => {
    if (o === null || o === undefined) return;
    if (typeof o !== 'object' || Array.isArray(o)) throw new YamlSourceError(`${where}: expected a Kubernetes object (a map), got ${Array.isArray(o) ? 'a list' : typeof o}`);
    const obj = o as KubeObject;
    if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))) {
      const items = obj.items as unknown[];
      items.forEach((it, i) => add(it, `${where}.items[${i}]`));
      return;
    }
    if (typeof obj.kind !== 'string') throw new YamlSourceError(`${where}: missing field "kind"`);
    const field = KIND_TO_FIELD[obj.kind];
    if (!field) throw new YamlSourceError(`${where}: unsupported kind ${JSON.stringify(obj.kind)} (supported: ${Object.keys(KIND_TO_FIELD).join(', ')})`);
    if (!obj.metadata || typeof obj.metadata !== 'object' || typeof obj.metadata.name !== 'string' || obj.metadata.name === '')
      throw new YamlSourceError(`${where}: ${obj.kind}: missing field "metadata.name"`);
    if (NAMESPACED.has(obj.kind) && !obj.metadata.namespace) obj.metadata.namespace = obj.kind === 'Service' || obj.kind === 'EndpointSlice' ? 'default' : defaultNamespace;
    if (obj.metadata.labels !== undefined && (typeof obj.metadata.labels !== 'object' || obj.metadata.labels === null))
      throw new YamlSourceError(`${where}: ${obj.kind} ${keyOf(obj)}: metadata.labels must be a map`);
    if (obj.metadata.annotations !== undefined && (typeof obj.metadata.annotations !== 'object' || obj.metadata.annotations === null))
      throw new YamlSourceError(`${where}: ${obj.kind} ${keyOf(obj)}: metadata.annotations must be a map`);
    if (obj.kind === 'Service') {
      const s = obj as Service;
      if (s.spec !== undefined && (typeof s.spec !== 'object' || s.spec === null)) throw new YamlSourceError(`${where}: Service ${keyOf(obj)}: spec must be a map`);
      if (s.spec?.ports !== undefined && !Array.isArray(s.spec.ports)) throw new YamlSourceError(`${where}: Service ${keyOf(obj)}: spec.ports must be a list`);
      for (const [i, p] of (s.spec?.ports ?? []).entries())
        if (!p || typeof p !== 'object' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
          throw new YamlSourceError(`${where}: Service ${keyOf(obj)}: spec.ports[${i}].port must be an integer 1..65535`);
    }
    if (obj.kind === 'EndpointSlice' && obj.endpoints !== undefined && !Array.isArray(obj.endpoints))
      throw new YamlSourceError(`${where}: EndpointSlice ${keyOf(obj)}: endpoints must be a list`);
    const id = `${obj.kind}/${keyOf(obj)}`;
    if (seen.has(id)) throw new YamlSourceError(`${where}: duplicate ${obj.kind} ${keyOf(obj)}`);
    seen.add(id);
    (snap[field] as KubeObject[]).push(obj);
  };
  docs.forEach((d, i) => add(d, `${file}: document ${i + 1}`));
  return snap;
}

/** Options of {@link YamlFileSource}. */
export interface YamlSourceOptions {
  /** Watch the file for changes (default true). */
  watch?: boolean;
  /** Namespace for metallb.io objects without one (default `metallb-system`). */
  namespace?: string;
  /** Called for every event recorded. */
  onEvent?: (e: RecordedEvent) => void;
  /** Debounce of file events in ms (default 100). */
  debounceMs?: number;
  /**
   * The file already parsed by the caller (e.g. `lbkitd` checks it before starting): the first read
   * uses this snapshot, which the source then owns, when the file still has this text. With the
   * file's `stamp` taken before the caller read it, an unchanged stamp skips the second read.
   */
  preparsed?: { text: string; snapshot: Snapshot; stamp?: FileStamp };
  /** Events kept in {@link YamlFileSource.events} (the newest; default 1000). */
  keepEvents?: number;
}

/** The YAML file ObjectSource. */
export class YamlFileSource implements ObjectSource {
  private snap: Snapshot = emptySnapshot();
  private lastText: string | null = null;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly changes = new Listeners<[Snapshot]>();
  private readonly objects = new Listeners<Parameters<ObjectListener>>();
  /** Turns re-parses into object events; made by the first {@link onObject}. */
  private differ: SnapshotDiffer | undefined;
  /** Service key → its index in the snapshot's `services` (a status write finds its Service in O(1)). */
  private serviceIndex = new Map<string, number>();
  private readonly errors = new Listeners<[Error]>();
  /** Status overlay: service key → status + pool annotation written by the controller. */
  private readonly overlay = new Map<string, { status: Service['status']; annotations: Record<string, string> }>();
  /** ServiceL2Status objects (service key → node → interfaces). */
  readonly l2Statuses = new Map<string, Map<string, string[]>>();
  /** ServiceBGPStatus objects (service key → node → peers). */
  readonly bgpStatuses = new Map<string, Map<string, string[]>>();
  readonly events: MemoryEventRecorder;
  readonly statusWriter: StatusWriter;
  readonly speakerStatus: SpeakerStatusSink;
  private readonly path: string;
  private preparsed: YamlSourceOptions['preparsed'];

  /** @param path the YAML file */
  constructor(path: string, private readonly opts: YamlSourceOptions = {}) {
    this.path = resolve(path);
    this.preparsed = opts.preparsed;
    this.events = new MemoryEventRecorder(opts.onEvent, opts.keepEvents ?? 1000);
    this.statusWriter = {
      updateServiceStatus: async (svc: Service) => {
        const key = keyOf(svc);
        this.overlay.set(key, { status: structuredClone(svc.status ?? {}), annotations: { ...(svc.metadata?.annotations ?? {}) } });
        const i = this.serviceIndex.get(key);
        if (i !== undefined) {
          const old = this.snap.services[i]!;
          const now = this.applyOverlay(old);
          this.snap.services[i] = now;
          // one event for this Service, not a diff of the whole file (5000 writes at a cold start)
          if (this.differ) {
            this.differ.replace('services', now);
            if (JSON.stringify(old) !== JSON.stringify(now)) this.objects.emit('services', 'MODIFIED', now, old);
          }
        }
        this.changes.emit(this.snap);
      },
    };
    const put = (m: Map<string, Map<string, string[]>>, svc: Service, node: string, v: string[] | null) => {
      const key = keyOf(svc);
      const inner = m.get(key) ?? new Map<string, string[]>();
      if (v === null) inner.delete(node);
      else inner.set(node, v);
      if (inner.size) m.set(key, inner);
      else m.delete(key);
    };
    this.speakerStatus = {
      setL2Status: (svc, node, ifs) => put(this.l2Statuses, svc, node, ifs),
      setBgpStatus: (svc, node, peers) => put(this.bgpStatuses, svc, node, peers),
    };
  }

  private applyOverlay(s: Service): Service {
    const o = this.overlay.get(keyOf(s));
    if (!o) return s;
    const c = structuredClone(s);
    c.status = structuredClone(o.status);
    c.metadata = { ...(c.metadata ?? {}), annotations: { ...o.annotations } };
    return c;
  }

  /** @inheritdoc */
  snapshot(): Snapshot {
    return this.snap;
  }

  /** @inheritdoc */
  onChange(cb: (snap: Snapshot) => void): void {
    this.changes.add(cb);
  }

  /**
   * Incremental feed: at {@link start} every object is delivered as `ADDED`; a re-parse delivers what
   * changed (objects compared by JSON); a status write delivers one `MODIFIED` for its Service.
   */
  onObject(cb: ObjectListener): void {
    this.objects.add(cb);
    this.differ ??= new SnapshotDiffer();
  }

  private emitObjects(): void {
    this.differ?.diff(this.snap, (field, type, obj, old) => this.objects.emit(field, type, obj, old));
  }

  /** @inheritdoc */
  onError(cb: (err: Error) => void): void {
    this.errors.add(cb);
  }

  /** Reads and parses the file; returns true when the state changed. Throws on a bad file. */
  reload(): boolean {
    const pre = this.preparsed;
    this.preparsed = undefined;
    let text: string;
    try {
      text = pre && unchangedSince(pre.stamp, fileStamp(this.path)) ? pre.text : readFileSync(this.path, 'utf8');
    } catch (e) {
      throw new YamlSourceError(`${this.path}: cannot read: ${(e as Error).message}`);
    }
    if (text === this.lastText) return false;
    const snap = pre?.text === text ? pre.snapshot : parseYamlObjects(text, this.path, this.opts.namespace);
    // Overlay entries of services whose spec no longer exists are dropped.
    const keys = new Set(snap.services.map(keyOf));
    for (const k of [...this.overlay.keys()]) if (!keys.has(k)) this.overlay.delete(k);
    snap.services = snap.services.map((s) => this.applyOverlay(s));
    this.serviceIndex = new Map(snap.services.map((s, i) => [keyOf(s), i]));
    this.snap = snap;
    this.lastText = text;
    return true;
  }

  /** @inheritdoc */
  async start(): Promise<void> {
    this.reload();
    this.emitObjects();
    if (this.opts.watch === false) return;
    // Watch the directory: editors and `mv` replace the file, which a file watch would lose. On a
    // ConfigMap volume kubelet swaps the `..data` symlink the file points through: those events
    // name `..data`/`..data_tmp`, never the file; reload() compares the content.
    this.watcher = watch(dirname(this.path), (_ev, name) => {
      const n = name?.toString();
      if (n && n !== basename(this.path) && !n.startsWith('..')) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.onFileEvent(), this.opts.debounceMs ?? 100);
    });
    this.watcher.on('error', (e) => this.errors.emit(e));
  }

  private onFileEvent(): void {
    try {
      if (this.reload()) {
        this.changes.emit(this.snap);
        this.emitObjects();
      }
    } catch (e) {
      this.errors.emit(e as Error);
    }
  }

  /** @inheritdoc */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/** Re-export for convenience. */
export type { EventRecorder };
