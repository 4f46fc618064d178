/**
 * `lbkitd --check`: validates a YAML config file the way the daemon (and MetalLB's webhooks) would
 * — YAML syntax and object shape, CRD schemas (unknown fields, types, enums, ranges), then the
 * MetalLB rules of `parseConfig` — and reports every problem naming the object and the field.
 */
import { readFileSync } from 'node:fs';
import { fileStamp, type FileStamp } from '../file-stamp.js';
import { parseConfig } from '../config.js';
import { unsupportedPeerFields } from '../config/peer-support.js';
import { ConfigErrors, errMsg } from '../errors.js';
import { parseYamlObjects } from '../source/yaml.js';
import { FIELD_OF_KIND, keyOf, METALLB_KINDS, type KubeObject, type Snapshot } from '../types.js';
import { crdSchemas } from './crd-schema.js';

/** Outcome of {@link checkConfigText}. */
export interface CheckResult {
  ok: boolean;
  /** One line per problem: `Kind namespace/name: field: detail` (or the file position). */
  problems: string[];
  /** Non-fatal notes (deprecated versions). */
  warnings: string[];
  /** Object counts, e.g. `2 IPAddressPool, 1 BGPPeer`. */
  summary: string;
}

/** Kinds counted in the summary, metallb.io first. */
const KINDS: Array<[keyof Snapshot, string]> = ([...METALLB_KINDS, 'Secret', 'Namespace', 'Node', 'Service', 'EndpointSlice'] as const).map((k) => [FIELD_OF_KIND[k], k]);

/** Validates YAML text (all documents). */
export function checkConfigText(text: string, file = '<input>', namespace = 'metallb-system'): CheckResult {
  return checkParsedText(text, file, namespace).result;
}

/** {@link checkConfigText}, also returning the parsed objects (when the YAML parsed). */
function checkParsedText(text: string, file: string, namespace: string): { result: CheckResult; snapshot?: Snapshot } {
  let snap: Snapshot;
  try {
    snap = parseYamlObjects(text, file, namespace);
  } catch (e) {
    return { result: { ok: false, problems: [errMsg(e)], warnings: [], summary: '' } };
  }
  const summary = KINDS.map(([f, k]) => [k, ((snap[f] as KubeObject[] | undefined) ?? []).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const warnings: string[] = [];
  for (const p of snap.bgpPeers) {
    const w = crdSchemas().deprecation(p);
    if (w) warnings.push(`BGPPeer ${keyOf(p)}: apiVersion: ${w}`);
  }
  try {
    const cfg = parseConfig(snap, { namespace });
    // valid MetalLB configuration that lbkit's BGP backends cannot honour: said, not refused
    for (const p of cfg.peers) for (const u of unsupportedPeerFields(p, namespace)) warnings.push(u.message);
  } catch (e) {
    const problems = e instanceof ConfigErrors ? e.errors.map((x) => x.message) : [errMsg(e)];
    return { result: { ok: false, problems, warnings, summary }, snapshot: snap };
  }
  return { result: { ok: true, problems: [], warnings, summary }, snapshot: snap };
}

/** Validates a YAML config file; a file that cannot be read is a problem, not a throw. */
export function checkConfigFile(path: string, namespace = 'metallb-system'): CheckResult {
  return checkConfigFileParsed(path, namespace).result;
}

/**
 * {@link checkConfigFile}, also returning the text read, its parsed objects and the file's stamp at
 * the read, so a caller that goes on to load the same file (lbkitd at start) neither parses it again
 * nor, while the stamp is unchanged, reads it again.
 */
export function checkConfigFileParsed(path: string, namespace = 'metallb-system'): { result: CheckResult; parsed?: { text: string; snapshot: Snapshot; stamp?: FileStamp } } {
  let text: string;
  let stamp: FileStamp | undefined;
  try {
    // stamped before the read: a write after it changes the stamp, so the reader re-reads the file
    stamp = fileStamp(path);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { result: { ok: false, problems: [`${path}: cannot read: ${errMsg(e)}`], warnings: [], summary: '' } };
  }
  const { result, snapshot } = checkParsedText(text, path, namespace);
  return snapshot ? { result, parsed: { text, snapshot, ...(stamp ? { stamp } : {}) } } : { result };
}

/** Human-readable report of a check (what `lbkitd --check` prints). */
export function formatCheck(path: string, r: CheckResult): string {
  const lines = r.ok ? [`${path}: OK${r.summary ? ` (${r.summary})` : ''}`] : [`${path}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`, ...r.problems.map((p) => `  ${p}`)];
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n') + '\n';
}
