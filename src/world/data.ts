// Data for building the tiny world: per-task held-out items taken from the RL evaluation split of
// `data` (so they never share a question with RL training), and each model's supervised training
// items, drawn from its own mixture with its own seed and never sharing a question with the held-out
// items.

import { CompositeDataset, questionKey, resolveCompositeSpecs, splitTrainEval } from '../../tasks/composite.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { TaskEntry } from '../../tasks/types.js';
import type { MusketeersConfig } from '../config.js';
import { DataError } from '../errors.js';

type WorldModel = NonNullable<MusketeersConfig['world']>['models'][number];

/** The RL data mixture of a config, as a composite dataset. */
export function dataComposite(config: MusketeersConfig, registry: TaskRegistry): CompositeDataset {
  const specs = resolveCompositeSpecs(registry, config.data.tasks, config.seed, config.data.trainSize);
  return new CompositeDataset(registry, specs, config.seed, config.data.trainSize);
}

/** The config's data mixture and its train/eval split; a split the sizes cannot make is a DataError. */
export function splitData(config: MusketeersConfig, registry: TaskRegistry): { dataset: CompositeDataset; split: { train: number[]; eval: number[] } } {
  const dataset = dataComposite(config, registry);
  try {
    return { dataset, split: splitTrainEval(dataset, config.data.trainSize, config.data.evalSize) };
  } catch (error) {
    throw new DataError(`data: ${(error as Error).message}`);
  }
}

export interface HeldOut {
  /** Up to `perTask` items per task of data.tasks, in split order. */
  byTask: Map<string, TaskEntry[]>;
  /** Question keys of the whole eval split (training items must avoid all of them). */
  keys: Set<string>;
}

/** Held-out items of the RL eval split, grouped by task. */
export function heldOutByTask(config: MusketeersConfig, registry: TaskRegistry, perTask: number): HeldOut {
  const dataset = dataComposite(config, registry);
  const split = splitTrainEval(dataset, config.data.trainSize, config.data.evalSize);
  const byTask = new Map<string, TaskEntry[]>(config.data.tasks.map((t) => [t.name, []]));
  const keys = new Set<string>();
  for (const i of split.eval) {
    const e = dataset.get(i);
    keys.add(questionKey(e));
    const list = byTask.get(String(e.metadata.source_dataset))!;
    if (list.length < perTask) list.push(e);
  }
  return { byTask, keys };
}

/**
 * `count` training items for one world model: its task mixture (weights from the model, task configs
 * from data.tasks), seeded apart from the RL data, skipping any question in `exclude`.
 */
export function sftItems(config: MusketeersConfig, registry: TaskRegistry, model: WorldModel, modelIndex: number, count: number, exclude: ReadonlySet<string>): TaskEntry[] {
  const seed = config.seed + 100_003 * (modelIndex + 1);
  const specs = model.tasks.map((t) => {
    const dataSpec = config.data.tasks.find((d) => d.name === t.name)!;
    const { seed: _seed, size: _size, ...taskConfig } = dataSpec.config;
    return { name: t.name, weight: t.weight, config: taskConfig };
  });
  const dataset = new CompositeDataset(registry, resolveCompositeSpecs(registry, specs, seed, count), seed, count);
  const items: TaskEntry[] = [];
  for (let i = 0; items.length < count; i++) {
    if (i > count * 20 + 1000) throw new Error(`world model '${model.name}': could not draw ${count} training items that avoid the held-out questions; widen its task configs`);
    const e = dataset.get(i);
    if (!exclude.has(questionKey(e))) items.push(e);
  }
  return items;
}
