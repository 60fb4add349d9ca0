// `musketeers report`: run directories gathered into the layout of the paper's Table 1 — one row per
// method or variant, one column per task (plus the mean over tasks), held-out accuracy at the last
// evaluation as mean ± std over seeds — and paired differences against a baseline row (runs matched by
// seed) with Student-t 95% confidence intervals, and beside them an item-level paired test (a paired
// bootstrap over evaluation items within each seed pair and task, from the per-item scores of the eval
// reports). Directories that are not runs are searched one level down, so an ablation or sweep directory,
// or several shards' directories, can be given whole.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { DataError, UsageError } from '../errors.js';
import { loadRun, seedlessName, type EvalReport, type EvalTaskReport, type RunData } from './runs.js';
import { ITEM_BOOTSTRAP_RESAMPLES, ITEM_BOOTSTRAP_SEED, mean, pairedDifference, pairedItemBootstrap, sampleStd, type ItemDifferences } from './stats.js';

export interface ReportCell {
  mean: number;
  std: number;
  n: number;
}

export interface ReportRow {
  label: string;
  method: string;
  seeds: number[];
  dirs: string[];
  /** Per task and `mean` (mean over tasks): accuracy at the last evaluation. */
  cells: Record<string, ReportCell>;
}

export interface ItemTestCell {
  /** Mean over seed pairs of the difference in accuracy (row - baseline), from the per-item scores. */
  mean: number;
  /** Percentile bootstrap interval (Report.itemTest.level). */
  lower: number;
  upper: number;
  /** Two-sided bootstrap p-value of no difference. */
  p: number;
  /** Seed pairs and evaluated items (per run) that entered. */
  pairs: number;
  items: number;
}

export interface ReportDifference {
  label: string;
  baseline: string;
  /** Per task and `mean`: mean paired difference (row - baseline) over matched seeds, with a t 95% interval. */
  cells: Record<string, { mean: number; lower: number; upper: number; n: number }>;
  /** The item-level paired test (Report.itemTest); absent when no seed pair has per-item scores on the same items. */
  itemTest?: { seeds: number[]; cells: Record<string, ItemTestCell> };
}

export interface ItemTestMethod {
  /** The method in words, as printed. */
  method: string;
  resamples: number;
  seed: number;
  level: number;
}

export interface Report {
  tasks: string[];
  rows: ReportRow[];
  baseline?: string;
  differences: ReportDifference[];
  /** How the item-level test of the differences was computed (present with differences). */
  itemTest?: ItemTestMethod;
  warnings: string[];
}

export const ITEM_TEST: ItemTestMethod = {
  method: `paired bootstrap over items, resampled within each (seed, task) stratum, seeds matched; ${ITEM_BOOTSTRAP_RESAMPLES} resamples (seed ${ITEM_BOOTSTRAP_SEED}); percentile 95% interval, two-sided p`,
  resamples: ITEM_BOOTSTRAP_RESAMPLES,
  seed: ITEM_BOOTSTRAP_SEED,
  level: 0.95,
};

/** A run with its last evaluation. */
interface Final {
  run: RunData;
  last: EvalReport;
}

/** Per-item correctness (1 when the score is 1, as accuracy counts) of a task, or undefined when the report has no usable per-item data. */
function itemCorrectness(task: EvalTaskReport): number[] | undefined {
  const scores = task.itemScores;
  if (!Array.isArray(scores) || typeof task.itemsHash !== 'string' || scores.length !== task.items) return undefined;
  return scores.map((x) => (x === 1 ? 1 : 0));
}

/** Tasks of a run's last evaluation without per-item data (reports written before they were recorded). */
function tasksWithoutItems(f: Final): string[] {
  return Object.entries(f.last.tasks).filter(([, t]) => itemCorrectness(t) === undefined).map(([name]) => name);
}

/** Why two runs' last evaluations cannot be paired item by item (different tasks, items or item order), or undefined when they can. */
function itemMismatch(a: EvalReport, b: EvalReport): string | undefined {
  const ta = Object.keys(a.tasks).sort();
  const tb = Object.keys(b.tasks).sort();
  if (ta.join('\u0000') !== tb.join('\u0000')) return `different tasks (${ta.join(', ')} vs ${tb.join(', ')})`;
  const differing = ta.filter((t) => a.tasks[t].itemsHash !== b.tasks[t].itemsHash || a.tasks[t].items !== b.tasks[t].items);
  return differing.length > 0 ? `different items on ${differing.join(', ')} (item hashes ${differing.map((t) => `${a.tasks[t].itemsHash} vs ${b.tasks[t].itemsHash}`).join(', ')})` : undefined;
}

/** Per-item differences (row - baseline) by task of one seed pair whose runs were evaluated on the same items. */
function itemDifferences(a: EvalReport, b: EvalReport): ItemDifferences {
  return Object.fromEntries(Object.keys(a.tasks).map((t) => {
    const x = itemCorrectness(a.tasks[t])!;
    const y = itemCorrectness(b.tasks[t])!;
    return [t, x.map((v, i) => v - y[i])];
  }));
}

/**
 * The item-level paired test of one row against the baseline over its matched seed pairs: pairs where
 * either run lacks per-item scores (warned once per run through `warnMissing`) or the items differ (warned
 * here) are left out.
 */
function itemTest(label: string, base: string, pairs: readonly (readonly [Final, Final])[], warnMissing: (f: Final) => boolean, warnings: string[]): ReportDifference['itemTest'] {
  const usable = pairs.filter(([a, b]) => {
    const missA = warnMissing(a);
    const missB = warnMissing(b);
    if (missA || missB) return false;
    const why = itemMismatch(a.last, b.last);
    if (why !== undefined) warnings.push(`${label} vs ${base}, seed ${a.run.seed}: ${why}; that seed pair is left out of the item-level test`);
    return why === undefined;
  });
  if (usable.length === 0) {
    warnings.push(`${label}: item-level test against ${base} unavailable (no seed pair with per-item scores on the same items)`);
    return undefined;
  }
  const result = pairedItemBootstrap(usable.map(([a, b]) => itemDifferences(a.last, b.last)), { resamples: ITEM_TEST.resamples, seed: ITEM_TEST.seed, level: ITEM_TEST.level });
  const count = (t?: string) => ({
    pairs: t === undefined ? usable.length : usable.filter(([a]) => a.last.tasks[t] !== undefined).length,
    items: usable.reduce((n, [a]) => n + Object.entries(a.last.tasks).reduce((m, [name, x]) => m + (t === undefined || t === name ? x.items : 0), 0), 0),
  });
  const cellOf = (r: { estimate: number; lower: number; upper: number; p: number }, t?: string): ItemTestCell => ({ mean: r.estimate, lower: r.lower, upper: r.upper, p: r.p, ...count(t) });
  const cells: Record<string, ItemTestCell> = Object.fromEntries(Object.entries(result.tasks).map(([t, r]) => [t, cellOf(r, t)]));
  cells.mean = cellOf(result.overall);
  return { seeds: usable.map(([a]) => a.run.seed ?? NaN), cells };
}

/** Run directories among `paths`: a path holding metrics.jsonl is a run; otherwise its direct subdirectories that are runs. */
export function findRunDirs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new DataError(`${p}: not a directory; give run directories (or directories holding them)`);
    if (existsSync(join(abs, 'metrics.jsonl'))) out.push(abs);
    else {
      const found = readdirSync(abs)
        .map((d) => join(abs, d))
        .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'metrics.jsonl')))
        .sort();
      if (found.length === 0) throw new DataError(`${p}: neither a run directory (no metrics.jsonl) nor a directory of runs`);
      out.push(...found);
    }
  }
  return [...new Set(out)];
}

/** The row a run belongs to: its name without a trailing `-s<seed>`, plus the method when the name does not say it. */
export function rowLabel(run: Pick<RunData, 'name' | 'method' | 'seed' | 'oracleExperts'>): string {
  const base = seedlessName(run);
  const label = base.includes(run.method) ? base : `${base} (${run.method})`;
  return run.oracleExperts ? `${label} [ORACLE: sees answers]` : label;
}

/**
 * Oracle runs (experts.oracle: states built from the reference answers) measure the interface's capacity,
 * not collaboration; they enter a report only when asked for, and then with a label that says so.
 */
export function checkOracleRuns(runs: readonly RunData[], allowOracle: boolean): void {
  const oracle = runs.filter((r) => r.oracleExperts);
  if (oracle.length === 0 || allowOracle) return;
  throw new UsageError(
    `${oracle.length} run(s) read oracle experts, a diagnostic that sees the reference answers (${oracle.slice(0, 3).map((r) => `${r.dir}: ${r.oracleExperts!.join(', ')}`).join('; ')}${oracle.length > 3 ? '; ...' : ''}); ` +
      'leave them out, or pass --allow-oracle to report them in rows labelled [ORACLE: sees answers]',
  );
}

const cell = (xs: number[]): ReportCell => ({ mean: mean(xs), std: xs.length > 1 ? sampleStd(xs) : 0, n: xs.length });

export function buildReport(runs: readonly RunData[], baseline?: string): Report {
  const warnings: string[] = [];
  const finals = runs.map((run) => {
    const last = run.evals[run.evals.length - 1];
    if (!last) warnings.push(`${run.dir}: no evaluation report (eval/step_NNNNNN.json); left out`);
    return { run, last };
  });
  const usable = finals.filter((f): f is Final => f.last !== undefined);
  if (usable.length === 0) throw new DataError('none of the runs has an evaluation report; train them first');
  const tasks = [...new Set(usable.flatMap((f) => Object.keys(f.last!.tasks)))];
  const groups = new Map<string, typeof usable>();
  for (const f of usable) {
    const label = rowLabel(f.run);
    groups.set(label, [...(groups.get(label) ?? []), f]);
  }
  const valueOf = (f: (typeof usable)[number], task: string) => (task === 'mean' ? f.last!.accuracy : (f.last!.tasks[task]?.accuracy ?? NaN));
  const columns = [...tasks, 'mean'];
  const rows: ReportRow[] = [...groups].map(([label, members]) => {
    const seeds = members.map((m) => m.run.seed ?? NaN);
    if (new Set(seeds).size !== seeds.length) warnings.push(`${label}: two runs share a seed (${seeds.join(', ')}); both are counted`);
    const steps = new Set(members.map((m) => m.last!.step));
    if (steps.size > 1) warnings.push(`${label}: runs end at different evaluation steps (${[...steps].join(', ')})`);
    return {
      label,
      method: members[0].run.method,
      seeds,
      dirs: members.map((m) => m.run.dir),
      cells: Object.fromEntries(columns.map((t) => [t, cell(members.map((m) => valueOf(m, t)).filter(Number.isFinite))])),
    };
  });
  const base = baseline ?? rows.find((r) => r.method === 'no-experts')?.label;
  if (baseline !== undefined && !groups.has(baseline)) throw new UsageError(`--baseline ${baseline}: no such row; rows are ${rows.map((r) => r.label).join(', ')}`);
  const differences: ReportDifference[] = [];
  const warnedMissing = new Map<string, boolean>();
  const warnMissing = (f: Final): boolean => {
    if (!warnedMissing.has(f.run.dir)) {
      const missing = tasksWithoutItems(f);
      if (missing.length > 0) warnings.push(`${f.run.dir}: eval/${basename(f.last.file)} has no per-item scores (${missing.join(', ')}; written before evaluation reports held them); the item-level test is unavailable for this run`);
      warnedMissing.set(f.run.dir, missing.length > 0);
    }
    return warnedMissing.get(f.run.dir)!;
  };
  if (base !== undefined) {
    const baseRuns = groups.get(base)!;
    for (const [label, members] of groups) {
      if (label === base) continue;
      const pairs = members.map((m) => [m, baseRuns.find((b) => b.run.seed === m.run.seed)] as const).filter((p): p is [(typeof usable)[number], (typeof usable)[number]] => p[1] !== undefined);
      if (pairs.length === 0) {
        warnings.push(`${label}: no seed in common with the baseline ${base}; no paired difference`);
        continue;
      }
      const cells: ReportDifference['cells'] = {};
      for (const t of columns) {
        const ok = pairs.filter(([a, b]) => Number.isFinite(valueOf(a, t)) && Number.isFinite(valueOf(b, t)));
        if (ok.length === 0) continue;
        const d = pairedDifference(ok.map(([a]) => valueOf(a, t)), ok.map(([, b]) => valueOf(b, t)));
        cells[t] = { mean: d.mean, lower: d.lower, upper: d.upper, n: ok.length };
      }
      const items = itemTest(label, base, pairs, warnMissing, warnings);
      differences.push({ label, baseline: base, cells, ...(items ? { itemTest: items } : {}) });
    }
  }
  return { tasks, rows, baseline: base, differences, ...(differences.length > 0 ? { itemTest: ITEM_TEST } : {}), warnings };
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const signed = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;
const pValue = (p: number) => (!Number.isFinite(p) ? '-' : p < 0.001 ? '<0.001' : `=${p.toFixed(3)}`);
/** Label of the line under each difference row that holds its item-level test. */
const ITEM_ROW = '↳ items';
const itemCell = (c: ItemTestCell | undefined) => (c ? `${signed(c.mean)} [${pct(c.lower)}, ${pct(c.upper)}] p${pValue(c.p)} (n=${c.pairs})` : '-');

/** Markdown: the accuracy table (Table 1 layout) and the paired differences. */
export function reportMarkdown(report: Report): string {
  const columns = [...report.tasks, 'mean'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [
    '## Held-out accuracy (%), mean ± std over seeds',
    '',
    line(['method', 'seeds', ...columns]),
    line(['---', '---:', ...columns.map(() => '---:')]),
    ...report.rows.map((r) => line([r.label, String(r.seeds.length), ...columns.map((t) => (r.cells[t]?.n ? `${pct(r.cells[t].mean)} ± ${pct(r.cells[t].std)}` : '-'))])),
  ];
  if (report.differences.length > 0) {
    out.push(
      '',
      `## Paired difference to ${report.baseline} (points, matched seeds, 95% CI; item-level test below each row)`,
      '',
      line(['method', ...columns]),
      line(['---', ...columns.map(() => '---:')]),
      ...report.differences.flatMap((d) => [
        line([d.label, ...columns.map((t) => (d.cells[t] ? `${signed(d.cells[t].mean)} [${pct(d.cells[t].lower)}, ${pct(d.cells[t].upper)}] (n=${d.cells[t].n})` : '-'))]),
        ...(d.itemTest ? [line([ITEM_ROW, ...columns.map((t) => itemCell(d.itemTest!.cells[t]))])] : []),
      ]),
    );
    if (report.itemTest) out.push('', `${ITEM_ROW}: item-level test, ${report.itemTest.method}; other rows: Student-t interval over matched seeds (n = seed pairs).`);
  }
  if (report.warnings.length > 0) out.push('', ...report.warnings.map((w) => `- note: ${w}`));
  return `${out.join('\n')}\n`;
}

export function loadReport(paths: readonly string[], baseline?: string, options: { allowOracle?: boolean } = {}): Report {
  if (paths.length === 0) throw new UsageError('give at least one run directory (or a directory of runs)');
  const runs = findRunDirs(paths).map((d) => loadRun(d));
  checkOracleRuns(runs, options.allowOracle ?? false);
  return buildReport(runs, baseline);
}
