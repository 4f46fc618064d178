/** Logging on pino: JSON lines with named levels, child fields, level filtering, redaction of secrets. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventLogLevel } from '../src/events.js';
import { jsonLogger, nullLogger, REDACTED, redactSecrets } from '../src/log.js';
import { duplicateTopLevelKeys } from './helpers.js';
import { ensureBuilt } from './interop/cluster.js';

function capture(min: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: string[] = [];
  const log = jsonLogger({ node: 'n1', unset: undefined }, min, (l) => lines.push(l));
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('jsonLogger (pino)', () => {
  it('one JSON object per line: level name, ISO time, msg, base and child fields; below-level lines dropped', () => {
    const c = capture('info');
    c.log.log('debug', 'hidden');
    c.log.log('info', 'hello', { service: 'default/web' });
    c.log.child({ component: 'bgp' }).child({ asn: 64512 }).log('error', 'down', { peer: 'tor' });
    expect(c.lines.every((l) => !l.includes('\n'))).toBe(true);
    const [a, b] = c.parsed();
    expect(c.lines).toHaveLength(2);
    expect(a).toMatchObject({ level: 'info', msg: 'hello', node: 'n1', service: 'default/web' });
    expect(Number.isNaN(Date.parse(a!.time as string))).toBe(false);
    expect('unset' in a!).toBe(false);
    expect(b).toMatchObject({ level: 'error', msg: 'down', node: 'n1', component: 'bgp', asn: 64512, peer: 'tor' });
    const d = capture('debug');
    d.log.log('debug', 'shown');
    expect(d.parsed()[0]).toMatchObject({ level: 'debug', msg: 'shown' });
  });

  it('redacts secrets at the top level and one level down, in fields and child bindings', () => {
    const c = capture();
    c.log.log('info', 'peer', { password: 'md5pw', peer: { name: 'tor', password: 'md5pw' }, token: 'tkn', memberlistSecret: 'mls', 'client-key-data': 'KEY' });
    c.log.child({ secret: 'child-secret' }).log('warn', 'child');
    const text = c.lines.join('\n');
    for (const s of ['md5pw', 'tkn', 'mls', 'KEY', 'child-secret']) expect(text).not.toContain(s);
    const [a, b] = c.parsed();
    expect(a).toMatchObject({ password: REDACTED, peer: { name: 'tor', password: REDACTED }, token: REDACTED, memberlistSecret: REDACTED, 'client-key-data': REDACTED });
    expect(b).toMatchObject({ secret: REDACTED, msg: 'child' });
  });

  it('redaction copies only what holds a secret and leaves the caller\'s objects alone', () => {
    const plain = { service: 'default/web', ip: '10.0.0.1', peer: { name: 'tor' } };
    expect(redactSecrets(plain)).toBe(plain);
    const withSecret = { peer: { name: 'tor', password: 'pw' }, other: { a: 1 } };
    const r = redactSecrets(withSecret);
    expect(r).toEqual({ peer: { name: 'tor', password: REDACTED }, other: { a: 1 } });
    expect(withSecret.peer.password).toBe('pw');
    expect(r.other).toBe(withSecret.other);
  });

  it('writes to stderr (asynchronously) by default: lines logged right before process.exit are not lost', () => {
    ensureBuilt();
    const dist = join(__dirname, '..', 'dist', 'log.js');
    const src = `import(${JSON.stringify(dist)}).then(({ jsonLogger }) => { const l = jsonLogger({}, 'info'); for (let i = 0; i < 5000; i++) l.log('info', 'line ' + i, { i }); process.exit(0); });`;
    const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { i: number });
    expect(lines.map((l) => l.i)).toEqual([...Array(5000).keys()]);
  }, 300_000);

  it('a reader of stderr that went away ends the logging, not the exit: SIGTERM with lines queued exits at once', async () => {
    ensureBuilt();
    const dist = join(__dirname, '..', 'dist', 'log.js');
    // pino's sonic-boom destination retried the exit flush every 100 ms for ever on EPIPE: this child never exited
    const src = `import(${JSON.stringify(dist)}).then(({ jsonLogger }) => { const l = jsonLogger({}, 'info'); l.log('info', 'started'); setInterval(() => {}, 1000); process.on('SIGTERM', () => { for (let i = 0; i < 3; i++) l.log('info', 'bye ' + i); process.exit(7); }); });`;
    const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const first = await new Promise<string>((res) => child.stderr!.once('data', (d: Buffer) => res(d.toString())));
    expect(JSON.parse(first)).toMatchObject({ msg: 'started' });
    child.stderr!.destroy(); // the reader goes away
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000))]);
    if (code !== 7) child.kill('SIGKILL');
    expect(code).toBe(7);
  }, 30_000);

  it('a reader that stops reading for a while neither stalls the event loop nor loses or reorders a line', async () => {
    ensureBuilt();
    const dist = join(__dirname, '..', 'dist', 'log.js');
    // 40k lines (about 4 MB) while the parent does not read (the pipe holds 64 KiB): the child's
    // timer keeps firing; its largest gap is reported on stdout
    const src = `import(${JSON.stringify(dist)}).then(({ jsonLogger }) => { const l = jsonLogger({}, 'info'); let last = Date.now(), gap = 0; const t = setInterval(() => { const n = Date.now(); gap = Math.max(gap, n - last); last = n; }, 10); let i = 0; const burst = () => { for (let k = 0; k < 1000; k++, i++) l.log('info', 'x'.repeat(60), { i }); if (i < 40000) setImmediate(burst); else setTimeout(() => { clearInterval(t); process.stdout.write(String(gap)); process.exit(0); }, 3500); }; burst(); });`;
    const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.pause();
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 3000)); // not reading
    const chunks: Buffer[] = [];
    child.stderr!.on('data', (d: Buffer) => chunks.push(d));
    child.stderr!.resume();
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code).toBe(0);
    const lines = Buffer.concat(chunks).toString().trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
    expect(lines).toEqual([...Array(40000).keys()]);
    // a blocking write would have stopped the timer for the whole 3 s the parent did not read
    expect(Number(out)).toBeLessThan(1500);
  }, 60_000);

  it('duplicateTopLevelKeys (the check the lbkitd interop tests run on every log line) sees a repeated field, not nested ones', () => {
    expect(duplicateTopLevelKeys('{"node":"n1","a":{"node":"x"},"msg":"m"}')).toEqual([]);
    expect(duplicateTopLevelKeys('{"node":"n1","s":"a\\"node\\":1","node":"n1"}')).toEqual(['node']);
    expect(duplicateTopLevelKeys('{"ips":["10.0.0.1"],"k":[{"ips":1}]}')).toEqual([]);
  });

  it('nullLogger drops everything and its children are itself', () => {
    expect(nullLogger.child({ a: 1 })).toBe(nullLogger);
  });
});

describe('eventLogLevel (events of a YAML-file run go to the log)', () => {
  it('Warnings at warn, nodeAssigned at debug (the speaker logs announcing at info), other Normal events at info', () => {
    expect(eventLogLevel({ type: 'Warning', reason: 'AllocationFailed' })).toBe('warn');
    expect(eventLogLevel({ type: 'Warning', reason: 'nodeAssigned' })).toBe('warn');
    expect(eventLogLevel({ type: 'Normal', reason: 'nodeAssigned' })).toBe('debug');
    expect(eventLogLevel({ type: 'Normal', reason: 'IPAllocated' })).toBe('info');
    expect(eventLogLevel({ type: 'Normal', reason: 'ClearAssignment' })).toBe('info');
  });
});
