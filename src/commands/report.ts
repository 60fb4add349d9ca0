// `musketeers report RUN_DIR...`: a thin adapter over loadReport (src/analysis/report.ts) — Markdown
// on stdout (or --out FILE.md, with FILE.json beside it), JSON with --json.

import type { Command } from 'commander';

import { loadReport, reportMarkdown } from '../analysis/report.js';
import type { CommandContext } from '../context.js';
import { writeFileAtomic } from '../util/fs.js';

export function registerReportCommand(program: Command, ctx: CommandContext): void {
  program
    .command('report')
    .description("Gather runs into the paper's Table 1 layout: method x task accuracy (mean ± std over seeds) and paired differences to a baseline (t over seeds, bootstrap over items).")
    .argument('<dirs...>', 'run directories, or directories holding runs (an ablate or sweep output, shards of a sweep)')
    .option('--baseline <label>', 'row the others are compared with (default: the no-experts row when present)')
    .option('--allow-oracle', 'include runs that read oracle experts (experts.oracle, a diagnostic that sees answers), labelled [ORACLE: sees answers]; refused otherwise')
    .option('--out <file.md>', 'write the Markdown here and the JSON beside it (<file>.json)')
    .addHelpText(
      'after',
      `
Rows group runs by name without the trailing -s<seed> (and by method); cells use each run's last
held-out evaluation (eval/step_NNNNNN.json). Paired differences match runs by seed and give a
Student-t 95% interval; below each, an item-level paired test from the per-item scores of the eval
reports: a paired bootstrap over items resampled within each (seed, task), 10000 resamples with a fixed
seed, percentile 95% interval and two-sided p. Runs whose reports predate per-item scores, and seed pairs
evaluated on different items, are left out of it with a note.

Runs that read oracle experts (a diagnostic that sees answers) are refused unless --allow-oracle is given.

Examples:
  $ musketeers report runs/quickstart-ablate
  $ musketeers report /tmp/oracle-runs --allow-oracle
  $ musketeers report shard-0/ shard-1/ --out results/table1.md`,
    )
    .action((dirs: string[], opts: { baseline?: string; out?: string; allowOracle?: boolean }) => {
      const report = loadReport(dirs, opts.baseline, { allowOracle: opts.allowOracle });
      const markdown = reportMarkdown(report);
      if (opts.out) {
        writeFileAtomic(opts.out, markdown);
        writeFileAtomic(opts.out.replace(/\.md$/, '') + '.json', `${JSON.stringify(report, null, 2)}\n`);
        ctx.logger.info({ file: opts.out }, `report written to ${opts.out}`);
      }
      if (ctx.machine) ctx.outJson(report);
      else ctx.io.out(markdown);
    });
}
