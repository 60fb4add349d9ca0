// `npm run bench`: finds the benchmark sections (every bench/*.ts exporting `section`), runs them in
// order, prints a table per section and writes JSON (bench-results/bench-<timestamp>.json and
// bench-results/latest.json, atomically). Never asserts on time.
//   node dist/bench/run.js [--only matmul,extract,decoder] [--quick] [--out DIR] [--json]

import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { onnxRuntimeVersion } from '../src/experts/ort.js';
import { BACKEND_NAMES } from '../src/models/backend.js';
import * as tf from '../src/models/tf.js';
import { writeFileAtomic } from '../src/util/fs.js';
import { renderTable } from '../src/util/table.js';
import { VERSION } from '../src/version.js';
import { isSectionDef, type BenchContext, type BenchSection, type BenchSectionDef } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Every section exported (as `section`) by a module next to this one, in run order. */
export async function loadSections(dir = HERE): Promise<BenchSectionDef[]> {
  const found = new Map<string, BenchSectionDef>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js') && f !== 'run.js' && f !== 'common.js')
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { section?: unknown };
    if (mod.section === undefined) continue;
    if (!isSectionDef(mod.section)) throw new Error(`bench: ${join(dir, file)} exports a 'section' that is not a BenchSectionDef {name, order, description, run}`);
    const other = found.get(mod.section.name);
    if (other) throw new Error(`bench: two sections are named '${mod.section.name}' (${file} and another module); rename one`);
    found.set(mod.section.name, mod.section);
  }
  return [...found.values()].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

export interface BenchArgs {
  only: string[];
  quick: boolean;
  out: string;
  json: boolean;
}

export function parseArgs(argv: string[], sectionNames: readonly string[]): BenchArgs {
  const args: BenchArgs = { only: [...sectionNames], quick: false, out: 'bench-results', json: false };
  const usage = `use --only ${sectionNames.join(',')} --quick --out DIR --json`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = true;
    else if (a === '--only' || a === '--out') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`${a} needs a value; ${usage}`);
      if (a === '--out') args.out = value;
      else args.only = value.split(',').map((s) => s.trim()).filter(Boolean);
    } else throw new Error(`unknown argument ${a}; ${usage}`);
  }
  for (const s of args.only) if (!sectionNames.includes(s)) throw new Error(`unknown section ${s}; sections: ${sectionNames.join(', ')}`);
  if (args.only.length === 0) throw new Error(`--only names no section; sections: ${sectionNames.join(', ')}`);
  return args;
}

/** Which optional packages are installed (resolvable), without loading them. */
function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return !(code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND');
  }
}

const BACKEND_PACKAGES: Record<string, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

export function machineFacts(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    platform: `${platform()} ${arch()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    onnxruntime: onnxRuntimeVersion(),
    tfjs: tf.version.tfjs,
    /** Backend packages present (installed); whether each loads is in the decoder section. */
    tfjsBackendsInstalled: BACKEND_NAMES.filter((b) => installed(BACKEND_PACKAGES[b])),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export interface RunOptions {
  print?: (s: string) => void;
  progress?: (line: string) => void;
  /** Sections to choose from (default: those found by loadSections). */
  sections?: BenchSectionDef[];
}

export async function runBench(args: BenchArgs, options: RunOptions = {}): Promise<Record<string, unknown>> {
  const print = options.print ?? ((s: string) => process.stdout.write(s));
  const sections = options.sections ?? (await loadSections());
  const ctx: BenchContext = { quick: args.quick, done: new Map(), progress: options.progress };
  const startedAt = new Date();
  const machine = machineFacts();
  if (!args.json) print(`musketeers ${VERSION} bench${args.quick ? ' (quick)' : ''}: ${String(machine.cpus)} x ${String(machine.cpuModel)}, node ${process.version}, onnxruntime ${String(machine.onnxruntime)}, tfjs ${String(machine.tfjs)}, load ${(machine.loadAverage as number[]).join(' ')}\n`);
  const durations: Record<string, number> = {};
  for (const def of sections) {
    if (!args.only.includes(def.name)) continue;
    const t0 = performance.now();
    const section: BenchSection = await def.run(ctx);
    durations[def.name] = Math.round(performance.now() - t0) / 1000;
    ctx.done.set(def.name, section);
    if (!args.json) {
      const notes = (section.notes ?? []).map((n) => `  ${n}\n`).join('');
      print(`\n${section.title}\n${renderTable(section.headers, section.rows)}\n${notes}`);
    }
  }
  const result = {
    createdAt: startedAt.toISOString(),
    packageVersion: VERSION,
    quick: args.quick,
    machine: { ...machine, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    secondsPerSection: durations,
    sections: Object.fromEntries([...ctx.done].map(([name, s]) => [name, { title: s.title, headers: s.headers, rows: s.rows, notes: s.notes ?? [], records: s.records }])),
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileAtomic(join(args.out, `bench-${result.createdAt.replace(/[:.]/g, '-')}.json`), text);
  writeFileAtomic(join(args.out, 'latest.json'), text);
  if (args.json) print(text);
  else print(`\nJSON: ${join(args.out, 'latest.json')}\n`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const sections = await loadSections();
    const args = parseArgs(process.argv.slice(2), sections.map((s) => s.name));
    await runBench(args, { sections, progress: (line) => process.stderr.write(`bench: ${line}\n`) });
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
