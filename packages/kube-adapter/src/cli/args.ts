/**
 * Command-line parsing for `lbkitd`, on Node's `util.parseArgs`. Flags win over environment
 * variables; the environment carries what a Kubernetes manifest injects (node name, namespace,
 * memberlist address and secret), so a pod spec never has to splice values into flags.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs as nodeParseArgs } from 'node:util';
import { HostPortError, joinHostPort, normalizeHostPort as normalize } from '../hostport.js';

export { joinHostPort };

/** Parsed options. */
export interface LbkitdArgs {
  config?: string;
  kubeconfig?: string;
  inCluster: boolean;
  node: string;
  mode: 'controller' | 'speaker' | 'all';
  interfaces: string[];
  /** `HOST:PORT`, IPv6 hosts bracketed (`[fd00::11]:7946`); normalised from an unbracketed `fd00::11:7946`. */
  memberlistBind?: string;
  memberlistJoin: string[];
  memberlistSecret?: string;
  /** `--memberlist-secret-file` / `$METALLB_ML_SECRET_KEY_PATH`: file (or directory holding `secretkey`) read by {@link loadMemberlistSecret}. */
  memberlistSecretFile?: string;
  memberlistTimings: 'lan' | 'fast';
  metricsPort: number;
  metricsHost: string;
  namespace: string;
  lbClass?: string;
  /** `--drain-ms`: planned-shutdown drain (L2 unicast-only answers + BGP graceful shutdown), see USAGE. */
  drainMs: number;
  /** `--l2-drain-ms`: L2 drain window after ownership moved to another node (unset = the backend's default, 180000). */
  l2DrainMs?: number;
  /** `--l2-startup-grace-ms`: longest L2 startup hold while memberlist has not joined (0 = off). */
  l2StartupGraceMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  stateFile?: string;
  ignoreExcludeLB: boolean;
  /** `--leader-elect`: controller only runs while holding the `lbkit-controller` Lease (absent = off). */
  leaderElect?: boolean;
  l2Backend: 'auto' | 'lbkit' | 'kernel';
  membershipBackend: 'auto' | 'lbkit' | 'serf';
  bgpBackend: 'auto' | 'lbkit' | 'gobgp';
  help: boolean;
  /** `--version`: print the version and exit. */
  version: boolean;
  /** `--check`: validate the `--config` file, print every problem and exit 0 (valid) or 1. */
  check?: boolean;
  /** `--webhook-port`: serve the validating webhook (AdmissionReview v1, HTTPS) there; absent or 0 = off. */
  webhookPort?: number;
  /** `--webhook-cert-dir`: directory with `tls.crt` and `tls.key` (default {@link DEFAULT_WEBHOOK_CERT_DIR}). */
  webhookCertDir?: string;
}

/** Where controller-runtime (MetalLB) mounts the webhook certificate; lbkitd's default too. */
export const DEFAULT_WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

/** Usage text. */
export const USAGE = `lbkitd — MetalLB-compatible controller and speaker

Usage:
  lbkitd --config cluster.yaml --node NAME [options]      objects from a YAML file (watched)
  lbkitd --kubeconfig PATH --node NAME [options]          objects from a Kubernetes API server
  lbkitd --in-cluster [options]                           service-account credentials (node from $METALLB_NODE_NAME)

Options:
  --mode controller|speaker|all    components to run (default all)
  --interface IF                   announce L2 only on this interface (repeatable)
  --memberlist-bind HOST:PORT      enable memberlist and bind there (member name = node name); IPv6 as
                                   [ADDR]:PORT (env: $METALLB_ML_BIND_ADDR + $METALLB_ML_BIND_PORT, default 7946)
  --memberlist-join HOST:PORT,...  seeds to join (repeatable)
  --memberlist-secret KEY          memberlist encryption secret (MetalLB key derivation); prefer the
                                   environment: $METALLB_ML_SECRET_KEY (from a Secret) or
  --memberlist-secret-file PATH    a file, or a directory holding "secretkey" ($METALLB_ML_SECRET_KEY_PATH)
  --memberlist-timings lan|fast    fast (default): 100 ms probes, sub-second detection on one LAN (0 false
                                   failures at 5 % loss, docs/benchmarks.md); lan: memberlist DefaultLANConfig
                                   as MetalLB (~5 s to detect a crashed node)
  --metrics-port N                 Prometheus /metrics port (default 7472, 0 disables)
  --metrics-host HOST              metrics listen address (default 0.0.0.0)
  --namespace NS                   namespace of metallb.io objects (default metallb-system)
  --lb-class NAME                  only handle services with this loadBalancerClass
  --drain-ms N                     planned shutdown (SIGTERM): after leaving memberlist, keep the L2 VIPs in
                                   drain mode (unicast ARP/NS from stale clients answered, no GARP, no
                                   broadcast answers) and the BGP routes with GRACEFUL_SHUTDOWN (RFC 8326)
                                   for N ms before withdrawing; also the BGP withdrawal delay of an excluded
                                   node (default 0 = withdraw at once)
  --l2-drain-ms N                  L2 drain window when a VIP's ownership moves to another node (lost
                                   election): unicast requests only, no GARP (lbkit L2 backend; default
                                   180000, 0 = off). A VIP no longer in use (service deleted, not a
                                   LoadBalancer, IP changed) is always withdrawn at once
  --l2-startup-grace-ms N          with memberlist: hold L2 announcements (not BGP, not withdrawals) after
                                   start until every Node's speaker joined (or the membership stayed unchanged
                                   1 s after a first join), at most N ms (default 5000, 0 = off)
  --state-file PATH                write the node's view (assignments, announcements) as JSON
  --l2-backend auto|lbkit|kernel   lbkit: @lbkit/arp+ndp responders; kernel: VIP on the NIC + arping
  --membership-backend auto|lbkit|serf   lbkit: @lbkit/memberlist; serf: Debian serf agent
  --bgp-backend auto|lbkit|gobgp   lbkit: @lbkit/bgp; gobgp: Debian gobgpd per node (one RIB for all peers)
                                   (auto, the default: the lbkit backend when integrated, else the alternative)
  --ignore-exclude-lb              ignore node.kubernetes.io/exclude-from-external-load-balancers
  --leader-elect                   --mode controller with a Kubernetes source: run only while holding the
                                   Lease lbkit-controller in --namespace (15 s lease, 10 s renew deadline,
                                   2 s retry, as client-go); a standby waits, a leader that loses it exits
  --log-level debug|info|warn|error
  --version                        print the version and exit
  --check                          with --config: validate the file (YAML, CRD schemas, MetalLB rules),
                                   print each problem with its object and field, exit 0 if valid, else 1
  --webhook-port N                 serve the metallb.io validating webhook (AdmissionReview v1 over
                                   HTTPS) on port N (default 0 = off; MetalLB uses 9443)
  --webhook-cert-dir DIR           tls.crt and tls.key for the webhook (default /tmp/k8s-webhook-server/serving-certs)
  -h, --help
`;

/** Error for bad command lines. */
export class UsageError extends Error {}

/** The option table handed to `util.parseArgs`. */
const OPTIONS = {
  config: { type: 'string' },
  kubeconfig: { type: 'string' },
  'in-cluster': { type: 'boolean' },
  node: { type: 'string' },
  mode: { type: 'string' },
  interface: { type: 'string', multiple: true },
  'memberlist-bind': { type: 'string' },
  'memberlist-join': { type: 'string', multiple: true },
  'memberlist-secret': { type: 'string' },
  'memberlist-secret-file': { type: 'string' },
  'memberlist-timings': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  namespace: { type: 'string' },
  'lb-class': { type: 'string' },
  'drain-ms': { type: 'string' },
  'l2-drain-ms': { type: 'string' },
  'l2-startup-grace-ms': { type: 'string' },
  'state-file': { type: 'string' },
  'l2-backend': { type: 'string' },
  'membership-backend': { type: 'string' },
  'bgp-backend': { type: 'string' },
  'ignore-exclude-lb': { type: 'boolean' },
  'leader-elect': { type: 'boolean' },
  'log-level': { type: 'string' },
  version: { type: 'boolean' },
  check: { type: 'boolean' },
  'webhook-port': { type: 'string' },
  'webhook-cert-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { type: 'boolean' } ? boolean : (typeof OPTIONS)[K] extends { multiple: true } ? string[] : string };

/** Runs `util.parseArgs` leniently and re-checks every token, so each mistake gets lbkitd's own message. */
function tokenize(argv: string[]): Values {
  const { tokens } = nodeParseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const out: Record<string, string | boolean | string[]> = {};
  for (const t of tokens) {
    if (t.kind === 'positional') throw new UsageError(`unexpected argument ${JSON.stringify(t.value)}`);
    if (t.kind !== 'option') continue;
    const spec = (OPTIONS as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>)[t.name];
    if (!spec) throw new UsageError(`unknown option ${JSON.stringify(argv[t.index])}`);
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
      out[t.name] = true;
      continue;
    }
    // a following flag is never taken as a value (`--node --mode x` is a missing value)
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new UsageError(`${t.rawName} needs a value`);
    if (spec.multiple) ((out[t.name] as string[] | undefined) ?? (out[t.name] = [])).push(t.value);
    else out[t.name] = t.value;
  }
  return out as Values;
}

function int(v: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

function oneOf<T extends string>(v: string, flag: string, allowed: readonly T[], what = 'expected'): T {
  if (!(allowed as readonly string[]).includes(v)) {
    if (what !== 'expected') throw new UsageError(`${flag}: ${what} ${JSON.stringify(v)}`);
    const list = allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
    throw new UsageError(`${flag}: expected ${list}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** {@link normalize} with the error as a {@link UsageError} naming `flag`. */
export function normalizeHostPort(value: string, flag: string): string {
  try {
    return normalize(value, flag);
  } catch (e) {
    if (e instanceof HostPortError) throw new UsageError(e.message);
    throw e;
  }
}

/** Parses argv (without node and script). Throws UsageError with a clear message. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LbkitdArgs {
  const v = tokenize(argv);
  const a: LbkitdArgs = {
    inCluster: v['in-cluster'] ?? false,
    node: v.node ?? env.METALLB_NODE_NAME ?? env.NODE_NAME ?? '',
    mode: v.mode !== undefined ? oneOf(v.mode, '--mode', ['controller', 'speaker', 'all'] as const) : 'all',
    interfaces: v.interface ?? [],
    memberlistJoin: (v['memberlist-join'] ?? []).flatMap((j) => j.split(',').filter(Boolean)),
    memberlistTimings: v['memberlist-timings'] !== undefined ? oneOf(v['memberlist-timings'], '--memberlist-timings', ['lan', 'fast'] as const) : 'fast',
    metricsPort: v['metrics-port'] !== undefined ? int(v['metrics-port'], '--metrics-port', 0, 65535) : 7472,
    metricsHost: v['metrics-host'] ?? '0.0.0.0',
    namespace: v.namespace ?? env.METALLB_NAMESPACE ?? 'metallb-system',
    drainMs: v['drain-ms'] !== undefined ? int(v['drain-ms'], '--drain-ms', 0, 600_000) : 0,
    l2StartupGraceMs: v['l2-startup-grace-ms'] !== undefined ? int(v['l2-startup-grace-ms'], '--l2-startup-grace-ms', 0, 600_000) : 5000,
    logLevel: v['log-level'] !== undefined ? oneOf(v['log-level'], '--log-level', ['debug', 'info', 'warn', 'error'] as const, 'unknown level') : 'info',
    ignoreExcludeLB: v['ignore-exclude-lb'] ?? false,
    ...(v['leader-elect'] ? { leaderElect: true } : {}),
    l2Backend: v['l2-backend'] !== undefined ? oneOf(v['l2-backend'], '--l2-backend', ['auto', 'lbkit', 'kernel'] as const) : 'auto',
    membershipBackend: v['membership-backend'] !== undefined ? oneOf(v['membership-backend'], '--membership-backend', ['auto', 'lbkit', 'serf'] as const) : 'auto',
    bgpBackend: v['bgp-backend'] !== undefined ? oneOf(v['bgp-backend'], '--bgp-backend', ['auto', 'lbkit', 'gobgp'] as const) : 'auto',
    help: v.help ?? false,
    version: v.version ?? false,
  };
  if (v.check) a.check = true;
  if (v['webhook-port'] !== undefined) a.webhookPort = int(v['webhook-port'], '--webhook-port', 0, 65535);
  if (v['webhook-cert-dir'] !== undefined) a.webhookCertDir = v['webhook-cert-dir'];
  if (v.config !== undefined) a.config = v.config;
  if (v.kubeconfig !== undefined) a.kubeconfig = v.kubeconfig;
  if (v['lb-class'] !== undefined) a.lbClass = v['lb-class'];
  if (v['state-file'] !== undefined) a.stateFile = v['state-file'];
  if (v['l2-drain-ms'] !== undefined) a.l2DrainMs = int(v['l2-drain-ms'], '--l2-drain-ms', 0, 3_600_000);
  // memberlist: flags first, then MetalLB's environment variables
  if (v['memberlist-bind'] !== undefined) a.memberlistBind = normalizeHostPort(v['memberlist-bind'], '--memberlist-bind');
  else if (env.METALLB_ML_BIND_ADDR) a.memberlistBind = normalizeHostPort(joinHostPort(env.METALLB_ML_BIND_ADDR, env.METALLB_ML_BIND_PORT || '7946'), '$METALLB_ML_BIND_ADDR/$METALLB_ML_BIND_PORT');
  a.memberlistJoin = a.memberlistJoin.map((j) => normalizeHostPort(j, '--memberlist-join'));
  const secret = v['memberlist-secret'] ?? (env.METALLB_ML_SECRET_KEY || undefined);
  if (secret !== undefined) a.memberlistSecret = secret;
  else {
    const file = v['memberlist-secret-file'] ?? (env.METALLB_ML_SECRET_KEY_PATH || undefined);
    if (file !== undefined) a.memberlistSecretFile = file;
  }
  if (a.help || a.version) return a;
  if (a.check) {
    if (a.config === undefined) throw new UsageError('--check needs --config FILE');
    return a;
  }
  const sources = [a.config !== undefined, a.kubeconfig !== undefined, a.inCluster].filter(Boolean).length;
  if (sources === 0) {
    if (env.KUBERNETES_SERVICE_HOST) a.inCluster = true;
    else throw new UsageError('one of --config, --kubeconfig or --in-cluster is required');
  }
  if (sources > 1) throw new UsageError('--config, --kubeconfig and --in-cluster are mutually exclusive');
  if (!a.node && a.mode !== 'controller') throw new UsageError('--node is required (or $METALLB_NODE_NAME) for the speaker');
  return a;
}

/**
 * Resolves `memberlistSecretFile` into `memberlistSecret` (a file, or a directory holding
 * `secretkey` as MetalLB mounts its `memberlist` Secret). Trailing newlines are dropped. Throws
 * {@link UsageError} naming the file when it cannot be read or is empty.
 */
export function loadMemberlistSecret(a: LbkitdArgs, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): void {
  if (a.memberlistSecret !== undefined || a.memberlistSecretFile === undefined) return;
  const tryRead = (p: string): string | undefined => {
    try {
      return read(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw new UsageError(`memberlist secret: cannot read ${p}: ${(e as Error).message}`);
    }
  };
  const text = tryRead(a.memberlistSecretFile) ?? tryRead(join(a.memberlistSecretFile, 'secretkey'))!;
  const s = text.replace(/[\r\n]+$/, '');
  if (!s) throw new UsageError(`memberlist secret: ${a.memberlistSecretFile} is empty`);
  a.memberlistSecret = s;
}
