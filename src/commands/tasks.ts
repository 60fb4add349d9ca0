// `musketeers tasks list` and `musketeers tasks sample`: browse the registered tasks and their items.

import type { Command } from 'commander';

import { CompositeDataset, resolveCompositeSpecs, splitTrainEval } from '../../tasks/composite.js';
import { taskRegistry } from '../../tasks/index.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { TaskCategory, TaskEntry } from '../../tasks/types.js';
import { loadConfig, parseOverride } from '../config.js';
import type { CommandContext } from '../context.js';
import { ConfigError, UsageError } from '../errors.js';
import { renderTable } from '../util/table.js';
import { collect, nonNegativeInt, positiveInt } from './options.js';

const CATEGORIES: TaskCategory[] = ['arithmetic', 'algorithmic', 'logic'];

export interface TaskSummary {
  name: string;
  category: TaskCategory;
  description: string;
  defaults: Record<string, unknown>;
}

export function listTasks(registry: TaskRegistry = taskRegistry, category?: TaskCategory): TaskSummary[] {
  return registry.list(category).map((t) => ({
    name: t.name,
    category: t.category,
    description: t.description,
    defaults: t.configSchema.parse({}) as Record<string, unknown>,
  }));
}

export interface SampleOptions {
  count: number;
  start: number;
  seed?: number;
  overrides: string[];
}

/** Items `start .. start+count-1` of one task, with `--set key=value` applied to the task config. */
export function sampleTask(name: string, options: SampleOptions, registry: TaskRegistry = taskRegistry): { config: Record<string, unknown>; entries: TaskEntry[] } {
  const task = registry.get(name);
  const raw: Record<string, unknown> = {};
  for (const text of options.overrides) {
    const o = parseOverride(text);
    if (o.path.length !== 1) {
      throw new ConfigError(undefined, [
        { path: o.path.join('.'), source: `--set ${text}`, message: `task configs are flat; use one of: ${Object.keys(task.configSchema.parse({})).join(', ')}` },
      ]);
    }
    raw[String(o.path[0])] = o.value;
  }
  if (options.seed !== undefined) raw.seed = options.seed;
  const parsed = task.configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      undefined,
      parsed.error.issues.map((i) => ({
        path: i.path.join('.'),
        source: i.path.length > 0 ? `--set ${String(i.path[0])}=...` : undefined,
        message: i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')} for task ${name}; known keys: ${Object.keys(task.configSchema.parse({})).join(', ')}` : i.message,
      })),
    );
  }
  const config = parsed.data as Record<string, unknown>;
  const entries: TaskEntry[] = [];
  for (let i = 0; i < options.count; i++) entries.push(task.generate(config as never, options.start + i));
  return { config, entries };
}

/** Items from a config's task mixture (training split by default, or the held-out split). */
export function sampleFromConfig(file: string, overrides: string[], count: number, split: 'train' | 'eval'): TaskEntry[] {
  const { config } = loadConfig(file, overrides);
  const specs = resolveCompositeSpecs(taskRegistry, config.data.tasks, config.seed, config.data.trainSize);
  const dataset = new CompositeDataset(taskRegistry, specs, config.seed, config.data.trainSize);
  if (split === 'train') return Array.from({ length: Math.min(count, config.data.trainSize) }, (_, i) => dataset.get(i));
  const { eval: idx } = splitTrainEval(dataset, config.data.trainSize, Math.min(count, config.data.evalSize));
  return idx.map((i) => dataset.get(i));
}

function printEntries(ctx: CommandContext, entries: TaskEntry[]): void {
  if (ctx.machine) {
    for (const e of entries) ctx.outJson(e);
    return;
  }
  for (const e of entries) {
    const { source_dataset: source, source_index: index, ...rest } = e.metadata;
    ctx.outLine(`── ${String(source)} #${String(index)} ${'─'.repeat(40)}`);
    ctx.outLine(e.question);
    ctx.outLine(`answer: ${e.answer}`);
    ctx.outLine(`metadata: ${JSON.stringify(rest)}`);
    ctx.outLine('');
  }
}

export function registerTasksCommands(program: Command, ctx: CommandContext): void {
  const tasks = program
    .command('tasks')
    .description('Browse the Reasoning Gym-compatible tasks: list them, print sample items.')
    .addHelpText(
      'after',
      `
Examples:
  $ musketeers tasks list
  $ musketeers tasks sample chain_sum -n 3 --seed 1 --set max_terms=4
  $ musketeers tasks sample --config configs/quickstart.yaml -n 10 --split eval --json`,
    );

  tasks
    .command('list')
    .description('List the registered tasks with their category and default config.')
    .option('--category <name>', `only one category: ${CATEGORIES.join(' | ')}`)
    .action((opts: { category?: string }) => {
      if (opts.category !== undefined && !CATEGORIES.includes(opts.category as TaskCategory)) {
        throw new UsageError(`unknown category '${opts.category}'; use one of: ${CATEGORIES.join(', ')}`);
      }
      const rows = listTasks(taskRegistry, opts.category as TaskCategory | undefined);
      if (ctx.machine) {
        for (const r of rows) ctx.outJson(r);
        return;
      }
      ctx.outLine(renderTable(['task', 'category', 'description'], rows.map((r) => [r.name, r.category, r.description])));
      ctx.outLine(`\n${rows.length} tasks. Config keys and defaults: musketeers tasks list --json`);
    });

  tasks
    .command('sample')
    .description('Print items of a task (deterministic by seed and index), or of a config\'s task mixture.')
    .argument('[name]', 'task name (see `musketeers tasks list`); omit with --config')
    .option('-n, --count <n>', 'number of items', positiveInt, 5)
    .option('--start <index>', 'index of the first item', nonNegativeInt, 0)
    .option('--seed <seed>', 'task seed (default: the task config default, 42)', nonNegativeInt)
    .option('--set <key=value>', 'task config override, repeatable (e.g. --set max_terms=4)', collect, [])
    .option('--config <file>', 'sample from the task mixture of this config instead of one task')
    .option('--split <split>', 'with --config: train | eval', 'train')
    .action((name: string | undefined, opts: { count: number; start: number; seed?: number; set: string[]; config?: string; split: string }) => {
      if (opts.config !== undefined) {
        if (name !== undefined) throw new UsageError('give either a task name or --config, not both');
        if (opts.split !== 'train' && opts.split !== 'eval') throw new UsageError(`--split must be train or eval, got '${opts.split}'`);
        printEntries(ctx, sampleFromConfig(opts.config, opts.set, opts.count, opts.split));
        return;
      }
      if (name === undefined) throw new UsageError('missing task name; run `musketeers tasks list` to see them, or pass --config FILE');
      const { entries } = sampleTask(name, { count: opts.count, start: opts.start, seed: opts.seed, overrides: opts.set });
      printEntries(ctx, entries);
    });
}

