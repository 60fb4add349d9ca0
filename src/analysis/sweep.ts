// `musketeers sweep SWEEP.yaml`: a grid of `--set` overrides x seeds over one config, one run directory
// per point, each trained in its own process (`musketeers train`), at most `parallel` at a time. Every
// point's config is validated before anything runs; finished runs are skipped and interrupted ones
// resumed; `--shard i/n` takes points i, i+n, i+2n, ... of the grid so machines can split a sweep.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import { parseDocument } from 'yaml';
import { z } from 'zod';

import { loadConfig } from '../config.js';
import { ConfigError, UsageError } from '../errors.js';
import { runPaths } from '../rl/run-dir.js';
import { finishedRun } from '../rl/trainer.js';
import { writeFileAtomic } from '../util/fs.js';
import { PACKAGE_ROOT } from '../version.js';

const sweepSchema = z
  .object({
    config: z.string().min(1).describe('The base config, relative to the sweep file.'),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional().describe('Sweep name (default: the file name); prefixes every run name.'),
    outputDir: z.string().min(1).optional().describe('Where the run directories go (default <config outputDir>/<name>).'),
    seeds: z.array(z.number().int().nonnegative()).min(1).optional().describe('train.seed values (default: the config\'s seed).'),
    grid: z.record(z.string().min(1), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)).default({}).describe('Config key -> values; the sweep runs every combination.'),
    set: z.array(z.string()).default([]).describe('Overrides applied to every run.'),
    parallel: z.number().int().positive().default(1).describe('Runs at the same time (each is one process).'),
  })
  .strict();

export type SweepFile = z.output<typeof sweepSchema>;

export interface SweepPoint {
  index: number;
  name: string;
  seed: number;
  overrides: string[];
  runDir: string;
}

export interface SweepPlan {
  file: string;
  configFile: string;
  name: string;
  outDir: string;
  parallel: number;
  points: SweepPoint[];
  /** Grid points in the whole sweep (all shards). */
  total: number;
  shard: { index: number; count: number };
}

export function readSweepFile(file: string): SweepFile {
  if (!existsSync(file)) throw new UsageError(`sweep file not found: ${file}`);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new ConfigError(file, doc.errors.map((e) => ({ path: '', message: `YAML syntax error: ${e.message.split('\n')[0]}` })));
  const parsed = sweepSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(file, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return parsed.data;
}

/** `key_value` as it may appear in a run name. */
function token(key: string, value: unknown): string {
  return `${key}_${String(value)}`.replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** Every grid point x seed, validated (a bad point stops the sweep before anything runs), then this shard's share. */
export function planSweep(file: string, shard: { index: number; count: number } = { index: 0, count: 1 }): SweepPlan {
  const sweep = readSweepFile(file);
  const configFile = resolve(dirname(file), sweep.config);
  const base = loadConfig(configFile, sweep.set).config;
  const name = sweep.name ?? basename(file).replace(/\.ya?ml$/, '');
  const outDir = resolve(sweep.outputDir ? resolve(dirname(file), sweep.outputDir) : join(base.outputDir, name));
  const keys = Object.keys(sweep.grid);
  let combos: [string, unknown][][] = [[]];
  for (const k of keys) combos = combos.flatMap((c) => sweep.grid[k].map((v) => [...c, [k, v] as [string, unknown]]));
  const seeds = sweep.seeds ?? [base.train.seed ?? base.seed];
  const all: SweepPoint[] = [];
  for (const combo of combos) {
    for (const seed of seeds) {
      const runName = [name, ...combo.map(([k, v]) => token(k, v)), `s${seed}`].join('-');
      const overrides = [...sweep.set, ...combo.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`), `train.seed=${seed}`, `name=${runName}`];
      loadConfig(configFile, overrides); // validate now
      all.push({ index: all.length, name: runName, seed, overrides, runDir: join(outDir, runName) });
    }
  }
  if (new Set(all.map((p) => p.name)).size !== all.length) throw new UsageError(`${file}: two grid points get the same run name; make the grid values distinct`);
  return { file, configFile, name, outDir, parallel: sweep.parallel, points: all.filter((p) => p.index % shard.count === shard.index), total: all.length, shard };
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard ${text}: write i/n with 0 <= i < n, e.g. --shard 0/4`);
  return { index, count };
}

export interface SweepRunResult {
  name: string;
  seed: number;
  runDir: string;
  overrides: string[];
  status: 'done' | 'skipped' | 'failed';
  exitCode: number;
  seconds: number;
  finalAccuracy?: number;
  error?: string;
}

/** One point in its own `musketeers train` process; resolves with its exit code and last error line. */
function trainProcess(plan: SweepPlan, point: SweepPoint, signal?: AbortSignal): Promise<{ code: number; error?: string }> {
  const resume = existsSync(runPaths(point.runDir).config);
  const args = [join(PACKAGE_ROOT, 'bin', 'musketeers'), '--json', 'train', ...(resume ? ['--resume', point.runDir] : [plan.configFile, '--run-dir', point.runDir]), ...point.overrides.flatMap((o) => ['--set', o]), '--no-plots'];
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: process.env.CI ?? 'true' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    const onAbort = () => child.kill('SIGINT');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      const last = stderr.trim().split('\n').reverse().find((l) => l.includes('"level":"error"') || l.includes('"level":50') || l.startsWith('error'));
      let error: string | undefined;
      try {
        error = last ? ((JSON.parse(last) as { message?: string }).message ?? last) : undefined;
      } catch {
        error = last;
      }
      resolvePromise({ code: code ?? (sig ? 128 : 1), error });
    });
  });
}

/** Run the plan's points (at most `parallel` at a time) and write sweep.json (this shard's) into outDir. */
export async function runSweep(plan: SweepPlan, options: { parallel?: number; signal?: AbortSignal; onResult?: (r: SweepRunResult) => void } = {}): Promise<SweepRunResult[]> {
  const results: SweepRunResult[] = new Array(plan.points.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.points.length && !options.signal?.aborted) {
      const k = next++;
      const p = plan.points[k];
      const started = performance.now();
      const done = finishedRun(p.runDir);
      let r: SweepRunResult;
      if (done) r = { name: p.name, seed: p.seed, runDir: p.runDir, overrides: p.overrides, status: 'skipped', exitCode: 0, seconds: 0, finalAccuracy: done.finalEval?.accuracy };
      else {
        const { code, error } = await trainProcess(plan, p, options.signal);
        const summary = code === 0 ? finishedRun(p.runDir) : undefined;
        r = { name: p.name, seed: p.seed, runDir: p.runDir, overrides: p.overrides, status: code === 0 ? 'done' : 'failed', exitCode: code, seconds: (performance.now() - started) / 1000, finalAccuracy: summary?.finalEval?.accuracy, error: code === 0 ? undefined : error };
      }
      results[k] = r;
      options.onResult?.(r);
    }
  };
  const parallel = Math.max(1, options.parallel ?? plan.parallel);
  await Promise.all(Array.from({ length: Math.min(parallel, plan.points.length) }, worker));
  const finished = results.filter((r) => r !== undefined);
  const file = plan.shard.count > 1 ? `sweep-shard-${plan.shard.index}-of-${plan.shard.count}.json` : 'sweep.json';
  writeFileAtomic(join(plan.outDir, file), `${JSON.stringify({ sweep: plan.name, file: plan.file, config: plan.configFile, shard: plan.shard, total: plan.total, runs: finished }, null, 2)}\n`);
  return finished;
}
