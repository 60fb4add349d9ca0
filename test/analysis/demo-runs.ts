// Manual demo (not a test): node dist/test/analysis/demo-runs.js OUTDIR — three seeds plus a baseline, plotted.
import { join } from 'node:path';
import { plotRuns } from '../../src/analysis/plots.js';
import { writeSyntheticRun } from './synthetic-run.js';
const out = process.argv[2] ?? '/tmp/demo-runs';
const dirs = [1, 2, 3].map((s) => writeSyntheticRun(join(out, `runs${s}`, 'quick'), { name: 'quick', seed: s, steps: 120 }));
dirs.push(writeSyntheticRun(join(out, 'base'), { name: 'quick', seed: 1, method: 'no-experts', steps: 120 }));
const r = await plotRuns(dirs, { outDir: join(out, 'plots'), onWarning: (m) => console.error(m) });
console.log(r.files.join('\n'));
