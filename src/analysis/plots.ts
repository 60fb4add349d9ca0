// The standard plots and analysis numbers for one or more run directories (`musketeers plot`):
// reward curves (EMA-smoothed, raw faint, mean ± std bands over seeds), per-task reward, attention mass
// per expert over steps (overall and per task), routing entropy vs reward with Spearman's ρ, eval accuracy
// per task, a task × expert mass heatmap, and plots/analysis.json (ρ per task and seed; static vs dynamic
// variance fractions of expert preference).

import { basename, join } from 'node:path';

import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { gridFigure, heatmap, lineChart, scatterChart, stackedAreaChart, type LineSeries } from './plot/charts.js';
import { seriesColor } from './plot/palette.js';
import { renderPng } from './plot/png.js';
import { loadRunProbes, probeFigure, PROBES_DEFINITION, type RunProbe } from './probe/figure.js';
import type { Figure } from './plot/svg.js';
import { aggregateSeries, groupRuns, loadRun, metricSeries, pairedSeries, runKeys, type RunData, type RunGroup, type Series } from './runs.js';
import { binByStep, ema, mean, spearman, twoWayVarianceDecomposition } from './stats.js';

export type PlotFormat = 'png' | 'svg';

// ───────────────────────── analysis numbers ─────────────────────────

export interface SeedCorrelation {
  dir: string;
  seed: number | null;
  /** Spearman's ρ between router entropy and reward over training steps; null when undefined (constant series, < 3 points). */
  rho: number | null;
  /** Steps used (both values present). */
  n: number;
}

export interface CorrelationSummary {
  perSeed: SeedCorrelation[];
  /** Mean of the defined per-seed ρ; null when none is defined. */
  mean: number | null;
}

export interface PreferenceDecomposition {
  /** Static fraction (see AnalysisResult.definitions). null when undefined. */
  static: number | null;
  /** Dynamic fraction. */
  dynamic: number | null;
  /** For the per-expert (across tasks) decomposition: the task-specific change over time. */
  interaction?: number | null;
  /** Step windows used (columns of the table), averaged over seeds. */
  windows: number;
  /** Seeds whose table was usable. */
  seeds: number;
}

export interface GroupAnalysis {
  label: string;
  name: string;
  method: string;
  seeds: (number | null)[];
  dirs: string[];
  /** Last training step logged, per run. */
  lastStep: number[];
  /** Mean reward over the last 10% of steps (at least one step), mean over seeds. */
  finalReward: number | null;
  /** Last eval report's accuracy, mean over seeds, with its step. */
  finalEval: { step: number; accuracy: number; tasks: Record<string, number> } | null;
  /** Absent (null) for runs without router metrics (method no-experts). */
  entropyRewardSpearman: { overall: CorrelationSummary; perTask: Record<string, CorrelationSummary>; meanAcrossTasks: number | null } | null;
  expertPreference: {
    perTask: Record<string, PreferenceDecomposition>;
    perExpert: Record<string, PreferenceDecomposition>;
    /** From the held-out prompts' routing at each evaluation (absent when eval reports carry no per-prompt mass). */
    acrossPrompts: Record<string, PreferenceDecomposition>;
  } | null;
}

export interface AnalysisResult {
  definitions: Record<string, string>;
  groups: GroupAnalysis[];
  /** Probe reports (RUN_DIR/probe.json of `musketeers probe`) of the runs that have one. */
  probes?: RunProbe[];
}

export const ANALYSIS_DEFINITIONS: Record<string, string> = {
  entropyRewardSpearman:
    "Spearman's rank correlation (average ranks for ties) between router/entropy[/<task>] and reward[/<task>] over the training steps where both are logged, per run (seed); mean = mean over seeds with a defined ρ; meanAcrossTasks = mean of the per-task means.",
  'expertPreference.perTask':
    'Per task, the table of router/expert_mass/<task>/<expert> with rows = experts and columns = training-step windows (mean within each window) is decomposed as a two-way table: SS_total = SS_between-expert + SS_between-window + SS_residual. static = SS_between-expert / SS_total (a fixed preference for some experts, the same at every step); dynamic = (SS_between-window + SS_residual) / SS_total (how the preference changes over training). Fractions are averaged over seeds.',
  'expertPreference.acrossPrompts':
    'Per task, from the evaluation reports (the same held-out prompts at every evaluation, step 0 included): for each expert, the table of its attention mass with rows = prompts and columns = evaluation steps is decomposed as SS_total = SS_between-prompt + SS_between-step + SS_residual; the sums of squares are added over experts. static = SS_between-prompt / SS_total (prompt-specific preferences that hold throughout training); dynamic = SS_between-step / SS_total (change over training shared by all prompts); interaction = SS_residual / SS_total (prompt-specific change over training). Fractions are averaged over seeds.',
  'expertPreference.perExpert':
    'Per expert, the table of its mass router/expert_mass/<task>/<expert> with rows = tasks and columns = step windows (only windows where every task was seen): static = SS_between-task / SS_total (tasks differ in how much they use the expert, stably over training); dynamic = SS_between-window / SS_total (drift over training shared by all tasks); interaction = SS_residual / SS_total (task-specific changes over training).',
};

function nullable(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function correlationFor(group: RunGroup, xKey: string, yKey: string): CorrelationSummary {
  const perSeed = group.runs.map((run) => {
    const p = pairedSeries(run, xKey, yKey);
    const rho = p.x.length >= 3 ? spearman(p.x, p.y) : NaN;
    return { dir: run.dir, seed: run.seed, rho: nullable(rho), n: p.x.length };
  });
  const defined = perSeed.map((s) => s.rho).filter((r): r is number => r !== null);
  return { perSeed, mean: defined.length ? mean(defined) : null };
}

function windowsFor(n: number): number {
  return Math.max(2, Math.min(20, Math.floor(n / 5)));
}

function preferenceForTask(group: RunGroup, task: string, experts: string[]): PreferenceDecomposition {
  const fractions: { s: number; d: number; w: number }[] = [];
  for (const run of group.runs) {
    const series = experts.map((e) => metricSeries(run, `router/expert_mass/${task}/${e}`));
    const present = new Set(series.flatMap((s) => s.steps));
    if (present.size < 4) continue;
    const lo = Math.min(...present);
    const hi = Math.max(...present);
    const w = windowsFor(present.size);
    const table = series.map((s) => binByStep(s.steps, s.values, lo, hi, w));
    const d = twoWayVarianceDecomposition(table);
    if (Number.isFinite(d.fracRows)) fractions.push({ s: d.fracRows, d: d.fracColumns + d.fracResidual, w: d.columns });
  }
  return {
    static: fractions.length ? mean(fractions.map((f) => f.s)) : null,
    dynamic: fractions.length ? mean(fractions.map((f) => f.d)) : null,
    windows: fractions.length ? mean(fractions.map((f) => f.w)) : 0,
    seeds: fractions.length,
  };
}

/** Per-seed static / dynamic / interaction fractions and table widths, averaged over seeds. */
function seedMeans(fractions: readonly { s: number; d: number; i: number; w: number }[]): PreferenceDecomposition {
  const avg = (f: (x: { s: number; d: number; i: number; w: number }) => number) => (fractions.length ? mean(fractions.map(f)) : null);
  return { static: avg((f) => f.s), dynamic: avg((f) => f.d), interaction: avg((f) => f.i), windows: avg((f) => f.w) ?? 0, seeds: fractions.length };
}

function preferenceForExpert(group: RunGroup, expert: string, tasks: string[]): PreferenceDecomposition {
  const fractions: { s: number; d: number; i: number; w: number }[] = [];
  for (const run of group.runs) {
    const series = tasks.map((t) => metricSeries(run, `router/expert_mass/${t}/${expert}`)).filter((s) => s.steps.length > 0);
    if (series.length < 2) continue;
    const steps = run.metrics.map((r) => r.step);
    const lo = Math.min(...steps);
    const hi = Math.max(...steps);
    const w = windowsFor(Math.min(...series.map((s) => s.steps.length)));
    const d = twoWayVarianceDecomposition(series.map((s) => binByStep(s.steps, s.values, lo, hi, w)));
    if (Number.isFinite(d.fracRows) && d.columns >= 2) fractions.push({ s: d.fracRows, d: d.fracColumns, i: d.fracResidual, w: d.columns });
  }
  return seedMeans(fractions);
}

function preferenceAcrossPrompts(group: RunGroup, task: string): PreferenceDecomposition {
  const fractions: { s: number; d: number; i: number; w: number }[] = [];
  for (const run of group.runs) {
    const evals = run.evals.filter((e) => Array.isArray(e.tasks[task]?.promptMass) && e.tasks[task].promptMass!.length > 0);
    if (evals.length < 2) continue;
    const items = Math.min(...evals.map((e) => e.tasks[task].promptMass!.length));
    const experts = Math.min(...evals.map((e) => Math.min(...e.tasks[task].promptMass!.map((row) => row.length))));
    let total = 0;
    let rows = 0;
    let columns = 0;
    let residual = 0;
    for (let x = 0; x < experts; x++) {
      // rows = prompts, columns = evaluation steps
      const table = Array.from({ length: items }, (_, i) => evals.map((e) => e.tasks[task].promptMass![i][x]));
      const d = twoWayVarianceDecomposition(table);
      if (!Number.isFinite(d.ssTotal)) continue;
      total += d.ssTotal;
      rows += d.ssRows;
      columns += d.ssColumns;
      residual += d.ssResidual;
    }
    if (total > 0) fractions.push({ s: rows / total, d: columns / total, i: residual / total, w: evals.length });
  }
  return seedMeans(fractions);
}

function groupKeys(group: RunGroup): { tasks: string[]; experts: string[]; hasRouter: boolean } {
  const tasks: string[] = [];
  const experts: string[] = [];
  let hasRouter = false;
  for (const run of group.runs) {
    const k = runKeys(run);
    for (const t of k.tasks) if (!tasks.includes(t)) tasks.push(t);
    for (const e of k.experts) if (!experts.includes(e)) experts.push(e);
    hasRouter ||= k.hasRouter;
  }
  return { tasks, experts, hasRouter };
}

function finalEvalOf(group: RunGroup): GroupAnalysis['finalEval'] {
  const lasts = group.runs.map((r) => r.evals[r.evals.length - 1]).filter((e) => e !== undefined);
  if (lasts.length === 0) return null;
  const tasks: Record<string, number> = {};
  const names = [...new Set(lasts.flatMap((e) => Object.keys(e.tasks)))];
  for (const t of names) tasks[t] = mean(lasts.filter((e) => e.tasks[t]).map((e) => e.tasks[t].accuracy));
  return { step: Math.max(...lasts.map((e) => e.step)), accuracy: mean(lasts.map((e) => e.accuracy)), tasks };
}

/** The analysis numbers for loaded runs (no file IO). Runs sharing method and name (without a trailing -s<seed>) are seeds of one group. */
export function analyzeRuns(runs: readonly RunData[]): AnalysisResult {
  const groups = groupRuns(runs).map((group): GroupAnalysis => {
    const { tasks, experts, hasRouter } = groupKeys(group);
    const finals = group.runs.map((run) => {
      const s = metricSeries(run, 'reward');
      const k = Math.max(1, Math.ceil(s.values.length * 0.1));
      return s.values.length ? mean(s.values.slice(-k)) : NaN;
    });
    const definedFinals = finals.filter((f) => Number.isFinite(f));
    let entropyRewardSpearman: GroupAnalysis['entropyRewardSpearman'] = null;
    let expertPreference: GroupAnalysis['expertPreference'] = null;
    if (hasRouter) {
      const perTask: Record<string, CorrelationSummary> = {};
      for (const t of tasks) perTask[t] = correlationFor(group, `router/entropy/${t}`, `reward/${t}`);
      const taskMeans = Object.values(perTask).map((c) => c.mean).filter((m): m is number => m !== null);
      entropyRewardSpearman = { overall: correlationFor(group, 'router/entropy', 'reward'), perTask, meanAcrossTasks: taskMeans.length ? mean(taskMeans) : null };
      const prefTask: Record<string, PreferenceDecomposition> = {};
      for (const t of tasks) prefTask[t] = preferenceForTask(group, t, experts);
      const prefExpert: Record<string, PreferenceDecomposition> = {};
      for (const e of experts) prefExpert[e] = preferenceForExpert(group, e, tasks);
      const acrossPrompts: Record<string, PreferenceDecomposition> = {};
      for (const t of tasks) {
        const d = preferenceAcrossPrompts(group, t);
        if (d.seeds > 0) acrossPrompts[t] = d;
      }
      expertPreference = { perTask: prefTask, perExpert: prefExpert, acrossPrompts };
    }
    return {
      label: group.label,
      name: group.name,
      method: group.method,
      seeds: group.runs.map((r) => r.seed),
      dirs: group.runs.map((r) => r.dir),
      lastStep: group.runs.map((r) => r.metrics[r.metrics.length - 1].step),
      finalReward: definedFinals.length ? mean(definedFinals) : null,
      finalEval: finalEvalOf(group),
      entropyRewardSpearman,
      expertPreference,
    };
  });
  return { definitions: ANALYSIS_DEFINITIONS, groups };
}

// ───────────────────────── figures ─────────────────────────

export interface PlotOptions {
  /** Output directory; default RUN_DIR/plots for a single run directory (required for several). */
  outDir?: string;
  formats?: PlotFormat[];
  /** EMA weight in [0, 1); default 0.6 below 50 steps, else 0.9. */
  smoothing?: number;
  /** PNG pixel density (default 2). */
  pngScale?: number;
  onWarning?: (message: string) => void;
}

export interface NamedFigure {
  /** File name without extension. */
  name: string;
  figure: Figure;
}

export interface PlotResult {
  outDir: string;
  /** Written files (absolute paths), analysis.json last. */
  files: string[];
  analysisFile: string;
  analysis: AnalysisResult;
  warnings: string[];
}

function slug(s: string): string {
  return s.replace(/ · /g, '-').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

function smoothingFor(n: number, requested?: number): number {
  return requested ?? (n < 50 ? 0.6 : 0.9);
}

function seedNote(group: RunGroup): string {
  const n = group.runs.length;
  return n > 1 ? `${n} seeds (${group.runs.map((r) => r.seed ?? '?').join(', ')})` : `seed ${group.runs[0].seed ?? '?'}`;
}

function fmtRho(r: number | null): string {
  return r === null ? 'n/a' : r.toFixed(2).replace('-', '−');
}

/** Smoothed mean over seeds (each seed smoothed first), ± std band when there are several seeds. */
function smoothedAcrossSeeds(group: RunGroup, key: string, weight: number | undefined): { agg: ReturnType<typeof aggregateSeries>; raw: ReturnType<typeof aggregateSeries> } {
  const raw = group.runs.map((r) => metricSeries(r, key));
  const smoothed: Series[] = raw.map((s) => ({ steps: s.steps, values: ema(s.values, smoothingFor(s.values.length, weight)) }));
  return { agg: aggregateSeries(smoothed), raw: aggregateSeries(raw) };
}

function band(agg: ReturnType<typeof aggregateSeries>): { lower?: number[]; upper?: number[] } {
  if (!agg.count.some((c) => c >= 2)) return {};
  return { lower: agg.mean.map((m, i) => (agg.count[i] >= 2 ? m - agg.std[i] : NaN)), upper: agg.mean.map((m, i) => (agg.count[i] >= 2 ? m + agg.std[i] : NaN)) };
}

function rewardFigure(groups: RunGroup[], weight: number | undefined): Figure {
  const series: LineSeries[] = [];
  groups.forEach((g, i) => {
    const color = seriesColor(i);
    const { agg, raw } = smoothedAcrossSeeds(g, 'reward', weight);
    series.push({ label: `${g.label} raw`, x: raw.steps, y: raw.mean, color, opacity: 0.25, strokeWidth: 1, showInLegend: false });
    series.push({ label: `${g.label} (${g.runs.length > 1 ? `${g.runs.length} seeds` : `seed ${g.runs[0].seed ?? '?'}`})`, x: agg.steps, y: agg.mean, color, ...band(agg) });
  });
  const n = Math.max(...groups.flatMap((g) => g.runs.map((r) => r.metrics.length)));
  const multi = groups.some((g) => g.runs.length > 1);
  return lineChart(series, {
    title: 'Training reward',
    subtitle: `EMA ${smoothingFor(n, weight)} (raw faint)${multi ? '; band = mean ± std over seeds' : ''}`,
    xLabel: 'training step',
    yLabel: 'mean reward',
    xInteger: true,
    legend: 'right',
  });
}

function perTaskLineFigure(group: RunGroup, tasks: string[], prefix: 'reward' | 'accuracy', weight: number | undefined): Figure {
  const series: LineSeries[] = tasks.map((t) => {
    const { agg } = smoothedAcrossSeeds(group, `${prefix}/${t}`, weight);
    return { label: t, x: agg.steps, y: agg.mean, ...band(agg) };
  });
  const n = Math.max(...group.runs.map((r) => r.metrics.length));
  return lineChart(series, {
    title: `Training ${prefix} per task — ${group.label}`,
    subtitle: `${seedNote(group)}; EMA ${smoothingFor(n, weight)} over the steps where the task was sampled${group.runs.length > 1 ? '; band = ± std' : ''}`,
    xLabel: 'training step',
    yLabel: `mean ${prefix}`,
    xInteger: true,
    legend: 'right',
    legendTitle: 'task',
  });
}

function massFigure(group: RunGroup, experts: string[], task: string | null, weight: number | undefined, panel?: { width: number; height: number; title: string }): Figure | null {
  const keys = experts.map((e) => (task === null ? `router/expert_mass/${e}` : `router/expert_mass/${task}/${e}`));
  const aggs = keys.map((k) => smoothedAcrossSeeds(group, k, weight).agg);
  // Steps where every expert has a value (they are logged together).
  const common = aggs[0]?.steps.filter((s) => aggs.every((a) => a.steps.includes(s))) ?? [];
  if (common.length === 0) return null;
  const series = experts.map((e, i) => {
    const at = new Map(aggs[i].steps.map((s, j) => [s, aggs[i].mean[j]]));
    return { label: e, y: common.map((s) => at.get(s) as number) };
  });
  return stackedAreaChart(common, series, {
    title: task === null ? `Attention mass per expert — all tasks — ${group.label}` : `Attention mass per expert — ${task}`,
    subtitle: task === null ? `${seedNote(group)}; mean over seeds, EMA-smoothed` : undefined,
    xLabel: 'training step',
    yLabel: 'attention mass',
    yDomain: [0, 1],
    xInteger: true,
    legendTitle: 'expert',
    ...panel,
  });
}

/**
 * The routing diagnostics over training, one panel each: context-token norm relative to the prompt's
 * token embeddings, the gradient norm reaching the router vs the policy, and each task's mass on its
 * specialist expert (panels whose metrics the runs did not log are left out).
 */
function diagnosticsFigure(group: RunGroup, weight: number | undefined): Figure | null {
  const keysOf = (prefix: string) => [...new Set(group.runs.flatMap((r) => r.metrics.flatMap((m) => Object.keys(m).filter((k) => k.startsWith(prefix)))))].sort();
  const panel = (title: string, yLabel: string, series: { label: string; key: string }[]): Figure | null => {
    const lines: LineSeries[] = series
      .map((s) => ({ label: s.label, agg: smoothedAcrossSeeds(group, s.key, weight).agg }))
      .filter((s) => s.agg.steps.length > 0)
      .map((s) => ({ label: s.label, x: s.agg.steps, y: s.agg.mean, ...band(s.agg) }));
    if (lines.length === 0) return null;
    return lineChart(lines, { title, xLabel: 'training step', yLabel, xInteger: true, width: 560, height: 360, legend: lines.length > 1 ? 'right' : 'none' });
  };
  const panels = [
    panel('context tokens / prompt token embeddings (L2 norm)', 'norm ratio', [{ label: 'ratio', key: 'router/context_norm_ratio' }]),
    panel('gradient norm, router vs policy', 'L2 norm', [
      { label: 'router', key: 'grad_norm/router' },
      { label: 'policy', key: 'grad_norm/policy' },
    ]),
    panel("mass on each task's specialist", 'attention mass', keysOf('router/specialist_mass/').map((k) => ({ label: k.slice('router/specialist_mass/'.length), key: k }))),
  ].filter((f): f is Figure => f !== null);
  if (panels.length === 0) return null;
  return gridFigure(panels, { columns: panels.length > 1 ? 2 : 1, title: `Routing diagnostics — ${group.label} (${seedNote(group)}; EMA-smoothed)` });
}

function entropyScatterFigure(group: RunGroup, tasks: string[], analysis: GroupAnalysis): Figure {
  const corr = analysis.entropyRewardSpearman;
  const panels: Figure[] = [];
  const entries: { key: string; rewardKey: string; title: string; summary: CorrelationSummary | undefined }[] = [
    { key: 'router/entropy', rewardKey: 'reward', title: 'all tasks', summary: corr?.overall },
    ...tasks.map((t) => ({ key: `router/entropy/${t}`, rewardKey: `reward/${t}`, title: t, summary: corr?.perTask[t] })),
  ];
  for (const e of entries) {
    const groups = group.runs.map((run, i) => {
      const p = pairedSeries(run, e.key, e.rewardKey);
      const rho = e.summary?.perSeed[i]?.rho ?? null;
      return { label: `seed ${run.seed ?? '?'} (ρ = ${fmtRho(rho)})`, x: p.x, y: p.y, color: seriesColor(i) };
    });
    if (groups.every((g) => g.x.length === 0)) continue;
    const mean = e.summary?.mean ?? null;
    panels.push(
      scatterChart(groups, {
        title: `${e.title}: ρ = ${fmtRho(mean)}${group.runs.length > 1 ? ` (mean of ${group.runs.length} seeds)` : ''}`,
        xLabel: 'router entropy',
        yLabel: 'reward',
        width: 560,
        height: 360,
        legend: group.runs.length > 1 ? 'right' : 'none',
        trendLines: false,
      }),
    );
  }
  return gridFigure(panels, { columns: panels.length > 4 ? 3 : 2, title: `Routing entropy vs reward per training step — ${group.label} (Spearman's ρ)` });
}

function evalFigure(group: RunGroup, tasks: string[]): Figure | null {
  if (group.runs.every((r) => r.evals.length === 0)) return null;
  const overall = aggregateSeries(group.runs.map((r) => ({ steps: r.evals.map((e) => e.step), values: r.evals.map((e) => e.accuracy) })));
  const series: LineSeries[] = tasks.map((t) => {
    const agg = aggregateSeries(group.runs.map((r) => ({ steps: r.evals.filter((e) => e.tasks[t]).map((e) => e.step), values: r.evals.filter((e) => e.tasks[t]).map((e) => e.tasks[t].accuracy) })));
    return { label: t, x: agg.steps, y: agg.mean, markers: true, ...band(agg) };
  });
  series.push({ label: 'all tasks', x: overall.steps, y: overall.mean, color: '#000000', strokeWidth: 2.8, markers: true, ...band(overall) });
  return lineChart(series, {
    title: `Held-out accuracy per task — ${group.label}`,
    subtitle: `${seedNote(group)}${group.runs.length > 1 ? '; mean ± std over seeds' : ''}; step 0 = before training`,
    xLabel: 'training step',
    yLabel: 'accuracy',
    xInteger: true,
    yDomain: [0, 1],
    legend: 'right',
    legendTitle: 'task',
  });
}

function heatmapFigure(group: RunGroup, tasks: string[], experts: string[]): Figure | null {
  if (experts.length === 0) return null;
  const lasts = group.runs.map((r) => [...r.evals].reverse().find((e) => e.expertMass || Object.values(e.tasks).some((t) => t.expertMass)));
  const rows: string[] = [];
  const values: number[][] = [];
  let subtitle: string;
  if (lasts.some((e) => e !== undefined)) {
    const reports = lasts.filter((e) => e !== undefined);
    for (const t of tasks) {
      const withTask = reports.filter((e) => e.tasks[t]?.expertMass);
      if (withTask.length === 0) continue;
      rows.push(t);
      values.push(experts.map((x) => mean(withTask.map((e) => e.tasks[t].expertMass?.[x] ?? NaN))));
    }
    const overall = reports.filter((e) => e.expertMass);
    if (overall.length) {
      rows.push('all tasks');
      values.push(experts.map((x) => mean(overall.map((e) => e.expertMass?.[x] ?? NaN))));
    }
    subtitle = `last eval (step ${[...new Set(reports.map((e) => e.step))].join(', ')}); ${seedNote(group)}`;
  } else {
    // No eval with attention: the last 10% of training steps.
    for (const t of [...tasks, null]) {
      const row = experts.map((x) => {
        const vals = group.runs.flatMap((r) => {
          const s = metricSeries(r, t === null ? `router/expert_mass/${x}` : `router/expert_mass/${t}/${x}`);
          return s.values.slice(-Math.max(1, Math.ceil(s.values.length * 0.1)));
        });
        return mean(vals);
      });
      if (row.every((v) => !Number.isFinite(v))) continue;
      rows.push(t ?? 'all tasks');
      values.push(row);
    }
    subtitle = `training metrics, last 10% of steps (no eval report with attention); ${seedNote(group)}`;
  }
  if (rows.length === 0) return null;
  return heatmap(rows, experts, values, { title: `Attention mass by task and expert — ${group.label}`, subtitle, xLabel: 'expert', yLabel: 'task', colorLabel: 'attention mass', domain: [0, 1] });
}

/** All standard figures for the given groups (no file IO); `analysis` supplies the ρ shown in titles. */
export function buildFigures(groups: RunGroup[], analysis: AnalysisResult, options: Pick<PlotOptions, 'smoothing'> = {}): NamedFigure[] {
  const w = options.smoothing;
  const out: NamedFigure[] = [{ name: 'reward', figure: rewardFigure(groups, w) }];
  const suffix = (g: RunGroup) => (groups.length > 1 ? `__${slug(g.label)}` : '');
  groups.forEach((g, gi) => {
    const { tasks, experts, hasRouter } = groupKeys(g);
    const sfx = suffix(g);
    const rewardTasks = tasks.filter((t) => g.runs.some((r) => metricSeries(r, `reward/${t}`).steps.length > 0));
    if (rewardTasks.length) out.push({ name: `reward_per_task${sfx}`, figure: perTaskLineFigure(g, rewardTasks, 'reward', w) });
    if (hasRouter && experts.length) {
      const overall = massFigure(g, experts, null, w);
      if (overall) out.push({ name: `expert_mass${sfx}`, figure: overall });
      const panels: Figure[] = [];
      for (const t of tasks) {
        const f = massFigure(g, experts, t, w);
        if (!f) continue;
        out.push({ name: `expert_mass__task-${slug(t)}${sfx}`, figure: f });
        const small = massFigure(g, experts, t, w, { width: 560, height: 330, title: t });
        if (small) panels.push(small);
      }
      if (panels.length > 1) out.push({ name: `expert_mass_per_task${sfx}`, figure: gridFigure(panels, { columns: 3, title: `Attention mass per expert by task — ${g.label} (${seedNote(g)})` }) });
      out.push({ name: `entropy_vs_reward${sfx}`, figure: entropyScatterFigure(g, tasks, analysis.groups[gi]) });
      const diag = diagnosticsFigure(g, w);
      if (diag) out.push({ name: `routing_diagnostics${sfx}`, figure: diag });
    }
    const ev = evalFigure(g, tasks.filter((t) => g.runs.some((r) => r.evals.some((e) => e.tasks[t]))));
    if (ev) out.push({ name: `eval_accuracy${sfx}`, figure: ev });
    const hm = hasRouter ? heatmapFigure(g, tasks, experts) : null;
    if (hm) out.push({ name: `expert_mass_heatmap${sfx}`, figure: hm });
  });
  return out;
}

/** Load run directories, write every figure (PNG and/or SVG) and analysis.json; return what was written. */
export async function plotRuns(dirs: readonly string[], options: PlotOptions = {}): Promise<PlotResult> {
  if (dirs.length === 0) throw new UsageError('give at least one run directory');
  const formats = options.formats ?? ['png', 'svg'];
  const runs = dirs.map((d) => loadRun(d));
  const warnings = runs.flatMap((r) => r.warnings);
  let outDir = options.outDir;
  if (outDir === undefined) {
    if (runs.length > 1) throw new UsageError(`several run directories (${runs.length}) need --out DIR for the combined plots`);
    outDir = join(runs[0].dir, 'plots');
  }
  const groups = groupRuns(runs);
  const analysis = analyzeRuns(runs);
  const figures = buildFigures(groups, analysis, options);
  const probes = loadRunProbes(runs.map((r) => r.dir));
  if (probes.length > 0) {
    analysis.probes = probes;
    analysis.definitions = { ...analysis.definitions, probes: PROBES_DEFINITION };
    for (const p of probes) figures.push({ name: runs.length > 1 ? `probes__${slug(basename(p.dir))}` : 'probes', figure: probeFigure(p) });
  }
  const files: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning?.(m);
  };
  for (const w of warnings) options.onWarning?.(w);
  for (const { name, figure } of figures) {
    if (formats.includes('svg')) {
      const f = join(outDir, `${name}.svg`);
      writeFileAtomic(f, figure.svg);
      files.push(f);
    }
    if (formats.includes('png')) {
      const f = join(outDir, `${name}.png`);
      writeFileAtomic(f, await renderPng(figure.svg, { scale: options.pngScale, onWarning: warn }));
      files.push(f);
    }
  }
  const analysisFile = join(outDir, 'analysis.json');
  writeFileAtomic(analysisFile, `${JSON.stringify(analysis, null, 2)}\n`);
  files.push(analysisFile);
  return { outDir, files, analysisFile, analysis, warnings };
}
