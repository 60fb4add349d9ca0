// A plain ONNX MatMul through onnxruntime-node: the reference FLOP rate other numbers are compared with.

import { createSession, float32Tensor } from '../src/experts/ort.js';
import { GraphBuilder, buildModel, DataType } from '../src/models/onnx/graph-builder.js';
import { encodeModel } from '../src/models/onnx/onnx-proto.js';
import { round, timeIt, type BenchContext, type BenchSection } from './common.js';

export async function benchMatmul(ctx: BenchContext): Promise<BenchSection> {
  const rows: (string | number)[][] = [];
  const records: Record<string, unknown>[] = [];
  for (const n of [256, 1024]) {
    const g = new GraphBuilder('matmul');
    g.input('a', DataType.FLOAT, [n, n]);
    const b = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    g.floatInitializer('b', [n, n], b);
    g.op('MatMul', ['a', 'b'], {}, 'c');
    g.output('c', DataType.FLOAT, [n, n]);
    const session = await createSession(encodeModel(buildModel(g.build(), { opsetVersion: 17, producerName: 'musketeers-bench' })), { name: `matmul ${n}` });
    const a = float32Tensor(Float32Array.from(b), [n, n]);
    const t = await timeIt(async () => {
      const out = await session.run({ a });
      out.c.dispose();
    }, ctx.quick ? 3 : n === 1024 ? 10 : 30, 2);
    await session.dispose();
    const gflops = (2 * n ** 3) / (t.median / 1000) / 1e9;
    rows.push([`${n}x${n}`, round(t.median, 2), round(gflops, 1)]);
    records.push({ n, ms: t, gflops });
  }
  return { name: 'matmul', title: 'ONNX Runtime MatMul (float32, CPU)', headers: ['size', 'ms', 'GFLOP/s'], rows, records };
}

/** The 1024x1024 rate measured in this run, if the section ran. */
export function matmulRate(ctx: BenchContext): number | undefined {
  const rec = ctx.done.get('matmul')?.records.find((r) => r.n === 1024);
  return rec ? (rec.gflops as number) : undefined;
}
