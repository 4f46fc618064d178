/** Go `time.ParseDuration` subset: sequences of number+unit with units ns, us, µs, ms, s, m, h. */

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration string into milliseconds; returns null when invalid. */
export function parseDuration(s: string): number | null {
  if (typeof s !== 'string') return null;
  const t = s.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let pos = 0;
  if (t.length === 0) return null;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) return null;
    ms += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return ms;
}
