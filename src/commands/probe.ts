// `musketeers probe CONFIG|RUN_DIR`: a thin adapter over runProbes (src/analysis/probe/probe.ts) —
// which config and checkpoint, which tasks, layers and poolings (each checked, naming the flag), the
// world build when models are missing, progress bars, the report file and the human table.

import { availableParallelism } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';

import { taskRegistry } from '../../tasks/index.js';
import { resolveCheckpoint } from '../analysis/evaluate.js';
import { PROBE_TARGETS, type ProbeTarget } from '../analysis/probe/classes.js';
import { PROBE_REPORT_FILE, PROBES_DEFINITION, type RunProbe } from '../analysis/probe/figure.js';
import { runProbes, type ProbeReport } from '../analysis/probe/probe.js';
import { DEFAULT_CONFIG_PATH, loadConfig, type MusketeersConfig } from '../config.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { POOLINGS, type Pooling } from '../experts/pooling.js';
import { runPaths } from '../rl/run-dir.js';
import { writeFileAtomic } from '../util/fs.js';
import { renderTable } from '../util/table.js';
import { buildWorld } from '../world/build.js';
import { collect, positiveInt } from './options.js';

export interface ProbeCommandOptions {
  task: string[];
  layer: number[];
  pool: string[];
  target: string;
  classes: number;
  trainItems: number;
  items: number;
  folds: number;
  set: string[];
  out?: string;
}

function integer(value: string, previous: number[] = []): number[] {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`--layer takes an integer (negative counts from the end), got '${value}'`);
  return [...previous, n];
}

/** --task, --pool and --target checked against the config before any model is opened. */
function checkSelections(config: MusketeersConfig, opts: ProbeCommandOptions): { poolings: Pooling[]; target: ProbeTarget } {
  const known = config.data.tasks.map((t) => t.name);
  for (const t of opts.task) {
    if (!known.includes(t)) throw new UsageError(`--task ${t}: not in the config's data.tasks (${known.join(', ')}); pick one of those or another config`);
  }
  const vectorPoolings = POOLINGS.filter((p) => p !== 'tokens');
  for (const p of opts.pool) {
    if (p === 'tokens') throw new UsageError(`--pool tokens: a linear probe reads one vector per prompt; use ${vectorPoolings.join(', ')}`);
    if (!(POOLINGS as readonly string[]).includes(p)) throw new UsageError(`--pool ${p}: use one of ${vectorPoolings.join(', ')}`);
  }
  if (!(PROBE_TARGETS as readonly string[]).includes(opts.target)) throw new UsageError(`--target ${opts.target}: use one of ${PROBE_TARGETS.join(', ')}`);
  if (opts.classes < 2) throw new UsageError(`--classes ${opts.classes}: a probe needs at least 2 classes`);
  if (opts.folds < 2) throw new UsageError(`--folds ${opts.folds}: cross-validation needs at least 2 folds`);
  const configured = config.experts.pooling === 'tokens' ? 'mean' : config.experts.pooling;
  return { poolings: opts.pool.length > 0 ? [...new Set(opts.pool as Pooling[])] : [configured], target: opts.target as ProbeTarget };
}

/** A config file, or a run directory / checkpoint directory (the run's own config and its newest valid checkpoint). */
function resolveInput(path: string | undefined, overrides: string[], warn: (m: string) => void) {
  const given = path ?? DEFAULT_CONFIG_PATH;
  if (existsSync(given) && statSync(given).isDirectory()) {
    const checkpoint = resolveCheckpoint(given, warn);
    return { checkpoint, config: loadConfig(runPaths(checkpoint.runDir).config, overrides).config };
  }
  return { checkpoint: undefined, config: loadConfig(given, overrides).config };
}

/** Where the report goes: --out, RUN_DIR/probe.json, or <outputDir>/probe/<name>-<method>-start.json. */
function reportFile(opts: ProbeCommandOptions, config: MusketeersConfig, runDir: string | undefined): string {
  if (opts.out) return resolve(opts.out);
  if (runDir) return join(runDir, PROBE_REPORT_FILE);
  return resolve(config.outputDir, 'probe', `${config.name}-${config.method}-start.json`.replace(/[^A-Za-z0-9._-]+/g, '_'));
}

/** Keep an existing RUN_DIR/plots/analysis.json current: its `probes` entry for this run is replaced. */
function updateAnalysisFile(runDir: string, report: ProbeReport, file: string): string | undefined {
  const analysisFile = join(runPaths(runDir).plots, 'analysis.json');
  if (!existsSync(analysisFile)) return undefined;
  const analysis = JSON.parse(readFileSync(analysisFile, 'utf8')) as { probes?: RunProbe[]; definitions?: Record<string, string> };
  const others = (analysis.probes ?? []).filter((p) => p.dir !== runDir);
  analysis.probes = [...others, { dir: runDir, file, report }];
  analysis.definitions = { ...analysis.definitions, probes: PROBES_DEFINITION };
  writeFileAtomic(analysisFile, `${JSON.stringify(analysis, null, 2)}\n`);
  return analysisFile;
}

/** A progress bar per stage on an interactive terminal; debug logs otherwise. */
function progressReporter(ctx: CommandContext): { progress: (stage: string, done: number, total: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const progress = (stage: string, done: number, total: number) => {
    if (!ctx.showProgress) {
      if (done === total) ctx.logger.debug({ stage, items: total }, `probe features: ${stage} done`);
      return;
    }
    if (stage !== current) {
      stop();
      current = stage;
      bar = new cliProgress.SingleBar({ format: ` ${stage} |{bar}| {value}/{total} items`, hideCursor: true, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
      bar.start(total, 0);
    }
    bar?.update(done);
  };
  return { progress, stop };
}

export async function runProbe(path: string | undefined, opts: ProbeCommandOptions, ctx: CommandContext): Promise<{ report: ProbeReport; file: string; analysisFile?: string }> {
  const warn = (m: string) => ctx.logger.warn(m);
  const { checkpoint, config } = resolveInput(path, opts.set, warn);
  const { poolings, target } = checkSelections(config, opts);
  if (config.world) await buildWorld(config, { registry: taskRegistry, jobs: availableParallelism(), events: { onModelDone: (card, skipped) => !skipped && ctx.logger.info(`world: built ${card.name}`) } });
  const reporter = progressReporter(ctx);
  ctx.logger.info(`probing ${checkpoint ? `${checkpoint.dir} (step ${checkpoint.step})` : `the starting policy of ${path ?? DEFAULT_CONFIG_PATH}`}`);
  let report: ProbeReport;
  try {
    report = await runProbes({
      config,
      source: resolve(path ?? DEFAULT_CONFIG_PATH),
      checkpoint,
      tasks: [...new Set(opts.task)],
      layers: opts.layer.length > 0 ? [...new Set(opts.layer)] : [config.experts.layer],
      poolings,
      fromFlags: opts.layer.length > 0,
      target,
      classes: opts.classes,
      trainItems: opts.trainItems,
      heldOutItems: opts.items,
      folds: opts.folds,
      registry: taskRegistry,
      progress: reporter.progress,
      warn,
      info: (m) => ctx.logger.info(m),
    });
  } finally {
    reporter.stop();
  }
  const file = reportFile(opts, config, checkpoint?.runDir);
  writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
  const analysisFile = checkpoint && !opts.out ? updateAnalysisFile(checkpoint.runDir, report, file) : undefined;
  return { report, file, analysisFile };
}

const pct = (x: number | undefined | null) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(0)}%`);

const KIND_NAMES = { expert: 'available', router: 'carried', policy: 'used' } as const;

/** The human table: rows = probes grouped as available / carried / used, then the base rates; columns = tasks. */
export function formatProbe(report: ProbeReport, file: string): string {
  const tasks = report.tasks;
  const labels = [...new Map(tasks.flatMap((t) => t.probes).map((p) => [p.label, p.kind])).entries()];
  const cell = (t: ProbeReport['tasks'][number], label: string) => (t.skipped ? 'skip' : pct(t.probes.find((p) => p.label === label)?.accuracy));
  const rows: string[][] = labels.map(([label, kind]) => [KIND_NAMES[kind], label, ...tasks.map((t) => cell(t, label))]);
  rows.push(['base', 'majority class', ...tasks.map((t) => pct(t.majorityRate))]);
  const actual = (task: string) => report.policyAccuracy.tasks[task];
  rows.push(['actual', 'policy accuracy (items)', ...tasks.map((t) => (actual(t.task) ? `${pct(actual(t.task)?.accuracy)} (${actual(t.task)?.items})` : '-'))]);
  rows.push(['', 'classes / kept train / kept held-out', ...tasks.map((t) => `${t.classes.length}/${t.keptTrain}/${t.keptHeldOut}`)]);
  const what = report.checkpoint ? `checkpoint ${report.checkpoint.dir} (step ${report.checkpoint.step})` : `the starting policy of ${report.source}`;
  const skipped = tasks.filter((t) => t.skipped).map((t) => `${t.task}: ${t.skipped}`);
  return [
    `Linear probes (ridge, penalty by ${report.folds}-fold CV on training items) of ${what}, method ${report.method}; held-out probe accuracy per task.`,
    `Target: the ${report.target === 'answer' ? 'answer' : "answer's first policy token"}, the ${report.topClasses} most frequent training labels per task (items with other labels dropped).`,
    renderTable(['', 'probe', ...tasks.map((t) => t.task)], rows),
    `available = expert states (what the router could read); carried = the router's context tokens; used = the policy's last prompt-position state.`,
    `policy accuracy: ${report.policyAccuracy.source}.`,
    ...(skipped.length ? [`skipped: ${skipped.join('; ')}`] : []),
    `${report.seconds.toFixed(1)} s; report: ${file}`,
  ].join('\n');
}

export function registerProbeCommand(program: Command, ctx: CommandContext): void {
  program
    .command('probe')
    .description('Linear probes: is the answer linearly readable from the experts\' states (available), the router\'s context tokens (carried), the policy\'s state (used)?')
    .argument('[config-or-run-dir]', `a config (the starting policy; default ${join('configs', 'quickstart.yaml')}) or a run directory (its newest valid checkpoint)`)
    .option('--task <name>', "a task of the config's data.tasks (repeatable; default every task)", collect, [])
    .option('--layer <k>', 'expert layer to probe, negative counts from the end (repeatable; default experts.layer)', integer, [])
    .option('--pool <pooling>', 'expert pooling to probe: last, first or mean (repeatable; default experts.pooling)', collect, [])
    .option('--target <what>', `what the probe predicts: ${PROBE_TARGETS.join(' | ')}`, 'answer')
    .option('--classes <n>', 'the n most frequent training labels per task are the classes; other items are dropped', positiveInt, 10)
    .option('--train-items <n>', 'training-split items per task the probes are fitted on', positiveInt, 300)
    .option('--items <n>', 'held-out items per task the probes are scored on', positiveInt, 200)
    .option('--folds <k>', 'cross-validation folds (on training items) for the ridge penalty', positiveInt, 5)
    .option('--set <key.path=value>', 'override a config key, repeatable', collect, [])
    .option('--out <file>', 'where the JSON report goes (default RUN_DIR/probe.json, else <outputDir>/probe/<name>-<method>-start.json)')
    .addHelpText(
      'after',
      `
Rows of the table: "available" = a probe on an expert's pooled state (per layer and pooling);
"carried" = on the router's context tokens; "used" = on the policy's last prompt-position state,
with and without the context tokens. Compare each with the majority-class rate and the policy's
actual accuracy (the run's eval files, else a greedy evaluation on the same held-out items).
\`musketeers plot RUN_DIR\` adds the probe figure and the report to plots/analysis.json.

Examples:
  $ musketeers probe runs/quickstart
  $ musketeers probe configs/quickstart.yaml --task chain_sum --layer 1 --layer -1 --pool last --pool mean
  $ musketeers probe runs/quickstart --target first-token --json`,
    )
    .action(async (path: string | undefined, opts: ProbeCommandOptions) => {
      const { report, file, analysisFile } = await runProbe(path, opts, ctx);
      if (ctx.machine) ctx.outJson({ ...report, file, analysisFile });
      else ctx.outLine(formatProbe(report, file));
    });
}
