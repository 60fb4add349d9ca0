// Typed errors and their exit codes. Commands throw these; only src/cli.ts turns them into an exit code
// (0 ok, 1 failure, 2 usage or config error, 130 interrupted after saving). Nothing deep inside calls process.exit.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Base class: a message a user can act on, and the exit code it maps to. */
export class MusketeersError extends Error {
  readonly exitCode: number = EXIT_FAILURE;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Wrong command-line usage: unknown option value, missing argument, conflicting flags. Exit 2. */
export class UsageError extends MusketeersError {
  override readonly exitCode = EXIT_USAGE;
}

/** One problem found while validating a config. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `data.tasks.0.weight`. */
  path: string;
  message: string;
  /** Where the value came from: `file:line:column` or `--set key=value`. */
  source?: string;
  /** The offending value, rendered for display. */
  value?: string;
}

/** An invalid config (file, overrides or both). Exit 2. Lists every issue, not only the first. */
export class ConfigError extends MusketeersError {
  override readonly exitCode = EXIT_USAGE;
  constructor(
    readonly file: string | undefined,
    readonly issues: ConfigIssue[],
  ) {
    super(ConfigError.render(file, issues));
  }

  static render(file: string | undefined, issues: ConfigIssue[]): string {
    const head = `invalid config${file ? ` ${file}` : ''}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`;
    const lines = issues.map((i) => {
      const where = i.source ? ` (${i.source})` : '';
      const value = i.value !== undefined ? ` [got ${i.value}]` : '';
      return `  - ${i.path || '<root>'}${where}: ${i.message}${value}`;
    });
    return [head, ...lines].join('\n');
  }
}

/** A data file that cannot be used as given (malformed JSONL line, missing dataset). Exit 1. */
export class DataError extends MusketeersError {}

/** A Hugging Face model directory or file that cannot be used as given (unsupported architecture, missing shard, mismatched tokenizer). Exit 1. */
export class HfModelError extends DataError {}

/** The user stopped a long command (SIGINT) after it saved its state. Exit 130, as shells report Ctrl-C. */
export class InterruptedError extends MusketeersError {
  override readonly exitCode = 130;
}

export function exitCodeOf(error: unknown): number {
  return error instanceof MusketeersError ? error.exitCode : EXIT_FAILURE;
}
