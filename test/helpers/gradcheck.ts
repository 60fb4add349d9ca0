// Finite-difference gradient checks of engine graphs in float64: build a graph from random inputs, take
// L = sum(y * W) for a fixed random W, differentiate with src/engine/autodiff.ts, and compare each
// analytic gradient element with the central difference (L(x + h) - L(x - h)) / 2h run through the same
// ONNX Runtime session.

import assert from 'node:assert/strict';

import { gradients } from '../../src/engine/autodiff.js';
import { Graph, type Value, sizeOf } from '../../src/engine/graph.js';
import { EngineSession } from '../../src/engine/session.js';

/** Seeded uniform numbers in [lo, hi). */
export function seededUniform(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0 || 1;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

export interface GradCase {
  /** Float inputs to differentiate: name, shape and (optionally) a value range. */
  inputs: { name: string; shape: number[]; lo?: number; hi?: number }[];
  /** Build the output from the inputs (in the same order). */
  build: (g: Graph, xs: Value[]) => Value;
  seed?: number;
  h?: number;
  rtol?: number;
  atol?: number;
}

export interface GradCheckResult {
  maxAbsError: number;
  maxRelError: number;
  checked: number;
}

export async function checkGradients(name: string, c: GradCase): Promise<GradCheckResult> {
  const rand = seededUniform(c.seed ?? 7);
  const g = new Graph(`gradcheck_${name.replace(/\W+/g, '_')}`, 'float64');
  const xs = c.inputs.map((i) => g.floatInput(i.name, i.shape));
  const y = c.build(g, xs);
  const w = g.floatConst('w', y.shape, Array.from({ length: sizeOf(y.shape) }, () => rand()));
  const loss = g.sumAll(g.mul(y, w));
  const grads = gradients(g, loss, xs);
  g.output(loss, 'loss');
  grads.forEach((d, k) => g.output(d, `grad_${c.inputs[k].name}`));
  const session = await EngineSession.compile(g);
  try {
    const data = c.inputs.map((i) => Float64Array.from({ length: sizeOf(i.shape) }, () => rand(i.lo ?? -1, i.hi ?? 1)));
    const feeds = () => Object.fromEntries(c.inputs.map((i, k) => [i.name, data[k]]));
    const base = await session.run(feeds());
    const h = c.h ?? 1e-6;
    const rtol = c.rtol ?? 1e-5;
    const atol = c.atol ?? 1e-7;
    let maxAbsError = 0;
    let maxRelError = 0;
    let checked = 0;
    for (let k = 0; k < c.inputs.length; k++) {
      const analytic = base[`grad_${c.inputs[k].name}`] as Float64Array;
      for (let e = 0; e < data[k].length; e++) {
        const x0 = data[k][e];
        data[k][e] = x0 + h;
        const up = ((await session.run(feeds(), ['loss'])).loss as Float64Array)[0];
        data[k][e] = x0 - h;
        const down = ((await session.run(feeds(), ['loss'])).loss as Float64Array)[0];
        data[k][e] = x0;
        const numeric = (up - down) / (2 * h);
        const err = Math.abs(analytic[e] - numeric);
        maxAbsError = Math.max(maxAbsError, err);
        maxRelError = Math.max(maxRelError, err / Math.max(1e-12, Math.abs(numeric)));
        checked++;
        assert.ok(err <= atol + rtol * Math.abs(numeric), `${name}: d loss / d ${c.inputs[k].name}[${e}] analytic ${analytic[e]} vs finite difference ${numeric} (error ${err})`);
      }
    }
    return { maxAbsError, maxRelError, checked };
  } finally {
    await session.dispose();
  }
}
