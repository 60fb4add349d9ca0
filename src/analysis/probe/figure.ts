// The probe results of run directories for `musketeers plot`: RUN_DIR/probe.json (written by
// `musketeers probe RUN_DIR`) is read into analysis.json's `probes` entry and drawn as a heatmap of
// held-out probe accuracy, rows = probes (experts = available, then carried / used) plus the majority-class rate
// and the policy's actual accuracy, columns = tasks.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DataError } from '../../errors.js';
import { heatmap } from '../plot/charts.js';
import type { Figure } from '../plot/svg.js';
import type { ProbeReport } from './probe.js';

/** File name of a run's probe report. */
export const PROBE_REPORT_FILE = 'probe.json';

export interface RunProbe {
  dir: string;
  file: string;
  report: ProbeReport;
}

export const PROBES_DEFINITION =
  'From RUN_DIR/probe.json (`musketeers probe RUN_DIR`): linear probes of the answer from each expert\'s pooled state (available), the router\'s context tokens (carried) and the policy\'s last prompt-position state with and without them (used), fitted on training items and scored on held-out items, with the majority-class rate and the policy\'s accuracy; the report\'s own `definitions` give the details.';

/** The probe reports of those run directories that have one. */
export function loadRunProbes(dirs: readonly string[]): RunProbe[] {
  const out: RunProbe[] = [];
  for (const dir of dirs) {
    const file = join(dir, PROBE_REPORT_FILE);
    if (!existsSync(file)) continue;
    let report: ProbeReport;
    try {
      report = JSON.parse(readFileSync(file, 'utf8')) as ProbeReport;
    } catch (error) {
      throw new DataError(`${file}: not valid JSON (${(error as Error).message}); rerun \`musketeers probe ${dir}\` or delete the file`);
    }
    if (!Array.isArray(report.tasks) || !report.policyAccuracy) throw new DataError(`${file}: not a probe report (no tasks / policyAccuracy); rerun \`musketeers probe ${dir}\``);
    out.push({ dir, file, report });
  }
  return out;
}

const KIND_NAMES: Record<string, string> = { expert: 'available', router: 'carried', policy: 'used' };

/** Rows, columns and values of the probe heatmap of one report. */
export function probeTable(report: ProbeReport): { rows: string[]; columns: string[]; values: number[][] } {
  const columns = report.tasks.map((t) => t.task);
  const labels = [...new Map(report.tasks.flatMap((t) => t.probes).map((p) => [p.label, p.kind])).entries()];
  // Expert rows keep their label (it names the expert; the subtitle says they are what is available), so long names fit.
  const rows = labels.map(([label, kind]) => (kind === 'expert' ? label : `${KIND_NAMES[kind] ?? kind} · ${label}`));
  const values = labels.map(([label]) => report.tasks.map((t) => t.probes.find((p) => p.label === label)?.accuracy ?? NaN));
  rows.push('majority class', 'policy accuracy');
  values.push(report.tasks.map((t) => t.majorityRate));
  values.push(report.tasks.map((t) => report.policyAccuracy.tasks[t.task]?.accuracy ?? NaN));
  return { rows, columns, values };
}

export function probeFigure(probe: RunProbe): Figure {
  const { rows, columns, values } = probeTable(probe.report);
  const r = probe.report;
  const what = r.checkpoint ? `step ${r.checkpoint.step}` : 'starting policy';
  return heatmap(rows, columns, values, {
    title: `Information probes — ${r.name} (${r.method}, ${what})`,
    subtitle: `held-out accuracy of linear probes (${r.target === 'answer' ? 'answer' : "answer's first token"}, top ${r.topClasses}); expert rows = available`,
    xLabel: 'task',
    yLabel: 'probe',
    colorLabel: 'held-out accuracy',
    domain: [0, 1],
  });
}
