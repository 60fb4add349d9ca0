// GSM8K for musketeers: a local-file loader and lm-evaluation-harness `gsm8k` scoring.
// GSM8K is a fixed dataset, not a procedural generator, so it is not in the task registry; the CLI
// and the training/eval code call these functions directly.

import type { TaskEntry } from '../types.js';
import { scoreGsm8k, type Gsm8kScore } from './scoring.js';

export const GSM8K_TASK_NAME = 'gsm8k';

/** Which harness filter the single `score` number follows (`--gsm8k-mode`); default strict. */
export type Gsm8kMode = 'strict' | 'flexible';
export const GSM8K_MODES: readonly Gsm8kMode[] = ['strict', 'flexible'];

export interface Gsm8kCompletionScore extends Gsm8kScore {
  /** `strict` or `flexible`, as chosen by the mode. */
  score: number;
}

/**
 * Score a full completion against a loaded GSM8K entry: both harness filters, plus `score` picked
 * by `mode`. The reference is `metadata.full_answer` when present (what the harness compares with),
 * otherwise the entry's `answer`.
 */
export function scoreGsm8kCompletion(
  completion: string | null | undefined,
  entry: Pick<TaskEntry, 'answer' | 'metadata'>,
  mode: Gsm8kMode = 'strict',
): Gsm8kCompletionScore {
  const full = entry.metadata?.full_answer;
  const reference = typeof full === 'string' ? full : entry.answer;
  if (reference === null || reference === undefined) {
    throw new Error('GSM8K entry has neither metadata.full_answer nor answer to score against');
  }
  if (!GSM8K_MODES.includes(mode)) {
    throw new Error(`unknown GSM8K scoring mode ${JSON.stringify(mode)}; use strict or flexible`);
  }
  const result = scoreGsm8k(completion, reference);
  return { ...result, score: mode === 'flexible' ? result.flexible : result.strict };
}

export {
  DatasetFormatError,
  DatasetNotFoundError,
  GSM8K_SPLITS,
  loadGsm8k,
  resolveGsm8kSource,
  type Gsm8kEntry,
  type Gsm8kSplit,
  type LoadGsm8kOptions,
  type ResolvedGsm8kSource,
} from './loader.js';
export {
  GSM8K_FLEXIBLE_PATTERN,
  GSM8K_INVALID,
  GSM8K_REGEXES_TO_IGNORE,
  GSM8K_STOP_SEQUENCES,
  GSM8K_STRICT_PATTERN,
  gsm8kExactMatch,
  gsm8kTargetNumber,
  harnessRegexFilter,
  scoreGsm8k,
  truncateAtStops,
  type Gsm8kScore,
} from './scoring.js';
