// Ablations as config variants of one experiment: each is a set of `--set` overrides on the base config
// (router frozen, uniform or top-1 attention, shuffled or zeroed expert states, an expert dropped or
// alone, another pooling or layer, no experts at all, the experts' texts instead of their states), run
// through the same trainer for each seed. All
// variants are validated before anything trains; finished runs are skipped, interrupted ones resumed.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { loadConfig, selectedExpertNames, type MusketeersConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { runPaths } from '../rl/run-dir.js';
import { finishedRun, train, type RunSummary, type TrainEvents } from '../rl/trainer.js';
import { writeFileAtomic } from '../util/fs.js';
import { mean, sampleStd } from './stats.js';

export interface Variant {
  /** Short label, used in run names: `musketeers`, `no-experts`, `freeze-router`, `drop-expert-NAME`, ... */
  label: string;
  overrides: string[];
}

export interface AblationChoice {
  freezeRouter?: boolean;
  uniformRouter?: boolean;
  hardRoute?: boolean;
  shuffleExperts?: boolean;
  zeroExperts?: boolean;
  dropExpert?: string[];
  onlyExpert?: string[];
  pool?: string;
  layer?: number;
  noExperts?: boolean;
  /** The text-concatenation baseline (method text-concat). */
  textConcat?: boolean;
  /** Every ablation that applies to the config (the paper's table). */
  all?: boolean;
}

function expertNames(config: MusketeersConfig): string[] {
  return selectedExpertNames(config);
}

/** The variants to run: the method itself first, then each chosen ablation. Throws UsageError for ones that do not apply. */
export function ablationVariants(config: MusketeersConfig, choice: AblationChoice): Variant[] {
  if (config.method !== 'musketeers') throw new UsageError(`ablations change how the policy reads the experts; the config's method is ${config.method}: use a config with method musketeers`);
  const experts = expertNames(config);
  for (const name of [...(choice.dropExpert ?? []), ...(choice.onlyExpert ?? [])]) {
    if (!experts.includes(name)) throw new UsageError(`no expert named '${name}'; the config's experts are ${experts.join(', ')}`);
  }
  const variants: Variant[] = [{ label: 'musketeers', overrides: [] }];
  const add = (on: boolean | undefined, label: string, overrides: string[]) => on && variants.push({ label, overrides });
  const all = choice.all ?? false;
  add(all || choice.noExperts, 'no-experts', ['method=no-experts']);
  if ((all || choice.textConcat) && config.policy.mode === 'frozen') {
    if (choice.textConcat) throw new UsageError('--text-concat trains the policy on the experts\' texts (it has no router), but policy.mode is frozen: nothing would train; use --set policy.mode=lora');
  } else add(all || choice.textConcat, 'text-concat', ['method=text-concat']);
  if ((all || choice.freezeRouter) && config.policy.mode === 'frozen') {
    if (choice.freezeRouter) throw new UsageError('--freeze-router keeps the router at initialisation while the policy trains, but policy.mode is frozen: nothing would train; use --set policy.mode=lora');
  } else add(all || choice.freezeRouter, 'freeze-router', ['router.trainable=false']);
  add(all || choice.uniformRouter, 'uniform-router', ['router.attention=uniform']);
  add(all || choice.hardRoute, 'hard-route', ['router.attention=top1']);
  if ((all || choice.shuffleExperts) && config.train.promptsPerStep < 2) {
    if (choice.shuffleExperts) throw new UsageError('--shuffle-experts swaps states between the prompts of a step; it needs train.promptsPerStep >= 2');
  } else add(all || choice.shuffleExperts, 'shuffle-experts', ['experts.perturb=shuffle']);
  add(all || choice.zeroExperts, 'zero-experts', ['experts.perturb=zero']);
  const drops = all ? (experts.length > 1 ? experts : []) : (choice.dropExpert ?? []);
  if (!all && drops.length > 0 && experts.length < 2) throw new UsageError('--drop-expert would leave no expert; the config has only one');
  for (const name of drops) variants.push({ label: `drop-expert-${name}`, overrides: [`experts.models=${JSON.stringify(experts.filter((e) => e !== name))}`] });
  for (const name of all ? (experts.length > 1 ? experts : []) : (choice.onlyExpert ?? [])) variants.push({ label: `only-expert-${name}`, overrides: [`experts.models=${JSON.stringify([name])}`] });
  const pools = all ? ['first', 'mean'].filter((p) => p !== config.experts.pooling) : choice.pool ? [choice.pool] : [];
  for (const p of pools) variants.push({ label: `pool-${p}`, overrides: [`experts.pooling=${p}`] });
  const layers = all ? [1] : choice.layer !== undefined ? [choice.layer] : [];
  for (const k of layers) variants.push({ label: `layer-${k}`, overrides: [`experts.layer=${k}`] });
  return variants;
}

export interface AblationRun {
  variant: string;
  seed: number;
  runDir: string;
  skipped: boolean;
  summary: RunSummary;
}

export interface AblationRow {
  variant: string;
  seeds: number;
  /** Held-out accuracy (mean over tasks) at the end: mean and std over seeds. */
  accuracy: { mean: number; std: number };
  /** Mean training reward over the last 10% of steps: mean and std over seeds. */
  reward: { mean: number; std: number };
  tasks: Record<string, { mean: number; std: number }>;
}

export interface AblationResult {
  outDir: string;
  runs: AblationRun[];
  table: AblationRow[];
}

export interface AblateOptions {
  configFile: string;
  overrides: string[];
  choice: AblationChoice;
  seeds: number;
  outDir?: string;
  events?: (variant: string, seed: number) => TrainEvents;
  onRun?: (run: AblationRun) => void;
  signal?: AbortSignal;
}

const stat = (xs: number[]) => ({ mean: mean(xs), std: xs.length > 1 ? sampleStd(xs) : 0 });

/** Run every (variant, seed), validating all configs first. */
export async function runAblations(options: AblateOptions): Promise<AblationResult> {
  const base = loadConfig(options.configFile, options.overrides).config;
  const variants = ablationVariants(base, options.choice);
  const baseSeed = base.train.seed ?? base.seed;
  const outDir = resolve(options.outDir ?? join(base.outputDir, `${base.name}-ablate`));
  const plan = variants.flatMap((v) =>
    Array.from({ length: options.seeds }, (_, k) => {
      const seed = baseSeed + k;
      const name = `${base.name}-${v.label}-s${seed}`;
      // Validate now: a bad variant stops the whole table before anything trains.
      const config = loadConfig(options.configFile, [...options.overrides, ...v.overrides, `train.seed=${seed}`, `name=${name}`, `outputDir=${outDir}`]).config;
      return { variant: v.label, seed, config, runDir: join(outDir, name) };
    }),
  );
  const runs: AblationRun[] = [];
  for (const p of plan) {
    if (options.signal?.aborted) break;
    const done = finishedRun(p.runDir);
    let run: AblationRun;
    if (done) run = { variant: p.variant, seed: p.seed, runDir: p.runDir, skipped: true, summary: done };
    else {
      const resume = existsSync(runPaths(p.runDir).config);
      const result = await train({ config: p.config, runDir: p.runDir, resume, events: options.events?.(p.variant, p.seed), signal: options.signal });
      run = { variant: p.variant, seed: p.seed, runDir: p.runDir, skipped: false, summary: result.summary };
      if (result.interrupted) {
        runs.push(run);
        options.onRun?.(run);
        break;
      }
    }
    runs.push(run);
    options.onRun?.(run);
  }
  const table: AblationRow[] = variants.map((v) => {
    const mine = runs.filter((r) => r.variant === v.label && r.summary.finalEval);
    const tasks: Record<string, { mean: number; std: number }> = {};
    for (const t of base.data.tasks.map((x) => x.name)) tasks[t] = stat(mine.map((r) => r.summary.finalEval!.tasks[t]?.accuracy ?? NaN));
    return { variant: v.label, seeds: mine.length, accuracy: stat(mine.map((r) => r.summary.finalEval!.accuracy)), reward: stat(mine.map((r) => r.summary.reward.last)), tasks };
  });
  const result = { outDir, runs, table };
  writeFileAtomic(join(outDir, 'ablate.json'), `${JSON.stringify({ ...result, runs: runs.map((r) => ({ variant: r.variant, seed: r.seed, runDir: r.runDir, skipped: r.skipped })) }, null, 2)}\n`);
  return result;
}
