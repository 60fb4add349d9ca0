// The constant-answer baseline of each task: the accuracy on the held-out items of always giving one
// fixed answer, the best such answer being chosen on the RL training split (never on the held-out
// items). A model's held-out accuracy means something only where it beats this: a task whose answer is
// usually "1" (gcd) or whose answer a fixed formula satisfies (propositional_logic) rewards a model that
// has learnt nothing but the answer format.

import type { TaskRegistry } from '../../tasks/registry.js';
import type { AnyTaskDefinition, TaskEntry } from '../../tasks/types.js';
import type { MusketeersConfig } from '../config.js';
import { dataComposite } from './data.js';
import { referenceAnswer } from './format.js';

export interface ConstantBaseline {
  task: string;
  /** The constant answer (best on the training items among their most frequent reference answers). */
  answer: string;
  /** Fraction of the held-out items the constant answer scores exactly 1 on. */
  accuracy: number;
  meanScore: number;
  /** Its accuracy on the training items it was chosen on. */
  trainAccuracy: number;
  /** Held-out items and training items it was measured on. */
  items: number;
  trainItems: number;
}

export interface BaselineOptions {
  /** How many of the most frequent training reference answers are tried as the constant. */
  candidates?: number;
  /** How many training items the candidates are scored on. */
  fitItems?: number;
}

/**
 * The best constant answer for one task: candidates are the `candidates` most frequent reference
 * answers among `train` (ties by first appearance); the one with the highest training accuracy wins
 * (then the higher training mean score, then the more frequent). Its held-out accuracy is reported.
 */
export function constantBaseline(task: AnyTaskDefinition, train: readonly TaskEntry[], heldOut: readonly TaskEntry[], options: BaselineOptions = {}): ConstantBaseline {
  const candidates = options.candidates ?? 20;
  const fit = train.slice(0, options.fitItems ?? 400);
  const counts = new Map<string, number>();
  for (const e of train) {
    const a = referenceAnswer(e);
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  // Map keeps insertion order and sort is stable: equal counts stay in order of first appearance.
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, candidates).map(([a]) => a);
  const measure = (answer: string, items: readonly TaskEntry[]) => {
    let correct = 0;
    let sum = 0;
    for (const e of items) {
      const s = task.score(answer, e);
      sum += s;
      if (s === 1) correct++;
    }
    const n = Math.max(items.length, 1);
    return { accuracy: correct / n, meanScore: sum / n };
  };
  let best = { answer: ranked[0] ?? '', accuracy: -1, meanScore: -1 };
  for (const answer of ranked) {
    const m = measure(answer, fit);
    if (m.accuracy > best.accuracy || (m.accuracy === best.accuracy && m.meanScore > best.meanScore)) best = { answer, ...m };
  }
  const held = measure(best.answer, heldOut);
  return { task: task.name, answer: best.answer, accuracy: held.accuracy, meanScore: held.meanScore, trainAccuracy: Math.max(best.accuracy, 0), items: heldOut.length, trainItems: fit.length };
}

/** The training items of the RL train split of `config.data`, grouped by task. */
export function trainItemsByTask(config: MusketeersConfig, registry: TaskRegistry, perTask: number): Map<string, TaskEntry[]> {
  const dataset = dataComposite(config, registry);
  const byTask = new Map<string, TaskEntry[]>(config.data.tasks.map((t) => [t.name, []]));
  for (let i = 0; i < config.data.trainSize; i++) {
    const e = dataset.get(i);
    const list = byTask.get(String(e.metadata.source_dataset))!;
    if (list.length < perTask) list.push(e);
  }
  return byTask;
}

/** Constant-answer baselines of every task of data.tasks, measured on the given held-out items. */
export function constantBaselines(config: MusketeersConfig, registry: TaskRegistry, heldOut: ReadonlyMap<string, readonly TaskEntry[]>, options: BaselineOptions = {}): ConstantBaseline[] {
  const train = trainItemsByTask(config, registry, 2000);
  const out: ConstantBaseline[] = [];
  for (const [name, list] of heldOut) {
    if (list.length === 0) continue;
    out.push(constantBaseline(registry.get(name), train.get(name) ?? [], list, options));
  }
  return out;
}
