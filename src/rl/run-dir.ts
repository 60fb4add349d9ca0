// The run directory contract (../shared/DESIGN.md): `<outputDir>/<name>/` holds config.yaml (the resolved
// config), run.json (seed, package version, machine), metrics.jsonl (one line per step), samples.jsonl,
// checkpoints/step_NNNNNN/, eval/step_NNNNNN.json, plots/ and summary.json. This module creates it,
// appends to its logs, and on resume cuts the logs back to the checkpoint they continue from.

import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { configToYaml, type MusketeersConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { VERSION } from '../version.js';

export interface RunPaths {
  dir: string;
  config: string;
  meta: string;
  metrics: string;
  samples: string;
  checkpoints: string;
  eval: string;
  plots: string;
  summary: string;
}

export function runPaths(dir: string): RunPaths {
  const abs = resolve(dir);
  return {
    dir: abs,
    config: join(abs, 'config.yaml'),
    meta: join(abs, 'run.json'),
    metrics: join(abs, 'metrics.jsonl'),
    samples: join(abs, 'samples.jsonl'),
    checkpoints: join(abs, 'checkpoints'),
    eval: join(abs, 'eval'),
    plots: join(abs, 'plots'),
    summary: join(abs, 'summary.json'),
  };
}

/** `step_000042` */
export function stepName(step: number): string {
  return `step_${String(step).padStart(6, '0')}`;
}

export interface RunMeta {
  name: string;
  method: string;
  seed: number;
  packageVersion: string;
  node: string;
  backend: string;
  createdAt: string;
  /** The config file the run was started from. */
  source?: string;
  /** Each task's specialist expert (src/rl/diagnostics.ts), whose mass is logged as router/specialist_mass/<task>. */
  specialists?: Record<string, { expert: string; accuracy: number; constantAnswerAccuracy: number }>;
  /** Oracle experts the router reads (a diagnostic that sees answers; `report` refuses such runs unless --allow-oracle). */
  oracleExperts?: string[];
}

/** Throws (exit 2) when `dir` already holds a run, saying how to resume it or start elsewhere. */
export function assertNoRun(dir: string): RunPaths {
  const paths = runPaths(dir);
  if (existsSync(paths.config) || existsSync(paths.metrics) || existsSync(paths.checkpoints)) {
    throw new UsageError(
      `run directory ${paths.dir} already holds a run; continue it with \`musketeers train --resume ${dir}\`, ` +
        'or start a new one under another name (`--set name=NEW`) or directory (`--run-dir DIR`)',
    );
  }
  return paths;
}

/**
 * Create a fresh run directory with its resolved config. Refuses a directory that already holds a run
 * (nothing is overwritten): the error says how to resume it or start elsewhere.
 */
export function createRunDir(dir: string, config: MusketeersConfig, meta: Omit<RunMeta, 'packageVersion' | 'node' | 'createdAt'>): RunPaths {
  const paths = assertNoRun(dir);
  mkdirSync(paths.dir, { recursive: true });
  const header = `Resolved config of run '${config.name}' (musketeers ${VERSION}); every default is filled in.\nRe-run: musketeers train ${paths.config}`;
  writeFileAtomic(paths.config, configToYaml(config, header));
  const full: RunMeta = { ...meta, packageVersion: VERSION, node: process.version, createdAt: new Date().toISOString() };
  writeFileAtomic(paths.meta, `${JSON.stringify(full, null, 2)}\n`);
  return paths;
}

export function appendJsonl(file: string, record: unknown): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Lines of a JSONL file that parse; a torn last line (a crash mid-append) is dropped. */
export function readJsonl<T = Record<string, unknown>>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (error) {
      if (i < lines.length - 2) throw new Error(`${file}:${i + 1}: not valid JSON (${(error as Error).message}); the run's log is damaged`);
    }
  });
  return out;
}

/** Keep only records with `step <= step` (atomically rewritten): what a resume from `step` will redo is removed. */
export function truncateJsonl(file: string, step: number): number {
  if (!existsSync(file)) return 0;
  const records = readJsonl<{ step?: number }>(file);
  const kept = records.filter((r) => typeof r.step !== 'number' || r.step <= step);
  writeFileAtomic(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return records.length - kept.length;
}

/** Remove eval reports written after `step`. */
export function evalStepsAfter(evalDir: string, step: number): string[] {
  if (!existsSync(evalDir)) return [];
  return readdirSync(evalDir).filter((f) => {
    const m = /^step_(\d{6})\.json$/.exec(f);
    return m !== null && Number(m[1]) > step;
  });
}
