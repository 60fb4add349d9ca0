// Structured logging with pino: human-readable (pino-pretty) on an interactive terminal, JSON lines
// with --json, in CI, or when stderr is not a TTY. Logs go to stderr; command results go to stdout.

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  json?: boolean;
  level?: LogLevel;
}

/** True when output should be machine-readable: --json, CI=true, or stderr is not a terminal. */
export function wantsJsonLogs(json?: boolean): boolean {
  if (json) return true;
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') return true;
  return !process.stderr.isTTY;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (wantsJsonLogs(options.json)) {
    return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
  }
  const stream = pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' });
  return pino({ level, base: undefined }, stream);
}

export type { Logger };
