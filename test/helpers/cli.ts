// Run the CLI in-process with captured stdout/stderr (fast), or as a real process through bin/.

import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { main } from '../../src/cli.js';

export { tempDir } from './tmp.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'musketeers');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr as a person reads it: JSON error lines (the format in CI or with --json) replaced by their message. */
  message: string;
}

function readableStderr(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{')) return line;
      try {
        const parsed = JSON.parse(line) as { message?: unknown; msg?: unknown };
        const text = parsed.message ?? parsed.msg;
        return typeof text === 'string' ? text : line;
      } catch {
        return line;
      }
    })
    .join('\n');
}

export async function runCli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'musketeers', '--log-level', 'silent', ...args], {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    interactive: false,
  });
  return { code, stdout, stderr, message: readableStderr(stderr) };
}

export function spawnCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    input: options.input,
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, message: readableStderr(r.stderr) };
}
