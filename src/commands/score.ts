// `musketeers score --input FILE.jsonl`: score candidate answers with the task verifiers.
//
// Input lines:  {"task"?: name, "entry": {question, answer, metadata?}, "candidate": string|null, "id"?: any}
// Output lines: {"line": n, "task": name, "score": s, ...} one per valid input line, in order; for gsm8k
// also "strict" and "flexible" (lm-evaluation-harness semantics) and what each filter extracted.
// A malformed line is an error naming its line number; with --skip-invalid it is reported and skipped.
// Nothing is written unless every line is valid or --skip-invalid is given.

import { readFileSync, existsSync } from 'node:fs';

import type { Command } from 'commander';

import { extractAnswer } from '../../tasks/common/extract.js';
import { GSM8K_TASK_NAME, scoreGsm8kCompletion } from '../../tasks/gsm8k/index.js';
import { taskRegistry } from '../../tasks/index.js';
import { UnknownTaskError, type TaskRegistry } from '../../tasks/registry.js';
import type { TaskEntry } from '../../tasks/types.js';
import type { CommandContext } from '../context.js';
import { DataError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';

export interface ScoreOptions {
  /** Apply `<answer>` extraction to candidates of Reasoning Gym tasks (candidates are full completions). */
  extractAnswer?: boolean;
  answerTag?: string;
  gsm8kMode?: 'strict' | 'flexible';
  /** Task for lines that name none (neither "task" nor entry.metadata.source_dataset). */
  defaultTask?: string;
}

export interface ScoredLine {
  line: number;
  id?: unknown;
  task: string;
  score: number;
  extracted?: string | null;
  strict?: number;
  flexible?: number;
  strict_extracted?: string;
  flexible_extracted?: string;
}

export interface InvalidLine {
  line: number;
  error: string;
}

const LINE_KEYS = new Set(['task', 'entry', 'candidate', 'id']);

function describeType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Validate and score one parsed line; throws an Error with a message for an invalid line. */
export function scoreLine(value: unknown, lineNo: number, options: ScoreOptions, registry: TaskRegistry = taskRegistry): ScoredLine {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`expected a JSON object, got ${describeType(value)}`);
  const line = value as Record<string, unknown>;
  const unknown = Object.keys(line).filter((k) => !LINE_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}; a line has "task"?, "entry", "candidate" and "id"?`);
  const entry = line.entry as Record<string, unknown> | undefined;
  if (entry === undefined) throw new Error('missing "entry" (an object with "question" and "answer")');
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`"entry" must be an object, got ${describeType(entry)}`);
  if (typeof entry.question !== 'string') throw new Error(`"entry.question" must be a string, got ${describeType(entry.question)}`);
  if (typeof entry.answer !== 'string' && entry.answer !== null) throw new Error(`"entry.answer" must be a string, got ${describeType(entry.answer)}`);
  const metadata = entry.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new Error(`"entry.metadata" must be an object, got ${describeType(metadata)}`);
  if (!('candidate' in line)) throw new Error('missing "candidate" (a string, or null for no answer)');
  const candidate = line.candidate;
  if (typeof candidate !== 'string' && candidate !== null) throw new Error(`"candidate" must be a string or null, got ${describeType(candidate)}`);
  if (line.task !== undefined && typeof line.task !== 'string') throw new Error(`"task" must be a string, got ${describeType(line.task)}`);
  const meta = metadata as Record<string, unknown>;
  const taskName = (line.task as string | undefined) ?? (typeof meta.source_dataset === 'string' ? meta.source_dataset : undefined) ?? options.defaultTask;
  if (taskName === undefined) throw new Error('no task: add "task" to the line or "source_dataset" to entry.metadata (or pass --task NAME)');

  const base = { line: lineNo, ...(line.id !== undefined ? { id: line.id } : {}), task: taskName };
  if (taskName === GSM8K_TASK_NAME) {
    if (entry.answer === null && typeof meta.full_answer !== 'string') {
      throw new Error('gsm8k entries need "entry.answer" (the reference ending in "#### N", or the number)');
    }
    const s = scoreGsm8kCompletion(candidate, { answer: entry.answer as string | null, metadata: meta }, options.gsm8kMode ?? 'strict');
    return {
      ...base,
      score: s.score,
      strict: s.strict,
      flexible: s.flexible,
      strict_extracted: s.strictExtracted,
      flexible_extracted: s.flexibleExtracted,
    };
  }
  let task;
  try {
    task = registry.get(taskName);
  } catch (error) {
    if (error instanceof UnknownTaskError) throw new Error(`${error.message} (gsm8k is also accepted)`);
    throw error;
  }
  const taskEntry: TaskEntry = { question: entry.question, answer: entry.answer as string | null, metadata: meta };
  if (options.extractAnswer) {
    const extracted = candidate === null ? null : extractAnswer(candidate, options.answerTag ?? 'answer');
    return { ...base, score: task.score(extracted, taskEntry), extracted };
  }
  return { ...base, score: task.score(candidate, taskEntry) };
}

export interface ScoreResult {
  scored: ScoredLine[];
  invalid: InvalidLine[];
  /** Number of non-blank input lines. */
  total: number;
}

/** Score every non-blank line of a JSONL text. Invalid lines are collected, never thrown. */
export function scoreJsonl(text: string, options: ScoreOptions, registry: TaskRegistry = taskRegistry): ScoreResult {
  const scored: ScoredLine[] = [];
  const invalid: InvalidLine[] = [];
  let total = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    total++;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      invalid.push({ line: i + 1, error: `not valid JSON (${(error as Error).message})` });
      continue;
    }
    try {
      scored.push(scoreLine(value, i + 1, options, registry));
    } catch (error) {
      invalid.push({ line: i + 1, error: (error as Error).message });
    }
  }
  return { scored, invalid, total };
}

export function registerScoreCommand(program: Command, ctx: CommandContext): void {
  program
    .command('score')
    .description('Score candidate answers with the task verifiers (Reasoning Gym score_answer; lm-evaluation-harness for gsm8k).')
    .requiredOption('-i, --input <file>', 'JSONL input: {"task"?, "entry": {question, answer, metadata?}, "candidate": string|null, "id"?}')
    .option('-o, --output <file>', 'write the scored JSONL here (atomically) instead of stdout')
    .option('--skip-invalid', 'report malformed lines on stderr and score the rest (default: fail naming every bad line)')
    .option('--gsm8k-mode <mode>', 'which gsm8k filter gives "score": strict | flexible', 'strict')
    .option('--extract-answer', 'candidates are full completions: score the last <answer>…</answer> (not for gsm8k)')
    .option('--answer-tag <tag>', 'tag used by --extract-answer', 'answer')
    .option('--task <name>', 'task for lines that name none (no "task" and no entry.metadata.source_dataset)')
    .addHelpText(
      'after',
      `
Each output line: {"line": n, "task", "score", ...}; gsm8k lines add "strict", "flexible" and what each
filter extracted. Exit codes: 0 all lines scored, 1 malformed input (nothing written), 2 usage error.

Examples:
  $ musketeers tasks sample chain_sum -n 3 --json | jq -c '{entry: ., candidate: .answer}' > lines.jsonl
  $ musketeers score --input lines.jsonl
  $ musketeers score --input gsm8k_completions.jsonl --gsm8k-mode flexible -o scored.jsonl`,
    )
    .action((opts: { input: string; output?: string; skipInvalid?: boolean; gsm8kMode: string; extractAnswer?: boolean; answerTag: string; task?: string }) => {
      if (opts.gsm8kMode !== 'strict' && opts.gsm8kMode !== 'flexible') throw new UsageError(`--gsm8k-mode must be strict or flexible, got '${opts.gsm8kMode}'`);
      if (!existsSync(opts.input)) throw new UsageError(`input file not found: ${opts.input}`);
      const result = scoreJsonl(readFileSync(opts.input, 'utf8'), {
        extractAnswer: opts.extractAnswer,
        answerTag: opts.answerTag,
        gsm8kMode: opts.gsm8kMode,
        defaultTask: opts.task,
      });
      if (result.invalid.length > 0 && !opts.skipInvalid) {
        const shown = result.invalid.slice(0, 20).map((l) => `  ${opts.input}:${l.line}: ${l.error}`);
        const more = result.invalid.length > 20 ? [`  ... and ${result.invalid.length - 20} more`] : [];
        throw new DataError(
          [`${result.invalid.length} of ${result.total} lines in ${opts.input} are invalid; nothing was written:`, ...shown, ...more, 'Fix them, or pass --skip-invalid to score the valid lines.'].join('\n'),
        );
      }
      for (const bad of result.invalid) ctx.logger.warn({ line: bad.line, file: opts.input }, `skipped invalid line ${bad.line}: ${bad.error}`);
      const body = result.scored.map((s) => JSON.stringify(s)).join('\n') + (result.scored.length > 0 ? '\n' : '');
      if (opts.output) writeFileAtomic(opts.output, body);
      else ctx.io.out(body);
      const mean = result.scored.length > 0 ? result.scored.reduce((a, s) => a + s.score, 0) / result.scored.length : 0;
      ctx.logger.info({ scored: result.scored.length, skipped: result.invalid.length, meanScore: mean, output: opts.output ?? 'stdout' }, `scored ${result.scored.length} lines, mean score ${mean.toFixed(4)}`);
    });
}
