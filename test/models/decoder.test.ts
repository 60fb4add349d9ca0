// Tests of the tfjs decoder (src/models/decoder.ts) on the deterministic `cpu` backend: parity with the
// float64 reference forward (left padding, GQA/MQA, attention bias, untied head, LoRA), KV-cache greedy
// decoding vs repeated full forwards, gradients vs finite differences of the reference, completion
// log-probs/entropy, seeded sampling, stop conditions and tensor-leak freedom.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { selectBackend } from '../../src/models/backend.js';
import { type DecoderConfig, type DecoderWeights, decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { referenceForward } from '../../src/models/reference.js';
import { argmax, sampleToken } from '../../src/models/sampling.js';
import * as tf from '../../src/models/tf.js';
import { PyRandom } from '../../tasks/common/rng.js';
import { leftPaddedPrompts, maxAbsDiff, randomWeights } from './decoder-fixtures.js';

const CONFIGS: { label: string; config: DecoderConfig }[] = [
  { label: 'GQA tied', config: decoderConfig({ vocabSize: 37, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 40 }) },
  {
    label: 'attention bias, untied, headDim 12',
    config: decoderConfig({ vocabSize: 29, hiddenSize: 20, numLayers: 2, numHeads: 2, headDim: 12, intermediateSize: 24, attentionBias: true, tieWordEmbeddings: false }),
  },
  { label: 'MQA, theta 500', config: decoderConfig({ vocabSize: 23, hiddenSize: 16, numLayers: 3, numHeads: 4, numKvHeads: 1, intermediateSize: 20, ropeTheta: 500, rmsNormEps: 1e-5 }) },
];

before(async () => {
  assert.equal(await selectBackend('cpu'), 'cpu');
});

const flat = (t: tf.Tensor) => t.dataSync() as Float32Array;

/** Reference log p(completion | prefix, prompt) per token, float64, one row at a time, no padding. */
function referenceLogProbs(c: DecoderConfig, w: DecoderWeights, prompt: number[], completion: number[], prefix: number[][] = []): number[] {
  const table = w.get('model.embed_tokens.weight')!.data;
  const ids = [...prompt, ...completion.slice(0, -1)];
  const embeds = [...prefix, ...ids.map((id) => Array.from(table.subarray(id * c.hiddenSize, (id + 1) * c.hiddenSize)))];
  const ref = referenceForward(c, w, { inputsEmbeds: [embeds], attentionMask: [embeds.map(() => 1)] });
  return completion.map((id, t) => {
    const logits = ref.logits[0][prefix.length + prompt.length - 1 + t];
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
    return logits[id] - lse;
  });
}

test('(a) forward matches the float64 reference with left padding: logits, every hidden state, final norm', () => {
  for (const { label, config } of CONFIGS) {
    const w = randomWeights(config, 11);
    const dec = new TfDecoder(config, w);
    const { ids, mask } = leftPaddedPrompts(config.vocabSize, [7, 3, 5, 1], 5);
    const ref = referenceForward(config, w, { inputIds: ids, attentionMask: mask });
    const out = dec.forward({ inputIds: ids, attentionMask: mask }, { outputHiddenStates: true });
    assert.deepEqual(out.logits.shape, [4, 7, config.vocabSize]);
    assert.equal(out.hiddenStates!.length, config.numLayers + 1);
    const errors = [maxAbsDiff(flat(out.logits), ref.logits), maxAbsDiff(flat(out.finalHidden), ref.finalHidden), ...out.hiddenStates!.map((h, i) => maxAbsDiff(flat(h), ref.hiddenStates[i]))];
    const worst = Math.max(...errors);
    assert.ok(worst < 1e-4, `${label}: max abs diff ${worst}`);
    // The outputs are not trivially small: the comparison can fail.
    assert.ok(Math.max(...flat(out.logits).map(Math.abs)) > 0.5, `${label}: logits suspiciously small`);
    tf.dispose([out.logits, out.finalHidden, ...out.hiddenStates!]);

    // The same through inputsEmbeds and with the mask given as a tensor.
    const emb = dec.embed(ids);
    const maskT = tf.tensor2d(mask);
    const viaEmbeds = dec.forward({ inputsEmbeds: emb, attentionMask: maskT });
    assert.ok(maxAbsDiff(flat(viaEmbeds.logits), ref.logits) < 1e-4, `${label}: inputsEmbeds path`);
    tf.dispose([emb, maskT, viaEmbeds.logits, viaEmbeds.finalHidden]);
    dec.dispose();
  }
});

test('(f) prefixEmbeds equals inputsEmbeds = concat(prefix, embed(ids)) with mask ones for the prefix', () => {
  const config = CONFIGS[0].config;
  const dec = new TfDecoder(config, randomWeights(config, 3));
  const { ids, mask } = leftPaddedPrompts(config.vocabSize, [4, 2], 9);
  const prefix = tf.randomNormal([2, 3, config.hiddenSize], 0, 1, 'float32', 42) as tf.Tensor3D;
  const a = dec.forward({ prefixEmbeds: prefix, inputIds: ids, attentionMask: mask }, { outputHiddenStates: true });
  const emb = dec.embed(ids);
  const cat = tf.concat([prefix, emb], 1);
  const b = dec.forward({ inputsEmbeds: cat, attentionMask: mask.map((r) => [1, 1, 1, ...r]) }, { outputHiddenStates: true });
  assert.deepEqual(a.logits.shape, [2, 7, config.vocabSize]);
  assert.equal(Math.max(...flat(tf.abs(tf.sub(a.logits, b.logits)))), 0);
  assert.equal(Math.max(...flat(tf.abs(tf.sub(a.hiddenStates![0], cat)))), 0);
  // And the prefix matters.
  const none = dec.forward({ inputIds: ids, attentionMask: mask });
  const tail = tf.slice(a.logits, [0, 3, 0], [2, 4, config.vocabSize]);
  assert.ok(Math.max(...flat(tf.abs(tf.sub(tail, none.logits)))) > 1e-3);
  tf.dispose([prefix, emb, cat, tail, a.logits, a.finalHidden, ...a.hiddenStates!, b.logits, b.finalHidden, ...b.hiddenStates!, none.logits, none.finalHidden]);
  dec.dispose();
});

test('sequenceLogProbs equals the reference log-softmax, is padding-invariant, and entropy matches', () => {
  const config = CONFIGS[1].config;
  const w = randomWeights(config, 21);
  const dec = new TfDecoder(config, w);
  const promptIds = [[3, 4, 5, 6], [7], [1, 2]];
  const completionIds = [[8, 9], [10, 11, 12, 13], []];
  const scores = dec.completionScores({ promptIds, completionIds });
  assert.deepEqual(scores.logProbs.shape, [3, 4]);
  const lp = scores.logProbs.arraySync();
  assert.deepEqual(scores.mask.arraySync(), [[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]]);
  for (let b = 0; b < 3; b++) {
    const expected = completionIds[b].length ? referenceLogProbs(config, w, promptIds[b], completionIds[b]) : [];
    for (let t = 0; t < 4; t++) {
      if (t < expected.length) assert.ok(Math.abs(lp[b][t] - expected[t]) < 1e-4, `row ${b} token ${t}: ${lp[b][t]} vs ${expected[t]}`);
      else assert.equal(lp[b][t], 0);
    }
  }
  // Row 0 alone (no padding at all) gives the same numbers.
  const alone = dec.sequenceLogProbs({ promptIds: [promptIds[0]], completionIds: [completionIds[0]] });
  assert.ok(Math.abs(alone.arraySync()[0][1] - lp[0][1]) < 1e-5);
  // Entropy from the full forward's logits.
  const ids = [...promptIds[1], ...completionIds[1].slice(0, -1)];
  const full = dec.forward({ inputIds: [ids], attentionMask: [ids.map(() => 1)] });
  const logits = full.logits.arraySync()[0];
  const ent = scores.entropy!.arraySync();
  for (let t = 0; t < 4; t++) {
    const row = logits[promptIds[1].length - 1 + t];
    const max = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
    const h = -row.reduce((s, v) => s + (Math.exp(v - max) / z) * (v - max - Math.log(z)), 0);
    assert.ok(Math.abs(ent[1][t] - h) < 1e-4, `entropy ${ent[1][t]} vs ${h}`);
  }
  assert.equal(ent[2][0], 0);
  tf.dispose([scores.logProbs, scores.entropy!, scores.mask, alone, full.logits, full.finalHidden]);
  dec.dispose();
});

test('(c) gradients of sequenceLogProbs match central finite differences of the float64 reference', () => {
  const config = decoderConfig({ vocabSize: 13, hiddenSize: 8, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 12, attentionBias: true, tieWordEmbeddings: false });
  const w = randomWeights(config, 5, 0.4);
  const dec = new TfDecoder(config, w, { trainable: true });
  const promptIds = [[1, 2, 3], [4]];
  const completionIds = [[5, 6], [7, 8, 9]];
  const coef = [[0.7, -1.3, 0], [1.1, 0.4, -0.9]]; // a GRPO-like weighted sum of token log-probs
  const prefix = [[0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0.0, 0.6], [-0.1, 0.4, 0.2, -0.5, 0.3, 0.1, -0.2, 0.2]]; // K = 1
  const prefixT = tf.tensor3d(prefix.map((p) => [p]), [2, 1, 8]);

  const lossTf = () => tf.sum(tf.mul(dec.sequenceLogProbs({ prefixEmbeds: prefixT, promptIds, completionIds }), tf.tensor2d(coef))) as tf.Scalar;
  const lossRef = (weights: DecoderWeights, pre = prefix) =>
    promptIds.reduce((s, p, b) => s + referenceLogProbs(config, weights, p, completionIds[b], [pre[b]]).reduce((a, v, t) => a + coef[b][t] * v, 0), 0);

  const probes: [string, number][] = [
    ['model.embed_tokens.weight', 2 * 8 + 3], // token 2 of prompt 0: gather gradient
    ['model.embed_tokens.weight', 9 * 8 + 1], // token 9 is only a target (no gradient through the lookup)
    ['model.layers.0.self_attn.q_proj.weight', 5],
    ['model.layers.0.self_attn.k_proj.bias', 1],
    ['model.layers.1.self_attn.v_proj.weight', 17],
    ['model.layers.1.self_attn.o_proj.weight', 30],
    ['model.layers.0.mlp.gate_proj.weight', 40],
    ['model.layers.1.mlp.down_proj.weight', 7],
    ['model.layers.0.input_layernorm.weight', 4],
    ['model.norm.weight', 2],
    ['lm_head.weight', 6 * 8 + 5],
  ];
  const names = [...new Set(probes.map(([n]) => n))];
  const { value, grads } = tf.variableGrads(lossTf, names.map((n) => dec.variable(n)));
  assert.ok(Math.abs(value.dataSync()[0] - lossRef(w)) < 1e-4);
  const eps = 1e-3;
  for (const [name, index] of probes) {
    const analytic = (grads[dec.variable(name).name].dataSync() as Float32Array)[index];
    const data = w.get(name)!.data;
    const orig = data[index];
    data[index] = orig + eps;
    const up = Math.fround(orig + eps);
    const fPlus = lossRef(w);
    data[index] = orig - eps;
    const down = Math.fround(orig - eps);
    const fMinus = lossRef(w);
    data[index] = orig;
    const numeric = (fPlus - fMinus) / (up - down);
    assert.ok(Math.abs(analytic - numeric) <= 1e-2 * Math.abs(numeric) + 1e-4, `${name}[${index}]: analytic ${analytic} vs numeric ${numeric}`);
  }
  // The lm_head probe and a layer probe are far from zero, so the check is not vacuous.
  assert.ok(Math.abs((grads[dec.variable('lm_head.weight').name].dataSync() as Float32Array)[6 * 8 + 5]) > 1e-3);

  // Gradient with respect to the soft prefix (what trains the router).
  const gPrefix = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(dec.sequenceLogProbs({ prefixEmbeds: p as tf.Tensor3D, promptIds, completionIds }), tf.tensor2d(coef))))(prefixT);
  const gp = gPrefix.dataSync();
  for (const [b, j] of [[0, 2], [1, 5]]) {
    const plus = prefix.map((r) => [...r]);
    const minus = prefix.map((r) => [...r]);
    plus[b][j] += eps;
    minus[b][j] -= eps;
    const numeric = (lossRef(w, plus) - lossRef(w, minus)) / (2 * eps);
    assert.ok(Math.abs(gp[b * 8 + j] - numeric) <= 1e-2 * Math.abs(numeric) + 1e-4, `prefix[${b}][${j}]: ${gp[b * 8 + j]} vs ${numeric}`);
  }
  tf.dispose([value, gPrefix, prefixT, ...Object.values(grads)]);
  dec.dispose();
});

test('shared prompt pass (rowPrompt): scores, entropy and gradients equal one pass per row', () => {
  const config = decoderConfig({ vocabSize: 17, hiddenSize: 8, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 12, attentionBias: true, tieWordEmbeddings: false });
  const dec = new TfDecoder(config, randomWeights(config, 8, 0.4), { trainable: true });
  dec.attachLora({ rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'], seed: 3 });
  for (const v of dec.loraVariables().values()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 1)); // B != 0
  const prompts = [[1, 2, 3], [4], [5, 6]]; // P = 3, different lengths -> left padding
  const rowPrompt = [0, 0, 1, 1, 1, 2]; // groups of different sizes
  const completionIds = [[7, 8], [9], [10, 11, 12], [], [13, 14], [15, 16, 7, 8]]; // C = 1 and empty rows too
  const coef = completionIds.map((_, r) => [0.5 - r * 0.2, 1, -0.7, 0.3]);
  const prefix = tf.randomNormal([3, 2, 8], 0, 1, 'float32', 5) as tf.Tensor3D; // [P, K, H]
  const prefixRows = tf.gather(prefix, tf.tensor1d(rowPrompt, 'int32')) as tf.Tensor3D; // [R, K, H]
  const vars = [...dec.loraVariables().values(), dec.variable('model.layers.0.self_attn.k_proj.weight'), dec.variable('lm_head.weight')];
  const run = (shared: boolean) => {
    const batch = shared ? { prefixEmbeds: prefix, promptIds: prompts, completionIds, rowPrompt } : { prefixEmbeds: prefixRows, promptIds: rowPrompt.map((p) => prompts[p]), completionIds };
    const scores = dec.completionScores(batch, true);
    const out = { logp: scores.logProbs.arraySync(), entropy: scores.entropy!.arraySync(), mask: scores.mask.arraySync() };
    tf.dispose([scores.logProbs, scores.entropy!, scores.mask]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(dec.sequenceLogProbs(batch), tf.tensor2d(coef))) as tf.Scalar, vars);
    const g = vars.map((v) => Array.from(grads[v.name].dataSync()));
    tf.dispose([value, ...Object.values(grads)]);
    return { ...out, g };
  };
  const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i])));
  const a = run(true);
  const b = run(false);
  assert.deepEqual(a.mask, b.mask);
  assert.deepEqual(a.mask.map((r) => r.reduce((s, x) => s + x, 0)), [2, 1, 3, 0, 2, 4]);
  for (const key of ['logp', 'entropy'] as const) {
    assert.ok(maxDiff(a[key].flat(), b[key].flat()) < 1e-5, `${key}: ${maxDiff(a[key].flat(), b[key].flat())}`);
  }
  assert.equal(a.logp[3].every((x) => x === 0), true);
  a.g.forEach((g, i) => {
    const scale = Math.max(...b.g[i].map(Math.abs));
    assert.ok(scale > 1e-4, `gradient ${i} is zero: the comparison would be vacuous`);
    assert.ok(maxDiff(g, b.g[i]) < 1e-4 * Math.max(1, scale), `gradient ${vars[i].name}: ${maxDiff(g, b.g[i])}`);
  });
  // Gradient with respect to the per-prompt prefix = the per-row prefix gradients summed over each group.
  const loss = (p: tf.Tensor, shared: boolean) =>
    tf.sum(tf.mul(dec.sequenceLogProbs(shared ? { prefixEmbeds: p as tf.Tensor3D, promptIds: prompts, completionIds, rowPrompt } : { prefixEmbeds: p as tf.Tensor3D, promptIds: rowPrompt.map((q) => prompts[q]), completionIds }), tf.tensor2d(coef)));
  const gShared = tf.grad((p: tf.Tensor) => loss(p, true))(prefix);
  const gRows = tf.grad((p: tf.Tensor) => loss(p, false))(prefixRows);
  const summed = tf.unsortedSegmentSum(gRows, tf.tensor1d(rowPrompt, 'int32'), 3);
  assert.ok(maxDiff(Array.from(gShared.dataSync()), Array.from(summed.dataSync())) < 1e-4);
  assert.throws(() => dec.completionScores({ promptIds: prompts, completionIds: [[1]], rowPrompt: [3] }), /rowPrompt\[0\] = 3 is not a prompt index in 0..2/);
  assert.throws(() => dec.completionScores({ promptIds: prompts, completionIds: [[1], [2]], rowPrompt: [0] }), /rowPrompt has 1 entries for 2 completions/);
  tf.dispose([prefix, prefixRows, gShared, gRows, summed]);
  dec.dispose();
});

test('generate with rowPrompt (one prefill per prompt) samples what repeating the prompts does', async () => {
  const config = CONFIGS[0].config;
  const dec = new TfDecoder(config, randomWeights(config, 19, 0.5));
  const prompts = [[1, 2, 3, 4], [5], [6, 7]];
  const rowPrompt = [0, 0, 0, 1, 1, 2, 2, 2];
  const prefix = tf.randomNormal([3, 2, config.hiddenSize], 0, 1, 'float32', 3) as tf.Tensor3D;
  const prefixRows = tf.gather(prefix, tf.tensor1d(rowPrompt, 'int32')) as tf.Tensor3D;
  for (const temperature of [0, 1]) {
    const common = { maxNewTokens: 5, temperature, topP: 0.9, seed: 4, eosId: 0 };
    const shared = await dec.generate({ ...common, prefixEmbeds: prefix, promptIds: prompts, rowPrompt });
    const repeated = await dec.generate({ ...common, prefixEmbeds: prefixRows, promptIds: rowPrompt.map((p) => prompts[p]) });
    assert.deepEqual(shared, repeated, `temperature ${temperature}`);
    if (temperature > 0) assert.notDeepEqual(shared.tokens[0], shared.tokens[1], 'rows of one prompt should sample differently');
  }
  await assert.rejects(dec.generate({ promptIds: prompts, rowPrompt: [0, 3], maxNewTokens: 1, temperature: 0, topP: 1, seed: 0 }), /rowPrompt\[1\] = 3 is not a prompt index in 0..2/);
  tf.dispose([prefix, prefixRows]);
  dec.dispose();
});

test('(b) KV-cache greedy generation equals argmax of repeated full forwards (padded batch, soft prefix)', async () => {
  for (const { label, config } of [CONFIGS[0], CONFIGS[2]]) {
    const dec = new TfDecoder(config, randomWeights(config, 17, 0.5));
    const promptIds = [[1, 2, 3, 4, 5], [6], [7, 8, 9]];
    for (const withPrefix of [false, true]) {
      const prefix = withPrefix ? (tf.randomNormal([3, 2, config.hiddenSize], 0, 1, 'float32', 7) as tf.Tensor3D) : undefined;
      const out = await dec.generate({ prefixEmbeds: prefix, promptIds, maxNewTokens: 6, temperature: 0, topP: 1, seed: 0 });
      assert.deepEqual(out.finishReason, ['length', 'length', 'length']);
      for (let b = 0; b < promptIds.length; b++) {
        const seq = [...promptIds[b]];
        const rowPrefix = prefix ? tf.slice(prefix, [b, 0, 0], [1, 2, config.hiddenSize]) : undefined;
        for (let step = 0; step < 6; step++) {
          const f = dec.forward({ prefixEmbeds: rowPrefix, inputIds: [seq], attentionMask: [seq.map(() => 1)] });
          const last = tf.slice(f.logits, [0, f.logits.shape[1] - 1, 0], [1, 1, config.vocabSize]);
          seq.push(argmax(last.dataSync()));
          tf.dispose([f.logits, f.finalHidden, last]);
        }
        rowPrefix?.dispose();
        assert.deepEqual(out.tokens[b], seq.slice(promptIds[b].length), `${label}, prefix ${withPrefix}, row ${b}`);
      }
      prefix?.dispose();
    }
    dec.dispose();
  }
});

test('generate: EOS and stop strings end a row (token kept), other rows continue, finished rows stop growing', async () => {
  const config = CONFIGS[0].config;
  const dec = new TfDecoder(config, randomWeights(config, 17, 0.5));
  const promptIds = [[1, 2, 3, 4, 5], [6]];
  const free = await dec.generate({ promptIds, maxNewTokens: 8, temperature: 0, topP: 1, seed: 0 });
  const decode = (ids: number[]) => ids.map((i) => String.fromCharCode(65 + (i % 26))).join('');
  // EOS: the third token of row 0 (first occurrence) becomes the EOS id.
  const eos = free.tokens[0][2];
  const cut = free.tokens[0].indexOf(eos) + 1;
  const withEos = await dec.generate({ promptIds, maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, eosId: eos });
  assert.deepEqual(withEos.tokens[0], free.tokens[0].slice(0, cut));
  assert.equal(withEos.finishReason[0], 'eos');
  const cut1 = free.tokens[1].indexOf(eos) + 1 || 8;
  assert.deepEqual(withEos.tokens[1], free.tokens[1].slice(0, cut1));
  // Stop string: the decoded text of row 1's first two tokens.
  const stop = decode(free.tokens[1].slice(0, 2));
  const withStop = await dec.generate({ promptIds, maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, stopStrings: [stop], decode });
  assert.equal(withStop.finishReason[1], 'stop');
  assert.ok(decode(withStop.tokens[1]).includes(stop));
  assert.ok(!decode(withStop.tokens[1].slice(0, -1)).includes(stop));
  assert.equal(withStop.tokens[0].length === 8, withStop.finishReason[0] === 'length');
  await assert.rejects(dec.generate({ promptIds, maxNewTokens: 2, temperature: 0, topP: 1, seed: 0, stopStrings: ['x'] }), /decode/);
  dec.dispose();
});

test('(e) seeded sampling is reproducible; different seeds differ', async () => {
  const config = CONFIGS[0].config;
  const dec = new TfDecoder(config, randomWeights(config, 2, 0.1));
  const promptIds = [[1, 2], [3], [4, 5, 6], [7]];
  const opts = { promptIds, maxNewTokens: 10, temperature: 1, topP: 0.95 };
  const a = await dec.generate({ ...opts, seed: 123 });
  const b = await dec.generate({ ...opts, seed: 123 });
  const c = await dec.generate({ ...opts, seed: 124 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  // Not greedy: sampled rows differ from argmax decoding.
  const g = await dec.generate({ ...opts, temperature: 0, seed: 123 });
  assert.notDeepEqual(a.tokens, g.tokens);
  dec.dispose();
});

test('sampleToken: greedy, nucleus set, and frequencies follow the softmax', () => {
  const logits = Float32Array.from([Math.log(0.4), Math.log(0.3), Math.log(0.2), Math.log(0.1)]);
  const rng = new PyRandom(1);
  const u = () => rng.random();
  assert.equal(sampleToken(logits, { temperature: 0, topP: 1 }, u), 0);
  assert.equal(sampleToken([1, 5, 5, 2], { temperature: 0, topP: 1 }, u), 1); // ties go to the lowest id
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[sampleToken(logits, { temperature: 1, topP: 0.5 }, u)]++;
  assert.equal(counts[2] + counts[3], 0); // 0.4 < 0.5, 0.4 + 0.3 >= 0.5: nucleus {0, 1}
  assert.ok(Math.abs(counts[0] / 4000 - 4 / 7) < 0.03, `nucleus renormalised: ${counts}`);
  const all = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) all[sampleToken(logits, { temperature: 1, topP: 1 }, u)]++;
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(all[k] / 4000 - [0.4, 0.3, 0.2, 0.1][k]) < 0.03, `frequencies ${all}`);
  assert.throws(() => sampleToken(logits, { temperature: 1, topP: 0 }, u), /topP/);
});

test('LoRA: B = 0 leaves outputs unchanged; trained adapters equal the reference on merged weights', () => {
  const config = CONFIGS[1].config;
  const w = randomWeights(config, 8);
  const dec = new TfDecoder(config, w);
  const { ids, mask } = leftPaddedPrompts(config.vocabSize, [5, 3], 4);
  const base = dec.forward({ inputIds: ids, attentionMask: mask });
  const created = dec.attachLora({ rank: 2, alpha: 4, targets: ['q_proj', 'v_proj', 'down_proj', 'lm_head'], seed: 3 });
  assert.equal(created.length, 2 * (3 * config.numLayers + 1));
  assert.ok(created.every((v) => v.trainable));
  const same = dec.forward({ inputIds: ids, attentionMask: mask });
  assert.equal(Math.max(...flat(tf.abs(tf.sub(base.logits, same.logits)))), 0);

  // Give every B random values, then compare with W' = W + (alpha / r) B A in the reference.
  const lora = dec.getLoraWeights();
  let k = 0;
  for (const [name, t] of lora) if (name.endsWith('lora_B.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.2 * Math.sin(++k);
  dec.setLoraWeights(lora);
  const merged: DecoderWeights = new Map([...w].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }]));
  for (const [name, t] of lora) {
    if (!name.endsWith('lora_A.weight')) continue;
    const module = name.slice('base_model.model.'.length, -'.lora_A.weight'.length);
    const B = lora.get(`base_model.model.${module}.lora_B.weight`)!;
    const W = merged.get(`${module}.weight`)!;
    const [out, inp] = W.shape;
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) for (let r = 0; r < 2; r++) W.data[o * inp + i] += (4 / 2) * B.data[o * 2 + r] * t.data[r * inp + i];
  }
  const adapted = dec.forward({ inputIds: ids, attentionMask: mask });
  const ref = referenceForward(config, merged, { inputIds: ids, attentionMask: mask });
  const err = maxAbsDiff(flat(adapted.logits), ref.logits);
  assert.ok(err < 1e-4, `LoRA vs merged reference: ${err}`);
  assert.ok(Math.max(...flat(tf.abs(tf.sub(base.logits, adapted.logits)))) > 1e-2);
  assert.throws(() => dec.attachLora({ rank: 2, alpha: 4, targets: ['q_proj'] }), /already/);
  tf.dispose([base.logits, base.finalHidden, same.logits, same.finalHidden, adapted.logits, adapted.finalHidden]);
  dec.dispose();
});

test('getWeights / setWeights round trip; trainable flags; errors name the problem', () => {
  const config = CONFIGS[2].config;
  const w = randomWeights(config, 4);
  const dec = new TfDecoder(config, w);
  const got = dec.getWeights();
  assert.deepEqual([...got.keys()], [...w.keys()]);
  for (const [n, t] of w) assert.deepEqual(got.get(n)!.data, t.data);
  const other = randomWeights(config, 5);
  dec.setWeights(other);
  assert.deepEqual(dec.getWeights().get('model.norm.weight')!.data, other.get('model.norm.weight')!.data);
  assert.equal(dec.trainableVariables().length, 0);
  dec.setTrainable(true, (n) => n.includes('mlp'));
  assert.equal(dec.trainableVariables().length, 3 * config.numLayers);
  const broken: DecoderWeights = new Map(w);
  broken.delete('model.norm.weight');
  assert.throws(() => dec.setWeights(broken), /missing model\.norm\.weight/);
  assert.throws(() => dec.forward({ inputIds: [[1, 99]], attentionMask: [[1, 1]] }), /inputIds\[0\]\[1\] = 99 is outside the vocabulary/);
  assert.throws(() => dec.forward({ inputIds: [[1, 2]], attentionMask: [[1]] }), /attentionMask has shape \[1, 1\], expected \[1, 2\]/);
  assert.throws(() => dec.sequenceLogProbs({ promptIds: [[]], completionIds: [[1]] }), /prompt 0 is empty/);
  dec.dispose();
  assert.throws(() => dec.forward({ inputIds: [[1]], attentionMask: [[1]] }), /disposed/);
});

test('(d) no tensor leaks across forward, backward (optimizer with LoRA) and generate steps', async () => {
  const config = CONFIGS[0].config;
  const atStart = tf.memory().numTensors;
  const dec = new TfDecoder(config, randomWeights(config, 6), { trainable: false });
  dec.attachLora({ rank: 2, alpha: 2, targets: ['q_proj', 'v_proj'] });
  const optimizer = tf.train.adam(1e-2);
  const promptIds = [[1, 2, 3], [4]];
  const completionIds = [[5, 6], [7, 8, 9]];
  const prefix = tf.zeros([2, 2, config.hiddenSize]) as tf.Tensor3D;
  const step = async () => {
    const f = dec.forward({ prefixEmbeds: prefix, inputIds: [[1, 2], [0, 3]], attentionMask: [[1, 1], [0, 1]] }, { outputHiddenStates: true });
    tf.dispose([f.logits, f.finalHidden, ...f.hiddenStates!]);
    const cost = optimizer.minimize(() => tf.neg(tf.mean(dec.sequenceLogProbs({ prefixEmbeds: prefix, promptIds, completionIds }))) as tf.Scalar, true, dec.trainableVariables());
    cost?.dispose();
    const s = dec.completionScores({ promptIds, completionIds });
    tf.dispose([s.logProbs, s.entropy!, s.mask]);
    await dec.generate({ prefixEmbeds: prefix, promptIds, maxNewTokens: 4, temperature: 1, topP: 0.9, seed: 1, eosId: 3 });
  };
  await step(); // creates the optimizer's slot variables
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await step();
  assert.equal(tf.memory().numTensors, before);
  // Training changed the adapters (the loss gradient reaches LoRA B).
  const lora = dec.getLoraWeights();
  assert.ok([...lora].some(([n, t]) => n.endsWith('lora_B.weight') && t.data.some((v) => v !== 0)));
  // Disposing the decoder, optimizer and inputs releases everything.
  optimizer.dispose();
  prefix.dispose();
  dec.dispose();
  assert.equal(tf.memory().numTensors, atStart);
});
