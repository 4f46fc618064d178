#!/usr/bin/env node
// lbkit demo (`npm run demo`): MetalLB reproduced with lbkit.
//  - as root: builds a throw-away topology of network namespaces (a client, an FRR router and three
//    nodes on a bridge), runs lbkitd on every node from examples/demo.yaml with lbkit's own
//    backends (@lbkit/arp + @lbkit/ndp for L2, @lbkit/memberlist with the fast LAN timings,
//    @lbkit/bgp), shows the IP assignment, the elected L2 leader, the client reaching the VIP, the
//    router's ECMP route and its BFD sessions (FRR bfdd <-> @lbkit/bfd, 100 ms x 3), then the
//    unplanned fail-over (the leader's link dies and its processes are SIGKILLed: L2 take-over time
//    and the time until the router drops it from the ECMP route) and the planned hand-over (next
//    leader SIGTERMed: graceful leave and BGP graceful shutdown);
//  - otherwise: runs the controller on the same YAML without networking, prints assignments and
//    explains what the network part needs.
// Options: --l2-backend lbkit|kernel, --membership-backend lbkit|serf, --bgp-backend lbkit|gobgp,
//          --memberlist-timings fast|lan (defaults: lbkit, lbkit, lbkit, fast).
// Always cleans up (namespaces and processes it created, by PID) and exits 0 on success.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const yamlPath = join(root, 'examples', 'demo.yaml');
const lbkitd = join(root, 'packages', 'kube-adapter', 'dist', 'bundle', 'lbkitd.js');
const say = (...a) => console.log('[demo]', ...a);

if (!existsSync(lbkitd)) {
  console.error('[demo] packages/kube-adapter/dist is missing: run `npm run build` (or `npm run demo`, which bootstraps) first');
  process.exit(1);
}
const kube = await import(join(root, 'packages', 'kube-adapter', 'dist', 'index.js'));
const opt = (flag, allowed, dflt) => {
  const i = process.argv.indexOf(flag);
  const v = i > 0 ? process.argv[i + 1] : dflt;
  if (!allowed.includes(v)) {
    console.error(`[demo] ${flag}: expected ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return v;
};
const wanted = {
  l2: opt('--l2-backend', ['lbkit', 'kernel'], 'lbkit'),
  membership: opt('--membership-backend', ['lbkit', 'serf'], 'lbkit'),
  bgp: opt('--bgp-backend', ['lbkit', 'gobgp'], 'lbkit'),
  timings: opt('--memberlist-timings', ['fast', 'lan'], 'fast'),
};
const yamlText = readFileSync(yamlPath, 'utf8');

function controllerOnly() {
  const snap = kube.parseYamlObjects(yamlText, yamlPath);
  const events = new kube.MemoryEventRecorder();
  const c = new kube.Controller({ allocator: kube.createAllocator(), events });
  c.setConfig(kube.parseConfig(snap));
  const out = [];
  for (const r of c.reprocessAll(snap.services)) {
    const ips = (r.update?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
    out.push({ service: r.key, ips, pool: r.update?.metadata?.annotations?.['metallb.io/ip-allocated-from-pool'] });
    say(`controller: ${r.key} -> ${ips.join(', ') || '(pending)'} from pool ${out.at(-1).pool ?? '-'}`);
  }
  for (const e of events.events) say(`event ${e.type} ${e.reason} ${e.object}: ${e.message}`);
  return out;
}

const isRoot = process.getuid?.() === 0;
say('lbkit demo: MetalLB-compatible controller + speaker (lbkitd) on', yamlPath);
const assignments = controllerOnly();
if (!isRoot) {
  say('not running as root: skipping the network part. It needs:');
  say('  - root (CAP_SYS_ADMIN + CAP_NET_ADMIN) to create network namespaces, veth pairs and a bridge;');
  say('  - CAP_NET_RAW for the AF_PACKET sockets of the @lbkit/arp / @lbkit/ndp responders (native addon in packages/afpacket/build);');
  say('  - `ip` (iproute2) and `curl`; FRR (/usr/lib/frr/zebra + bgpd, + bfdd for BFD) for the BGP part (skipped without it);');
  say('  - optional alternatives: `arping` (--l2-backend kernel), `serf` (--membership-backend serf), `gobgpd` (--bgp-backend gobgp).');
  say('Run `sudo npm run demo`: it builds 3 node namespaces + a client + an FRR router on a bridge, runs lbkitd on every node,');
  say('curls the L2 VIP from the client, shows the ECMP route, kills the leader (unplanned) and stops the next one (planned),');
  say('printing both fail-over times, then removes everything it created.');
  process.exit(0);
}

// ---------------------------------------------------------------- network part (root)
const tag = (process.pid % 10000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
const nsName = (r) => `lbk-kube-demo${tag}-${r}`;
const created = [];
const children = [];
const dir = mkdtempSync(join(tmpdir(), 'kube-demo-'));
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, ...opts });
const inNs = (ns, cmd, args, opts) => run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
const quiet = (fn) => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) quiet(() => c.kill('SIGKILL'));
  for (const ns of created) {
    const pids = quiet(() => run('ip', ['netns', 'pids', ns]))?.split(/\s+/).filter(Boolean) ?? [];
    for (const p of pids) quiet(() => process.kill(Number(p), 'SIGKILL'));
    quiet(() => run('ip', ['netns', 'del', ns]));
  }
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

function addNs(role) {
  const ns = nsName(role);
  run('ip', ['netns', 'add', ns]);
  created.push(ns);
  inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
  return ns;
}
let link = 0;
function connect(ns, sw, addr) {
  const a = `kd${tag}${link}`.slice(0, 15);
  const b = `kp${tag}${link++}`.slice(0, 15);
  run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  run('ip', ['link', 'set', a, 'netns', ns]);
  run('ip', ['link', 'set', b, 'netns', sw]);
  inNs(ns, 'ip', ['link', 'set', a, 'name', 'eth0']);
  inNs(sw, 'ip', ['link', 'set', b, 'master', 'br0']);
  inNs(sw, 'ip', ['link', 'set', b, 'up']);
  inNs(ns, 'ip', ['addr', 'add', addr, 'dev', 'eth0']);
  inNs(ns, 'ip', ['link', 'set', 'eth0', 'up']);
}
function spawnIn(ns, cmd, args) {
  const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  c.stdout.resume();
  c.stderr.resume();
  return c;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms, what, step = 50) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(step);
  }
}

try {
  const backends = await kube.availableBackends();
  const need = ['ip', 'curl'];
  const l2Backend = wanted.l2 === 'lbkit' && !backends.l2 ? 'kernel' : wanted.l2;
  const mlBackend = wanted.membership === 'lbkit' && !backends.membership ? 'serf' : wanted.membership;
  if (l2Backend === 'kernel') need.push('arping');
  if (mlBackend === 'serf') need.push('serf');
  for (const b of need) if (!quiet(() => run('sh', ['-c', `command -v ${b}`]))) throw new Error(`missing ${b} (scripts/bootstrap.sh installs it)`);
  const l2Desc = l2Backend === 'lbkit' ? '@lbkit/arp + @lbkit/ndp user-space responders' : 'kernel: VIP on the NIC + arping';
  const mlDesc = mlBackend === 'lbkit' ? `@lbkit/memberlist, ${wanted.timings} timings` : 'Debian serf agent';
  say(`backends: L2=${l2Backend} (${l2Desc}), membership=${mlBackend} (${mlDesc}), BGP=${wanted.bgp}`);

  const sw = addNs('sw');
  inNs(sw, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
  inNs(sw, 'ip', ['link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
  // a plain L2 switch even when br_netfilter is loaded on the host
  quiet(() => inNs(sw, 'sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-arptables=0']));
  inNs(sw, 'ip', ['link', 'set', 'br0', 'up']);
  const client = addNs('client');
  connect(client, sw, '10.77.0.10/24');
  const nodes = [];
  for (let i = 1; i <= 3; i++) {
    const ns = addNs(`node${i}`);
    const ip = `10.77.0.${10 + i}`;
    connect(ns, sw, `${ip}/24`);
    inNs(ns, 'sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
    inNs(ns, 'ip', ['route', 'add', 'local', '10.77.0.200/29', 'dev', 'lo']);
    const mac = inNs(ns, 'cat', ['/sys/class/net/eth0/address']).trim();
    nodes.push({ name: `node${i}`, ns, ip, mac, state: join(dir, `node${i}.json`) });
  }
  // BGP: a router namespace with FRR (zebra + bgpd) as the ToR, when FRR and a BGP backend exist
  const haveGobgp = !!quiet(() => run('sh', ['-c', 'command -v gobgpd && command -v gobgp']));
  const bgpBackend = wanted.bgp === 'lbkit' ? (backends.bgp ? 'lbkit' : haveGobgp ? 'gobgp' : null) : haveGobgp ? 'gobgp' : null;
  const haveFrr = existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/lib/frr/zebra');
  let router = null;
  // BFD (@lbkit/bfd ↔ FRR bfdd, 100 ms × 3) with the lbkit BGP backend when FRR's bfdd is installed
  const bfd = bgpBackend === 'lbkit' && existsSync('/usr/lib/frr/bfdd');
  if (bgpBackend && haveFrr) {
    router = addNs('router');
    connect(router, sw, '10.77.0.1/24');
    const fdir = join(dir, 'frr');
    mkdirSync(fdir);
    chmodSync(dir, 0o755);
    const uid = Number(run('id', ['-u', 'frr']).trim());
    const gid = Number(run('id', ['-g', 'frr']).trim());
    chownSync(fdir, uid, gid);
    writeFileSync(join(fdir, 'frr.conf'), [
      'frr defaults traditional', 'hostname demo-rtr', ...(bfd ? ['bfd', ' profile fast', '  receive-interval 100', '  transmit-interval 100', ' !', '!'] : []), 'router bgp 64512', ' bgp router-id 10.77.0.1', ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast', ' neighbor NODES peer-group', ' neighbor NODES remote-as 64513', ' neighbor NODES timers 3 9', ...(bfd ? [' neighbor NODES bfd profile fast'] : []),
      ' bgp listen range 10.77.0.0/24 peer-group NODES', ' address-family ipv4 unicast', '  neighbor NODES activate', '  maximum-paths 16',
      ' exit-address-family', 'exit', ''].join('\n'));
    const common = ['-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', fdir, '-z', join(fdir, 'zserv.api'), '-f', join(fdir, 'frr.conf')];
    inNs(router, '/usr/lib/frr/zebra', ['-d', ...common, '-i', join(fdir, 'zebra.pid')]);
    await sleep(500);
    inNs(router, '/usr/lib/frr/bgpd', ['-d', ...common, '-i', join(fdir, 'bgpd.pid')]);
    if (bfd) inNs(router, '/usr/lib/frr/bfdd', ['-d', ...common, '-i', join(fdir, 'bfdd.pid')]);
    say('router: FRR AS 64512 at 10.77.0.1 (dynamic neighbours 10.77.0.0/24, maximum-paths 16)');
  } else say(`BGP part skipped: ${!haveFrr ? 'FRR is not installed' : 'no BGP backend (@lbkit/bgp not integrated, gobgpd missing)'}`);
  const yaml = join(dir, 'demo.yaml');
  writeFileSync(yaml, bfd ? `${yamlText.replace(/(kind: BGPPeer[\s\S]*?holdTime: 9s)/, '$1\n  bfdProfile: fast')}\n---\nkind: BFDProfile\nmetadata: { name: fast, namespace: metallb-system }\nspec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 }\n` : yamlText);
  say(`topology: client 10.77.0.10, ${nodes.map((n) => `${n.name} ${n.ip}`).join(', ')} on bridge br0 (namespaces ${nsName('*')})`);
  const http = "require('http').createServer((q,s)=>{s.setHeader('connection','close');s.end(process.argv[1])}).listen(8080,'0.0.0.0')";
  const tStart = Date.now();
  for (const n of nodes) {
    n.http = spawnIn(n.ns, process.execPath, ['-e', http, n.name]);
    const others = nodes.filter((x) => x !== n).map((x) => `${x.ip}:7946`);
    const args = [lbkitd, '--config', yaml, '--node', n.name, '--metrics-port', '0', '--state-file', n.state, '--l2-backend', l2Backend, '--membership-backend', mlBackend, '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', wanted.timings, '--log-level', 'warn'];
    if (bgpBackend) args.push('--bgp-backend', bgpBackend);
    for (const o of others) args.push('--memberlist-join', o);
    n.proc = spawnIn(n.ns, process.execPath, args);
  }
  const state = (n) => quiet(() => JSON.parse(readFileSync(n.state, 'utf8')));
  const web = assignments.find((a) => a.service === 'default/web');
  const vip = web?.ips[0];
  if (!vip) throw new Error('the controller assigned no IP to default/web');
  await until(() => nodes.every((n) => state(n)?.members?.length === 3), 60_000, 'membership of 3 nodes');
  say(`memberlist: ${nodes.map((n) => `${n.name} sees [${state(n).members.join(',')}]`).join('; ')}`);
  for (const s of state(nodes[0]).services) say(`node1 view: ${s.service} -> ${s.ingress.join(', ') || '(pending)'} (${s.pool ?? '-'})`);
  const leader = await until(() => {
    const owners = nodes.filter((n) => (state(n)?.l2?.['default/web'] ?? []).includes(vip));
    return owners.length === 1 ? owners[0] : undefined;
  }, 30_000, 'one L2 leader');
  const order = nodes.map((n) => n.name).sort((a, b) => Buffer.compare(createHash('sha256').update(`${a}#${vip}`).digest(), createHash('sha256').update(`${b}#${vip}`).digest()));
  say(`L2 leader for ${vip}: ${leader.name} (sha256(node#ip) order: ${order.join(' < ')})`);
  const curl = (t = 0.5) => quiet(() => inNs(client, 'curl', ['-s', '--max-time', String(t), `http://${vip}:8080/`], { timeout: 5000 }).trim());
  const first = await until(() => curl(), 20_000, 'client reaching the VIP');
  say(`client: curl http://${vip}:8080/ -> "${first}"`);
  if (router) {
    const api = assignments.find((a) => a.service === 'default/api')?.ips[0];
    const route = await until(() => {
      const r = quiet(() => inNs(router, 'ip', ['route', 'show', `${api}/32`])) ?? '';
      return (r.match(/via /g) ?? []).length === 3 ? r : undefined;
    }, 90_000, 'ECMP route on the router', 200);
    say(`router: ECMP route to ${api} (service default/api, BGP via ${bgpBackend}), seen ${Date.now() - tStart} ms after lbkitd start:`);
    for (const l of route.trim().split('\n')) say(`   ${l.trim()}`);
    if (bfd) {
      const peers = await until(() => {
        const p = quiet(() => JSON.parse(inNs(router, 'vtysh', ['--vty_socket', join(dir, 'frr'), '-c', 'show bfd peers json']))) ?? [];
        return p.filter((x) => x.status === 'up').length === 3 ? p : undefined;
      }, 20_000, 'BFD sessions up', 200);
      say(`router: BFD (FRR bfdd <-> @lbkit/bfd) up with ${peers.map((p) => `${p.peer} (${p['remote-transmit-interval']} ms x ${p['remote-detect-multiplier']})`).join(', ')} (detection time 300 ms)`);
    }
  }
  // the router's view of the BGP service during the fail-overs: `ip -ts monitor route` stamps every change
  const api = assignments.find((a) => a.service === 'default/api')?.ips[0];
  const routeEvents = [];
  if (router && api) {
    const mon = spawnIn(router, 'ip', ['-ts', 'monitor', 'route']);
    let buf = '';
    mon.stdout.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d{3})\d*\] (?:Deleted )?(\S+)/.exec(line);
        if (m && m[8].split('/')[0] === api) routeEvents.push(new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime()); // local time
      }
    });
    await sleep(200);
  }
  const vias = () => [...(quiet(() => inNs(router, 'ip', ['route', 'show', `${api}/32`])) ?? '').matchAll(/via (\S+)/g)].map((m) => m[1]);
  /** Waits until the router's ECMP route to the BGP service no longer uses `ip`; ms from `t` to the first route change. */
  const ecmpDrop = async (ip, t) => {
    await until(() => vias().length > 0 && !vias().includes(ip), 30_000, `the router dropping ${ip} from the ECMP route`, 20);
    await sleep(100);
    const first = routeEvents.find((x) => x >= t - 5);
    return first === undefined ? undefined : first - t;
  };
  const neigh = () => /lladdr ([0-9a-f:]{17})/.exec(quiet(() => inNs(client, 'ip', ['neigh', 'show', vip, 'dev', 'eth0'])) ?? '')?.[1];
  const byMac = (mac) => nodes.find((n) => n.mac === mac)?.name ?? mac;
  say(`client: neighbour entry ${vip} -> ${neigh()} (${byMac(neigh())})`);
  if (leader.name !== order[0]) throw new Error(`the leader is ${leader.name}, expected ${order[0]} by hash`);

  /**
   * After `gone` failed at `t`: waits for the client to reach another node (must be `expected`), then for
   * the router's ECMP route to drop `gone`; prints both; `why` describes the route change (%s: next hops).
   */
  const failedOver = async (gone, t, expected, ms, why) => {
    const got = await until(() => {
      const b = curl(0.2);
      return b && b !== gone.name ? b : undefined;
    }, ms, `client reaching a node other than ${gone.name}`, 5);
    const took = Date.now() - t;
    say(`client: curl -> "${got}" after ${took} ms (expected by hash: ${expected}); neighbour entry now ${byMac(neigh())}`);
    if (got !== expected) throw new Error(`the client reached ${got}, expected ${expected}`);
    if (router && api) {
      const r = await ecmpDrop(gone.ip, t);
      say(`router: ECMP route to ${api} without ${gone.name} (${gone.ip}) ${r === undefined ? '(time not seen)' : `${r} ms`} after ${why.replace('%s', vias().join(', '))}`);
    }
    return took;
  };

  // unplanned: the leader "crashes" (link down, SIGKILL of lbkitd and of its HTTP backend)
  const alive = nodes.filter((n) => n !== leader);
  // a node crash also takes the daemons lbkitd started (serf, gobgpd with the alternative backends)
  const kids = (quiet(() => run('ps', ['-o', 'pid=', '--ppid', String(leader.proc.pid)])) ?? '').split(/\s+/).filter(Boolean).map(Number);
  const t1 = Date.now();
  // a crash as the network sees it: the link dies first, so no TCP FIN/RST from the dying processes reaches the router
  inNs(leader.ns, 'ip', ['link', 'set', 'eth0', 'down']);
  leader.proc.kill('SIGKILL');
  leader.http.kill('SIGKILL');
  for (const pid of kids) quiet(() => process.kill(pid, 'SIGKILL'));
  say(`unplanned: ${leader.name} crashes (link down, then SIGKILL of its lbkitd${kids.length ? ` (+${kids.length} child daemons)` : ''} and HTTP server); waiting for memberlist to declare it dead...`);
  const unplanned = await failedOver(leader, t1, order[1], 60_000, `the crash, now via %s${bfd ? ' — FRR bfdd detected it (100 ms x 3) and took the BGP session down; with the hold timer alone (9 s) it takes 6-9 s' : ' (BGP hold timer, 9 s)'}`);
  await until(() => state(alive[0])?.members?.length === 2, 10_000, 'survivors seeing 2 members');
  say(`memberlist: survivors see [${state(alive[0]).members.join(',')}]`);

  // planned: SIGTERM the new leader (memberlist leave, then withdraw), its backend stops with it
  const second = nodes.find((n) => n.name === order[1]);
  const t0 = Date.now();
  second.proc.kill('SIGTERM');
  second.http.kill('SIGKILL');
  say(`planned: SIGTERM ${second.name}'s lbkitd (graceful leave), HTTP server stopped...`);
  const planned = await failedOver(second, t0, order[2], 30_000, 'the SIGTERM (graceful shutdown: lower preference first, BFD AdminDown is not a failure), now via %s');
  say(`fail-over times: unplanned (crash) ${unplanned} ms, planned (SIGTERM) ${planned} ms  [L2=${l2Backend}, membership=${mlBackend}${mlBackend === 'lbkit' ? ` ${wanted.timings}` : ''}]`);
  say('done; tearing down.');
} catch (e) {
  console.error('[demo] FAILED:', e instanceof Error ? e.message : e);
  cleanup();
  process.exit(1);
}
cleanup();
process.exit(0);
