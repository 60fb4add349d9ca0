// `musketeers train CONFIG` and `musketeers train --resume RUN_DIR`: a thin adapter over train() in
// src/rl/trainer.ts — config loading, progress bar and logs, SIGINT handling, and the closing summary.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

import cliProgress from 'cli-progress';
import type { Command } from 'commander';

import { plotRuns } from '../analysis/plots.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config.js';
import type { CommandContext } from '../context.js';
import { InterruptedError, UsageError } from '../errors.js';
import { ema } from '../rl/metrics.js';
import { runPaths } from '../rl/run-dir.js';
import { train, type RunSummary } from '../rl/trainer.js';
import { renderTable } from '../util/table.js';
import { withSigint } from './interrupt.js';
import { collect } from './options.js';

export interface TrainCommandOptions {
  set: string[];
  resume?: string;
  runDir?: string;
  /** commander's --no-plots */
  plots: boolean;
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(0)}%`);

/** Resolve the config (the run's own config.yaml when resuming) and train with progress and logs. */
export async function runTrain(file: string | undefined, opts: TrainCommandOptions, ctx: CommandContext, signal?: AbortSignal): Promise<RunSummary> {
  let configFile = file;
  if (opts.resume) {
    const saved = runPaths(opts.resume).config;
    if (!existsSync(saved)) throw new UsageError(`--resume ${opts.resume}: no config.yaml there, so it is not a run directory; give the directory a \`musketeers train\` run created`);
    if (opts.runDir) throw new UsageError('--resume names the run directory already; drop --run-dir');
    configFile ??= saved;
  }
  configFile ??= DEFAULT_CONFIG_PATH;
  const { config } = loadConfig(configFile, opts.set);
  const runDir = opts.resume ?? opts.runDir;
  const log = ctx.logger;
  let bar: cliProgress.SingleBar | undefined;
  let rewardEma: number | undefined;
  let accEma: number | undefined;
  let lastLogged = 0;
  try {
    const result = await train({
      config,
      runDir,
      resume: Boolean(opts.resume),
      source: configFile,
      signal,
      events: {
        info: (m) => log.info(m),
        warn: (m) => {
          bar?.stop();
          log.warn(m);
        },
        world: {
          warn: (m) => log.warn(m),
          onModelStart: (m, k, n) => log.info({ model: m.name }, `world: building ${m.name} (${k + 1}/${n}) if missing`),
          onModelDone: (card, skipped) => log.info({ model: card.name, skipped }, skipped ? `world: ${card.name} up to date` : `world: built ${card.name} in ${card.training.seconds.toFixed(0)} s`),
        },
        onReady: (info) => {
          log.info(info, `training ${config.name} (${config.method}) in ${info.runDir}: steps ${info.startStep + 1}..${info.steps}, backend ${info.backend}, ${info.trainableParameters} trainable parameters${info.experts.length ? `, experts ${info.experts.join(', ')}` : ''}`);
          if (ctx.showProgress) {
            bar = new cliProgress.SingleBar(
              { format: ' train |{bar}| step {value}/{total} | reward {reward} | acc {acc} | {sps} s/step | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, stream: process.stderr, etaBuffer: 20 },
              cliProgress.Presets.shades_classic,
            );
            bar.start(info.steps, info.startStep, { reward: '-', acc: '-', sps: '-' });
          }
        },
        onStep: (m) => {
          rewardEma = ema(rewardEma, Number(m.reward));
          accEma = ema(accEma, Number(m.accuracy));
          bar?.update(m.step, { reward: rewardEma.toFixed(3), acc: pct(accEma), sps: Number(m['time/step']).toFixed(2) });
          log.debug(m, 'step');
          if (!bar && (m.step - lastLogged >= config.train.logEvery || m.step === config.train.steps)) {
            lastLogged = m.step;
            log.info({ step: m.step, reward: m.reward, accuracy: m.accuracy, kl: m.kl, entropy: m.entropy, 'router/entropy': m['router/entropy'], 'time/step': m['time/step'] }, `step ${m.step}/${config.train.steps}: reward ${Number(m.reward).toFixed(3)} (avg ${rewardEma.toFixed(3)}), accuracy ${pct(Number(m.accuracy))}, kl ${Number(m.kl).toFixed(4)}, ${Number(m['time/step']).toFixed(2)} s/step`);
          }
        },
        onEval: (r) => {
          bar?.stop();
          log.info({ step: r.step, accuracy: r.accuracy, tasks: Object.fromEntries(Object.entries(r.tasks).map(([t, v]) => [t, v.accuracy])), seconds: r.seconds }, `eval at step ${r.step}: held-out accuracy ${pct(r.accuracy)} (${Object.entries(r.tasks).map(([t, v]) => `${t} ${pct(v.accuracy)}`).join(', ')})`);
          if (bar && r.step < config.train.steps) bar.start(config.train.steps, r.step, { reward: rewardEma?.toFixed(3) ?? '-', acc: pct(accEma), sps: '-' });
        },
        onCheckpoint: (step, dir) => log.debug({ step, dir }, 'checkpoint saved'),
      },
    });
    bar?.stop();
    if (opts.plots !== false && result.summary.completedSteps > 0) {
      try {
        const plotted = await plotRuns([result.summary.runDir], { onWarning: (m) => log.warn(m) });
        log.info({ dir: plotted.outDir, files: plotted.files.length }, `plots: ${plotted.files.length} files in ${plotted.outDir}`);
      } catch (error) {
        log.warn(`plots could not be written (${(error as Error).message}); the run itself is complete: \`musketeers plot ${result.summary.runDir}\` retries`);
      }
    }
    if (result.interrupted) {
      throw new InterruptedError(`interrupted after step ${result.summary.completedSteps}; checkpoint ${result.summary.lastCheckpoint}; continue with \`musketeers train --resume ${result.summary.runDir}\``);
    }
    return result.summary;
  } finally {
    bar?.stop();
  }
}

/** The closing summary: accuracy per task before and after training, and where the router's attention went. */
export function formatTrainSummary(s: RunSummary): string {
  const experts = s.expertMass ? Object.keys(s.expertMass) : [];
  const rows = s.tasks.map((t) => [t.task, pct(t.startAccuracy), pct(t.finalAccuracy), `${t.delta >= 0 ? '+' : ''}${(100 * t.delta).toFixed(0)}`, ...experts.map((e) => pct(t.expertMass?.[e]))]);
  rows.push(['(mean)', pct(s.startEval?.accuracy), pct(s.finalEval?.accuracy), s.startEval && s.finalEval ? `${s.finalEval.accuracy >= s.startEval.accuracy ? '+' : ''}${(100 * (s.finalEval.accuracy - s.startEval.accuracy)).toFixed(0)}` : '-', ...experts.map((e) => pct(s.expertMass?.[e]))]);
  const lines = [
    `Run ${s.name} (${s.method}, seed ${s.seed}): ${s.completedSteps}/${s.steps} steps in ${(s.seconds / 60).toFixed(1)} min on ${s.backend}; ${s.skippedSteps} skipped.`,
    `Training reward: first ${s.reward.window} steps ${s.reward.first.toFixed(3)} -> last ${s.reward.window} steps ${s.reward.last.toFixed(3)}.`,
    `Held-out accuracy (greedy) before and after training${experts.length ? ', and the attention mass per expert at the end' : ''}:`,
    renderTable(['task', 'start', 'final', 'delta (pts)', ...experts], rows),
  ];
  if (s.routerEntropy !== undefined) lines.push(`Routing entropy at the end: ${s.routerEntropy.toFixed(3)} nats (uniform over ${experts.length} experts: ${Math.log(experts.length).toFixed(3)}).`);
  lines.push(`Run directory: ${s.runDir} (metrics.jsonl, samples.jsonl, eval/, checkpoints/, summary.json).`);
  return lines.join('\n');
}

export function registerTrainCommand(program: Command, ctx: CommandContext): void {
  program
    .command('train')
    .description('Train the router (and the policy\'s LoRA adapters) with GRPO; builds the tiny world first when it is missing.')
    .argument('[config]', `YAML config (default ${join('configs', 'quickstart.yaml')}; with --resume, the run's own config.yaml)`)
    .option('--set <key.path=value>', 'override a config key, repeatable', collect, [])
    .option('--resume <run-dir>', 'continue a run from its newest valid checkpoint (killed runs repeat the same numbers)')
    .option('--run-dir <dir>', 'where the run is written (default <outputDir>/<name>)')
    .option('--no-plots', 'do not write plots/ at the end (`musketeers plot RUN_DIR` writes them later)')
    .addHelpText(
      'after',
      `
The run directory holds config.yaml (resolved), run.json, metrics.jsonl (one line per step: reward,
accuracy, kl, clip_ratio, entropy, router/entropy, router/expert_mass/<expert>, time/<phase>, ...),
samples.jsonl, eval/step_NNNNNN.json (held-out accuracy; step 0 = the starting policy),
checkpoints/step_NNNNNN/, summary.json and plots/ (PNG and SVG; see musketeers plot).

Ctrl-C saves a checkpoint after the current step and exits with code 130; resume with --resume.

Examples:
  $ musketeers train configs/quickstart.yaml
  $ musketeers train configs/smoke.yaml --set train.steps=20 --set name=smoke-long
  $ musketeers train configs/quickstart.yaml --set method=no-experts --set name=baseline
  $ musketeers train configs/quickstart.yaml --set method=text-concat --set name=text-concat
  $ musketeers train --resume runs/quickstart`,
    )
    .action(async (file: string | undefined, opts: TrainCommandOptions) => {
      const summary = await withSigint(ctx, 'stopping after the current step and saving a checkpoint', (signal) => runTrain(file, opts, ctx, signal));
      if (ctx.machine) ctx.outJson(summary);
      else ctx.outLine(formatTrainSummary(summary));
    });
}
