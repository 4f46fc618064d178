/**
 * A small renderer for the subset of Helm's Go templates that charts/lbkit uses (Debian ships no
 * helm): actions with `{{-`/`-}}` trimming, comments, `if`/`else if`/`else`, `with`, `range`,
 * `define`/`include`, variables (`$x :=`, `$`), pipelines, parenthesised calls, and the functions
 * listed in FUNCS. `lookup` returns an empty map, as under `helm template`. Anything outside the
 * subset throws, so a template using more than this renderer knows fails the test instead of being
 * rendered wrongly. It proves the chart renders and what it renders; it does not prove Helm's own
 * engine agrees on every corner (whitespace inside text is copied as is, like Go's text/template).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';

type V = unknown;
type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; p: Pipe }
  | { t: 'set'; name: string; p: Pipe; declare: boolean }
  | { t: 'if'; branches: Array<{ p: Pipe | null; body: Node[] }> }
  | { t: 'with'; p: Pipe; body: Node[]; else: Node[] }
  | { t: 'range'; p: Pipe; body: Node[]; else: Node[] }
  | { t: 'define'; name: string; body: Node[] };
type Arg = { k: 'str' | 'num' | 'bool' | 'nil'; v: V } | { k: 'field'; base: string | null; path: string[] } | { k: 'fn'; name: string } | { k: 'sub'; p: Pipe };
type Cmd = Arg[];
type Pipe = Cmd[];

/** Splits a template into text and action strings, applying `{{-` and `-}}` trimming. */
function lex(src: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    if (src[j] === '-' && /\s/.test(src[j + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      j++;
    }
    const close = src.indexOf('}}', j);
    if (close < 0) throw new Error(`unclosed action at ${open}`);
    let body = src.slice(j, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(next))!;
      next += m[0].length;
    }
    out.push({ text });
    const a = body.trim();
    if (!(a.startsWith('/*') && a.endsWith('*/'))) out.push({ action: a });
    i = next;
  }
  return out.filter((x) => !('text' in x) || x.text !== '');
}

/** Tokenises one action's expression. */
function tokens(s: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|=|\(|\)|\||[^\s()|"]+)/y;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    out.push(m[1]!);
    if (re.lastIndex >= s.length) break;
  }
  if (out.join('').replace(/\s/g, '') !== s.replace(/\s/g, '')) throw new Error(`cannot tokenise ${JSON.stringify(s)}`);
  return out;
}

function parsePipe(toks: string[], pos = { i: 0 }, stop?: string): Pipe {
  const pipe: Pipe = [];
  let cmd: Cmd = [];
  while (pos.i < toks.length) {
    const t = toks[pos.i++]!;
    if (t === stop) return [...pipe, cmd];
    if (t === '|') {
      pipe.push(cmd);
      cmd = [];
    } else if (t === '(') cmd.push({ k: 'sub', p: parsePipe(toks, pos, ')') });
    else if (t.startsWith('"')) cmd.push({ k: 'str', v: JSON.parse(t) });
    else if (t.startsWith('`')) cmd.push({ k: 'str', v: t.slice(1, -1) });
    else if (/^-?\d+(\.\d+)?$/.test(t)) cmd.push({ k: 'num', v: Number(t) });
    else if (t === 'true' || t === 'false') cmd.push({ k: 'bool', v: t === 'true' });
    else if (t === 'nil') cmd.push({ k: 'nil', v: null });
    else if (t === '.') cmd.push({ k: 'field', base: null, path: [] });
    else if (t.startsWith('.')) cmd.push({ k: 'field', base: null, path: t.slice(1).split('.') });
    else if (t.startsWith('$')) {
      const [base, ...path] = t.split('.');
      cmd.push({ k: 'field', base: base!, path });
    } else if (/^[A-Za-z]\w*$/.test(t)) cmd.push({ k: 'fn', name: t });
    else throw new Error(`unexpected token ${JSON.stringify(t)}`);
  }
  if (stop) throw new Error(`missing ${stop}`);
  return [...pipe, cmd];
}

/** Parses lexed items into a tree; returns the nodes and the keyword that ended the list. */
function parseNodes(items: ReturnType<typeof lex>, pos: { i: number }): { nodes: Node[]; end: string } {
  const nodes: Node[] = [];
  while (pos.i < items.length) {
    const it = items[pos.i++]!;
    if ('text' in it) {
      nodes.push({ t: 'text', s: it.text });
      continue;
    }
    const a = it.action;
    const kw = /^(\w+)\b\s*(.*)$/s.exec(a);
    const word = kw?.[1];
    if (word === 'end' || word === 'else') return { nodes, end: a };
    if (word === 'if') {
      const branches: Array<{ p: Pipe | null; body: Node[] }> = [];
      let cond: Pipe | null = parsePipe(tokens(kw![2]!));
      for (;;) {
        const r = parseNodes(items, pos);
        branches.push({ p: cond, body: r.nodes });
        if (r.end === 'end') break;
        const m = /^else(?:\s+if\s+(.*))?$/s.exec(r.end);
        if (!m) throw new Error(`bad ${r.end}`);
        if (cond === null) throw new Error('else after else');
        cond = m[1] !== undefined ? parsePipe(tokens(m[1])) : null;
      }
      nodes.push({ t: 'if', branches });
    } else if (word === 'with' || word === 'range') {
      const p = parsePipe(tokens(kw![2]!));
      const r = parseNodes(items, pos);
      let els: Node[] = [];
      if (r.end === 'else') {
        const r2 = parseNodes(items, pos);
        if (r2.end !== 'end') throw new Error(`${word}: expected end`);
        els = r2.nodes;
      } else if (r.end !== 'end') throw new Error(`${word}: unexpected ${r.end}`);
      nodes.push({ t: word, p, body: r.nodes, else: els });
    } else if (word === 'define') {
      const name = JSON.parse(kw![2]!.trim()) as string;
      const r = parseNodes(items, pos);
      if (r.end !== 'end') throw new Error('define: expected end');
      nodes.push({ t: 'define', name, body: r.nodes });
    } else if (word === 'template' || word === 'block') throw new Error(`{{ ${word} }} is outside the supported subset`);
    else {
      const m = /^(\$\w*)\s*(:=|=)\s*(.*)$/s.exec(a);
      if (m) nodes.push({ t: 'set', name: m[1]!, declare: m[2] === ':=', p: parsePipe(tokens(m[3]!)) });
      else nodes.push({ t: 'out', p: parsePipe(tokens(a)) });
    }
  }
  return { nodes, end: '' };
}

function truthy(v: V): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function print(v: V): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new Error(`cannot print a ${Array.isArray(v) ? 'list' : 'map'} (use toYaml)`);
  return String(v);
}

function toYaml(v: V): string {
  if (v === null || v === undefined) return 'null';
  return stringify(v, { lineWidth: 0 }).replace(/\n$/, '');
}

const indentLines = (n: number, s: string) =>
  s
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

let randState = 0x2545f491;
const FUNCS: Record<string, (...a: V[]) => V> = {
  toYaml: (v) => toYaml(v),
  nindent: (n, s) => '\n' + indentLines(n as number, print(s)),
  indent: (n, s) => indentLines(n as number, print(s)),
  quote: (...vs) => vs.map((v) => JSON.stringify(print(v))).join(' '),
  squote: (v) => `'${print(v)}'`,
  default: (d, v) => (truthy(v) ? v : d),
  required: (msg, v) => {
    if (!truthy(v)) throw new Error(`required: ${msg as string}`);
    return v;
  },
  not: (v) => !truthy(v),
  and: (...vs) => vs.find((v) => !truthy(v)) ?? vs[vs.length - 1],
  or: (...vs) => vs.find((v) => truthy(v)) ?? vs[vs.length - 1],
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  gt: (a, b) => (a as number) > (b as number),
  int: (v) => Math.trunc(Number(v ?? 0)),
  fail: (msg) => {
    throw new Error(`execution error: ${print(msg)}`);
  },
  lookup: () => ({}),
  index: (o, ...ks) => ks.reduce<V>((x, k) => (x as Record<string, V> | undefined)?.[k as string], o),
  list: (...vs) => vs,
  splitList: (sep, s) => print(s).split(sep as string),
  printf: (fmt, ...args) => {
    let i = 0;
    return (fmt as string).replace(/%[sdvq%]/g, (m) => (m === '%%' ? '%' : m === '%q' ? JSON.stringify(print(args[i++])) : print(args[i++])));
  },
  b64enc: (s) => Buffer.from(print(s)).toString('base64'),
  randAlphaNum: (n) => {
    const cs = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < (n as number); i++) {
      randState = (randState * 1103515245 + 12345) >>> 0;
      out += cs[randState % cs.length];
    }
    return out;
  },
  trunc: (n, s) => print(s).slice(0, n as number),
  trimSuffix: (suf, s) => (print(s).endsWith(suf as string) ? print(s).slice(0, -(suf as string).length) : print(s)),
};

interface Scope {
  dot: V;
  vars: Map<string, V>;
}

/** A chart: templates (by file name), values and the release to render for. */
export interface RenderInput {
  chartDir: string;
  values?: Record<string, unknown>;
  release?: { name: string; namespace: string };
}

/** Deep-merges `over` into `base` (maps merge, everything else replaces), like Helm's values. */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? mergeValues(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * Renders every template of the chart (files starting with `_` only define helpers; NOTES.txt is
 * rendered too) and returns file name → rendered text.
 */
export function renderChart(input: RenderInput): Map<string, string> {
  const tdir = join(input.chartDir, 'templates');
  const chart = parseYaml(readFileSync(join(input.chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = (parseYaml(readFileSync(join(input.chartDir, 'values.yaml'), 'utf8')) ?? {}) as Record<string, unknown>;
  const release = input.release ?? { name: 'lbkit', namespace: 'metallb-system' };
  const root = {
    Values: mergeValues(defaults, input.values ?? {}),
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Capabilities: { KubeVersion: { Version: 'v1.30.0' } },
  };
  const sources = new Map(readdirSync(tdir).sort().map((f) => [f, readFileSync(join(tdir, f), 'utf8')]));
  return renderTemplates(sources, root);
}

/**
 * Renders named template sources against `root` (the `.` of each file); files starting with `_`
 * only contribute `define`s. Returns file name → text.
 */
export function renderTemplates(sources: Map<string, string>, root: Record<string, unknown>): Map<string, string> {
  const defines = new Map<string, Node[]>();
  const trees = new Map<string, Node[]>();
  for (const [f, src] of sources) {
    const r = parseNodes(lex(src), { i: 0 });
    if (r.end) throw new Error(`${f}: unexpected {{ ${r.end} }}`);
    const collect = (ns: Node[]) => {
      for (const n of ns) if (n.t === 'define') defines.set(n.name, n.body);
    };
    collect(r.nodes);
    trees.set(f, r.nodes);
  }

  const evalArg = (a: Arg, sc: Scope, piped: V[]): V => {
    switch (a.k) {
      case 'str':
      case 'num':
      case 'bool':
      case 'nil':
        return a.v;
      case 'sub':
        return evalPipe(a.p, sc);
      case 'field': {
        let v: V;
        if (a.base === null) v = sc.dot;
        else if (a.base === '$') v = root;
        else {
          if (!sc.vars.has(a.base)) throw new Error(`undefined variable ${a.base}`);
          v = sc.vars.get(a.base);
        }
        for (const [i, k] of a.path.entries()) {
          if (v === null || v === undefined) throw new Error(`nil pointer evaluating .${a.path.slice(0, i + 1).join('.')}`);
          v = (v as Record<string, V>)[k];
        }
        return v;
      }
      case 'fn': {
        void piped;
        throw new Error(`function ${a.name} used as a value`);
      }
    }
  };
  const evalCmd = (c: Cmd, sc: Scope, piped: V[]): V => {
    const [head, ...rest] = c;
    if (!head) throw new Error('empty command');
    if (head.k === 'fn') {
      const args = [...rest.map((x) => evalArg(x, sc, [])), ...piped];
      if (head.name === 'include') {
        const body = defines.get(args[0] as string);
        if (!body) throw new Error(`include: no template ${JSON.stringify(args[0])}`);
        return exec(body, { dot: args[1], vars: new Map() });
      }
      const f = FUNCS[head.name];
      if (!f) throw new Error(`function ${head.name} is outside the supported subset`);
      return f(...args);
    }
    if (rest.length || piped.length) throw new Error('arguments after a non-function');
    return evalArg(head, sc, piped);
  };
  const evalPipe = (p: Pipe, sc: Scope): V => {
    let v: V[] = [];
    for (const c of p) v = [evalCmd(c, sc, v)];
    return v[0];
  };
  const exec = (nodes: Node[], sc: Scope): string => {
    let out = '';
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          out += n.s;
          break;
        case 'out':
          out += print(evalPipe(n.p, sc));
          break;
        case 'set':
          sc.vars.set(n.name, evalPipe(n.p, sc));
          break;
        case 'define':
          break;
        case 'if': {
          const b = n.branches.find((x) => x.p === null || truthy(evalPipe(x.p, sc)));
          if (b) out += exec(b.body, { dot: sc.dot, vars: new Map(sc.vars) });
          break;
        }
        case 'with': {
          const v = evalPipe(n.p, sc);
          out += truthy(v) ? exec(n.body, { dot: v, vars: new Map(sc.vars) }) : exec(n.else, { dot: sc.dot, vars: new Map(sc.vars) });
          break;
        }
        case 'range': {
          const v = evalPipe(n.p, sc);
          const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => (v as Record<string, V>)[k]) : [];
          if (!items.length) out += exec(n.else, { dot: sc.dot, vars: new Map(sc.vars) });
          for (const it of items) out += exec(n.body, { dot: it, vars: new Map(sc.vars) });
          break;
        }
      }
    }
    return out;
  };
  const rendered = new Map<string, string>();
  for (const [f, nodes] of trees) {
    if (f.startsWith('_')) continue;
    rendered.set(f, exec(nodes, { dot: root, vars: new Map() }));
  }
  return rendered;
}
