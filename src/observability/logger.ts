import { pino, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/config.js';

/** Messages and ids only: never request bodies, headers or query strings. */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  /** The one line per HTTP request: fixed fields that never hold a secret, so it skips redaction. */
  request?(fields: Record<string, string | number>): void;
}

/** Field names that could hold a secret: pino replaces their values wherever they appear. */
const REDACTED = ['password', 'client_secret', 'code', 'code_verifier', 'token', 'access_token', 'refresh_token', 'client_assertion', 'authorization', 'cookie'];

/**
 * Structured JSON logs (pino). Each request's line carries its request id, which is also
 * the correlation id of every event the request caused: one grep joins them.
 */
export function pinoLogger(destination?: DestinationStream, level: LogLevel = 'info'): Logger {
  const log = pino(
    {
      level,
      base: undefined,
      timestamp: isoTime,
      redact: { paths: [...REDACTED, ...REDACTED.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    destination,
  );
  // Redaction walked every request line's fields and was the most expensive part of serving a request.
  const requests = pino({ level, base: undefined, timestamp: isoTime }, destination);
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    request: (fields) => requests.info(fields, 'request'),
  };
}

let lastMs = 0;
let lastTime = '';
/** pino's ISO time, made once per millisecond: under load many lines share one. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}
