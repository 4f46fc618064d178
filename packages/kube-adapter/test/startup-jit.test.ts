import { describe, expect, it } from 'vitest';
import { inlineLater, optimizeLater, optimizingCompilers, startupNoInlining, startupNoOpt } from '../src/cli/startup-jit.js';

describe('lbkitd start-up JIT setting', () => {
  it('only a speaker starts with the optimizing compiler off; LBKITD_STARTUP_OPT=1 or a node flag keeps V8 as told', () => {
    expect(startupNoOpt('speaker', {}, [])).toBe(true);
    expect(startupNoOpt('controller', {}, [])).toBe(false);
    expect(startupNoOpt('all', {}, [])).toBe(false);
    expect(startupNoOpt('speaker', { LBKITD_STARTUP_OPT: '1' }, [])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--no-opt'])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--turbofan'])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--no-maglev'])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--max-old-space-size=512'])).toBe(true);
  });

  it('only a speaker parses its config without TurboFan inlining; LBKITD_STARTUP_OPT=1 or a node flag keeps V8 as told', () => {
    expect(startupNoInlining('speaker', {}, [])).toBe(true);
    expect(startupNoInlining('controller', {}, [])).toBe(false);
    expect(startupNoInlining('speaker', { LBKITD_STARTUP_OPT: '1' }, [])).toBe(false);
    expect(startupNoInlining('speaker', {}, ['--turbo-inlining'])).toBe(false);
    expect(startupNoInlining('speaker', {}, ['--no-turbo-inlining'])).toBe(false);
    expect(startupNoInlining('speaker', {}, ['--no-opt'])).toBe(false);
    expect(startupNoInlining('speaker', {}, ['--max-old-space-size=512'])).toBe(true);
    expect(inlineLater('controller', 10, {}, [])()).toBeUndefined();
  });

  it('TurboFan everywhere; Maglev only where it is on by default (V8 12+: Node 22 and 24)', () => {
    expect(optimizingCompilers('11.3.244.8-node.33')).toEqual(['turbofan']);
    expect(optimizingCompilers('12.4.254.21-node.33')).toEqual(['turbofan', 'maglev']);
    expect(optimizingCompilers('13.6.233.10-node.24')).toEqual(['turbofan', 'maglev']);
  });

  it('the returned function turns it back on, once (again at the timeout: no error); other modes get a no-op', async () => {
    expect(optimizeLater('controller', 10, {}, [])()).toBeUndefined();
    const end = optimizeLater('speaker', 60_000, {}, []);
    expect(() => {
      end();
      end();
    }).not.toThrow();
    optimizeLater('speaker', 5, {}, []);
    await new Promise((r) => setTimeout(r, 20)); // the timer turns it on (an error there would fail the run)
  });
});

/**
 * Runs an ES module script in a new node (this Node version) with V8's natives syntax and `flags`;
 * `$MOD` in it is the built startup-jit module. Returns its stdout once it exited with 0.
 */
async function runWithJit(script: string, flags: string[] = []): Promise<string> {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const mod = fileURLToPath(new URL('../dist/cli/startup-jit.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', ...flags, '--input-type=module', '-e', script.replaceAll('$MOD', JSON.stringify(mod))], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('lbkitd start-up JIT setting in a real process (this Node version)', () => {
  it('hot code stays unoptimized while it is on, and is optimized again once it is turned off', async () => {
    // %GetOptimizationStatus bit 4 (16) = optimized (TurboFan or Maglev), the same in Node 20, 22 and 24
    const script = `
      const { optimizeLater } = await import($MOD);
      function hot(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 2; return s; }
      const arr = Array.from({ length: 1000 }, (_, i) => i);
      const run = (n) => { let x = 0; for (let i = 0; i < n; i++) x += hot(arr); return x; };
      const end = optimizeLater('speaker', 60000, {}, []);
      run(3000);
      const during = %GetOptimizationStatus(hot) & 16;
      end();
      let after = 0;
      for (let k = 0; k < 200 && !after; k++) { run(500); after = %GetOptimizationStatus(hot) & 16; }
      console.log(JSON.stringify({ during, after }));`;
    const out = await runWithJit(script);
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ during: 0, after: 16 });
  });

  it('while inlining is off TurboFan optimizes a hot caller without inlining its callee; once it is back on, with it', async () => {
    // fresh copies of the same two functions for each phase (new Function); V8's own inlining trace
    // says what TurboFan inlined; %GetOptimizationStatus bit 4 (16) says the caller was optimized
    const script = `
      const { inlineLater } = await import($MOD);
      const make = () => new Function('const inner = (x) => x * 2 + 1; function outer(a) { let s = 0; for (let i = 0; i < a.length; i++) s += inner(a[i]); return s; } return outer;')();
      const arr = Array.from({ length: 1000 }, (_, i) => i);
      const phase = (name) => {
        console.log('PHASE ' + name);
        const outer = make();
        for (let k = 0; k < 400 && !(%GetOptimizationStatus(outer) & 16); k++) for (let i = 0; i < 50; i++) outer(arr);
        console.log('OPTIMIZED ' + name + ' ' + (%GetOptimizationStatus(outer) & 16));
      };
      const end = inlineLater('speaker', 60000, {}, []);
      phase('during');
      end();
      end();
      phase('after');`;
    const [, during, after] = (await runWithJit(script, ['--trace-turbo-inlining'])).split(/^PHASE \w+$/m);
    expect(during).toContain('OPTIMIZED during 16');
    expect(after).toContain('OPTIMIZED after 16');
    expect(during).not.toMatch(/Inlining .*inner.* into .*outer/);
    expect(after).toMatch(/Inlining .*inner.* into .*outer/);
  });
});
