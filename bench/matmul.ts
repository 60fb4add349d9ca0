// A plain ONNX MatMul (float32, n x n times n x n) through onnxruntime-node (via src/experts/ort.ts):
// the reference FLOP rate, 2·n³ / time, that the extraction benchmark compares itself with.

import { createSession, float32Tensor } from '../src/experts/ort.js';
import { GraphBuilder, buildModel, DataType } from '../src/models/onnx/graph-builder.js';
import { encodeModel } from '../src/models/onnx/onnx-proto.js';
import { perSecond, round, timeIt, type BenchContext, type BenchSection, type BenchSectionDef, type Timing } from './common.js';

export interface MatmulRecord {
  n: number;
  /** Milliseconds per product (median, min, max over repeats). */
  ms: Timing;
  /** GFLOP/s at the median time; at the slowest and fastest run. */
  gflops: number;
  gflopsMin: number;
  gflopsMax: number;
  repeats: number;
}

/** The n x n MatMul model: input a [n, n], initializer b [n, n], output c = a·b [n, n]. */
function matmulModel(n: number): { bytes: Uint8Array; b: Float32Array } {
  const g = new GraphBuilder(`matmul_${n}`);
  g.input('a', DataType.FLOAT, [n, n]);
  const b = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  g.floatInitializer('b', [n, n], b);
  g.op('MatMul', ['a', 'b'], {}, 'c');
  g.output('c', DataType.FLOAT, [n, n]);
  return { bytes: encodeModel(buildModel(g.build(), { opsetVersion: 17, producerName: 'musketeers-bench' })), b };
}

/** Time one n x n float32 MatMul in ONNX Runtime (CPU, default threads). */
export async function measureMatmul(n: number, repeats: number, warmup = 2): Promise<MatmulRecord> {
  const { bytes, b } = matmulModel(n);
  const session = await createSession(bytes, { name: `matmul ${n}x${n}` });
  try {
    const a = float32Tensor(Float32Array.from(b), [n, n]);
    const ms = await timeIt(async () => {
      const out = await session.run({ a });
      out.c.dispose();
    }, repeats, warmup);
    const flops = 2 * n ** 3;
    return { n, ms, gflops: perSecond(flops, ms.median) / 1e9, gflopsMin: perSecond(flops, ms.max) / 1e9, gflopsMax: perSecond(flops, ms.min) / 1e9, repeats };
  } finally {
    await session.dispose();
  }
}

export interface MatmulOptions {
  sizes?: number[];
  repeats?: (n: number) => number;
}

export async function benchMatmul(ctx: BenchContext, options: MatmulOptions = {}): Promise<BenchSection> {
  const sizes = options.sizes ?? [256, 1024];
  const repeats = options.repeats ?? ((n: number) => (ctx.quick ? 5 : n >= 1024 ? 20 : 50));
  const records: MatmulRecord[] = [];
  for (const n of sizes) {
    ctx.progress?.(`matmul ${n}x${n}`);
    records.push(await measureMatmul(n, repeats(n)));
  }
  return {
    name: 'matmul',
    title: 'ONNX Runtime MatMul (float32, CPU, default threads)',
    headers: ['size', 'ms median', 'ms min', 'ms max', 'GFLOP/s', 'GFLOP/s best'],
    rows: records.map((r) => [`${r.n}x${r.n}`, round(r.ms.median, 2), round(r.ms.min, 2), round(r.ms.max, 2), round(r.gflops, 1), round(r.gflopsMax, 1)]),
    records: records.map((r) => ({ ...r })),
    notes: ['GFLOP/s = 2·n³ / time (median run; "best" = fastest run).'],
  };
}

/** The 1024x1024 rate measured in this run, if the MatMul section ran. */
export function matmulRate(ctx: BenchContext): number | undefined {
  const rec = ctx.done.get('matmul')?.records.find((r) => r.n === 1024);
  return rec ? (rec.gflops as number) : undefined;
}

export const section: BenchSectionDef = {
  name: 'matmul',
  order: 10,
  description: 'ONNX Runtime 256² and 1024² float32 MatMul GFLOP/s (the reference rate)',
  run: (ctx) => benchMatmul(ctx),
};
