// What every command receives: where to write results (stdout), the global options, and a logger
// created lazily from them. Tests pass their own Io to capture output without spawning a process.

import type { Logger } from 'pino';

import { createLogger, wantsJsonLogs, type LogLevel } from './log.js';

export interface Io {
  /** Command results (tables, JSON lines). */
  out(text: string): void;
  /** Human messages that are not logs (progress bars draw on stderr themselves). */
  err(text: string): void;
  /** Whether stderr is an interactive terminal (progress bars, colours). */
  interactive: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
};

export interface GlobalOptions {
  json: boolean;
  logLevel: LogLevel;
}

export class CommandContext {
  private cachedLogger?: Logger;

  constructor(
    readonly io: Io,
    private readonly readGlobals: () => GlobalOptions,
    private readonly loggerFactory: (options: GlobalOptions) => Logger = (g) => createLogger({ json: g.json, level: g.logLevel }),
  ) {}

  get globals(): GlobalOptions {
    return this.readGlobals();
  }

  get logger(): Logger {
    this.cachedLogger ??= this.loggerFactory(this.globals);
    return this.cachedLogger;
  }

  /** Machine-readable output wanted (--json or CI): no tables, no progress bars. */
  get machine(): boolean {
    return this.globals.json;
  }

  /** Show progress bars: an interactive terminal and not --json. */
  get showProgress(): boolean {
    return this.io.interactive && !wantsJsonLogs(this.globals.json);
  }

  outLine(text: string): void {
    this.io.out(`${text}\n`);
  }

  outJson(value: unknown): void {
    this.io.out(`${JSON.stringify(value)}\n`);
  }
}
