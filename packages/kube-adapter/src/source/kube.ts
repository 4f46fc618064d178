/**
 * ObjectSource backed by a Kubernetes API server through `@kubernetes/client-node` 1.x:
 * one informer (list + watch) per kind, status/annotation writes, Events, and the
 * ServiceL2Status / ServiceBGPStatus custom resources.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Service,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { EventRecorder, EventType, StatusWriter } from '../events.js';
import { errMsg } from '../errors.js';
import { ANN_ALLOCATED_FROM_POOL } from '../service.js';
import type { SpeakerStatusSink } from '../speaker.js';
import { emptySnapshot, type KubeObject, type Service, type Snapshot } from '../types.js';
import { nullLogger, type Logger } from '../log.js';
import { Listeners, type ObjectSource, type PoolStatus } from './source.js';

/** Options of {@link KubeSource}. */
export interface KubeSourceOptions {
  /** Namespace of the metallb.io objects (default `metallb-system`). */
  namespace?: string;
  /** Component name in Events (default `lbkitd`). */
  component?: string;
  /** Pod name for owner references of status objects (optional). */
  podName?: string;
  /** Pod UID for owner references of status objects (optional). */
  podUID?: string;
  /** Delay before restarting a failed watch (default 1000 ms). */
  restartDelayMs?: number;
  log?: Logger;
}

type Entry = { field: keyof Snapshot; path: string; list: () => Promise<KubernetesListObject<KubernetesObject>> };

const GROUP = 'metallb.io';

/** Kubernetes ObjectSource. */
export class KubeSource implements ObjectSource {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly informers: Array<{ field: keyof Snapshot; inf: Informer<KubernetesObject> & ObjectCache<KubernetesObject> }> = [];
  private readonly changes = new Listeners<[Snapshot]>();
  private readonly errors = new Listeners<[Error]>();
  private readonly ns: string;
  private readonly log: Logger;
  private stopped = false;
  /** Names of the status objects this process owns: `l2|bgp/<svc key>/<node>` → object name. */
  private readonly statusNames = new Map<string, string>();
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly speakerStatus: SpeakerStatusSink;

  /** @param kc a loaded KubeConfig (loadFromDefault / loadFromFile / loadFromCluster / loadFromOptions) */
  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: KubeSourceOptions = {},
  ) {
    this.ns = opts.namespace ?? 'metallb-system';
    this.log = opts.log ?? nullLogger;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.statusWriter = { updateServiceStatus: (svc) => this.writeStatus(svc) };
    this.events = { event: (obj, type, reason, message) => void this.writeEvent(obj, type, reason, message) };
    this.speakerStatus = {
      setL2Status: (svc, node, ifs) => this.writeSpeakerStatus('l2', svc, node, ifs === null ? null : { interfaces: ifs.map((name) => ({ name })) }),
      setBgpStatus: (svc, node, peers) => this.writeSpeakerStatus('bgp', svc, node, peers === null ? null : { peers }),
    };
  }

  private entries(): Entry[] {
    const disc = this.kc.makeApiClient(DiscoveryV1Api);
    const core = this.core;
    const cr = (version: string, plural: string) => ({
      path: `/apis/${GROUP}/${version}/namespaces/${this.ns}/${plural}`,
      list: () => this.custom.listNamespacedCustomObject({ group: GROUP, version, namespace: this.ns, plural }) as Promise<KubernetesListObject<KubernetesObject>>,
    });
    return [
      { field: 'services', path: '/api/v1/services', list: () => core.listServiceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>> },
      { field: 'endpointSlices', path: '/apis/discovery.k8s.io/v1/endpointslices', list: () => disc.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>> },
      { field: 'nodes', path: '/api/v1/nodes', list: () => core.listNode() as Promise<KubernetesListObject<KubernetesObject>> },
      { field: 'namespaces', path: '/api/v1/namespaces', list: () => core.listNamespace() as Promise<KubernetesListObject<KubernetesObject>> },
      { field: 'pools', ...cr('v1beta1', 'ipaddresspools') },
      { field: 'l2Advertisements', ...cr('v1beta1', 'l2advertisements') },
      { field: 'bgpAdvertisements', ...cr('v1beta1', 'bgpadvertisements') },
      { field: 'bgpPeers', ...cr('v1beta2', 'bgppeers') },
      { field: 'communities', ...cr('v1beta1', 'communities') },
      { field: 'bfdProfiles', ...cr('v1beta1', 'bfdprofiles') },
    ];
  }

  /** @inheritdoc */
  async start(): Promise<void> {
    const synced = new Set<keyof Snapshot>();
    const entries = this.entries();
    for (const e of entries) {
      // the first successful list marks the kind as synced: nothing is reconciled before every
      // kind has been listed once, so a transient API error never looks like "no pools"
      const list = async () => {
        const l = await e.list();
        synced.add(e.field);
        return l;
      };
      const inf = makeInformer(this.kc, e.path, list);
      inf.on('add', () => this.changed());
      inf.on('update', () => this.changed());
      inf.on('delete', () => this.changed());
      inf.on('error', (err: unknown) => {
        this.errors.emit(new Error(`watch ${e.path}: ${errMsg(err)}`));
        if (this.stopped) return;
        // client-node stops an informer on error: restart it after a delay
        const t = setTimeout(() => {
          if (!this.stopped) inf.start().catch((x: unknown) => this.errors.emit(new Error(`restart ${e.path}: ${errMsg(x)}`)));
        }, this.opts.restartDelayMs ?? 1000);
        t.unref?.();
      });
      this.informers.push({ field: e.field, inf });
    }
    await Promise.all(this.informers.map(({ inf }) => inf.start()));
    while (synced.size < entries.length) {
      if (this.stopped) throw new Error('KubeSource stopped before the initial sync');
      await new Promise((r) => setTimeout(r, 100));
    }
    this.synced = true;
  }

  /** Whether every kind has been listed at least once. */
  synced = false;

  private changed(): void {
    if (!this.synced) return;
    this.changes.emit(this.snapshot());
  }

  /** @inheritdoc */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map(({ inf }) => inf.stop().catch(() => {})));
  }

  /** @inheritdoc */
  snapshot(): Snapshot {
    const s = emptySnapshot();
    for (const { field, inf } of this.informers) (s[field] as KubeObject[]) = inf.list() as KubeObject[];
    // stable order (by namespace/name) so every replica processes services identically
    for (const k of Object.keys(s) as Array<keyof Snapshot>)
      (s[k] as KubeObject[]).sort((a, b) => {
        const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
        const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
    return s;
  }

  /** @inheritdoc */
  onChange(cb: (snap: Snapshot) => void): void {
    this.changes.add(cb);
  }

  /** @inheritdoc */
  onError(cb: (err: Error) => void): void {
    this.errors.add(cb);
  }

  /** @inheritdoc */
  async updatePoolStatus(pool: string, status: PoolStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: 'v1beta1', namespace: this.ns, plural: 'ipaddresspools', name: pool, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private async writeStatus(svc: Service): Promise<void> {
    const name = svc.metadata?.name ?? '';
    const namespace = svc.metadata?.namespace ?? 'default';
    const pool = svc.metadata?.annotations?.[ANN_ALLOCATED_FROM_POOL];
    // annotation first (metadata is ignored by the status subresource), then status
    await this.core.patchNamespacedService(
      { name, namespace, body: { metadata: { annotations: { [ANN_ALLOCATED_FROM_POOL]: pool ?? null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const current = await this.core.readNamespacedService({ name, namespace });
    current.status = { ...(current.status ?? {}), loadBalancer: svc.status?.loadBalancer ?? {} } as V1Service['status'];
    await this.core.replaceNamespacedServiceStatus({ name, namespace, body: current });
  }

  private async writeEvent(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata?.namespace ?? 'default';
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${obj.metadata?.name ?? 'object'}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: { apiVersion: obj.apiVersion ?? 'v1', kind: obj.kind ?? 'Service', name: obj.metadata?.name, namespace, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion },
          reason,
          message,
          type,
          source: { component: this.opts.component ?? 'lbkitd' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          reportingComponent: this.opts.component ?? 'lbkitd',
          reportingInstance: this.opts.podName ?? '',
        },
      });
    } catch (e) {
      this.log.log('warn', 'event write failed', { reason, err: errMsg(e) });
    }
  }

  private async writeSpeakerStatus(kind: 'l2' | 'bgp', svc: Service, node: string, status: Record<string, unknown> | null): Promise<void> {
    const plural = kind === 'l2' ? 'servicel2statuses' : 'servicebgpstatuses';
    const svcName = svc.metadata?.name ?? '';
    const svcNs = svc.metadata?.namespace ?? 'default';
    const labels = { 'metallb.io/node': node, 'metallb.io/service-name': svcName, 'metallb.io/service-namespace': svcNs };
    const selector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const base = { group: GROUP, version: 'v1beta1', namespace: this.ns, plural };
    try {
      const list = (await this.custom.listNamespacedCustomObject({ ...base, labelSelector: selector })) as { items?: KubeObject[] };
      const items = list.items ?? [];
      const cacheKey = `${kind}/${svcNs}/${svcName}/${node}`;
      if (status === null) {
        for (const it of items) await this.custom.deleteNamespacedCustomObject({ ...base, name: it.metadata!.name! });
        this.statusNames.delete(cacheKey);
        return;
      }
      // keep one object, delete duplicates
      for (const it of items.slice(1)) await this.custom.deleteNamespacedCustomObject({ ...base, name: it.metadata!.name! });
      const full = { node, serviceName: svcName, serviceNamespace: svcNs, ...status };
      let name = items[0]?.metadata?.name;
      if (!name) {
        const body: KubeObject = {
          apiVersion: `${GROUP}/v1beta1`,
          kind: kind === 'l2' ? 'ServiceL2Status' : 'ServiceBGPStatus',
          metadata: { generateName: `${kind}-`, namespace: this.ns, labels },
          status: full,
        };
        if (this.opts.podName && this.opts.podUID) body.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: this.opts.podName, uid: this.opts.podUID }];
        const created = (await this.custom.createNamespacedCustomObject({ ...base, body })) as KubeObject;
        name = created.metadata?.name ?? '';
      }
      this.statusNames.set(cacheKey, name);
      await this.custom.patchNamespacedCustomObjectStatus({ ...base, name, body: { status: full } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (e) {
      this.log.log('warn', `${plural} write failed`, { service: `${svcNs}/${svcName}`, err: errMsg(e) });
    }
  }
}
