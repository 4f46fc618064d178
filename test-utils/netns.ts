/**
 * Minimal helpers to build throw-away test topologies from network namespaces, veth pairs and
 * bridges. Every name is prefixed by the caller so concurrent suites never collide, and
 * `Topology.destroy()` removes everything it created (also safe to call twice).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Runs a command and returns stdout; throws with stderr on failure. */
export async function sh(cmd: string, args: string[], opts: { ns?: string; timeoutMs?: number } = {}): Promise<string> {
  const [file, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  try {
    const { stdout } = await execFileP(file, argv, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${file} ${argv.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** Synchronous variant for cleanup paths; never throws. */
export function shQuiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  } catch {
    /* cleanup is best-effort */
  }
}

/** A short unique suffix (interface names are limited to 15 characters). */
export function uniq(): string {
  return (process.pid % 10000).toString(36) + Math.floor(Math.random() * 36 ** 2).toString(36);
}

export class Topology {
  readonly namespaces: string[] = [];
  readonly links: string[] = [];
  readonly children: ChildProcess[] = [];

  /** @param prefix short tag such as `bgp` or `l2`; combined with a unique suffix. */
  constructor(readonly prefix: string, readonly tag = uniq()) {}

  /** Name for a namespace, e.g. `lbk-bgp-x1y-n1`. */
  name(role: string): string {
    return `lbk-${this.prefix}-${this.tag}-${role}`;
  }

  async addNamespace(role: string): Promise<string> {
    const ns = this.name(role);
    await sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await sh('ip', ['link', 'set', 'lo', 'up'], { ns });
    return ns;
  }

  /** Creates a bridge inside `ns` (usually a dedicated "switch" namespace) and returns its name. */
  async addBridge(ns: string, name = 'br0'): Promise<string> {
    await sh('ip', ['link', 'add', name, 'type', 'bridge'], { ns });
    await sh('ip', ['link', 'set', name, 'up'], { ns });
    return name;
  }

  /**
   * Connects namespace `ns` to bridge `bridge` in namespace `bridgeNs` with a veth pair; the end in
   * `ns` is called `ifname`. Addresses (CIDR notation) are added to it. Returns the interface's MAC.
   */
  async connect(ns: string, ifname: string, bridgeNs: string, bridge: string, addrs: string[] = []): Promise<string> {
    const host = `v${this.tag}${this.links.length}`.slice(0, 15);
    const peer = `p${this.tag}${this.links.length}`.slice(0, 15);
    await sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    this.links.push(host);
    await sh('ip', ['link', 'set', host, 'netns', ns]);
    await sh('ip', ['link', 'set', peer, 'netns', bridgeNs]);
    await sh('ip', ['link', 'set', host, 'name', ifname], { ns });
    await sh('ip', ['link', 'set', peer, 'master', bridge], { ns: bridgeNs });
    await sh('ip', ['link', 'set', peer, 'up'], { ns: bridgeNs });
    for (const a of addrs) {
      const v6 = a.includes(':');
      await sh('ip', [...(v6 ? ['-6'] : []), 'addr', 'add', a, 'dev', ifname, ...(v6 ? ['nodad'] : [])], { ns });
    }
    await sh('ip', ['link', 'set', ifname, 'up'], { ns });
    const mac = (await sh('cat', [`/sys/class/net/${ifname}/address`], { ns })).trim();
    return mac;
  }

  /** Spawns a long-running process inside `ns`; it is killed by destroy(). */
  spawnIn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.push(child);
    return child;
  }

  async destroy(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    for (const ns of this.namespaces) {
      // Kill anything left running inside the namespace, then delete it (veths go with it).
      shQuiet('sh', ['-c', `ip netns pids ${ns} | xargs -r kill -9`]);
      shQuiet('ip', ['netns', 'del', ns]);
    }
    this.namespaces.length = 0;
  }
}
