/** Structured JSON logging (one object per line on stderr by default). */

/** Log levels. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

/** A logger with fixed base fields. */
export interface Logger {
  /** Logs `msg` with extra fields at `level`. */
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  /** A child logger with extra base fields. */
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** JSON-lines logger writing to `write` (default stderr). */
export function jsonLogger(base: Record<string, unknown> = {}, min: Level = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  return {
    log(level, msg, fields) {
      if (ORDER[level] < ORDER[min]) return;
      write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...base, ...fields }));
    },
    child(fields) {
      return jsonLogger({ ...base, ...fields }, min, write);
    },
  };
}

/** A logger that drops everything. */
export const nullLogger: Logger = { log() {}, child: () => nullLogger };
