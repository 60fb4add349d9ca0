// `musketeers experts inspect MODEL.onnx`: what an expert model offers the router.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';

import type { Command } from 'commander';

import cliProgress from 'cli-progress';

import { loadConfig } from '../config.js';
import type { CommandContext } from '../context.js';
import { ConfigError, UsageError } from '../errors.js';
import { formatInspection, inspectModel } from '../experts/inspect.js';
import { resolveModelFile } from '../experts/model-files.js';
import { renderTable } from '../util/table.js';
import { buildWorld, type BuildSummary } from '../world/build.js';
import { collect } from './options.js';

export interface BuildCommandOptions {
  set: string[];
  only: string[];
  force?: boolean;
  /** Models built at once (child processes); default: the number of CPU cores. */
  jobs?: number;
}

/** `experts build`: validate, build with progress, return the summary (printing is the caller's). */
export async function runExpertsBuild(file: string, opts: BuildCommandOptions, ctx: CommandContext): Promise<BuildSummary> {
  const { config } = loadConfig(file, opts.set);
  if (!config.world) {
    throw new ConfigError(file, [{ path: 'world', message: 'the config has no `world` section; add one (see configs/quickstart.yaml) to build tiny models' }]);
  }
  const names = config.world.models.map((m) => m.name);
  for (const n of opts.only) if (!names.includes(n)) throw new UsageError(`--only ${n}: no such world model; the config defines ${names.join(', ')}`);
  const multibar = ctx.showProgress
    ? new cliProgress.MultiBar({ format: ' {model} |{bar}| {value}/{total} steps | loss {loss} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  const lastLogged = new Map<string, number>();
  try {
    return await buildWorld(config, {
      only: opts.only,
      force: opts.force,
      jobs: opts.jobs ?? availableParallelism(),
      events: {
        warn: (m) => ctx.logger.warn(m),
        onModelStart: (m, k, n) => {
          lastLogged.set(m.name, 0);
          ctx.logger.info({ model: m.name, role: m.role, index: k + 1, of: n }, `building ${m.name} (${k + 1}/${n})`);
        },
        onResume: (m, step) => ctx.logger.info({ model: m.name, step }, `${m.name}: resuming from checkpoint at step ${step}`),
        onStep: (m, step, steps, loss) => {
          if (multibar) {
            let bar = bars.get(m.name);
            if (!bar) {
              bar = multibar.create(steps, 0, { model: m.name.padEnd(18), loss: '-' });
              bars.set(m.name, bar);
            }
            bar.update(step, { loss: loss.toFixed(3) });
          }
          ctx.logger.debug({ model: m.name, step, steps, loss }, 'sft step');
          if (!multibar && (step - (lastLogged.get(m.name) ?? 0) >= Math.ceil(steps / 5) || step === steps)) {
            lastLogged.set(m.name, step);
            ctx.logger.info({ model: m.name, step, steps, loss }, `${m.name}: step ${step}/${steps} loss ${loss.toFixed(3)}`);
          }
        },
        onModelDone: (card, skipped) => {
          const bar = bars.get(card.name);
          if (bar) {
            multibar?.remove(bar);
            bars.delete(card.name);
          }
          ctx.logger.info({ model: card.name, skipped, seconds: card.training.seconds }, skipped ? `${card.name}: up to date, skipped` : `${card.name}: built in ${card.training.seconds.toFixed(1)} s`);
        },
      },
    });
  } finally {
    multibar?.stop();
  }
}

/** The specialisation matrix: held-out accuracy (and answer NLL) of every model on every task, under the constant-answer baseline. */
export function formatBuildSummary(summary: BuildSummary): string {
  const tasks = [...new Set(summary.models.flatMap((m) => m.card.heldOut.map((e) => e.task)))];
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const cell = (m: BuildSummary['models'][number], t: string) => {
    const e = m.card.heldOut.find((x) => x.task === t);
    return e ? `${pct(e.accuracy)} ${e.answerNll.toFixed(2)}` : '-';
  };
  const rows = summary.models.map((m) => [m.card.name, m.card.role, ...tasks.map((t) => cell(m, t)), m.skipped ? 'cached' : `${m.card.training.seconds.toFixed(0)} s (cpu ${(m.card.training.cpuSeconds ?? 0).toFixed(0)} s)`]);
  const baseline = (t: string) => summary.baselines.find((b) => b.task === t);
  rows.push(['constant answer', 'base', ...tasks.map((t) => {
    const b = baseline(t);
    return b ? pct(b.accuracy) : '-';
  }), '']);
  const items = tasks.map((t) => `${t} ${summary.models[0]?.card.heldOut.find((e) => e.task === t)?.items ?? 0}`).join(', ');
  const shorten = (a: string) => (a.length > 24 ? `${a.slice(0, 21)}...` : a);
  const constants = summary.baselines.map((b) => `${b.task} ${JSON.stringify(shorten(b.answer))}`).join(', ');
  return [
    `Held-out accuracy and answer NLL (nats/token) per task; models in ${summary.dir} (backend ${summary.backend}, ${summary.jobs} job${summary.jobs === 1 ? '' : 's'}, ${summary.seconds.toFixed(0)} s):`,
    renderTable(['model', 'role', ...tasks, 'time'], rows),
    `Held-out items per task: ${items}.`,
    `"constant answer": accuracy of always giving the best fixed answer (chosen on the RL training items): ${constants}.`,
  ].join('\n');
}

export function registerExpertsCommands(program: Command, ctx: CommandContext): void {
  const experts = program.command('experts').description('The tiny world (build experts and a policy base) and expert ONNX graphs (inspect).');
  experts
    .command('build')
    .description('Train the world models of a config (tokenizer, supervised training, held-out eval, ONNX export, model card).')
    .argument('<config>', 'YAML config with a `world` section')
    .option('--set <key.path=value>', 'override a config key, repeatable', collect, [])
    .option('--only <name>', 'build only this model, repeatable', collect, [])
    .option('--force', 'rebuild models that are already built')
    .option('--jobs <n>', 'models trained at once, one child process each (default: CPU cores)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs ${v}: give a whole number of at least 1`);
      return n;
    })
    .addHelpText(
      'after',
      `
Each model is written to <world.dir>/<name>/: model.onnx, tokenizer.json, weights.safetensors, model.json.
A finished model whose config is unchanged is skipped; a killed build resumes from <name>/.partial/.
Models are trained in parallel child processes (--jobs, default: CPU cores); results do not depend on it.
The closing table is the specialisation matrix: held-out accuracy and answer NLL per task, and the
accuracy of the best constant answer per task (a model's accuracy means something only above it).

Examples:
  $ musketeers experts build configs/quickstart.yaml
  $ musketeers experts build configs/smoke.yaml --set world.dir=/tmp/world --only expert-a --force`,
    )
    .action(async (file: string, opts: BuildCommandOptions) => {
      const summary = await runExpertsBuild(file, opts, ctx);
      if (ctx.machine) ctx.outJson(summary);
      else ctx.outLine(formatBuildSummary(summary));
    });
  experts
    .command('inspect')
    .description('Print inputs, outputs, metadata and the hidden-state tensors per layer (with widths) of an ONNX decoder.')
    .argument('<model>', 'path of a model.onnx, or a directory holding one (e.g. an optimum-cli output directory)')
    .addHelpText(
      'after',
      `
Layer indices count from 0 (embeddings) to L (last decoder layer); negative indices count from the end
(-1 = last layer). "internal" layers are not graph outputs but the expert runner exposes them on demand.
Layers are located by musketeers' tensor names (hidden_states.{i}) or, in torch.onnx / optimum exports,
by the module scopes of the node names (/model/layers.{i}/...): the tensor each block passes on.

Examples:
  $ musketeers experts inspect models/expert-sums/model.onnx --json
  $ musketeers experts inspect ~/onnx/qwen2.5-0.5b-instruct`,
    )
    .action((model: string) => {
      if (!existsSync(model)) throw new UsageError(`model file not found: ${model}`);
      let file: string;
      try {
        file = resolveModelFile(model, basename(model));
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const r = inspectModel(file);
      if (ctx.machine) ctx.outJson(r);
      else ctx.outLine(formatInspection(r));
    });
}
