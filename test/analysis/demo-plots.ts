// Manual demo (not a test): node dist/test/analysis/demo-plots.js OUTDIR
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gridFigure, heatmap, lineChart, renderPng, scatterChart, stackedAreaChart, type Figure } from '../../src/analysis/plot/index.js';
import { ema } from '../../src/analysis/stats.js';

const out = process.argv[2] ?? '/tmp/demo';
async function save(name: string, f: Figure) {
  writeFileSync(join(out, `${name}.svg`), f.svg);
  writeFileSync(join(out, `${name}.png`), await renderPng(f.svg));
}
let seed = 1;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const steps = Array.from({ length: 200 }, (_, i) => i + 1);
const raw = steps.map((s) => 0.2 + 0.5 * (1 - Math.exp(-s / 60)) + (rnd() - 0.5) * 0.3);
const sm = ema(raw, 0.9);
const base = steps.map((s) => 0.2 + 0.3 * (1 - Math.exp(-s / 80)));
await save('line', lineChart([
  { label: 'musketeers raw', x: steps, y: raw, opacity: 0.25, strokeWidth: 1, showInLegend: false },
  { label: 'musketeers (3 seeds)', x: steps, y: sm, lower: sm.map((v) => v - 0.05), upper: sm.map((v) => v + 0.05) },
  { label: 'no-experts', x: steps, y: base },
], { title: 'Reward', subtitle: 'EMA 0.9, band = mean ± std over seeds', xLabel: 'training step', yLabel: 'mean reward', xInteger: true }));
const experts = ['expert-sums', 'expert-logic', 'expert-words', 'generalist'];
const mass = experts.map((_, e) => steps.map((s) => [0.25 + 0.3 * (1 - Math.exp(-s / 50)), 0.25, 0.25 - 0.2 * (1 - Math.exp(-s / 50)), 0.25 - 0.1 * (1 - Math.exp(-s / 50))][e]));
await save('area', stackedAreaChart(steps, experts.map((label, i) => ({ label, y: mass[i] })), { title: 'Attention mass per expert — chain_sum', xLabel: 'training step', yLabel: 'attention mass', yDomain: [0, 1], xInteger: true }));
const tasks = ['chain_sum', 'basic_arithmetic', 'propositional_logic', 'knights_knaves', 'fraction_simplification'];
await save('scatter', scatterChart(tasks.map((t) => { const x = steps.map(() => 1 + rnd() * 0.38); return { label: `${t} (ρ = −0.4${t.length % 10})`, x, y: x.map((v) => 1.4 - v + rnd() * 0.3) }; }), { title: 'Routing entropy vs reward', xLabel: 'router entropy (nats)', yLabel: 'reward', trendLines: true }));
await save('heatmap', heatmap(tasks, experts, tasks.map(() => { const v = experts.map(() => rnd()); const s = v.reduce((a, b) => a + b); return v.map((x) => x / s); }), { title: 'Expert attention mass by task (final eval)', colorLabel: 'attention mass', xLabel: 'expert', yLabel: 'task' }));
const panels = tasks.slice(0, 4).map((t) => stackedAreaChart(steps, experts.map((label, i) => ({ label, y: mass[i] })), { title: t, xLabel: 'step', yLabel: 'mass', yDomain: [0, 1], width: 520, height: 320, xInteger: true }));
await save('grid', gridFigure(panels, { columns: 2, title: 'Attention mass per expert' }));
