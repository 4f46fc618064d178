/**
 * A fast path for the YAML that Kubernetes objects are written in: block mappings and sequences,
 * one-line flow collections (`{ name: a, labels: { x: y } }`), plain and quoted one-line scalars,
 * comments and `---` documents. On a 5000-Service config it is about 4× faster than js-yaml, which
 * is a large part of a speaker's start.
 *
 * It never disagrees with js-yaml (YAML 1.2 core schema): anything outside that subset (anchors,
 * tags, block scalars, multi-line scalars or flows, complex keys, tabs, duplicate keys, unusual
 * escapes, empty streams) and any error makes it return `undefined`, and the caller parses the text
 * with js-yaml, which also reports the errors. Plain scalars are resolved with js-yaml's own
 * core-schema types, so `0x1F`, `.inf`, `~` and `1_000` mean what they mean there.
 */
import jsYaml from 'js-yaml';

/** Thrown inside the parser when the text leaves the subset (caught by {@link fastLoadAll}). */
const BAIL = Object.freeze({ fastYaml: 'bail' });

const EOF = -1;
const MARKER = -2;

const SP = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQ = 34;
const SQ = 39;

/** js-yaml's core-schema implicit types, in its order: the same resolution as js-yaml's. */
const { types } = jsYaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', jsYaml.Type> };
const IMPLICIT = [types.null, types.bool, types.int, types.float];

/** Characters a non-string core-schema plain scalar can start with: `~ n N t T f F . + -` and digits. */
function mayResolve(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 126 || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70 || c === 46 || c === 43 || c === DASH;
}

function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  if (!mayResolve(c)) return s;
  // two dots (an IPv4 address, a version): no core-schema int or float has more than one
  if (c >= 48 && c <= 57) {
    const dot = s.indexOf('.');
    if (dot >= 0 && s.indexOf('.', dot + 1) >= 0) return s;
  }
  for (const t of IMPLICIT) if (t.resolve(s)) return t.construct(s);
  return s;
}

/** Indicators that may not start a plain scalar here (the subset is stricter than YAML). */
const NOT_PLAIN_START = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

/** What js-yaml rejects as non-printable, plus tab, CR and BOM (left to js-yaml). */
const LEAVE_TO_JSYAML = /[\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/;

/** A run of characters with no meaning inside a flow collection (sticky: scans from `lastIndex`). */
const FLOW_PLAIN = /[^,[\]{}:#\n]*/y;

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

function bail(): never {
  throw BAIL;
}

/** A plain key that js-yaml keeps as the same string (implicit keys are at most 1024 characters). */
function isKeyString(key: string): boolean {
  return key.length > 0 && key.length <= 1000 && key !== '__proto__' && resolvePlain(key) === key;
}

/**
 * Plain keys already checked with {@link isKeyString}: Kubernetes YAML repeats a few dozen keys in
 * every document, and every object then shares one string per key. Bounded, kept between parses.
 */
const KEYS = new Map<string, string>();
const MAX_KEYS = 4096;

/** `key` (checked), or the one string already held for it; bails when it is not a plain string key. */
function plainKey(key: string): string {
  const known = KEYS.get(key);
  if (known !== undefined) return known;
  if (!isKeyString(key)) bail();
  if (KEYS.size < MAX_KEYS) KEYS.set(key, key);
  return key;
}

class FastYaml {
  /** start of the next line to read */
  private pos = 0;
  /** the peeked line: start, end (index of its `\n` or the text length), indentation */
  private ls = 0;
  private le = 0;

  constructor(private readonly s: string) {}

  /**
   * Moves to the next line with content (skipping blank and comment lines) without consuming it.
   * Returns its indentation, {@link MARKER} for a `---` line, or {@link EOF}.
   */
  private peek(): number {
    const s = this.s;
    for (;;) {
      const ls = this.pos;
      if (ls >= s.length) return EOF;
      let le = s.indexOf('\n', ls);
      if (le < 0) le = s.length;
      let i = ls;
      while (i < le && s.charCodeAt(i) === SP) i++;
      if (i === le || s.charCodeAt(i) === HASH) {
        this.pos = le + 1;
        continue;
      }
      this.ls = ls;
      this.le = le;
      if (i === ls) {
        const c = s.charCodeAt(ls);
        if (c === DASH && s.startsWith('---', ls) && (ls + 3 === le || s.charCodeAt(ls + 3) === SP)) {
          this.rest(ls + 3, true);
          return MARKER;
        }
        if ((c === 46 && s.startsWith('...', ls)) || c === 37 /* % directive */) bail();
      }
      return i - ls;
    }
  }

  private next(): void {
    this.pos = this.le + 1;
  }

  /** Only spaces and a comment may follow a value on its line. */
  private rest(j: number, afterSpace = false): void {
    const s = this.s;
    const from = j;
    while (j < this.le && s.charCodeAt(j) === SP) j++;
    if (j < this.le && (s.charCodeAt(j) !== HASH || (j === from && !afterSpace))) bail();
  }

  private isSeqEntry(i: number): boolean {
    return this.s.charCodeAt(i) === DASH && (i + 1 === this.le || this.s.charCodeAt(i + 1) === SP);
  }

  /** Index of the `:` ending a plain block key that starts at `i`, or -1 when the line is no mapping entry. */
  private plainKeyEnd(i: number): number {
    const s = this.s;
    for (let j = i; j < this.le; j++) {
      const c = s.charCodeAt(j);
      if (c === COLON && (j + 1 === this.le || s.charCodeAt(j + 1) === SP)) return j;
      if (c === HASH && s.charCodeAt(j - 1) === SP) return -1;
    }
    return -1;
  }

  documents(): unknown[] {
    const out: unknown[] = [];
    let k = this.peek();
    if (k === EOF) bail(); // no content at all: js-yaml's rules for empty streams decide
    if (k !== MARKER) {
      out.push(this.blockNode(k));
      k = this.peek();
    }
    while (k === MARKER) {
      this.next();
      k = this.peek();
      if (k === EOF || k === MARKER) {
        out.push(null);
        continue;
      }
      out.push(this.blockNode(k));
      k = this.peek();
    }
    if (k !== EOF) bail();
    return out;
  }

  /** The node whose first line is the peeked line, indented `n`. */
  private blockNode(n: number): unknown {
    const start = this.ls + n;
    if (this.isSeqEntry(start)) return this.sequence(n);
    if (this.entryValueStart(start) >= 0) return this.mapping(n, start);
    const v = this.inlineValue(start);
    this.next();
    return v;
  }

  /** The key of the entry {@link entryValueStart} found last. */
  private key = '';
  /** Where the value {@link quoted}, {@link flow} or {@link flowItem} read last ends (index after it). */
  private end = 0;

  /**
   * When a mapping entry starts at `i` on the peeked line: the index just after its `:`; else -1.
   * Sets {@link key} to the entry's key.
   */
  private entryValueStart(i: number): number {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === DQ || c === SQ) {
      const value = this.quoted(i);
      let j = this.end;
      while (j < this.le && s.charCodeAt(j) === SP) j++;
      if (s.charCodeAt(j) !== COLON || (j + 1 < this.le && s.charCodeAt(j + 1) !== SP)) return -1;
      this.key = value;
      return j + 1;
    }
    if (c === 91 || c === 123) return -1; // a flow collection (as a key it is left to js-yaml by rest())
    const end = this.plainKeyEnd(i);
    if (end < 0) return -1;
    if (NOT_PLAIN_START.has(c)) bail();
    this.key = plainKey(s.slice(i, end).trimEnd());
    return end + 1;
  }

  private sequence(n: number): unknown[] {
    const s = this.s;
    const arr: unknown[] = [];
    for (;;) {
      let i = this.ls + n + 1;
      while (i < this.le && s.charCodeAt(i) === SP) i++;
      if (i === this.le || s.charCodeAt(i) === HASH) {
        this.next();
        const k = this.peek();
        arr.push(k > n ? this.blockNode(k) : null);
      } else {
        if (this.isSeqEntry(i)) bail(); // `- - a`
        if (this.entryValueStart(i) >= 0) arr.push(this.mapping(i - this.ls, i));
        else {
          arr.push(this.inlineValue(i));
          this.next();
        }
      }
      const k = this.peek();
      if (k === n && this.isSeqEntry(this.ls + n)) continue;
      if (k > n) bail();
      return arr;
    }
  }

  /** A block mapping indented `n` whose first key starts at `first` on the peeked line. */
  private mapping(n: number, first: number): Record<string, unknown> {
    const s = this.s;
    const obj: Record<string, unknown> = {};
    let start = first;
    for (;;) {
      let i = this.entryValueStart(start);
      if (i < 0) bail();
      const key = this.key;
      if (Object.hasOwn(obj, key)) bail(); // js-yaml reports the duplicate
      while (i < this.le && s.charCodeAt(i) === SP) i++;
      if (i === this.le || s.charCodeAt(i) === HASH) {
        this.next();
        const k = this.peek();
        if (k > n) obj[key] = this.blockNode(k);
        else if (k === n && this.isSeqEntry(this.ls + n)) obj[key] = this.sequence(n);
        else obj[key] = null;
      } else {
        obj[key] = this.inlineValue(i);
        this.next();
      }
      const k = this.peek();
      if (k === n && !this.isSeqEntry(this.ls + n)) {
        start = this.ls + n;
        continue;
      }
      if (k >= n) bail();
      return obj;
    }
  }

  /** A value that starts at `i` and ends on this line (then only a comment may follow). */
  private inlineValue(i: number): unknown {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === DQ || c === SQ) {
      const value = this.quoted(i);
      this.rest(this.end);
      return value;
    }
    if (c === 91 /* [ */ || c === 123 /* { */) {
      const value = this.flow(i);
      this.rest(this.end);
      return value;
    }
    if (NOT_PLAIN_START.has(c) && !(c === DASH && i + 1 < this.le && s.charCodeAt(i + 1) !== SP)) bail();
    let end = i;
    for (let j = i; j < this.le; j++) {
      const ch = s.charCodeAt(j);
      if (ch === SP) {
        if (s.charCodeAt(j + 1) === HASH) break;
        continue;
      }
      if (ch === COLON && (j + 1 === this.le || s.charCodeAt(j + 1) === SP)) bail();
      end = j + 1;
    }
    return resolvePlain(s.slice(i, end));
  }

  /** A quoted scalar starting at `i` and closed on this line (sets {@link end}). */
  private quoted(i: number): string {
    const s = this.s;
    const le = this.le;
    if (s.charCodeAt(i) === SQ) {
      let out = '';
      let j = i + 1;
      for (;;) {
        const q = s.indexOf("'", j);
        if (q < 0 || q >= le) bail();
        out += s.slice(j, q);
        if (s.charCodeAt(q + 1) === SQ) {
          out += "'";
          j = q + 2;
          continue;
        }
        this.end = q + 1;
        return out;
      }
    }
    let out = '';
    let j = i + 1;
    for (;;) {
      let k = j;
      while (k < le) {
        const c = s.charCodeAt(k);
        if (c === DQ || c === 92 /* \ */) break;
        k++;
      }
      if (k >= le) bail();
      out += s.slice(j, k);
      if (s.charCodeAt(k) === DQ) {
        this.end = k + 1;
        return out;
      }
      const e = s[k + 1] ?? '';
      if (Object.hasOwn(SIMPLE_ESCAPES, e)) {
        out += SIMPLE_ESCAPES[e]!;
        j = k + 2;
        continue;
      }
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 0;
      const hex = s.slice(k + 2, k + 2 + len);
      if (len === 0 || k + 2 + len > le || !/^[0-9a-fA-F]+$/.test(hex)) bail();
      out += String.fromCharCode(parseInt(hex, 16));
      j = k + 2 + len;
    }
  }

  private skipSpaces(j: number): number {
    while (j < this.le && this.s.charCodeAt(j) === SP) j++;
    return j;
  }

  /** A flow sequence or mapping starting at `i` and closed on this line (sets {@link end}). */
  private flow(i: number): unknown {
    const s = this.s;
    if (s.charCodeAt(i) === 91) {
      const arr: unknown[] = [];
      let j = this.skipSpaces(i + 1);
      if (s.charCodeAt(j) === 93 /* ] */) {
        this.end = j + 1;
        return arr;
      }
      for (;;) {
        arr.push(this.flowItem(j, false));
        j = this.skipSpaces(this.end);
        const c = s.charCodeAt(j);
        if (c === 93) {
          this.end = j + 1;
          return arr;
        }
        if (c !== 44 /* , */) bail();
        j = this.skipSpaces(j + 1);
        if (s.charCodeAt(j) === 93) bail(); // a trailing comma: left to js-yaml
      }
    }
    const obj: Record<string, unknown> = {};
    let j = this.skipSpaces(i + 1);
    if (s.charCodeAt(j) === 125 /* } */) {
      this.end = j + 1;
      return obj;
    }
    for (;;) {
      let key: string;
      const c = s.charCodeAt(j);
      if (c === DQ || c === SQ) {
        key = this.quoted(j);
        j = this.skipSpaces(this.end);
        if (s.charCodeAt(j) !== COLON) bail();
        j++;
      } else {
        if (NOT_PLAIN_START.has(c)) bail();
        // a plain key here has no `:` `#` or flow indicator of its own (others are left to js-yaml)
        FLOW_PLAIN.lastIndex = j;
        FLOW_PLAIN.test(s);
        const k = FLOW_PLAIN.lastIndex;
        if (k >= this.le || s.charCodeAt(k) !== COLON || s.charCodeAt(k + 1) !== SP) bail();
        key = plainKey(s.slice(j, k).trimEnd());
        j = k + 1;
      }
      if (key === '__proto__' || Object.hasOwn(obj, key)) bail();
      j = this.skipSpaces(j);
      obj[key] = this.flowItem(j, true);
      j = this.skipSpaces(this.end);
      const d = s.charCodeAt(j);
      if (d === 125) {
        this.end = j + 1;
        return obj;
      }
      if (d !== 44) bail();
      j = this.skipSpaces(j + 1);
      if (s.charCodeAt(j) === 125) bail();
    }
  }

  /** One value inside a flow collection (sets {@link end}). */
  private flowItem(j: number, inMapping: boolean): unknown {
    const s = this.s;
    const c = s.charCodeAt(j);
    if (c === 91 || c === 123) return this.flow(j);
    if (c === DQ || c === SQ) {
      const value = this.quoted(j);
      // `["a": 1]` is a one-pair mapping inside the sequence: left to js-yaml
      if (!inMapping && s.charCodeAt(this.skipSpaces(this.end)) === COLON) bail();
      return value;
    }
    if (NOT_PLAIN_START.has(c) && !(c === DASH && j + 1 < this.le && s.charCodeAt(j + 1) !== SP && s.charCodeAt(j + 1) !== 44)) bail();
    let k = j;
    for (;;) {
      FLOW_PLAIN.lastIndex = k;
      FLOW_PLAIN.test(s);
      k = FLOW_PLAIN.lastIndex;
      if (k >= this.le) bail();
      const ch = s.charCodeAt(k);
      if (ch === 44 || ch === 93 || ch === 125) break;
      if (ch === COLON) {
        // `64512:100`, `fd00::1`: a colon inside the scalar; `a: b` or `a:` is a pair (left to js-yaml)
        const d = s.charCodeAt(k + 1);
        if (k + 1 >= this.le || d === SP || d === 44 || d === 93 || d === 125) bail();
        k++;
        continue;
      }
      if (ch === HASH && s.charCodeAt(k - 1) !== SP) {
        k++;
        continue;
      }
      bail(); // [ { inside a scalar, a comment, or the end of the line
    }
    this.end = k;
    return resolvePlain(s.slice(j, k).trimEnd());
  }
}

/**
 * Every document of `text` when it is in the fast subset, or `undefined`: then parse it with
 * js-yaml (YAML 1.2 core schema), which gives the same values for every text this accepts.
 */
export function fastLoadAll(text: string): unknown[] | undefined {
  if (LEAVE_TO_JSYAML.test(text)) return undefined;
  try {
    return new FastYaml(text).documents();
  } catch {
    // out of the subset (or too deep): js-yaml decides, and reports any error
    return undefined;
  }
}
