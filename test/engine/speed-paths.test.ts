// The engine's speed paths keep their results: top-p sampling ordered lazily by a heap draws the same
// tokens as sorting every index first (the reference below, the previous implementation); the default
// thread choice runs graphs of small matrix products on one intra-op thread and leaves large ones to ORT.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Graph, attr } from '../../src/engine/graph.js';
import { SMALL_PRODUCT_FLOPS, singleThreadGraph } from '../../src/engine/session.js';
import { sampleToken } from '../../src/models/sampling.js';
import { PyRandom } from '../../tasks/common/rng.js';

/** Top-p by a full sort (most probable first, ties in index order). */
function sortedTopP(logits: Float32Array, temperature: number, topP: number, u: number): number {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const probs = Array.from(logits, (x) => Math.exp((x - max) / temperature));
  const total = probs.reduce((a, p) => a + p, 0);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < topP * total)) mass += probs[order[kept++]];
  let target = u * mass;
  for (let j = 0; j < kept; j++) {
    target -= probs[order[j]];
    if (target < 0) return order[j];
  }
  return order[kept - 1];
}

test('top-p sampling draws the tokens of a full sort (ties, peaked and flat rows, several masses)', () => {
  const rng = new PyRandom(5);
  for (let trial = 0; trial < 400; trial++) {
    const n = 1 + (trial % 97);
    const spread = [0.1, 1, 8][trial % 3];
    // Values on a coarse grid so that equal probabilities (ties) are common.
    const logits = Float32Array.from({ length: n }, () => Math.round(rng.random() * 6) * spread);
    const topP = [0.05, 0.5, 0.9, 0.999][trial % 4];
    const temperature = [0.3, 0.7, 1.5][trial % 3];
    const u = rng.random();
    assert.equal(sampleToken(logits, { temperature, topP }, () => u), sortedTopP(logits, temperature, topP, u), `trial ${trial}`);
  }
});

test('graphs of small matrix products default to one intra-op thread, large ones do not', () => {
  const product = (m: number, k: number, n: number) => {
    const g = new Graph(`mm_${m}_${k}_${n}`);
    g.output(g.matmul(g.floatInput('a', [m, k]), g.floatInput('b', [k, n])), 'y');
    return g;
  };
  assert.equal(singleThreadGraph(product(768, 64, 512)), true);
  assert.ok(2 * 2048 * 1024 * 1024 >= SMALL_PRODUCT_FLOPS);
  assert.equal(singleThreadGraph(product(2048, 1024, 1024)), false);
  const gemm = new Graph('gemm_transA');
  gemm.output(gemm.op('Gemm', [gemm.floatInput('a', [4096, 8]), gemm.floatInput('b', [4096, 4096])], { transA: attr.int(1) }), 'y');
  assert.equal(singleThreadGraph(gemm), false, 'Gemm with transA counts K = rows of A');
});
