// Weighted mixtures of tasks (Reasoning Gym's CompositeDataset semantics) and train/eval splits that
// never share a question.
//
// Item i of a composite seeded with `seed`: rng = random.Random(seed + i); the sub-task is drawn with
// rng.choices(weights); the item is that sub-task's item i. Sub-task configs default to seed + k + 1
// (k = position in the list) and the composite's size, as in Reasoning Gym.

import { PyRandom } from './common/rng.js';
import type { TaskRegistry } from './registry.js';
import type { AnyTaskDefinition, TaskEntry } from './types.js';

export interface CompositeTaskSpec {
  name: string;
  weight: number;
  /** Task config as validated by the task's schema (seed and size filled in). */
  config: Record<string, unknown> & { seed: number; size: number };
}

/** Fill the sub-task seeds and sizes the way Reasoning Gym's CompositeDataset does, then validate. */
export function resolveCompositeSpecs(
  registry: TaskRegistry,
  specs: { name: string; weight: number; config?: Record<string, unknown> }[],
  seed: number,
  size: number,
): CompositeTaskSpec[] {
  return specs.map((spec, k) => {
    const task = registry.get(spec.name);
    const raw = { ...(spec.config ?? {}) };
    if (raw.seed === undefined) raw.seed = seed + k + 1;
    if (raw.size === undefined) raw.size = size;
    return { name: spec.name, weight: spec.weight, config: task.configSchema.parse(raw) };
  });
}

export class CompositeDataset {
  private readonly tasks: AnyTaskDefinition[];
  private readonly weights: number[];

  constructor(
    private readonly registry: TaskRegistry,
    readonly specs: CompositeTaskSpec[],
    readonly seed: number,
    readonly size: number,
  ) {
    if (specs.length === 0) throw new Error('a composite dataset needs at least one task');
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new Error(`task '${s.name}' appears twice in the composite; merge the entries`);
      if (!(s.weight > 0)) throw new Error(`task '${s.name}' has weight ${s.weight}; weights must be > 0`);
      names.add(s.name);
    }
    this.tasks = specs.map((s) => registry.get(s.name));
    this.weights = specs.map((s) => s.weight);
  }

  /** Which sub-task item `index` comes from (without generating the item). */
  taskIndexFor(index: number): number {
    const rng = new PyRandom(this.seed + index);
    return rng.choices(
      this.specs.map((_, k) => k),
      this.weights,
      1,
    )[0];
  }

  get(index: number): TaskEntry {
    const k = this.taskIndexFor(index);
    return this.tasks[k].generate(this.specs[k].config, index);
  }

  /** Score with the sub-task named in the entry's metadata. */
  score(answer: string | null | undefined, entry: TaskEntry): number {
    const name = entry.metadata.source_dataset;
    if (typeof name !== 'string') throw new Error('entry has no metadata.source_dataset; cannot pick a scorer');
    return this.registry.get(name).score(answer, entry);
  }

  /** Normalised weight of each task (sums to 1). */
  mixture(): Record<string, number> {
    const total = this.weights.reduce((a, b) => a + b, 0);
    return Object.fromEntries(this.specs.map((s) => [s.name, s.weight / total]));
  }
}

/** Key used to decide that two entries are the same problem. */
export function questionKey(entry: TaskEntry): string {
  return `${entry.metadata.source_dataset ?? ''}\u0000${entry.question.trim()}`;
}

export interface SplitIndices {
  /** Composite indices of the training items: 0 .. trainSize-1. */
  train: number[];
  /** Composite indices of the evaluation items: taken from trainSize onward, skipping repeats of train items. */
  eval: number[];
  /** How many candidate evaluation items were skipped because their question is also a training question. */
  skippedOverlaps: number;
}

/**
 * Train items are indices [0, trainSize); evaluation items come from the indices after them, skipping
 * any whose question also occurs in the training set (small tasks can repeat a question at different
 * indices), so the two splits never share a question. Gives up with a clear error when the task space
 * is too small to find `evalSize` distinct held-out questions.
 */
export function splitTrainEval(dataset: CompositeDataset, trainSize: number, evalSize: number): SplitIndices {
  const seen = new Set<string>();
  const train: number[] = [];
  for (let i = 0; i < trainSize; i++) {
    train.push(i);
    seen.add(questionKey(dataset.get(i)));
  }
  const evalIdx: number[] = [];
  let skipped = 0;
  const limit = trainSize + Math.max(10 * evalSize, 1000);
  for (let i = trainSize; evalIdx.length < evalSize; i++) {
    if (i >= limit) {
      throw new Error(
        `could only find ${evalIdx.length} of ${evalSize} evaluation questions that do not occur in the ${trainSize} training items ` +
          `(the tasks' question space is too small); lower evalSize or trainSize, or widen the task configs`,
      );
    }
    const key = questionKey(dataset.get(i));
    if (seen.has(key)) {
      skipped++;
      continue;
    }
    seen.add(key);
    evalIdx.push(i);
  }
  return { train, eval: evalIdx, skippedOverlaps: skipped };
}
