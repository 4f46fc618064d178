import { describe, expect, it } from 'vitest';
import { optimizeLater, startupNoOpt } from '../src/cli/startup-jit.js';

describe('lbkitd start-up JIT setting', () => {
  it('only a speaker starts with the optimizing compiler off; LBKITD_STARTUP_OPT=1 or a node flag keeps V8 as told', () => {
    expect(startupNoOpt('speaker', {}, [])).toBe(true);
    expect(startupNoOpt('controller', {}, [])).toBe(false);
    expect(startupNoOpt('all', {}, [])).toBe(false);
    expect(startupNoOpt('speaker', { LBKITD_STARTUP_OPT: '1' }, [])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--no-opt'])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--turbofan'])).toBe(false);
    expect(startupNoOpt('speaker', {}, ['--max-old-space-size=512'])).toBe(true);
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
