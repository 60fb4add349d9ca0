// `musketeers report`: run directories gathered into the layout of the paper's Table 1 — one row per
// method or variant, one column per task (plus the mean over tasks), held-out accuracy at the last
// evaluation as mean ± std over seeds — and paired differences against a baseline row (runs matched by
// seed) with Student-t 95% confidence intervals. Directories that are not runs are searched one level
// down, so an ablation or sweep directory, or several shards' directories, can be given whole.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { DataError, UsageError } from '../errors.js';
import { loadRun, seedlessName, type RunData } from './runs.js';
import { mean, pairedDifference, sampleStd } from './stats.js';

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

export interface ReportDifference {
  label: string;
  baseline: string;
  /** Per task and `mean`: mean paired difference (row - baseline) over matched seeds, with a t 95% interval. */
  cells: Record<string, { mean: number; lower: number; upper: number; n: number }>;
}

export interface Report {
  tasks: string[];
  rows: ReportRow[];
  baseline?: string;
  differences: ReportDifference[];
  warnings: string[];
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
export function rowLabel(run: Pick<RunData, 'name' | 'method' | 'seed'>): string {
  const base = seedlessName(run);
  return base.includes(run.method) ? base : `${base} (${run.method})`;
}

const cell = (xs: number[]): ReportCell => ({ mean: mean(xs), std: xs.length > 1 ? sampleStd(xs) : 0, n: xs.length });

export function buildReport(runs: readonly RunData[], baseline?: string): Report {
  const warnings: string[] = [];
  const finals = runs.map((run) => {
    const last = run.evals[run.evals.length - 1];
    if (!last) warnings.push(`${run.dir}: no evaluation report (eval/step_NNNNNN.json); left out`);
    return { run, last };
  });
  const usable = finals.filter((f) => f.last !== undefined);
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
      differences.push({ label, baseline: base, cells });
    }
  }
  return { tasks, rows, baseline: base, differences, warnings };
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');

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
      `## Paired difference to ${report.baseline} (points, matched seeds, 95% CI)`,
      '',
      line(['method', ...columns]),
      line(['---', ...columns.map(() => '---:')]),
      ...report.differences.map((d) => line([d.label, ...columns.map((t) => (d.cells[t] ? `${d.cells[t].mean >= 0 ? '+' : ''}${pct(d.cells[t].mean)} [${pct(d.cells[t].lower)}, ${pct(d.cells[t].upper)}] (n=${d.cells[t].n})` : '-'))])),
    );
  }
  if (report.warnings.length > 0) out.push('', ...report.warnings.map((w) => `- note: ${w}`));
  return `${out.join('\n')}\n`;
}

export function loadReport(paths: readonly string[], baseline?: string): Report {
  if (paths.length === 0) throw new UsageError('give at least one run directory (or a directory of runs)');
  return buildReport(findRunDirs(paths).map((d) => loadRun(d)), baseline);
}
