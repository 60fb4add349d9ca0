// Tests of the float64 reference decoder: values from an independent Hugging Face-style numpy
// implementation, and structural properties (causality, padding, GQA head mapping, RoPE, tying).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { type DecoderWeights, decoderConfig } from '../../src/models/decoder-config.js';
import { applyRope, positionIds, referenceForward } from '../../src/models/reference.js';
import { leftPaddedPrompts, randomWeights } from './decoder-fixtures.js';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('reference matches an independent HF-style numpy forward (left padding included)', () => {
  // Values printed by test/models/hf-numpy-reference.py (vectorized numpy, HF eager attention with a
  // finfo.min additive mask, rotate_half RoPE, repeat_kv) on the same weights and prompts; regenerate
  // with MUSKETEERS_DUMP_REFERENCE_CASE=/tmp/case.json node --test ... then python3 that script.
  const c = decoderConfig({ vocabSize: 20, hiddenSize: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 24, attentionBias: true, tieWordEmbeddings: false, ropeTheta: 100, rmsNormEps: 1e-5 });
  const w = randomWeights(c, 7, 0.3);
  const ids = [[0, 0, 3, 7, 1, 9], [5, 2, 8, 8, 4, 11]];
  const mask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
  const ref = referenceForward(c, w, { inputIds: ids, attentionMask: mask });
  if (process.env.MUSKETEERS_DUMP_REFERENCE_CASE) {
    writeFileSync(process.env.MUSKETEERS_DUMP_REFERENCE_CASE, JSON.stringify({ config: c, weights: Object.fromEntries([...w].map(([n, t]) => [n, { shape: t.shape, data: Array.from(t.data) }])), ids, mask }));
  }
  const numpy: [number, number, number[]][] = [
    [0, 0, [-0.9504013309201823, 0.409036177242019, 0.2320163647936665, -0.313483899747145]], // a fully masked (pad) row
    [0, 5, [1.1609264470849605, 0.47753081242867734, -0.2521146770564686, -0.20822467556194896]],
    [1, 3, [-0.470271601796508, 0.6893186358188975, -1.2104447255990811, -0.23322202452310864]],
  ];
  for (const [b, t, expected] of numpy) assert.ok(maxDiff(ref.logits[b][t].subarray(0, 4), expected) < 1e-12, `logits[${b}][${t}]`);
  assert.ok(maxDiff(ref.hiddenStates[2][0][1].subarray(0, 4), [-0.1764762598202826, 0.23636358721090822, 0.8604794052386081, 3.0128795071835044]) < 1e-12);
});

test('reference output shapes and hidden-state indexing', () => {
  const c = decoderConfig({ vocabSize: 11, hiddenSize: 8, numLayers: 3, numHeads: 2 });
  const w = randomWeights(c, 3);
  const r = referenceForward(c, w, { inputIds: [[1, 2, 3], [4, 5, 6]], attentionMask: [[1, 1, 1], [1, 1, 1]] });
  assert.equal(r.hiddenStates.length, 4);
  assert.equal(r.hiddenStates[0].length, 2);
  assert.equal(r.hiddenStates[0][1].length, 3);
  assert.equal(r.hiddenStates[3][1][2].length, 8);
  assert.equal(r.logits[1][2].length, 11);
  // hiddenStates[0] is the embedding row of the token
  assert.deepEqual(Array.from(r.hiddenStates[0][1][0]), Array.from(w.get('model.embed_tokens.weight')!.data.subarray(4 * 8, 5 * 8)));
});

test('reference is causal: changing a later token leaves earlier positions unchanged', () => {
  const c = decoderConfig({ vocabSize: 13, hiddenSize: 8, numLayers: 2, numHeads: 2, numKvHeads: 1 });
  const w = randomWeights(c, 5);
  const a = referenceForward(c, w, { inputIds: [[1, 2, 3, 4]], attentionMask: [[1, 1, 1, 1]] });
  const b = referenceForward(c, w, { inputIds: [[1, 2, 3, 9]], attentionMask: [[1, 1, 1, 1]] });
  for (let t = 0; t < 3; t++) assert.equal(maxDiff(a.logits[0][t], b.logits[0][t]), 0);
  assert.ok(maxDiff(a.logits[0][3], b.logits[0][3]) > 1e-3);
});

test('reference: left padding does not change the real positions', () => {
  const c = decoderConfig({ vocabSize: 17, hiddenSize: 12, numLayers: 2, numHeads: 3, headDim: 4, attentionBias: true });
  const w = randomWeights(c, 9);
  const p = leftPaddedPrompts(17, [6, 3], 4);
  const padded = referenceForward(c, w, { inputIds: p.ids, attentionMask: p.mask });
  const alone = referenceForward(c, w, { inputIds: [p.ids[1].slice(3)], attentionMask: [[1, 1, 1]] });
  for (let t = 0; t < 3; t++) {
    assert.ok(maxDiff(padded.logits[1][3 + t], alone.logits[0][t]) < 1e-12);
    for (let l = 0; l <= c.numLayers; l++) assert.ok(maxDiff(padded.hiddenStates[l][1][3 + t], alone.hiddenStates[l][0][t]) < 1e-12);
  }
  // The padding itself: every key hidden, so uniform attention over the row; outputs finite.
  for (const v of padded.logits[1][0]) assert.ok(Number.isFinite(v));
  assert.deepEqual(positionIds([0, 0, 1, 1, 0, 1]), [0, 0, 0, 1, 1, 2]);
});

test('reference GQA: query head h reads KV head floor(h / group), same as MHA with repeated KV weights', () => {
  const gqa = decoderConfig({ vocabSize: 10, hiddenSize: 16, numLayers: 1, numHeads: 4, numKvHeads: 2, attentionBias: true });
  const mha = { ...gqa, numKvHeads: 4 };
  const wg = randomWeights(gqa, 11);
  const wm: DecoderWeights = new Map(wg);
  const D = gqa.headDim;
  const repeatHeads = (data: Float32Array, cols: number) => {
    const out = new Float32Array(4 * D * cols);
    for (let h = 0; h < 4; h++) out.set(data.subarray(Math.floor(h / 2) * D * cols, (Math.floor(h / 2) + 1) * D * cols), h * D * cols);
    return out;
  };
  for (const proj of ['k_proj', 'v_proj']) {
    wm.set(`model.layers.0.self_attn.${proj}.weight`, { shape: [4 * D, 16], data: repeatHeads(wg.get(`model.layers.0.self_attn.${proj}.weight`)!.data, 16) });
    wm.set(`model.layers.0.self_attn.${proj}.bias`, { shape: [4 * D], data: repeatHeads(wg.get(`model.layers.0.self_attn.${proj}.bias`)!.data, 1) });
  }
  const inputs = { inputIds: [[3, 1, 4, 1, 5]], attentionMask: [[1, 1, 1, 1, 1]] };
  const a = referenceForward(gqa, wg, inputs);
  const b = referenceForward(mha, wm, inputs);
  for (let t = 0; t < 5; t++) assert.ok(maxDiff(a.logits[0][t], b.logits[0][t]) < 1e-12);
});

test('reference RoPE: q.k after rotation depends only on the position difference', () => {
  const D = 8;
  const q = Float64Array.from([0.3, -1, 0.5, 2, 0.1, -0.7, 1.2, 0.4]);
  const k = Float64Array.from([1, 0.2, -0.3, 0.8, -1.1, 0.6, 0.05, -0.9]);
  const score = (pq: number, pk: number) => {
    const a = applyRope(q, 1, D, pq, 10000);
    const b = applyRope(k, 1, D, pk, 10000);
    return a.reduce((s, v, i) => s + v * b[i], 0);
  };
  assert.ok(Math.abs(score(5, 2) - score(13, 10)) < 1e-12);
  assert.ok(Math.abs(score(5, 2) - score(5, 4)) > 1e-3);
  assert.deepEqual(Array.from(applyRope(q, 1, D, 0, 10000)), Array.from(q)); // position 0 is the identity
});

test('reference: inputsEmbeds equal to the embedding rows give the inputIds result; tied = untied with a copied head', () => {
  const c = decoderConfig({ vocabSize: 9, hiddenSize: 8, numLayers: 1, numHeads: 2 });
  const w = randomWeights(c, 21);
  const ids = [[2, 7, 1]];
  const emb = w.get('model.embed_tokens.weight')!.data;
  const embeds = [ids[0].map((id) => Array.from(emb.subarray(id * 8, id * 8 + 8)))];
  const a = referenceForward(c, w, { inputIds: ids, attentionMask: [[1, 1, 1]] });
  const b = referenceForward(c, w, { inputsEmbeds: embeds, attentionMask: [[1, 1, 1]] });
  const untied = { ...c, tieWordEmbeddings: false };
  const wu: DecoderWeights = new Map(w);
  wu.set('lm_head.weight', { shape: [9, 8], data: emb.slice() });
  const u = referenceForward(untied, wu, { inputIds: ids, attentionMask: [[1, 1, 1]] });
  for (let t = 0; t < 3; t++) {
    assert.equal(maxDiff(a.logits[0][t], b.logits[0][t]), 0);
    assert.equal(maxDiff(a.logits[0][t], u.logits[0][t]), 0);
  }
  assert.throws(() => referenceForward(c, w, { inputIds: [[9]], attentionMask: [[1]] }), /outside the vocabulary/);
  assert.throws(() => referenceForward(c, w, { inputIds: [[1]], attentionMask: [[2]] }), /only 0 and 1/);
});
