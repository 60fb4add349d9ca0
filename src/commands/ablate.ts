// `musketeers ablate [CONFIG] --FLAG... [--all] [--seeds N]`: a thin adapter over runAblations
// (src/analysis/ablate.ts) — flags to variants, progress logs, SIGINT, and the closing table.

import { join } from 'node:path';

import type { Command } from 'commander';

import { runAblations, type AblationChoice, type AblationResult } from '../analysis/ablate.js';
import { DEFAULT_CONFIG_PATH } from '../config.js';
import type { CommandContext } from '../context.js';
import { InterruptedError, UsageError } from '../errors.js';
import { POOLINGS } from '../experts/pooling.js';
import { renderTable } from '../util/table.js';
import { withSigint } from './interrupt.js';
import { collect, positiveInt } from './options.js';

interface AblateCommandOptions extends AblationChoice {
  set: string[];
  seeds: number;
  out?: string;
  layer?: number;
}

const pct = (m: { mean: number; std: number }) => (Number.isFinite(m.mean) ? `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}` : '-');

export function formatAblations(result: AblationResult): string {
  const tasks = Object.keys(result.table[0]?.tasks ?? {});
  const rows = result.table.map((r) => [r.variant, r.seeds, pct(r.accuracy), Number.isFinite(r.reward.mean) ? `${r.reward.mean.toFixed(3)} ± ${r.reward.std.toFixed(3)}` : '-', ...tasks.map((t) => pct(r.tasks[t]))]);
  return [
    `Held-out accuracy (%, mean ± std over seeds) at the end of training, and the training reward over the last 10% of steps; runs in ${result.outDir}:`,
    renderTable(['variant', 'seeds', 'accuracy', 'reward', ...tasks], rows),
  ].join('\n');
}

function layerInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`--layer ${value}: expected an integer (0 = embeddings, -1 = last layer)`);
  return n;
}

export function registerAblateCommand(program: Command, ctx: CommandContext): void {
  program
    .command('ablate')
    .description('Train the method and its ablations (same trainer, same budget) for one or more seeds, and tabulate held-out accuracy.')
    .argument('[config]', `YAML config with method musketeers (default ${join('configs', 'quickstart.yaml')})`)
    .option('--freeze-router', 'the router stays at initialisation while the policy (LoRA) trains')
    .option('--uniform-router', 'attention fixed to uniform over expert positions')
    .option('--hard-route', 'top-1 routing: each prompt attends to one expert only')
    .option('--shuffle-experts', 'each prompt reads the expert states of another prompt of its batch')
    .option('--zero-experts', 'context tokens from zeroed expert states')
    .option('--drop-expert <name>', 'leave one expert out (repeatable)', collect, [])
    .option('--only-expert <name>', 'a single-expert pool (repeatable)', collect, [])
    .option('--pool <pooling>', `pool expert states another way: ${POOLINGS.join(', ')}`)
    .option('--layer <k>', 'read another expert layer (0 = embeddings, negative from the end)', layerInt)
    .option('--single-model', 'add the single-model RLVR baseline (method no-experts, same policy and budget)')
    .option('--text-concat', "add the text-concatenation baseline (method text-concat: the experts' greedy answers as text before the question, no router)")
    .option('--all', 'every ablation that applies: no-experts, text-concat, freeze, uniform, hard route, shuffle, zero, leave-one-out and single-expert pools, first/mean pooling, layer 1')
    .option('--seeds <n>', 'seeds per variant (train.seed, train.seed + 1, ...)', positiveInt, 1)
    .option('--set <key.path=value>', 'override a config key of every run, repeatable', collect, [])
    .option('--out <dir>', 'parent directory of the runs (default <outputDir>/<name>-ablate)')
    .addHelpText(
      'after',
      `
The method itself always runs first; each flag adds a variant. Runs are named <name>-<variant>-s<seed>;
a finished run is skipped and an interrupted one resumed, so re-running the command continues the
table. Every variant's config is validated before anything trains. The table is also written to
ablate.json. Plots: musketeers plot --out DIR RUN_DIR...

Examples:
  $ musketeers ablate configs/smoke.yaml --single-model --freeze-router --zero-experts --seeds 2
  $ musketeers ablate configs/quickstart.yaml --all --seeds 3`,
    )
    .action(async (file: string | undefined, opts: AblateCommandOptions & { singleModel?: boolean }) => {
      if (opts.pool !== undefined && !POOLINGS.includes(opts.pool as (typeof POOLINGS)[number])) throw new UsageError(`--pool ${opts.pool}: use one of ${POOLINGS.join(', ')}`);
      await withSigint(ctx, 'stopping after the current step of the current run (it saves a checkpoint; re-run to continue)', async (signal) => {
        const result = await runAblations({
          configFile: file ?? DEFAULT_CONFIG_PATH,
          overrides: opts.set,
          choice: { ...opts, noExperts: opts.singleModel },
          seeds: opts.seeds,
          outDir: opts.out,
          signal,
          events: (variant, seed) => ({ info: (m) => ctx.logger.info({ variant, seed }, `${variant} s${seed}: ${m}`), warn: (m) => ctx.logger.warn({ variant, seed }, m) }),
          onRun: (r) => ctx.logger.info({ variant: r.variant, seed: r.seed, skipped: r.skipped, accuracy: r.summary.finalEval?.accuracy }, `${r.variant} seed ${r.seed}: ${r.skipped ? 'already finished' : 'trained'}, held-out accuracy ${r.summary.finalEval ? (100 * r.summary.finalEval.accuracy).toFixed(1) : '-'}%`),
        });
        if (signal.aborted) throw new InterruptedError(`interrupted; finished runs are kept in ${result.outDir}: re-run the same command to continue`);
        if (ctx.machine) ctx.outJson(result);
        else ctx.outLine(formatAblations(result));
      });
    });
}
