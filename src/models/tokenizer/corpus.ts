// Tokenizer training corpora from the task generators: question and answer texts of N items per
// task, deterministic for a given (task list, items per task, seed).

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { AnyTaskDefinition } from '../../../tasks/types.js';

export interface CorpusItem {
  task: string;
  index: number;
  question: string;
  /** The reference answer; null where the task has none. */
  answer: string | null;
}

export interface CorpusOptions {
  /** Items generated per task (indices 0..itemsPerTask-1). */
  itemsPerTask: number;
  /** Task config seed (Reasoning Gym's `seed`); default 42 as in Reasoning Gym. */
  seed?: number;
  /** Extra config fields per task name, validated by the task's schema (e.g. larger numbers). */
  configs?: Record<string, Record<string, unknown>>;
}

/** Generate items: for each task in the given order, indices 0..itemsPerTask-1 under config {seed, size, ...}. */
export function generateCorpusItems(tasks: readonly AnyTaskDefinition[], options: CorpusOptions): CorpusItem[] {
  const { itemsPerTask, seed = 42, configs = {} } = options;
  if (!Number.isInteger(itemsPerTask) || itemsPerTask < 1) {
    throw new RangeError(`itemsPerTask ${itemsPerTask} must be a positive integer`);
  }
  const items: CorpusItem[] = [];
  for (const task of tasks) {
    const parsed = task.configSchema.safeParse({ ...configs[task.name], seed, size: itemsPerTask });
    if (!parsed.success) {
      throw new Error(`corpus: invalid config for task '${task.name}': ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    for (let index = 0; index < itemsPerTask; index++) {
      const entry = task.generate(parsed.data, index);
      items.push({ task: task.name, index, question: entry.question, answer: entry.answer });
    }
  }
  return items;
}

/** Flatten items to training texts: the question, then the answer (when not null), per item. */
export function corpusTexts(items: readonly CorpusItem[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    out.push(item.question);
    if (item.answer !== null && item.answer !== '') out.push(item.answer);
  }
  return out;
}

function isTaskDefinition(value: unknown): value is AnyTaskDefinition {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<AnyTaskDefinition>;
  return typeof v.name === 'string' && typeof v.generate === 'function' && typeof v.score === 'function' && v.configSchema !== undefined;
}

/**
 * The procedural tasks (GSM8K excluded: it is a data set, not a generator), sorted by name, or the
 * named ones in the given order. Uses the task registry (`tasks/index.js`); while some task files are
 * still missing and the registry cannot be imported, falls back to every task module that loads.
 */
export async function loadCorpusTasks(names?: readonly string[]): Promise<AnyTaskDefinition[]> {
  let available: AnyTaskDefinition[];
  try {
    const { taskRegistry } = await import('../../../tasks/index.js');
    available = taskRegistry.list();
  } catch {
    available = await loadTaskModulesDirectly();
  }
  available = available.filter((t) => t.category !== 'math_word_problems').sort((x, y) => (x.name < y.name ? -1 : 1));
  if (names === undefined) return available;
  const byName = new Map(available.map((t) => [t.name, t]));
  return names.map((n) => {
    const task = byName.get(n);
    if (!task) {
      throw new Error(`corpus: unknown or unavailable task '${n}'; available: ${[...byName.keys()].join(', ')}`);
    }
    return task;
  });
}

async function loadTaskModulesDirectly(): Promise<AnyTaskDefinition[]> {
  const found = new Map<string, AnyTaskDefinition>();
  for (const group of ['arithmetic', 'algorithmic', 'logic']) {
    const dirUrl = new URL(`../../../tasks/${group}/`, import.meta.url);
    let files: string[];
    try {
      files = readdirSync(fileURLToPath(dirUrl)).filter((f) => f.endsWith('.js') && f !== 'index.js').sort();
    } catch {
      continue;
    }
    for (const file of files) {
      let mod: Record<string, unknown>;
      try {
        mod = (await import(new URL(file, dirUrl).href)) as Record<string, unknown>;
      } catch {
        continue; // a task still in progress elsewhere
      }
      for (const value of Object.values(mod)) if (isTaskDefinition(value) && !found.has(value.name)) found.set(value.name, value);
    }
  }
  return [...found.values()];
}
