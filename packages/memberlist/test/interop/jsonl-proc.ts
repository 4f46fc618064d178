/**
 * Test helper: a child process printing JSON lines with `t` (ms since epoch) and `ev` on stdout
 * (ml-agent, ml-node.mjs); collects them and waits for a matching line.
 */
import type { ChildProcess } from 'node:child_process';
import { jsonLineSplitter } from '../../../../test-utils/jsonl.js';

/** One JSON line of output. */
export type Line = { t: number; ev: string; node?: string } & Record<string, unknown>;

/** Collected output of a JSON-lines child. */
export class JsonlProc {
  readonly lines: Line[] = [];
  stderr = '';
  private readonly watchers = new Set<() => void>();

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    const split = jsonLineSplitter<Line>((l) => this.lines.push(l));
    child.stdout?.on('data', (d: string) => {
      split(d);
      for (const w of this.watchers) w();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-20_000)));
  }

  /** Sends one command line on stdin. */
  send(cmd: string): void {
    this.child.stdin?.write(cmd + '\n');
  }

  /** First line (at or after index `from`) matching `pred`. */
  find(pred: (l: Line) => boolean, from = 0): Line | undefined {
    return this.lines.slice(from).find(pred);
  }

  /** Waits for a line matching `pred` (searching from index `from`); rejects after `ms`. */
  wait(pred: (l: Line) => boolean, ms: number, from = 0): Promise<Line> {
    const hit = this.find(pred, from);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const l = this.find(pred, from);
        if (!l) return;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve(l);
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`${this.name}: no matching line within ${ms} ms; last lines: ${JSON.stringify(this.lines.slice(-5))}; stderr: ${this.stderr.slice(-800)}`));
      }, ms);
      this.watchers.add(check);
    });
  }
}

/** Path of the real hashicorp/memberlist v0.5.1 node (relative to the repository root, as CI lays it out). */
export const ML_AGENT = new URL('../../../../../shared/lab/memberlist/go-memberlist-0.5.1/ml-agent', import.meta.url).pathname;
