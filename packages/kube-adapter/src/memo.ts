/**
 * A memo for a pure function of a string, bounded: once it holds `max` results it starts over
 * (simpler than an LRU, and the decisions that use it touch each key a few times in a row).
 */
export function boundedMemo<V>(max: number, compute: (key: string) => V): (key: string) => V {
  const m = new Map<string, V>();
  return (key) => {
    let v = m.get(key);
    if (v === undefined && !m.has(key)) {
      v = compute(key);
      if (m.size >= max) m.clear();
      m.set(key, v);
    }
    return v as V;
  };
}
