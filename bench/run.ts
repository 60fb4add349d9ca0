// `npm run bench`: runs the benchmark sections, prints a table per section and writes JSON
// (bench-results/bench-<timestamp>.json and bench-results/latest.json). Never asserts on time.
//   node dist/bench/run.js [--only matmul,extract,decoder] [--quick] [--out DIR] [--json]

import { cpus } from 'node:os';
import { join } from 'node:path';

import { onnxRuntimeVersion } from '../src/experts/ort.js';
import { renderTable } from '../src/util/table.js';
import { writeFileAtomic } from '../src/util/fs.js';
import { VERSION } from '../src/version.js';
import type { BenchContext, BenchSection } from './common.js';
import { benchDecoders } from './decoder.js';
import { benchExtract } from './extract.js';
import { benchMatmul } from './matmul.js';

/** Sections in run order; adding a benchmark is one entry here and one file. */
export const SECTIONS: Record<string, (ctx: BenchContext) => Promise<BenchSection>> = {
  matmul: benchMatmul,
  extract: benchExtract,
  decoder: benchDecoders,
};

export interface BenchArgs {
  only: string[];
  quick: boolean;
  out: string;
  json: boolean;
}

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { only: Object.keys(SECTIONS), quick: false, out: 'bench-results', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = true;
    else if (a === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--out') args.out = argv[++i] ?? args.out;
    else throw new Error(`unknown argument ${a}; use --only ${Object.keys(SECTIONS).join(',')} --quick --out DIR --json`);
  }
  for (const s of args.only) if (!SECTIONS[s]) throw new Error(`unknown section ${s}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  return args;
}

export async function runBench(args: BenchArgs, print: (s: string) => void = (s) => process.stdout.write(s)): Promise<Record<string, unknown>> {
  const ctx: BenchContext = { quick: args.quick, done: new Map() };
  for (const name of Object.keys(SECTIONS)) {
    if (!args.only.includes(name)) continue;
    const section = await SECTIONS[name](ctx);
    ctx.done.set(name, section);
    if (!args.json) print(`\n${section.title}\n${renderTable(section.headers, section.rows)}\n`);
  }
  const result = {
    createdAt: new Date().toISOString(),
    packageVersion: VERSION,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, onnxruntime: onnxRuntimeVersion() },
    quick: args.quick,
    sections: Object.fromEntries([...ctx.done].map(([n, s]) => [n, s.records])),
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileAtomic(join(args.out, `bench-${result.createdAt.replace(/[:.]/g, '-')}.json`), text);
  writeFileAtomic(join(args.out, 'latest.json'), text);
  if (args.json) print(text);
  else print(`\nJSON: ${join(args.out, 'latest.json')}\n`);
  return result;
}

if (process.argv[1]?.endsWith('run.js')) {
  try {
    await runBench(parseArgs(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
