/** Command-line parsing for `lbkitd` (no dependencies). */

/** Parsed options. */
export interface LbkitdArgs {
  config?: string;
  kubeconfig?: string;
  inCluster: boolean;
  node: string;
  mode: 'controller' | 'speaker' | 'all';
  interfaces: string[];
  memberlistBind?: string;
  memberlistJoin: string[];
  memberlistSecret?: string;
  memberlistTimings: 'lan' | 'fast';
  metricsPort: number;
  metricsHost: string;
  namespace: string;
  lbClass?: string;
  drainMs: number;
  /** `--l2-startup-grace-ms`: longest L2 startup hold while memberlist has not joined (0 = off). */
  l2StartupGraceMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  stateFile?: string;
  ignoreExcludeLB: boolean;
  l2Backend: 'auto' | 'lbkit' | 'kernel';
  membershipBackend: 'auto' | 'lbkit' | 'serf';
  bgpBackend: 'auto' | 'lbkit' | 'gobgp';
  help: boolean;
}

/** Usage text. */
export const USAGE = `lbkitd — MetalLB-compatible controller and speaker

Usage:
  lbkitd --config cluster.yaml --node NAME [options]      objects from a YAML file (watched)
  lbkitd --kubeconfig PATH --node NAME [options]          objects from a Kubernetes API server
  lbkitd --in-cluster [options]                           service-account credentials (node from $METALLB_NODE_NAME)

Options:
  --mode controller|speaker|all    components to run (default all)
  --interface IF                   announce L2 only on this interface (repeatable)
  --memberlist-bind HOST:PORT      enable memberlist and bind there (member name = node name)
  --memberlist-join HOST:PORT,...  seeds to join (repeatable)
  --memberlist-secret KEY          memberlist encryption secret (MetalLB key derivation)
  --memberlist-timings lan|fast    lan: memberlist DefaultLANConfig as MetalLB (default; ~5 s to detect a
                                   crashed node); fast: 100 ms probes, sub-second detection on one LAN
  --metrics-port N                 Prometheus /metrics port (default 7472, 0 disables)
  --metrics-host HOST              metrics listen address (default 0.0.0.0)
  --namespace NS                   namespace of metallb.io objects (default metallb-system)
  --lb-class NAME                  only handle services with this loadBalancerClass
  --drain-ms N                     L2 drain window after a planned hand-over (default 0)
  --l2-startup-grace-ms N          with memberlist: hold L2 announcements (not BGP, not withdrawals) after
                                   start until another member is joined, at most N ms (default 5000, 0 = off)
  --state-file PATH                write the node's view (assignments, announcements) as JSON
  --l2-backend auto|lbkit|kernel   lbkit: @lbkit/arp+ndp responders; kernel: VIP on the NIC + arping
  --membership-backend auto|lbkit|serf   lbkit: @lbkit/memberlist; serf: Debian serf agent
  --bgp-backend auto|lbkit|gobgp   lbkit: @lbkit/bgp; gobgp: Debian gobgpd per node (one RIB for all peers)
                                   (auto, the default: the lbkit backend when integrated, else the alternative)
  --ignore-exclude-lb              ignore node.kubernetes.io/exclude-from-external-load-balancers
  --log-level debug|info|warn|error
  -h, --help
`;

/** Error for bad command lines. */
export class UsageError extends Error {}

/** Parses argv (without node and script). Throws UsageError with a clear message. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LbkitdArgs {
  const a: LbkitdArgs = {
    inCluster: false,
    node: env.METALLB_NODE_NAME ?? env.NODE_NAME ?? '',
    mode: 'all',
    interfaces: [],
    memberlistJoin: [],
    memberlistTimings: 'lan',
    metricsPort: 7472,
    metricsHost: '0.0.0.0',
    namespace: env.METALLB_NAMESPACE ?? 'metallb-system',
    drainMs: 0,
    l2StartupGraceMs: 5000,
    logLevel: 'info',
    ignoreExcludeLB: false,
    l2Backend: 'auto',
    membershipBackend: 'auto',
    bgpBackend: 'auto',
    help: false,
  };
  const need = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const int = (v: string, flag: string, min: number, max: number): number => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    let f = argv[i]!;
    let inline: string | undefined;
    const eq = f.indexOf('=');
    if (f.startsWith('--') && eq > 0) {
      inline = f.slice(eq + 1);
      f = f.slice(0, eq);
    }
    const val = (): string => {
      if (inline !== undefined) return inline;
      const v = need(i, f);
      i++;
      return v;
    };
    switch (f) {
      case '--config':
        a.config = val();
        break;
      case '--kubeconfig':
        a.kubeconfig = val();
        break;
      case '--in-cluster':
        a.inCluster = true;
        break;
      case '--node':
        a.node = val();
        break;
      case '--mode': {
        const m = val();
        if (m !== 'controller' && m !== 'speaker' && m !== 'all') throw new UsageError(`--mode: expected controller, speaker or all, got ${JSON.stringify(m)}`);
        a.mode = m;
        break;
      }
      case '--interface':
        a.interfaces.push(val());
        break;
      case '--memberlist-bind':
        a.memberlistBind = val();
        break;
      case '--memberlist-join':
        a.memberlistJoin.push(...val().split(',').filter(Boolean));
        break;
      case '--memberlist-secret':
        a.memberlistSecret = val();
        break;
      case '--memberlist-timings': {
        const t = val();
        if (t !== 'lan' && t !== 'fast') throw new UsageError(`--memberlist-timings: expected lan or fast, got ${JSON.stringify(t)}`);
        a.memberlistTimings = t;
        break;
      }
      case '--metrics-port':
        a.metricsPort = int(val(), f, 0, 65535);
        break;
      case '--metrics-host':
        a.metricsHost = val();
        break;
      case '--namespace':
        a.namespace = val();
        break;
      case '--lb-class':
        a.lbClass = val();
        break;
      case '--drain-ms':
        a.drainMs = int(val(), f, 0, 600_000);
        break;
      case '--l2-startup-grace-ms':
        a.l2StartupGraceMs = int(val(), f, 0, 600_000);
        break;
      case '--state-file':
        a.stateFile = val();
        break;
      case '--l2-backend': {
        const b = val();
        if (b !== 'auto' && b !== 'lbkit' && b !== 'kernel') throw new UsageError(`--l2-backend: expected auto, lbkit or kernel, got ${JSON.stringify(b)}`);
        a.l2Backend = b;
        break;
      }
      case '--membership-backend': {
        const b = val();
        if (b !== 'auto' && b !== 'lbkit' && b !== 'serf') throw new UsageError(`--membership-backend: expected auto, lbkit or serf, got ${JSON.stringify(b)}`);
        a.membershipBackend = b;
        break;
      }
      case '--bgp-backend': {
        const b = val();
        if (b !== 'auto' && b !== 'lbkit' && b !== 'gobgp') throw new UsageError(`--bgp-backend: expected auto, lbkit or gobgp, got ${JSON.stringify(b)}`);
        a.bgpBackend = b;
        break;
      }
      case '--ignore-exclude-lb':
        a.ignoreExcludeLB = true;
        break;
      case '--log-level': {
        const l = val();
        if (!['debug', 'info', 'warn', 'error'].includes(l)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(l)}`);
        a.logLevel = l as LbkitdArgs['logLevel'];
        break;
      }
      case '-h':
      case '--help':
        a.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
    }
  }
  if (a.help) return a;
  const sources = [a.config !== undefined, a.kubeconfig !== undefined, a.inCluster].filter(Boolean).length;
  if (sources === 0) {
    if (env.KUBERNETES_SERVICE_HOST) a.inCluster = true;
    else throw new UsageError('one of --config, --kubeconfig or --in-cluster is required');
  }
  if (sources > 1) throw new UsageError('--config, --kubeconfig and --in-cluster are mutually exclusive');
  if (!a.node && a.mode !== 'controller') throw new UsageError('--node is required (or $METALLB_NODE_NAME) for the speaker');
  if (a.memberlistBind !== undefined && !/^.+:\d+$/.test(a.memberlistBind)) throw new UsageError(`--memberlist-bind: expected HOST:PORT, got ${JSON.stringify(a.memberlistBind)}`);
  for (const j of a.memberlistJoin) if (!/^.+:\d+$/.test(j)) throw new UsageError(`--memberlist-join: expected HOST:PORT, got ${JSON.stringify(j)}`);
  return a;
}
