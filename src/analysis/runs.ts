// Reading run directories (the contract in DESIGN.md): config.yaml (only `name`, `seed`, `method` are relied
// on), metrics.jsonl (one flat JSON object per training step), eval/step_NNNNNN.json and summary.json;
// plus helpers to pull series out of the metrics and to group runs that differ only by seed.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { DataError } from '../errors.js';
import { mean, sampleStd } from './stats.js';
import type { EvalReport as TrainerEvalReport, TaskEvalReport } from '../rl/evaluate.js';

/** One line of metrics.jsonl: `step` plus flat metric keys (numbers; `skipped` is a boolean). */
export interface MetricRow {
  step: number;
  [key: string]: number | boolean | string | null | undefined;
}

/** What the analysis reads of a task's entry in an eval report (written by src/rl/evaluate.ts). */
export type EvalTaskReport = Pick<TaskEvalReport, 'items' | 'accuracy' | 'meanScore' | 'expertMass' | 'promptMass' | 'itemScores' | 'itemsHash'>;

/** What the analysis reads of an eval report, and the file it was read from. */
export type EvalReport = Pick<TrainerEvalReport, 'step' | 'accuracy' | 'meanScore' | 'expertMass' | 'routerEntropy'> & {
  tasks: Record<string, EvalTaskReport>;
  file: string;
};

export interface RunData {
  /** Absolute path of the run directory. */
  dir: string;
  name: string;
  /** Oracle experts the run read (run.json `oracleExperts`): a diagnostic that sees answers. Absent for ordinary runs. */
  oracleExperts?: string[];
  /** null when config.yaml has no integer seed. */
  seed: number | null;
  /** `method` from config.yaml; 'musketeers' when absent. */
  method: string;
  /** Sorted by step; a step logged twice (e.g. after a resume) keeps its last line. */
  metrics: MetricRow[];
  /** Sorted by step. */
  evals: EvalReport[];
  summary?: unknown;
  /** Problems that did not stop loading (missing config, a truncated last metrics line). */
  warnings: string[];
}

export const DEFAULT_METHOD = 'musketeers';
const EVAL_FILE = /^step_(\d{6})\.json$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parse metrics.jsonl text; `file` is only used in messages. */
export function parseMetrics(textContent: string, file: string, warnings: string[] = []): MetricRow[] {
  const lines = textContent.split('\n');
  const byStep = new Map<number, MetricRow>();
  const endsWithNewline = textContent.endsWith('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      // A run being written may end in a partial line: tolerate that one, and only that one.
      if (i === lines.length - 1 && !endsWithNewline) {
        warnings.push(`${file}:${i + 1}: ignoring an incomplete last line (the run may still be writing)`);
        continue;
      }
      throw new DataError(`${file}:${i + 1}: not valid JSON (${(error as Error).message}); each line of metrics.jsonl must be one JSON object`);
    }
    if (!isObject(value)) throw new DataError(`${file}:${i + 1}: expected a JSON object with "step" and metric keys, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    const step = value.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw new DataError(`${file}:${i + 1}: "step" must be a non-negative integer, got ${JSON.stringify(step)}`);
    }
    byStep.set(step, value as MetricRow);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function readEval(file: string): EvalReport {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DataError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(value) || typeof value.step !== 'number' || !isObject(value.tasks)) {
    throw new DataError(`${file}: expected an eval report {"step", "accuracy", "meanScore", "tasks": {...}}`);
  }
  return { ...(value as unknown as Omit<EvalReport, 'file'>), file };
}

/** Load one run directory. Throws DataError when it is not a run directory or its data are malformed. */
export function loadRun(dirArg: string): RunData {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new DataError(`run directory ${dirArg} does not exist`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${dirArg} is not a directory; expected a run directory containing metrics.jsonl (and config.yaml, eval/)`);
  const metricsFile = join(dir, 'metrics.jsonl');
  if (!existsSync(metricsFile)) {
    throw new DataError(`${dirArg} has no metrics.jsonl; expected a run directory written by \`musketeers train\` (config.yaml, metrics.jsonl with one JSON line per step, eval/step_NNNNNN.json)`);
  }
  const warnings: string[] = [];
  const metrics = parseMetrics(readFileSync(metricsFile, 'utf8'), metricsFile, warnings);
  if (metrics.length === 0) throw new DataError(`${metricsFile} has no metrics lines; the run has not logged a training step yet`);

  let name = basename(dir);
  let seed: number | null = null;
  let method = DEFAULT_METHOD;
  const configFile = join(dir, 'config.yaml');
  if (existsSync(configFile)) {
    let config: unknown;
    try {
      config = parseYaml(readFileSync(configFile, 'utf8'));
    } catch (error) {
      throw new DataError(`${configFile}: not valid YAML (${(error as Error).message})`);
    }
    if (isObject(config)) {
      if (typeof config.name === 'string') name = config.name;
      if (typeof config.seed === 'number' && Number.isInteger(config.seed)) seed = config.seed;
      // The training seed (train.seed) overrides the world's seed for what varies between repeated runs.
      const trainSeed = isObject(config.train) ? config.train.seed : undefined;
      if (typeof trainSeed === 'number' && Number.isInteger(trainSeed)) seed = trainSeed;
      if (typeof config.method === 'string') method = config.method;
    }
  } else {
    warnings.push(`${dirArg}: no config.yaml; using the directory name '${name}' as the run name and no seed`);
  }

  const evals: EvalReport[] = [];
  const evalDir = join(dir, 'eval');
  if (existsSync(evalDir)) {
    for (const f of readdirSync(evalDir).sort()) if (EVAL_FILE.test(f)) evals.push(readEval(join(evalDir, f)));
    evals.sort((a, b) => a.step - b.step);
  }
  let summary: unknown;
  const summaryFile = join(dir, 'summary.json');
  if (existsSync(summaryFile)) {
    try {
      summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    } catch {
      warnings.push(`${summaryFile}: not valid JSON; ignored`);
    }
  }
  const oracleExperts = readOracleExperts(join(dir, 'run.json'));
  return { dir, name, seed, method, metrics, evals, summary, warnings, ...(oracleExperts ? { oracleExperts } : {}) };
}

/** run.json's `oracleExperts` (undefined when absent or unreadable: run.json is optional for old runs). */
function readOracleExperts(file: string): string[] | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { oracleExperts?: unknown };
    return Array.isArray(meta.oracleExperts) && meta.oracleExperts.length > 0 ? meta.oracleExperts.map(String) : undefined;
  } catch {
    return undefined;
  }
}

// ───────────────────────── series ─────────────────────────

export interface Series {
  steps: number[];
  values: number[];
}

/** The finite values of one metric key, with their steps. */
export function metricSeries(run: Pick<RunData, 'metrics'>, key: string): Series {
  const steps: number[] = [];
  const values: number[] = [];
  for (const row of run.metrics) {
    const v = row[key];
    if (typeof v === 'number' && Number.isFinite(v)) {
      steps.push(row.step);
      values.push(v);
    }
  }
  return { steps, values };
}

/** Two metrics at the steps where both are present. */
export function pairedSeries(run: Pick<RunData, 'metrics'>, xKey: string, yKey: string): { steps: number[]; x: number[]; y: number[] } {
  const out = { steps: [] as number[], x: [] as number[], y: [] as number[] };
  for (const row of run.metrics) {
    const a = row[xKey];
    const b = row[yKey];
    if (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b)) {
      out.steps.push(row.step);
      out.x.push(a);
      out.y.push(b);
    }
  }
  return out;
}

export interface RunKeys {
  /** Tasks named by reward/<task>, accuracy/<task>, router/entropy/<task>, router/expert_mass/<task>/<e>, or eval reports. */
  tasks: string[];
  /** Experts named by router/expert_mass/<expert> or router/expert_mass/<task>/<expert>. */
  experts: string[];
  /** Whether router metrics were logged (absent for the no-experts method). */
  hasRouter: boolean;
}

/** Task and expert names found in a run's metrics and eval reports, in first-seen order. */
export function runKeys(run: Pick<RunData, 'metrics' | 'evals'>): RunKeys {
  const tasks = new Set<string>();
  const experts = new Set<string>();
  let hasRouter = false;
  for (const row of run.metrics) {
    for (const key of Object.keys(row)) {
      const parts = key.split('/');
      if ((parts[0] === 'reward' || parts[0] === 'accuracy') && parts.length === 2) tasks.add(parts[1]);
      else if (parts[0] === 'router') {
        hasRouter = true;
        if (parts[1] === 'entropy' && parts.length === 3) tasks.add(parts[2]);
        else if (parts[1] === 'expert_mass' && parts.length === 3) experts.add(parts[2]);
        else if (parts[1] === 'expert_mass' && parts.length === 4) {
          tasks.add(parts[2]);
          experts.add(parts[3]);
        }
      }
    }
  }
  for (const e of run.evals) {
    for (const [task, report] of Object.entries(e.tasks)) {
      tasks.add(task);
      for (const expert of Object.keys(report.expertMass ?? {})) experts.add(expert);
    }
    for (const expert of Object.keys(e.expertMass ?? {})) experts.add(expert);
  }
  return { tasks: [...tasks], experts: [...experts], hasRouter };
}

// ───────────────────────── groups of seeds ─────────────────────────

export interface RunGroup {
  /** Display label: the name, or `name · method` when names repeat across groups. */
  label: string;
  name: string;
  method: string;
  /** Runs of this name and method, sorted by seed. */
  runs: RunData[];
}

/** A run's name without a trailing `-s<seed>` (how `ablate` and `sweep` name the seeds of one variant). */
export function seedlessName(run: Pick<RunData, 'name' | 'seed'>): string {
  return run.seed !== null ? run.name.replace(new RegExp(`-s${run.seed}$`), '') : run.name;
}

/** Group runs sharing `method` and their name without a trailing `-s<seed>` (they differ by seed), in first-seen order. */
export function groupRuns(runs: readonly RunData[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  for (const run of runs) {
    const name = seedlessName(run);
    const key = `${name}\u0000${run.method}`;
    let g = groups.get(key);
    if (!g) {
      g = { label: name, name, method: run.method, runs: [] };
      groups.set(key, g);
    }
    g.runs.push(run);
  }
  const list = [...groups.values()];
  const nameCount = new Map<string, number>();
  for (const g of list) nameCount.set(g.name, (nameCount.get(g.name) ?? 0) + 1);
  for (const g of list) {
    if ((nameCount.get(g.name) ?? 0) > 1) g.label = `${g.name} · ${g.method}`;
    g.runs.sort((a, b) => (a.seed ?? Infinity) - (b.seed ?? Infinity));
  }
  return list;
}

export interface AggregatedSeries {
  steps: number[];
  mean: number[];
  /** Sample std across runs at that step (NaN where fewer than two runs have it). */
  std: number[];
  /** Number of runs with a value at that step. */
  count: number[];
}

/** Mean and std across runs at each step in the union of their steps. */
export function aggregateSeries(series: readonly Series[]): AggregatedSeries {
  const at = new Map<number, number[]>();
  for (const s of series) {
    s.steps.forEach((step, i) => {
      const v = s.values[i];
      if (!Number.isFinite(v)) return;
      let list = at.get(step);
      if (!list) at.set(step, (list = []));
      list.push(v);
    });
  }
  const steps = [...at.keys()].sort((a, b) => a - b);
  return {
    steps,
    mean: steps.map((s) => mean(at.get(s) as number[])),
    std: steps.map((s) => sampleStd(at.get(s) as number[])),
    count: steps.map((s) => (at.get(s) as number[]).length),
  };
}
