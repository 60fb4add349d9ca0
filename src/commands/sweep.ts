// `musketeers sweep SWEEP.yaml [--shard i/n] [--parallel k]`: a thin adapter over planSweep/runSweep
// (src/analysis/sweep.ts) — logs per run, the closing table or JSON, exit 1 when any run failed.

import type { Command } from 'commander';

import { parseShard, planSweep, runSweep, type SweepRunResult } from '../analysis/sweep.js';
import type { CommandContext } from '../context.js';
import { InterruptedError, MusketeersError } from '../errors.js';
import { renderTable } from '../util/table.js';
import { withSigint } from './interrupt.js';
import { positiveInt } from './options.js';

/** Some runs of a sweep failed (exit 1); the others finished and are kept. */
export class SweepFailedError extends MusketeersError {}

export function registerSweepCommand(program: Command, ctx: CommandContext): void {
  program
    .command('sweep')
    .description('Run a grid of config overrides x seeds, one run directory each; resumable, parallel, shardable.')
    .argument('<sweep>', 'sweep YAML: config, grid {key: [values]}, seeds, set, parallel, name, outputDir')
    .option('--shard <i/n>', 'run only grid points i, i+n, i+2n, ... (0-based), e.g. one job of a CI matrix or Slurm array')
    .option('--parallel <k>', 'runs at the same time (default: the file\'s parallel, else 1)', positiveInt)
    .option('--dry-run', 'validate every point and list the runs without training')
    .addHelpText(
      'after',
      `
Sweep file:
  config: ../configs/quickstart.yaml     # relative to this file
  seeds: [1, 2, 3]                       # train.seed values
  grid:
    grpo.learningRate: [0.001, 0.003]
    method: [musketeers, no-experts]
  set: ["train.steps=100"]               # for every run
  parallel: 2

Runs go to <outputDir>/<name>/<name>-<key>_<value>-...-s<seed>/. Finished runs are skipped and
interrupted ones resumed, so re-running the command continues the sweep. The exit code is 1 if any
run failed. sweep.json (sweep-shard-i-of-n.json with --shard) lists every run with its status.
Gather the results with: musketeers report <outputDir>/<name>

Examples:
  $ musketeers sweep sweeps/lr.yaml --parallel 2
  $ musketeers sweep sweeps/lr.yaml --shard 3/8`,
    )
    .action(async (file: string, opts: { shard?: string; parallel?: number; dryRun?: boolean }) => {
      const plan = planSweep(file, opts.shard ? parseShard(opts.shard) : undefined);
      ctx.logger.info({ sweep: plan.name, runs: plan.points.length, total: plan.total, outDir: plan.outDir }, `sweep ${plan.name}: ${plan.points.length} of ${plan.total} runs in ${plan.outDir}`);
      if (opts.dryRun) {
        if (ctx.machine) ctx.outJson(plan);
        else ctx.outLine(renderTable(['run', 'seed', 'overrides'], plan.points.map((p) => [p.name, p.seed, p.overrides.join(' ')])));
        return;
      }
      const results = await withSigint(ctx, 'stopping the running trainings after their current step (re-run to continue)', (signal) =>
        runSweep(plan, {
          parallel: opts.parallel,
          signal,
          onResult: (r: SweepRunResult) =>
            (r.status === 'failed' ? ctx.logger.error.bind(ctx.logger) : ctx.logger.info.bind(ctx.logger))({ run: r.name, status: r.status, exitCode: r.exitCode }, `${r.name}: ${r.status}${r.error ? ` (${r.error})` : ''}`),
        }).then((res) => {
          if (signal.aborted) throw new InterruptedError(`sweep interrupted; ${res.filter((r) => r.status !== 'failed').length} runs finished; re-run the same command to continue`);
          return res;
        }),
      );
      if (ctx.machine) ctx.outJson({ sweep: plan.name, outDir: plan.outDir, shard: plan.shard, total: plan.total, runs: results });
      else ctx.outLine(renderTable(['run', 'status', 'held-out accuracy', 'seconds'], results.map((r) => [r.name, r.status, r.finalAccuracy === undefined ? '-' : `${(100 * r.finalAccuracy).toFixed(1)}%`, r.seconds.toFixed(0)])));
      const failed = results.filter((r) => r.status === 'failed');
      if (failed.length > 0) throw new SweepFailedError(`${failed.length} of ${results.length} runs failed: ${failed.map((r) => `${r.name} (exit ${r.exitCode}${r.error ? `: ${r.error}` : ''})`).join('; ')}`);
    });
}
