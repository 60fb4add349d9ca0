// `musketeers plot RUN_DIR... [--out DIR] [--format png,svg]`: the standard figures and analysis numbers
// for one or more run directories (runs sharing method and name, a trailing -s<seed> aside, are seeds of one group).

import type { Command } from 'commander';

import { plotRuns, type AnalysisResult, type PlotFormat, type PlotResult } from '../analysis/plots.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { renderTable } from '../util/table.js';

const FORMATS: PlotFormat[] = ['png', 'svg'];

export function parseFormats(text: string): PlotFormat[] {
  const list = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = list.filter((f) => !FORMATS.includes(f as PlotFormat));
  if (list.length === 0 || bad.length > 0) throw new UsageError(`--format takes a comma-separated list of ${FORMATS.join(', ')}; got '${text}'`);
  return [...new Set(list)] as PlotFormat[];
}

function parseSmoothing(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const w = Number(text);
  if (!(w >= 0 && w < 1)) throw new UsageError(`--smoothing must be a number in [0, 1), got '${text}'`);
  return w;
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3);
}

/** Human summary: files written, then per group ρ per task and the static/dynamic fractions. */
export function renderAnalysis(analysis: AnalysisResult): string {
  const out: string[] = [];
  for (const g of analysis.groups) {
    out.push(`${g.label}: seeds ${g.seeds.map((s) => s ?? '?').join(', ')}; final reward ${fmt(g.finalReward)}${g.finalEval ? `; last eval (step ${g.finalEval.step}) accuracy ${fmt(g.finalEval.accuracy)}` : ''}`);
    const rho = g.entropyRewardSpearman;
    if (!rho) {
      out.push('  (no router metrics)');
      continue;
    }
    const pref = g.expertPreference;
    const prompts = (t: string) => pref?.acrossPrompts[t];
    const rows = [
      ['all tasks', fmt(rho.overall.mean), rho.overall.perSeed.map((s) => fmt(s.rho)).join(' '), '', '', '', '', ''],
      ...Object.entries(rho.perTask).map(([t, c]) => [
        t,
        fmt(c.mean),
        c.perSeed.map((s) => fmt(s.rho)).join(' '),
        fmt(pref?.perTask[t]?.static),
        fmt(pref?.perTask[t]?.dynamic),
        fmt(prompts(t)?.static),
        fmt(prompts(t)?.dynamic),
        fmt(prompts(t)?.interaction),
      ]),
    ];
    out.push(
      renderTable(['task', 'spearman(entropy, reward)', 'per seed', 'expert static', 'expert dynamic', 'prompt static', 'prompt dynamic', 'prompt x step'], rows).replace(/^/gm, '  '),
    );
    out.push(`  mean rho across tasks: ${fmt(rho.meanAcrossTasks)}`);
  }
  for (const p of analysis.probes ?? []) out.push(`probes of ${p.dir}: ${p.file} (figure probes; \`musketeers probe ${p.dir}\` prints the table)`);
  return out.join('\n');
}

export function registerPlotCommand(program: Command, ctx: CommandContext): void {
  program
    .command('plot')
    .description('Plot training and eval curves, expert attention and routing statistics of run directories; write plots/analysis.json.')
    .argument('<run-dirs...>', 'run directories (config.yaml, metrics.jsonl, eval/); runs sharing method and name (a trailing -s<seed> aside) are seeds of one group')
    .option('--out <dir>', 'output directory (default RUN_DIR/plots; required with several run directories)')
    .option('--format <list>', 'comma-separated: png, svg', 'png,svg')
    .option('--smoothing <w>', 'EMA weight in [0, 1) for training curves (default 0.6 below 50 steps, else 0.9)')
    .addHelpText(
      'after',
      `
Writes (PNG and SVG): reward, reward_per_task, expert_mass (overall, per task, grid), entropy_vs_reward
(Spearman's rho per task), eval_accuracy, expert_mass_heatmap, and analysis.json with rho per task and
seed and the static/dynamic variance fractions of expert preference (definitions inside the file).

Examples:
  $ musketeers plot runs/quickstart
  $ musketeers plot runs-s1/quick runs-s2/quick runs-s3/quick runs/baseline --out plots/compare --format png`,
    )
    .action(async (dirs: string[], opts: { out?: string; format: string; smoothing?: string }) => {
      const formats = parseFormats(opts.format);
      const smoothing = parseSmoothing(opts.smoothing);
      const result: PlotResult = await plotRuns(dirs, { outDir: opts.out, formats, smoothing, onWarning: (m) => ctx.logger.warn(m) });
      if (ctx.machine) {
        ctx.outJson({ outDir: result.outDir, files: result.files, analysisFile: result.analysisFile, warnings: result.warnings, analysis: result.analysis });
        return;
      }
      ctx.outLine(renderAnalysis(result.analysis));
      ctx.outLine(`\n${result.files.length} files written to ${result.outDir}`);
    });
}
