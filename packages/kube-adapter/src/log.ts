/**
 * Structured JSON logging on pino: one object per line (`level` as a name, `time` ISO-8601, `msg`),
 * on stderr by default, with secrets redacted wherever they appear as a field.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** Log levels. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

/** A logger with fixed base fields. */
export interface Logger {
  /** Logs `msg` with extra fields at `level`. */
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  /** A child logger with extra base fields. */
  child(fields: Record<string, unknown>): Logger;
}

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values never reach a log line, at the top level and one level down
 * (`{ peer: { password } }`): memberlist secrets, BGP passwords, tokens, kubeconfig credentials.
 */
export const REDACT_KEYS = ['secret', 'memberlistSecret', 'secretKey', 'password', 'token', 'authorization', 'bearerToken', 'client-key-data', 'clientKeyData'];

const REDACT_PATHS = REDACT_KEYS.flatMap((k) => {
  const p = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  return [p, p.startsWith('[') ? `*${p}` : `*.${p}`];
});

function wrap(p: PinoLogger): Logger {
  return {
    log(level, msg, fields) {
      if (fields) p[level](fields, msg);
      else p[level](msg);
    },
    child(fields) {
      return wrap(p.child(fields));
    },
  };
}

/**
 * JSON-lines logger writing to `write` (default: stderr, synchronously, so nothing is lost on exit).
 * @param base fields on every line (e.g. `{ node }`); undefined values are dropped
 * @param min lowest level written
 */
export function jsonLogger(base: Record<string, unknown> = {}, min: Level = 'info', write?: (line: string) => void): Logger {
  const dest: DestinationStream = write ? { write: (s: string) => write(s.replace(/\n$/, '')) } : pino.destination({ dest: 2, sync: true });
  const p = pino(
    {
      level: min,
      base: null,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    dest,
  );
  const fields = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined));
  return wrap(Object.keys(fields).length ? p.child(fields) : p);
}

/** A logger that drops everything. */
export const nullLogger: Logger = { log() {}, child: () => nullLogger };
