#!/usr/bin/env node
/**
 * `lbkitd`: the lbkit reference daemon. Runs MetalLB's controller and/or speaker on objects from a
 * YAML file or a Kubernetes API server. See `lbkitd --help`.
 */
import { writeFileSync, renameSync } from 'node:fs';
import { DEFAULT_WEBHOOK_CERT_DIR, loadMemberlistSecret, parseArgs, USAGE, UsageError, type LbkitdArgs } from './args.js';
import { lbkitVersion } from './version.js';
import { applyHeapTuning } from './heap.js';
import { inlineLater, OPTIMIZE_AFTER_START_MS, optimizeLater } from './startup-jit.js';
import { Daemon } from '../daemon.js';
import { errMsg } from '../errors.js';
import { eventLogLevel } from '../events.js';
import { jsonLogger, type Logger } from '../log.js';
import { metallbMetrics, recordBgpSessions, Registry, serveMetrics } from '../metrics.js';
import { YamlFileSource } from '../source/yaml.js';
import type { ObjectSource } from '../source/source.js';
import { availableBackends, createAllocator, createBgpAnnouncer, createL2Announcer, createMembership } from '../adapters/index.js';
import type { BgpAnnouncer, L2Announcer, Membership } from '../speaker.js';
import { keyOf } from '../types.js';
import { checkConfigFile, checkConfigFileParsed, formatCheck } from '../validation/check.js';
import { crdSchemas } from '../validation/crd-schema.js';
import { WebhookServer } from '../webhook/server.js';

/** Runs the daemon until SIGTERM/SIGINT; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: LbkitdArgs;
  try {
    args = parseArgs(argv);
    if (!args.help && !args.version && !args.check) loadMemberlistSecret(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lbkitd: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`lbkitd ${lbkitVersion()}\n`);
    return 0;
  }
  if (args.check) {
    const r = checkConfigFile(args.config!, args.namespace);
    (r.ok ? process.stdout : process.stderr).write(formatCheck(args.config!, r));
    return r.ok ? 0 : 1;
  }
  const log = jsonLogger({ node: args.node || undefined }, args.logLevel);
  // the controller's peak is its cold start (a 50k-Service list): tuned from the start; a speaker is
  // tuned once started, so its start-up burst (config, first elections, announcements) is not slowed
  // by extra full GCs (at 5000 L2 VIPs: about 0.3 s of CPU per speaker, see docs/benchmarks.md)
  const tuneHeap = (): void => {
    const heap = applyHeapTuning();
    if (heap.note) log.log('info', 'heap tuning', { heapGrowingPercent: heap.growingPercent ?? 'V8 default', note: heap.note });
  };
  if (args.mode !== 'speaker') tuneHeap();
  process.on('unhandledRejection', (e) => log.log('error', 'unhandled rejection', { err: errMsg(e) }));
  const registry = new Registry({ defaultMetrics: true });
  const metrics = metallbMetrics(registry);

  let source: ObjectSource;
  // --leader-elect: the controller runs only while holding the Lease (src/kube/leader-election.ts)
  let elector: import('../kube/leader-election.js').LeaderElector | undefined;
  if (args.leaderElect && (args.config || args.mode !== 'controller')) {
    process.stderr.write('lbkitd: --leader-elect needs --mode controller and a Kubernetes source (--kubeconfig or --in-cluster)\n');
    return 2;
  }
  const speakerMode = args.mode !== 'controller';
  const have = speakerMode ? await availableBackends() : { l2: false, bgp: false, membership: false };
  const l2Backend = args.l2Backend === 'auto' ? (have.l2 ? 'lbkit' : 'kernel') : args.l2Backend;
  const mlBackend = args.membershipBackend === 'auto' ? (have.membership ? 'lbkit' : 'serf') : args.membershipBackend;
  const bgpBackend = args.bgpBackend === 'auto' ? (have.bgp ? 'lbkit' : 'gobgp') : args.bgpBackend;
  // the lbkit memberlist engine boots first, in its worker thread, while this thread reads and
  // validates the configuration (at 5000 Services that is most of the start); it joins the others
  // only once the speaker can announce (below), so they never elect a node that is still reading
  const mlLog = log.child({ component: 'memberlist' });
  const mlOpts = { node: args.node, bind: args.memberlistBind!, join: args.memberlistJoin, secret: args.memberlistSecret, log: mlLog, backend: mlBackend, timings: args.memberlistTimings };
  const membershipStart = speakerMode && args.memberlistBind && mlBackend === 'lbkit' ? createMembership({ ...mlOpts, deferJoin: true }) : undefined;
  membershipStart?.catch(() => {}); // a failure is reported where it is awaited
  /** Start-up failed after the engine started (not joined yet): stop it. */
  const abandonMembership = async (): Promise<void> => {
    const m = await membershipStart?.catch(() => undefined);
    await m?.close().catch(() => {});
  };
  // a speaker parses its config with TurboFan inlining off, then has its optimizing compiler off
  // from the parsed config until started (src/cli/startup-jit.ts)
  let optimizeNow = (): void => {};
  if (args.config) {
    // an invalid file at start is fatal (later bad edits keep the last good config)
    const inlineNow = inlineLater(args.mode);
    const { result: check, parsed } = checkConfigFileParsed(args.config, args.namespace);
    inlineNow();
    if (!check.ok) {
      log.log('error', 'invalid configuration, not starting', { file: args.config, problems: check.problems });
      await abandonMembership();
      return 1;
    }
    optimizeNow = optimizeLater(args.mode);
    source = new YamlFileSource(args.config, {
      namespace: args.namespace,
      // parsed once (seconds at 10k objects): the check only reads the objects, the source takes them over
      ...(parsed ? { preparsed: parsed } : {}),
      onEvent: (e) => log.log(eventLogLevel(e), 'event', { ...e }),
    });
  } else {
    // loaded only here: @kubernetes/client-node costs about 1 s of start-up CPU a YAML-file run does not need
    const { KubeConfigError, loadKubeConfig } = await import('./kubeconfig.js');
    const { KubeSource } = await import('../source/kube.js');
    let kc;
    try {
      kc = loadKubeConfig(args.kubeconfig);
    } catch (e) {
      if (!(e instanceof KubeConfigError)) throw e;
      process.stderr.write(`lbkitd: ${e.message}\n`);
      await abandonMembership();
      return 1;
    }
    source = new KubeSource(kc, { namespace: args.namespace, podName: process.env.METALLB_POD_NAME, podUID: process.env.METALLB_POD_UID, log });
    if (args.leaderElect) {
      const { LeaderElector } = await import('../kube/leader-election.js');
      const { RestClient } = await import('../kube/rest.js');
      const { hostname } = await import('node:os');
      const { randomUUID } = await import('node:crypto');
      // durations: client-go's defaults; LBKITD_LEADER_ELECT_{LEASE,RENEW,RETRY}_MS override them (tests)
      const ms = (k: string) => (Number(process.env[`LBKITD_LEADER_ELECT_${k}_MS`]) > 0 ? Number(process.env[`LBKITD_LEADER_ELECT_${k}_MS`]) : undefined);
      elector = new LeaderElector(new RestClient(kc), { namespace: args.namespace, name: 'lbkit-controller', identity: `${process.env.METALLB_POD_NAME || hostname()}_${randomUUID()}`, leaseDurationMs: ms('LEASE'), renewDeadlineMs: ms('RENEW'), retryPeriodMs: ms('RETRY'), log });
    }
  }

  let l2: L2Announcer | undefined;
  let bgp: BgpAnnouncer | undefined;
  let membership: Membership | undefined;
  const closers: Array<() => Promise<void> | void> = [];
  if (speakerMode) {
    log.log('info', 'speaker backends', { l2: l2Backend, membership: args.memberlistBind ? mlBackend : 'disabled', bgp: bgpBackend });
    l2 = await createL2Announcer({ interfaces: args.interfaces, log: log.child({ component: 'l2' }), backend: l2Backend, ...(args.l2DrainMs !== undefined ? { drainMs: args.l2DrainMs } : {}), onGratuitous: (ip) => metrics.gratuitousSent.inc({ ip }),
      // ARP and NDP alike (the native responders report per-VIP counts once a second)
      onReply: (ip, n = 1) => {
        metrics.l2RequestsReceived.inc({ ip }, n);
        metrics.l2ResponsesSent.inc({ ip }, n);
      },
    });
    try {
      bgp = await createBgpAnnouncer({ node: args.node, log: log.child({ component: 'bgp' }), backend: bgpBackend, gracefulShutdownMs: args.drainMs });
    } catch (e) {
      log.log('warn', 'BGP disabled: backend unavailable', { err: errMsg(e) });
    }
    // session state, UPDATE counts and prefixes are read at scrape time (sessions change without a sync)
    registry.beforeRender(() => {
      if (bgp?.sessionStates) recordBgpSessions(metrics, bgp.sessionStates());
    });
    if (membershipStart) {
      membership = await membershipStart;
      await membership.beginJoin?.();
    } else if (args.memberlistBind) membership = await createMembership(mlOpts);
    else log.log('warn', 'when memberlist is disabled, the speaker must run on all nodes (every Node object is a candidate)');
  }
  const daemon = new Daemon({
    source,
    node: args.node,
    mode: args.mode,
    allocator: args.mode !== 'speaker' ? await createAllocator() : undefined,
    l2,
    bgp,
    membership,
    metrics,
    log,
    loadBalancerClass: args.lbClass,
    namespace: args.namespace,
    drainMs: args.drainMs,
    l2StartupGraceMs: args.l2StartupGraceMs,
    ignoreExcludeLB: args.ignoreExcludeLB,
  });

  if (args.metricsPort > 0) {
    // /readyz: the source synced, a config is loaded, no sticky list/watch/status-write error
    const srv = await serveMetrics(registry, args.metricsPort, args.metricsHost, { ready: () => daemon.health().ready });
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    log.log('info', 'metrics listening', { port: args.metricsPort });
  }

  let lastState = '';
  const writeState = (): void => {
    if (!args.stateFile) return;
    const state = {
      node: args.node,
      services: daemon.services().map((s) => ({
        service: keyOf(s),
        ingress: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(Boolean),
        pool: s.metadata?.annotations?.['metallb.io/ip-allocated-from-pool'],
      })),
      l2: Object.fromEntries(daemon.speaker?.l2Announced() ?? []),
      answering: daemon.speaker?.answeringIPs() ?? [],
      bgp: Object.fromEntries(daemon.speaker?.bgpAnnounced() ?? []),
      members: membership?.members() ?? null,
      l2Held: daemon.speaker?.l2Held() ?? false,
      configError: daemon.lastConfigError ?? null,
    };
    const text = JSON.stringify(state, null, 1);
    if (text === lastState) return;
    lastState = text;
    try {
      writeFileSync(args.stateFile + '.tmp', text);
      renameSync(args.stateFile + '.tmp', args.stateFile);
    } catch (e) {
      log.log('warn', 'state file write failed', { err: errMsg(e) });
    }
  };

  // handle SIGTERM/SIGINT from the start: a signal during startup must still shut down cleanly
  let signalled: string | undefined;
  let onSignal: ((sig: string) => void) | undefined;
  const early = (sig: string) => {
    signalled ??= sig;
    // before start() returned (source not synced: API unreachable, RBAC 403, CRD missing): stop
    // the daemon, which makes start() return at once
    if (onSignal) onSignal(sig);
    else {
      void elector?.stop(true);
      void daemon.stop().catch(() => {});
    }
  };
  process.once('SIGTERM', () => early('SIGTERM'));
  process.once('SIGINT', () => early('SIGINT'));
  try {
    if (elector) {
      if (!(await elector.acquire())) throw new Error('stopped before becoming leader');
      const el = elector;
      // a leader that cannot renew stops at once (another replica may already be writing)
      el.onLost = () => void daemon.stop().finally(() => process.exit(1));
      closers.push(() => el.stop(true));
    }
    await daemon.start();
    // a second later: the other speakers, often still starting on the same CPUs, are not slowed by
    // this one's background compiles (src/cli/startup-jit.ts)
    setTimeout(optimizeNow, OPTIMIZE_AFTER_START_MS).unref();
    // prom-client too (about 50 ms of CPU): a scrape before then loads it at once
    setTimeout(() => registry.load(), OPTIMIZE_AFTER_START_MS).unref();
    if (args.mode === 'speaker') tuneHeap();
    crdSchemas().compileInBackground();
  } catch (e) {
    if (!signalled) log.log('error', 'startup failed', { err: errMsg(e) });
    await daemon.stop().catch(() => {});
    for (const c of closers) await c();
    if (signalled) log.log('info', 'stopped before the source synced', { signal: signalled });
    return signalled ? 0 : 1;
  }
  if (args.webhookPort) {
    const certDir = args.webhookCertDir ?? DEFAULT_WEBHOOK_CERT_DIR;
    const wh = new WebhookServer({ certDir, port: args.webhookPort, namespace: args.namespace, snapshot: () => source.snapshot(), log: (l, m, f) => log.log(l, m, f) });
    try {
      await wh.start();
    } catch (e) {
      log.log('error', 'webhook not started', { err: errMsg(e) });
      await daemon.stop().catch(() => {});
      for (const c of closers) await c();
      return 1;
    }
    closers.push(() => wh.stop());
    log.log('info', 'webhook listening', { port: wh.port, certDir });
  }
  // Discovery (MetalLB lists speaker pods; lbkitd uses the Node objects' InternalIP): without
  // explicit --memberlist-join, join every known node's address on the memberlist port, now and
  // every minute, like MetalLB's periodic re-join.
  let joinTimer: NodeJS.Timeout | undefined;
  if (membership?.join && args.memberlistBind && args.memberlistJoin.length === 0) {
    const port = args.memberlistBind.split(':').pop();
    const rejoin = () => {
      const members = new Set(membership!.members());
      const seeds = daemon
        .nodes()
        .filter((n) => n.metadata?.name && !members.has(n.metadata.name))
        .map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address)
        .filter((a): a is string => !!a)
        .map((a) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`));
      if (seeds.length) void membership!.join!(seeds);
    };
    rejoin();
    joinTimer = setInterval(rejoin, 60_000);
    joinTimer.unref?.();
  }
  log.log('info', 'lbkitd started', { mode: args.mode, source: args.config ?? args.kubeconfig ?? 'in-cluster' });
  // the state file is written on change only, debounced: at least 50 ms apart, and at least 20×
  // the last write's duration apart (a 50k-service state file is not rewritten 20 times a second)
  let stateTimer: NodeJS.Timeout | undefined;
  let lastWrite = 0;
  let writeCost = 0;
  daemon.onChange(() => {
    if (stateTimer || !args.stateFile) return;
    const gap = Math.max(50, 20 * writeCost);
    stateTimer = setTimeout(() => {
      stateTimer = undefined;
      const t0 = Date.now();
      writeState();
      lastWrite = Date.now();
      writeCost = lastWrite - t0;
    }, Math.max(10, gap - (Date.now() - lastWrite)));
  });
  writeState();

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.log('info', 'shutting down', { signal: sig, drainMs: args.drainMs });
      try {
        await daemon.stop();
      } catch (e) {
        log.log('error', 'shutdown error', { err: errMsg(e) });
      }
      clearTimeout(stateTimer);
      clearInterval(joinTimer);
      writeState();
      for (const c of closers) await c();
      log.log('info', 'stopped');
      resolve(0);
    };
    onSignal = (sig) => void stop(sig);
    if (signalled) void stop(signalled);
  });
}

/** Logger type re-export for embedding. */
export type { Logger };

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`lbkitd: fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
