/**
 * Worker-thread side of {@link createMemberlistWorker}: runs the whole engine (sockets, probe/ack,
 * suspicion, gossip, push/pull) on this thread's own event loop, so a busy main thread cannot delay
 * an ack. Forwards membership events to the main thread and serves its requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createMemberlist, type CreateMemberlistOptions, type NetMemberlist } from '../create.js';
import { SerfDelegate } from '../serf/delegate.js';
import type { Member } from '../state/nodes.js';
import type { EngineEvent, FromWorker, ToWorker, WorkerInit, WorkerStats } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('@lbkit/memberlist worker entry must run in a worker thread');
const post = (m: FromWorker): void => port.postMessage(m);
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Largest gap between two ticks of a 100 ms interval (how starved this thread is). */
let maxLoopLagMs = 0;
let lastTick = performance.now();
const lagTimer = setInterval(() => {
  const now = performance.now();
  maxLoopLagMs = Math.max(maxLoopLagMs, now - lastTick - 100);
  lastTick = now;
}, 100);
lagTimer.unref();

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const forward = (payload: Uint8Array): void => post({ t: 'message', payload });
  const opts: CreateMemberlistOptions = {
    name: init.name,
    ...(init.bindAddr !== undefined ? { bindAddr: init.bindAddr } : {}),
    ...(init.bindPort !== undefined ? { bindPort: init.bindPort } : {}),
    ...(init.advertise ? { advertise: init.advertise } : {}),
    ...(init.profile !== undefined ? { profile: init.profile } : {}),
    ...(init.timings !== undefined ? { timings: init.timings } : {}),
    ...(init.keys?.length ? { keyring: init.keys } : {}),
    ...(init.secretKey ? { secretKey: init.secretKey } : {}),
    ...(init.label ? { label: init.label } : {}),
    ...(init.meta ? { meta: init.meta } : {}),
    ...(init.tags ? { tags: init.tags } : {}),
    ...(init.compress !== undefined ? { compress: init.compress } : {}),
    delegate: init.profile === 'serf' ? new SerfDelegate(init.name, { onMessage: forward }) : { notifyMsg: forward },
  };
  let node: NetMemberlist;
  try {
    node = await createMemberlist(opts);
  } catch (e) {
    post({ t: 'startError', error: errText(e) });
    return;
  }
  const ml = node.memberlist;
  const members = (): Member[] => ml.members();
  for (const ev of ['join', 'update', 'leave', 'fail', 'suspect', 'alive'] as EngineEvent[]) {
    ml.on(ev, (m: Member) => post({ t: 'event', ev, member: m, members: members(), at: Date.now() }));
  }
  ml.on('conflict', (existing, other) => post({ t: 'conflict', existing, other }));
  ml.on('refute', (kind, incarnation) => post({ t: 'refute', kind, incarnation }));
  post({ t: 'ready', address: node.address, members: members() });

  const handle = async (req: ToWorker): Promise<unknown> => {
    switch (req.t) {
      case 'join':
        return node.join(req.seeds);
      case 'leave':
        return ml.leave(req.timeoutMs);
      case 'close':
        node.close();
        return undefined;
      case 'updateMeta':
        ml.updateMeta(req.meta);
        return undefined;
      case 'broadcast':
        return new Promise<boolean>((resolve) => ml.broadcast(req.payload, resolve));
      case 'members':
        return ml.allNodes();
      case 'stats': {
        const s: WorkerStats = { memberlist: { ...ml.stats }, transport: { ...node.transport.stats }, healthScore: ml.healthScore(), maxLoopLagMs };
        return s;
      }
    }
  };
  port!.on('message', (req: ToWorker) => {
    handle(req).then(
      (value) => {
        post({ t: 'reply', id: req.id, ok: true, value });
        if (req.t === 'close') {
          clearInterval(lagTimer);
          port!.close();
        }
      },
      (e: unknown) => post({ t: 'reply', id: req.id, ok: false, error: errText(e) }),
    );
  });
}

void main();
