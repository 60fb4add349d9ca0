// The contract every task implements: a strict config schema with Reasoning Gym's defaults, a
// deterministic generator by (seed, index), and a scorer equal to `reasoning_gym`'s `score_answer`.

import type { z } from 'zod';

/** Metadata of an entry; field names follow Reasoning Gym (`source_dataset`, `source_index`, ...). */
export interface EntryMetadata {
  source_dataset?: string;
  source_index?: number;
  [key: string]: unknown;
}

/** One task item in Reasoning Gym's shape. */
export interface TaskEntry {
  question: string;
  answer: string | null;
  metadata: EntryMetadata;
}

export type TaskCategory = 'arithmetic' | 'algorithmic' | 'logic' | 'math_word_problems';

/** Fields every procedural task config carries, as in Reasoning Gym (`seed`, `size`). */
export interface BaseTaskConfig {
  seed: number;
  size: number;
}

export interface TaskDefinition<C extends BaseTaskConfig = BaseTaskConfig> {
  /** Registry name, identical to Reasoning Gym's dataset name. */
  name: string;
  category: TaskCategory;
  /** One sentence for `musketeers tasks list`. */
  description: string;
  /**
   * Strict zod schema of the task config (unknown keys rejected) with Reasoning Gym's defaults;
   * impossible combinations are rejected with a message that says how to fix them.
   */
  configSchema: z.ZodType<C, any>;
  /** Deterministic: the same (config, index) always gives the same entry. */
  generate(config: C, index: number): TaskEntry;
  /** Score a candidate answer (already extracted from the completion) in [0, 1]. */
  score(answer: string | null | undefined, entry: TaskEntry): number;
}

/** Erase the config type so tasks of different configs share one registry. */
export type AnyTaskDefinition = TaskDefinition<any>;

export function defineTask<C extends BaseTaskConfig>(task: TaskDefinition<C>): TaskDefinition<C> {
  return task;
}
