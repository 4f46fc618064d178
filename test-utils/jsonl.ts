/** Reading JSON-lines output of child processes in tests. */

/**
 * Returns a `data` handler that joins chunks into lines and calls `onValue` with each complete line
 * parsed as JSON; lines that are not JSON are dropped, and a partial last line waits for the next chunk.
 */
export function jsonLineSplitter<T>(onValue: (v: T) => void): (chunk: string | Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let v: T;
      try {
        v = JSON.parse(line) as T;
      } catch {
        continue; // not a JSON line
      }
      onValue(v);
    }
  };
}
