// `musketeers eval`: a thin adapter over evaluatePolicy (src/analysis/evaluate.ts) — which config and
// checkpoint, which items (a config's held-out split, one task of it, or GSM8K from a local file), the
// report file and the human table.

import { join, resolve } from 'node:path';

import type { Command } from 'commander';

import { splitTrainEval } from '../../tasks/composite.js';
import { loadGsm8k, GSM8K_MODES, type Gsm8kMode } from '../../tasks/gsm8k/index.js';
import { taskRegistry } from '../../tasks/index.js';
import type { TaskEntry } from '../../tasks/types.js';
import { evalFileName, evaluatePolicy, resolveCheckpoint, type EvalResult } from '../analysis/evaluate.js';
import { DEFAULT_CONFIG_PATH, loadConfig, type MusketeersConfig } from '../config.js';
import type { CommandContext } from '../context.js';
import { DataError, UsageError } from '../errors.js';
import { runPaths } from '../rl/run-dir.js';
import { heldOutItems } from '../rl/trainer.js';
import { writeFileAtomic } from '../util/fs.js';
import { renderTable } from '../util/table.js';
import { dataComposite } from '../world/data.js';
import { collect, positiveInt } from './options.js';

export interface EvalCommandOptions {
  config?: string;
  task: string[];
  data?: string;
  checkpoint?: string;
  samples: number;
  greedy?: boolean;
  items?: number;
  set: string[];
  out?: string;
  gsm8kMode: Gsm8kMode;
}

/** Held-out items of the config's evaluation split, `perTask` per task, for the chosen tasks. */
function configHeldOut(config: MusketeersConfig, tasks: readonly string[], perTask: number): Map<string, TaskEntry[]> {
  const known = config.data.tasks.map((t) => t.name);
  for (const t of tasks) {
    if (!known.includes(t)) throw new UsageError(`--task ${t}: not in the config's data.tasks (${known.join(', ')}) nor gsm8k; add it to data.tasks or pick another config`);
  }
  const dataset = dataComposite(config, taskRegistry);
  const split = splitTrainEval(dataset, config.data.trainSize, config.data.evalSize);
  return heldOutItems(dataset, split.eval, tasks.length > 0 ? tasks : known, perTask);
}

export async function runEval(opts: EvalCommandOptions, ctx: CommandContext): Promise<{ result: EvalResult; file: string }> {
  if (opts.greedy && opts.samples > 1) throw new UsageError('--greedy takes one sample per item; drop --samples or --greedy');
  const checkpoint = opts.checkpoint ? resolveCheckpoint(opts.checkpoint, (m) => ctx.logger.warn(m)) : undefined;
  if (checkpoint && opts.config) throw new UsageError('--checkpoint evaluates with the run\'s own config.yaml; drop --config (use --set to change evaluation settings)');
  const configFile = checkpoint ? runPaths(checkpoint.runDir).config : (opts.config ?? DEFAULT_CONFIG_PATH);
  const { config } = loadConfig(configFile, opts.set);
  const perTask = opts.items ?? config.train.evalItemsPerTask;
  const items = new Map<string, TaskEntry[]>();
  const registered = opts.task.filter((t) => t !== 'gsm8k');
  if (opts.task.length === 0 || registered.length > 0) for (const [t, list] of configHeldOut(config, registered, perTask)) items.set(t, list);
  if (opts.task.includes('gsm8k')) {
    const path = opts.data ?? config.data.gsm8k.path;
    if (!path) throw new UsageError('--task gsm8k needs the data: --data PATH (a JSONL or parquet file, or a directory in the Hugging Face or OpenAI layout) or data.gsm8k.path in the config');
    try {
      items.set('gsm8k', await loadGsm8k(path, { split: config.data.gsm8k.split, limit: perTask }));
    } catch (error) {
      throw new DataError((error as Error).message);
    }
  } else if (opts.data) {
    throw new UsageError('--data is the GSM8K location; use it with --task gsm8k');
  }
  ctx.logger.info({ checkpoint: checkpoint?.dir, tasks: [...items.keys()], perTask }, `evaluating ${checkpoint ? `${checkpoint.dir} (step ${checkpoint.step})` : `the starting policy of ${configFile} (${config.method})`} on ${[...items.keys()].join(', ')}`);
  const result = await evaluatePolicy({ config, items, checkpoint, samples: opts.samples, greedy: Boolean(opts.greedy), gsm8kMode: opts.gsm8kMode, registry: taskRegistry, warn: (m) => ctx.logger.warn(m) });
  const outDir = resolve(opts.out ?? (checkpoint ? join(checkpoint.runDir, 'eval') : join(config.outputDir, 'eval')));
  const what = opts.task.length === 1 ? opts.task[0] : opts.task.length === 0 ? 'heldout' : opts.task.join('+');
  const file = join(outDir, evalFileName(`${config.name}-${config.method}-${what}`, checkpoint, Boolean(opts.greedy), result.samples));
  writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
  return { result, file };
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`);

export function formatEval(result: EvalResult, file: string): string {
  const experts = result.expertMass ? Object.keys(result.expertMass) : [];
  const ks = Object.keys(result.tasks[0]?.passAtK ?? {});
  const rows = result.tasks.map((t) => [
    t.task,
    t.items,
    t.samples,
    `${pct(t.accuracy)} [${pct(t.ci95[0])}, ${pct(t.ci95[1])}]`,
    t.gsm8k ? `strict ${pct(t.gsm8k.strict)} / flexible ${pct(t.gsm8k.flexible)}` : t.meanScore.toFixed(3),
    ...ks.map((k) => pct(t.passAtK[k])),
    pct(t.formatRate),
    ...experts.map((e) => pct(t.expertMass?.[e])),
  ]);
  const head = `${result.checkpoint ? `checkpoint ${result.checkpoint.dir} (step ${result.checkpoint.step})` : 'starting policy (no checkpoint)'}, method ${result.method}, ${result.greedy ? 'greedy' : `${result.samples} samples per item at temperature ${result.temperature}`}:`;
  return [
    head,
    renderTable(['task', 'items', 'samples', 'accuracy [95% CI]', 'mean score', ...ks, 'format', ...experts], rows),
    `mean accuracy over tasks ${pct(result.accuracy)}; ${result.seconds.toFixed(1)} s; report: ${file}`,
  ].join('\n');
}

export function registerEvalCommand(program: Command, ctx: CommandContext): void {
  program
    .command('eval')
    .description('Evaluate the policy (a checkpoint, or the starting policy) on held-out task items or GSM8K: accuracy with 95% CI, pass@k, expert attention.')
    .option('--config <file>', `config whose world and data are used (default ${join('configs', 'quickstart.yaml')}; not with --checkpoint)`)
    .option('--checkpoint <dir>', 'a run directory (its newest valid checkpoint) or one checkpoints/step_NNNNNN directory')
    .option('--task <name>', 'a task of the config\'s data.tasks, or gsm8k (repeatable; default every task of the config)', collect, [])
    .option('--data <path>', 'GSM8K data for --task gsm8k (JSONL, parquet, or a Hugging Face / OpenAI layout directory)')
    .option('--samples <n>', 'samples per item at grpo.temperature (pass@k for k = 1, 2, 4 ... <= n)', positiveInt, 1)
    .option('--greedy', 'one greedy completion per item')
    .option('--items <n>', 'items per task (default train.evalItemsPerTask)', positiveInt)
    .option('--gsm8k-mode <mode>', `which GSM8K filter counts as accuracy: ${GSM8K_MODES.join(' | ')}`, 'strict')
    .option('--set <key.path=value>', 'override a config key, repeatable (e.g. method=no-experts for the single-model baseline)', collect, [])
    .option('--out <dir>', 'where the JSON report goes (default RUN_DIR/eval with --checkpoint, else <outputDir>/eval)')
    .addHelpText(
      'after',
      `
Items come from the config's held-out split (never seen in training) or from GSM8K. Without
--checkpoint the starting policy is evaluated: base weights and the router at initialisation, no
router with --set method=no-experts, or the experts' greedy answers as text lines before each question
with --set method=text-concat. The report is written as JSON; the table goes to stdout.

Examples:
  $ musketeers eval --checkpoint runs/quickstart --greedy
  $ musketeers eval --checkpoint runs/quickstart --task chain_sum --samples 8
  $ musketeers eval --config configs/quickstart.yaml --set method=no-experts --greedy
  $ musketeers eval --config configs/quickstart.yaml --set method=text-concat --greedy
  $ musketeers eval --task gsm8k --data ~/data/gsm8k --checkpoint runs/gsm8k`,
    )
    .action(async (opts: EvalCommandOptions) => {
      if (!GSM8K_MODES.includes(opts.gsm8kMode)) throw new UsageError(`--gsm8k-mode ${opts.gsm8kMode}: use ${GSM8K_MODES.join(' or ')}`);
      const { result, file } = await runEval(opts, ctx);
      if (ctx.machine) ctx.outJson({ ...result, file });
      else ctx.outLine(formatEval(result, file));
    });
}
