// lbkitd itself at L2 scale, end to end, vs keepalived in the same lab and run. 3 node namespaces +
// a client on a bridge (test/interop/cluster.ts). lbkit side: the built `lbkitd --mode speaker` on
// every node reading one YAML file with N LoadBalancer Services (default 5000, LBKIT_L2_E2E_VIPS; the
// ingress IPs are in the file, as a controller would have written them) and an EndpointSlice per
// Service with endpoints on all three nodes, lbkit memberlist with the default timing profile, lbkit L2
// backend (native responder). Measured from the client with `l2-arpgen` (C, raw AF_PACKET):
// - start: the three lbkitd spawned → the last of the N VIPs' first gratuitous ARP from its hash owner
//   (the responder answers from the same table update), then a probe: every VIP answered by its owner;
// - failover: SIGKILL of node1's lbkitd → the last GARP of the VIPs node1 owned, from their new owners
//   (MetalLB's sha256(node#ip) order among the survivors), GARPs from a wrong node counted; then a probe:
//   all N answered, each by its owner (wrong-node answers counted).
// keepalived (Debian): 3 VRRP nodes with one instance holding the same N VIPs (advert_int 1, priorities
// 150/100/50): start → last GARP of the N, and failover (link down + SIGKILL of the master) → last GARP
// from the new master, then the same probe.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh } from '../../../test-utils/netns.js';
import { sleep } from '../../../test-utils/l2-lab.js';
import jsYaml from 'js-yaml';
import { parseYamlObjects } from '../src/source/yaml.js';
import { loadAllYaml } from '../src/yaml-load.js';
import { Cluster, ensureBuilt, LBKITD, until, type ClusterNode } from '../test/interop/cluster.js';
import { alive, exited, hashOrder, ipAdd, listenGarps, median, missingTools, type Garps } from '../test/interop/l2-lab.js';

const N = Number(process.env.LBKIT_L2_E2E_VIPS ?? 5000);
const out = process.env.LBKIT_BENCH_OUT;
const title = '## kube-adapter: lbkitd at L2 scale, end to end (N VIPs: start and failover vs keepalived)';
const FIRST = '10.78.0.1';
const CLIENT_IP = '10.77.0.10';
const NAMES = ['node1', 'node2', 'node3'];
const log = (s: string): void => void process.stderr.write(`[l2-lbkitd-scale] ${s}\n`);
const genSrc = fileURLToPath(new URL('./l2-arpgen.c', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The Node major of the image's default base (Dockerfile: `NODE_IMAGE=node:22-…`). */
const IMAGE_NODE = /ARG NODE_IMAGE=node:(\d+)/.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '22';

/** That Node's binary from the npm registry (scripts/node-matrix.sh, as CI's unit runs), or why not. */
function imageNodeBinary(): { bin?: string; why?: string } {
  try {
    const bin = execFileSync('bash', [join(ROOT, 'scripts/node-matrix.sh'), '--fetch', IMAGE_NODE], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
    return { bin };
  } catch (e) {
    return { why: `Node ${IMAGE_NODE} could not be fetched (${String((e as Error).message).split('\n')[0]})` };
  }
}

interface Probe {
  vips: number;
  answered: number;
  multi: number;
  owner: number;
  wrong: number;
  lastFirstAnswerMs: number;
  byMac: Record<string, number>;
}
const VIPS = Array.from({ length: N }, (_, i) => ipAdd(FIRST, i));

/** The YAML of the lbkit side: pool, L2Advertisement, 3 Nodes, N Services (ingress set) + EndpointSlices. */
function yaml(): string {
  const parts = [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: big, namespace: metallb-system }\nspec: { addresses: ["10.78.0.0/18"] }',
    'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: { name: l2, namespace: metallb-system }\nspec: { ipAddressPools: [big], interfaces: [eth0] }',
    ...NAMES.map((n, i) => `apiVersion: v1\nkind: Node\nmetadata: { name: ${n}, labels: { kubernetes.io/hostname: ${n} } }\nstatus: { addresses: [{ type: InternalIP, address: 10.77.0.${11 + i} }] }`),
  ];
  const eps = NAMES.map((n, i) => `{ addresses: [10.244.${i + 1}.2], nodeName: ${n}, conditions: { ready: true } }`).join(', ');
  VIPS.forEach((ip, i) => {
    parts.push(
      `apiVersion: v1\nkind: Service\nmetadata: { name: s${i}, namespace: default, annotations: { metallb.io/ip-allocated-from-pool: big } }\n` +
        `spec: { type: LoadBalancer, clusterIP: 10.96.${i >> 8}.${i & 255}, selector: { app: s${i} }, ports: [{ port: 80, protocol: TCP }] }\n` +
        `status: { loadBalancer: { ingress: [{ ip: ${ip} }] } }`,
    );
    parts.push(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s${i}-1, namespace: default, labels: { kubernetes.io/service-name: s${i} } }\naddressType: IPv4\nendpoints: [${eps}]`);
  });
  return `${parts.join('\n---\n')}\n`;
}

/** MetalLB's owner of every VIP among `alive` (all nodes eligible, no preferences). */
const owners = (live: string[]): string[] => VIPS.map((ip) => hashOrder(ip, live)[0]!);

async function main(): Promise<void> {
  const why = missingTools(['ip', 'gcc', 'keepalived']);
  if (why) {
    if (out) writeFileSync(out, `${title}\n\nNot measured: ${why}.\n`);
    log(`not measured: ${why}`);
    if (process.env.CI === 'true') process.exit(1);
    return;
  }
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'lbkit-l2e2e-'));
  const gen = join(dir, 'l2-arpgen');
  execFileSync('gcc', ['-O2', '-o', gen, genSrc]);
  const rounds = Number(process.env.LBKIT_BENCH_ROUNDS ?? 3);
  const c = new Cluster({
    prefix: 'h2e',
    nodes: 3,
    // the default log level (info): what a deployment runs, one line per announced Service as in MetalLB
    args: (n, all) => ['--mode', 'speaker', '--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-join', all.filter((o) => o !== n).map((o) => `${o.ip}:7946`).join(','), '--log-level', 'info'],
  });
  current = c;
  const t0wall = Date.now();
  const md: string[] = [];
  try {
    const text = yaml();
    // start-up costs outside the speaker, measured alone (no other lbkitd running): the process up to
    // `--version`, and parsing the YAML file (each lbkitd does this once at start)
    const tv = performance.now();
    execFileSync(process.execPath, [LBKITD, '--version']);
    const versionMs = performance.now() - tv;
    const tp = performance.now();
    parseYamlObjects(`${text}\n# fresh text: no memo\n`);
    const parseMs = performance.now() - tp;
    // the same text through js-yaml alone (what the fast path stands in for), for the ratio
    const tjy = performance.now();
    jsYaml.loadAll(`${text}\n# fresh text: no memo\n`, undefined, { schema: jsYaml.CORE_SCHEMA });
    const jsYamlMs = performance.now() - tjy;
    log(`lbkitd --version ${versionMs.toFixed(0)} ms; YAML parse of ${N} Services + EndpointSlices (${(text.length / 1e6).toFixed(1)} MB) ${parseMs.toFixed(0)} ms`);
    await c.up(text);
    const macOf = new Map(c.nodes.map((n) => [n.name, n.mac]));
    const nameOf = (m: string): string => c.nodes.find((n) => n.mac === m)?.name ?? m;
    /** Writes an owners file for l2-arpgen: one MAC per VIP, `*` = counted towards the GARP target. */
    const ownersFile = (name: string, own: string[], counted?: (i: number) => boolean): string => {
      const f = join(dir, name);
      writeFileSync(f, `${own.map((o, i) => `${counted && !counted(i) ? '' : '*'}${macOf.get(o) ?? o}`).join('\n')}\n`);
      return f;
    };
    const run = async <T>(...args: string[]): Promise<T> => JSON.parse((await sh(gen, args, { ns: c.client, timeoutMs: 120_000 })).trim().split('\n').pop()!) as T;
    const probe = (file: string, rounds = 5, waitMs = 100): Promise<Probe> => run<Probe>('probe', 'eth0', CLIENT_IP, FIRST, String(N), String(waitMs), String(rounds), file);
    const byNode = (p: Probe): string => Object.entries(p.byMac).map(([m, k]) => `${nameOf(m)} ${k}`).join(', ') || 'none';
    const garps = (timeoutMs: number, target: number, file: string): Promise<() => Promise<Garps>> => listenGarps(c.topo, c.client, gen, [FIRST, String(N), String(timeoutMs), String(target), file]);
    const own3 = owners(NAMES);
    const all3 = ownersFile('owners3', own3);

    // ---------------- lbkitd ----------------
    const jsonText = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: loadAllYaml(text).filter((d) => d !== null) });
    const tj = performance.now();
    parseYamlObjects(jsonText);
    const parseJsonMs = performance.now() - tj;
    const lb = { start: [] as number[], startJson: [] as number[], fail: [] as number[], planned: [] as number[], startNotes: [] as string[], failNotes: [] as string[], plannedNotes: [] as string[], cpu: [] as number[], cpuJson: [] as number[] };
    // the same starts on the image's Node with the compile cache its build warms (Dockerfile: NODE_COMPILE_CACHE,
    // filled by `lbkitd --version`; the pods' root filesystem is read-only, so each start gets a fresh copy of it)
    const img = { ...imageNodeBinary(), version: '', start: [] as number[], startJson: [] as number[], cpu: [] as number[], cpuJson: [] as number[] };
    const warmCache = join(dir, 'compile-cache-image');
    if (img.bin) {
      img.version = execFileSync(img.bin, ['--version'], { encoding: 'utf8' }).trim();
      execFileSync(img.bin, [LBKITD, '--version'], { env: { ...process.env, NODE_COMPILE_CACHE: warmCache } });
    } else log(`not measured on the image's Node: ${img.why}`);
    /** One start on the image's Node (the cluster's default Node is restored after it). */
    const startOnImageNode = async (cpu: number[], file: string): Promise<number> => {
      const cache = join(dir, 'compile-cache-run');
      rmSync(cache, { recursive: true, force: true });
      cpSync(warmCache, cache, { recursive: true });
      c.nodeBin = img.bin!;
      c.lbkitdEnv = { NODE_COMPILE_CACHE: cache };
      try {
        return await startAll(cpu, `${file}, Node ${img.version}`);
      } finally {
        c.nodeBin = process.execPath;
        c.lbkitdEnv = {};
      }
    };
    /** CPU time (user + system, all threads) a process has used so far, in ms. */
    const cpuMs = (pid: number | undefined): number => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
      } catch {
        return NaN;
      }
    };
    const startAll = async (cpu: number[] = lb.cpu, file = 'YAML'): Promise<number> => {
      const g = await garps(60_000, N, all3);
      const t0 = Date.now();
      for (const n of c.nodes) c.startLbkitd(n);
      const r = await g();
      for (const n of c.nodes) cpu.push(cpuMs(n.lbkitd?.pid));
      if (r.distinct < N) throw new Error(`start: only ${r.distinct}/${N} VIPs' GARPs seen from their owners (wrong ${r.wrong})`);
      const ms = r.lastMs - t0;
      const p = await probe(all3);
      lb.startNotes.push(`${file}: ${r.distinct}/${N} GARPs from the owner, ${r.wrong} from another node; probe: ${p.owner}/${N} answered by the owner, ${p.wrong} wrong-node, ${p.multi} by two nodes (${byNode(p)})`);
      log(`lbkitd start → all ${N} answering: ${ms.toFixed(0)} ms; ${lb.startNotes.at(-1)}`);
      return ms;
    };
    const stopAll = async (): Promise<void> => {
      for (const n of c.nodes) if (alive(n.lbkitd)) n.lbkitd!.kill('SIGTERM');
      await Promise.all(c.nodes.map((n) => exited(n.lbkitd, 15_000)));
      for (const n of c.nodes) if (alive(n.lbkitd)) n.lbkitd!.kill('SIGKILL');
      await sleep(300);
    };
    /** One start of the file as it is written (its time pushed to `into`), settled to three members, then stopped. */
    const startSettleStop = async (start: () => Promise<number>, into: number[]): Promise<void> => {
      into.push(await start());
      await until(() => c.nodes.every((n) => c.state(n)?.members?.length === 3), 30_000, 'three members');
      await stopAll();
    };
    for (let r = 0; r < rounds; r++) {
      lb.start.push(await startAll());
      // settled: three members everywhere, every VIP answered by its owner only
      await until(() => c.nodes.every((n) => c.state(n)?.members?.length === 3), 30_000, 'three members');
      await until(async () => {
        const p = await probe(all3, 3, 100);
        return p.owner === N && p.wrong === 0;
      }, 30_000, 'every VIP answered by its owner', 200);
      await sleep(5500); // the start's GARP repeats (MetalLB: 5 s) are over
      // failover: node1 crashes; its VIPs go to the next node in hash order among node2/node3
      const victim: ClusterNode = c.nodes[0]!;
      const own2 = owners(NAMES.filter((n) => n !== victim.name));
      const moved = own3.filter((o) => o === victim.name).length;
      const f2 = ownersFile(`owners2-${r}`, own2, (i) => own3[i] === victim.name);
      const g = await garps(60_000, moved, f2);
      const tKill = Date.now();
      victim.lbkitd!.kill('SIGKILL');
      const gr = await g();
      if (gr.distinct < moved) throw new Error(`failover: only ${gr.distinct}/${moved} moved VIPs' GARPs seen from their new owners (wrong ${gr.wrong})`);
      const ms = gr.lastMs - tKill;
      lb.fail.push(ms);
      const after = await probe(ownersFile(`owners2-all-${r}`, own2));
      lb.failNotes.push(`${moved} VIPs moved (burst span ${(gr.lastMs - gr.firstMs).toFixed(0)} ms, ${gr.wrong} GARPs from a wrong node); probe: ${after.owner}/${N} answered by the owner, ${after.wrong} wrong-node, ${after.multi} by two nodes (${byNode(after)})`);
      log(`lbkitd failover round ${r + 1}: ${ms.toFixed(0)} ms; ${lb.failNotes.at(-1)}`);
      // planned hand-over: SIGTERM of node2 (leave, drain, exit); its VIPs go to node3
      await sleep(5500); // the fail-over's GARP repeats are over
      const leaving = c.nodes[1]!;
      const own1 = VIPS.map(() => c.nodes[2]!.name);
      const handed = own2.filter((o) => o === leaving.name).length;
      const gp = await garps(60_000, handed, ownersFile(`owners1-${r}`, own1, (i) => own2[i] === leaving.name));
      const tTerm = Date.now();
      leaving.lbkitd!.kill('SIGTERM');
      const gpr = await gp();
      if (gpr.distinct < handed) throw new Error(`planned: only ${gpr.distinct}/${handed} VIPs' GARPs seen from node3 (wrong ${gpr.wrong})`);
      lb.planned.push(gpr.lastMs - tTerm);
      const last = await probe(ownersFile(`owners1-all-${r}`, own1));
      lb.plannedNotes.push(`${handed} VIPs handed over (burst span ${(gpr.lastMs - gpr.firstMs).toFixed(0)} ms, ${gpr.wrong} GARPs from a wrong node); probe: ${last.owner}/${N} answered by node3, ${last.wrong} wrong-node`);
      log(`lbkitd planned hand-over round ${r + 1}: ${lb.planned.at(-1)!.toFixed(0)} ms; ${lb.plannedNotes.at(-1)}`);
      await stopAll();
      // the same objects as one JSON List (what `kubectl get -o json` writes), in the same round so
      // both starts see the same machine: lbkitd reads a JSON file with JSON.parse (src/yaml-load.ts)
      writeFileSync(c.yaml, jsonText);
      await startSettleStop(() => startAll(lb.cpuJson, 'JSON'), lb.startJson);
      writeFileSync(c.yaml, text);
      if (!img.bin) continue;
      // the image's Node, in the same round: the YAML file, then the JSON one
      await startSettleStop(() => startOnImageNode(img.cpu, 'YAML'), img.start);
      writeFileSync(c.yaml, jsonText);
      await startSettleStop(() => startOnImageNode(img.cpuJson, 'JSON'), img.startJson);
      writeFileSync(c.yaml, text);
    }

    // ---------------- keepalived ----------------
    const ka = { start: [] as number[], fail: [] as number[], planned: [] as number[], notes: [] as string[] };
    const vipLines = VIPS.map((ip) => `    ${ip}/32 dev eth0`).join('\n');
    const conf = (i: number, prio: number): string => {
      const f = join(dir, `ka${i}.conf`);
      writeFileSync(f, `global_defs {\n  router_id n${i}\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 1\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 78\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n${vipLines}\n  }\n}\n`);
      return f;
    };
    const prios = [150, 100, 50];
    const kaStart = (i: number): ChildProcess => c.topo.spawnIn(c.nodes[i]!.ns, 'keepalived', ['-n', '-l', '-P', '-f', conf(i, prios[i]!), '-p', join(dir, `ka${i}.pid`), '-r', join(dir, `ka${i}-vrrp.pid`)]);
    const allTo = (name: string): string[] => VIPS.map(() => name);
    for (let r = 0; r < rounds; r++) {
      const f1 = ownersFile(`ka-owners1-${r}`, allTo('node1'));
      const g = await garps(60_000, N, f1);
      const t0 = Date.now();
      const kas = [0, 1, 2].map(kaStart);
      const gs = await g();
      if (gs.distinct < N) throw new Error(`keepalived start: only ${gs.distinct}/${N} GARPs seen`);
      ka.start.push(gs.lastMs - t0);
      const p1 = await probe(f1);
      await sleep(1500);
      const f2 = ownersFile(`ka-owners2-${r}`, allTo('node2'));
      const kg = await garps(60_000, N, f2);
      const tKill = Date.now();
      await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: c.nodes[0]!.ns });
      kas[0]!.kill('SIGKILL');
      const kgr = await kg();
      if (kgr.distinct < N) throw new Error(`keepalived failover: only ${kgr.distinct}/${N} GARPs seen`);
      ka.fail.push(kgr.lastMs - tKill);
      const p2 = await probe(f2);
      ka.notes.push(
        `round ${r + 1}: start probe ${p1.owner}/${N} by the master, ${p1.wrong} wrong-node; failover burst span ${(kgr.lastMs - kgr.firstMs).toFixed(0)} ms, probe ${p2.owner}/${N} by the new master, ${p2.wrong} wrong-node (${byNode(p2)})`,
      );
      // planned: SIGTERM of the new master (keepalived sends a priority-0 advert); node3 takes over
      await sleep(1500);
      const f3 = ownersFile(`ka-owners3-${r}`, allTo('node3'));
      const kp = await garps(60_000, N, f3);
      const tTerm = Date.now();
      kas[1]!.kill('SIGTERM');
      const kpr = await kp();
      if (kpr.distinct < N) throw new Error(`keepalived planned: only ${kpr.distinct}/${N} GARPs seen`);
      ka.planned.push(kpr.lastMs - tTerm);
      const p3 = await probe(f3);
      ka.notes.push(`planned: probe ${p3.owner}/${N} by node3, ${p3.wrong} wrong-node`);
      log(`keepalived round ${r + 1}: start ${ka.start.at(-1)!.toFixed(0)} ms, failover ${ka.fail.at(-1)!.toFixed(0)} ms, planned ${ka.planned.at(-1)!.toFixed(0)} ms; ${ka.notes.slice(-2).join('; ')}`);
      for (const k of kas) k.kill('SIGTERM');
      await Promise.all(kas.map((k) => exited(k, 10_000)));
      await sh('ip', ['link', 'set', 'eth0', 'up'], { ns: c.nodes[0]!.ns });
      for (const n of c.nodes) await sh('ip', ['addr', 'flush', 'dev', 'eth0', 'to', '10.78.0.0/18'], { ns: n.ns }).catch(() => '');
      await sleep(500);
    }

    const f = (v: number): string => v.toFixed(0);
    const row = (name: string, xs: number[]): string => `${f(median(xs))} (${xs.map(f).join(', ')})`;
    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    md.push(
      `${title}\n`,
      `Lab: switch + client + node1..node3 namespaces (\`test/interop/cluster.ts\`), ${N} IPv4 VIPs, both sides in the same run,`,
      `${rounds} rounds each. lbkit: the built \`lbkitd --mode speaker\` on every node, one YAML file with ${N} LoadBalancer Services`,
      `(ingress IPs set) and an EndpointSlice each with endpoints on all nodes, \`--l2-backend lbkit\`, lbkit memberlist with the`,
      `default timing profile (\`fast\`), startup hold default (5 s max; ends once every Node's speaker joined). keepalived: one VRRP instance with`,
      `the ${N} VIPs (advert_int 1 s, priorities 150/100/50). Measured at the client (\`l2-arpgen\`, kernel timestamps): the last`,
      `VIP's gratuitous ARP from its expected owner (MetalLB's sha256(node#ip) order; keepalived: the master), then an ARP probe of`,
      `every VIP checking who answers. 2 vCPUs shared with other jobs; load average at the end: ${load}. Whole bench: ${((Date.now() - t0wall) / 1000).toFixed(0)} s.\n`,
      `| measure (median, per-round values) | lbkitd (lbkit L2 + memberlist \`fast\`) | keepalived (VRRP) + kernel | lbkitd / keepalived | target |`,
      `|---|---|---|---|---|`,
      `| start → all ${N} VIPs answer ARP (ms), YAML config file | ${row('lbkit', lb.start)} | ${row('ka', ka.start)} | ${(median(lb.start) / median(ka.start)).toFixed(2)}× | < 2000 |`,
      `| start → all ${N} VIPs answer ARP (ms), the same objects as a JSON file | ${row('lbkit', lb.startJson)} | ${row('ka', ka.start)} | ${(median(lb.startJson) / median(ka.start)).toFixed(2)}× | < 2000 |`,
      `| SIGKILL of a node → all its VIPs answered by the survivors (ms) | ${row('lbkit', lb.fail)} | ${row('ka', ka.fail)} | ${(median(lb.fail) / median(ka.fail)).toFixed(2)}× | < 1000 |`,
      `| planned hand-over (SIGTERM) → all its VIPs answered by the last node (ms) | ${row('lbkit', lb.planned)} | ${row('ka', ka.planned)} | ${(median(lb.planned) / median(ka.planned)).toFixed(2)}× | — |`,
      ...(img.bin
        ? [
            `| start → all ${N} VIPs answer ARP (ms), YAML, lbkitd on Node ${img.version} (the image's) + its compile cache | ${row('lbkit', img.start)} | ${row('ka', ka.start)} | ${(median(img.start) / median(ka.start)).toFixed(2)}× | < 2000 |`,
            `| start → all ${N} VIPs answer ARP (ms), JSON, lbkitd on Node ${img.version} (the image's) + its compile cache | ${row('lbkit', img.startJson)} | ${row('ka', ka.start)} | ${(median(img.startJson) / median(ka.start)).toFixed(2)}× | < 2000 |`,
          ]
        : []),
      '',
      `lbkitd runs on this machine's Node (${process.version}) in the first four rows${img.bin ? `; in the last two on Node ${img.version}, the major of the image's default base (Dockerfile \`node:${IMAGE_NODE}\`, fetched from the npm registry as CI's unit runs do), with a copy of the compile cache the image build fills (\`NODE_COMPILE_CACHE\`, \`lbkitd --version\`), in the same rounds as the first two. CPU each lbkitd had used at the last GARP there: YAML ${f(median(img.cpu))} ms (${img.cpu.map(f).join(', ')}), JSON ${f(median(img.cpuJson))} ms (${img.cpuJson.map(f).join(', ')})` : ` only: ${img.why}`}.\n`,
      `lbkitd start checks: ${lb.startNotes.map((s, i) => `round ${i + 1}: ${s}`).join('; ')}.\n`,
      `lbkitd failover checks (node1 SIGKILLed; with per-service election it owns about a third of the VIPs, which move to node2 and`,
      `node3 by hash order; the others stay where they are): ${lb.failNotes.map((s, i) => `round ${i + 1}: ${s}`).join('; ')}.\n`,
      `lbkitd planned hand-over (SIGTERM of node2, \`--drain-ms 0\`: memberlist leave, VIPs drained then withdrawn, exit; node3 takes them):`,
      `${lb.plannedNotes.map((s, i) => `round ${i + 1}: ${s}`).join('; ')}.\n`,
      `keepalived: ${ka.notes.join('; ')}. Its failover includes VRRP's master-down detection (3 × advert_int + skew); lbkitd's`,
      `includes memberlist's failure detection (fast profile: 100 ms probes + suspicion).\n`,
      `Where lbkitd's start goes (measured alone in this run): \`lbkitd --version\` (Node start + module loading) ${versionMs.toFixed(0)} ms;`,
      `parsing the ${(text.length / 1e6).toFixed(1)} MB YAML file (${N} Services + ${N} EndpointSlices) ${parseMs.toFixed(0)} ms of CPU per lbkitd with the fast YAML path (src/yaml-fast.ts; js-yaml alone: ${jsYamlMs.toFixed(0)} ms)`,
      `(the JSON file: ${parseJsonMs.toFixed(0)} ms), three of them at once on 2 vCPUs. CPU each lbkitd had used (all its threads) when`,
      `the last VIP's GARP was seen: YAML ${f(median(lb.cpu))} ms (${lb.cpu.map(f).join(', ')}), JSON ${f(median(lb.cpuJson))} ms (${lb.cpuJson.map(f).join(', ')});`,
      `three processes share 2 vCPUs, so the start cannot end before about 1.5× one process's CPU. What the start does to stay`,
      `small (src/cli/lbkitd.ts): lbkitd runs bundled, one module graph instead of about 100 files (scripts/bundle-lbkitd.mjs: about 9 %`,
      `less CPU per speaker in an A/B of this lab), the memberlist worker thread boots while the config is read (it joins once the speaker can`,
      `announce), the config is parsed with TurboFan's inlining off (smaller compiles, sooner: about 0.1 s of CPU less per speaker)`,
      `and V8's optimizing compiler is off from the parsed config until a second after the start (its background compiles`,
      `cost about 0.4 s of CPU per speaker here; the second keeps them off the CPUs while the other speakers finish), the BGP`,
      `backend is loaded only once a BGPPeer needs it, prom-client a second after the start (metric values are kept by lbkitd and`,
      `handed to it at each scrape), the heap tuning applies once started, the CRD validators are generated at build time (ajv is not`,
      `loaded), the config is parsed once, read once and not copied, the L2 elections share what depends only on the config, Nodes and`,
      `members, and log lines (info: one per announced Service) are written`,
      `asynchronously without pino's path-based redaction (which alone cost about 0.4 s of CPU per speaker at this size).`,
      '',
    );
  } finally {
    await c.down().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    current = undefined;
  }
  const text = md.join('\n');
  if (out) writeFileSync(out, text);
  process.stdout.write(text);
}

let current: Cluster | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void (current?.down() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err);
    await current?.down().catch(() => undefined);
    process.exit(1);
  },
);
