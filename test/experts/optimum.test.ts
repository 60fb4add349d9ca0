// Experts exported in Hugging Face optimum's layouts (fixtures written by test/helpers/hf-fixtures.ts):
// every layer's located hidden state equals the float64 reference of the same weights, for
// text-generation-with-past (empty KV cache fed; float32, and all-float16 as `--dtype fp16` exports),
// text-generation with float16 weights and external data, and feature-extraction without position_ids (external data loaded inline or through a graph
// file beside the model); chat templates wrap prompts; inspect shows the located tensors; bad inputs
// (no locatable layers, mismatched tokenizer, missing data file, merged decoder) get clear errors.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { formatInspection, inspectModel } from '../../src/experts/inspect.js';
import { ExpertRunner } from '../../src/experts/runner.js';
import { decoderConfig, type DecoderConfig, type DecoderWeights } from '../../src/models/decoder-config.js';
import { readOnnxModelFile } from '../../src/models/onnx/model-file.js';
import { DataType, encodeModel, floatTensor } from '../../src/models/onnx/onnx-proto.js';
import { attr, toAttributeProto, valueInfo } from '../../src/models/onnx/graph-builder.js';
import { referenceForward } from '../../src/models/reference.js';
import { loadTokenizer } from '../../src/models/tokenizer/hf.js';
import { CHATML_TEMPLATE, type OptimumOnnxOptions, fixtureTokenizerVocabSize, roundWeights, writeOptimumDir } from '../helpers/hf-fixtures.js';
import { randomWeights } from '../models/decoder-fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const root = tempDir('optimum-');
after(() => rmSync(root, { recursive: true, force: true }));

const PROMPTS = ['What is 12 + 7?', 'x', 'Sort: 3, 1, 2 and then 9'];
const V = fixtureTokenizerVocabSize();
const LLAMA = decoderConfig({ family: 'llama', vocabSize: V + 2, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48, rmsNormEps: 1e-5, tieWordEmbeddings: true });
const QWEN = decoderConfig({ family: 'qwen2', vocabSize: V, hiddenSize: 24, numLayers: 3, numHeads: 2, numKvHeads: 1, intermediateSize: 40, attentionBias: true, tieWordEmbeddings: false, ropeTheta: 1e6 });

function fixture(name: string, c: DecoderConfig, options: OptimumOnnxOptions & { chatTemplate?: string | null }, seed = 5): { dir: string; weights: DecoderWeights } {
  let weights = randomWeights(c, seed);
  if (options.fp16Weights || options.fp16Graph) weights = roundWeights(weights, 'F16');
  const dir = join(root, name);
  writeOptimumDir(dir, c, weights, options);
  return { dir, weights };
}

function referenceStates(c: DecoderConfig, weights: DecoderWeights, dir: string, text: string): Float64Array[][] {
  const ids = loadTokenizer(dir).encode(text);
  return referenceForward(c, weights, { inputIds: [ids], attentionMask: [ids.map(() => 1)] }).hiddenStates.map((layer) => layer[0]);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CASES: [string, DecoderConfig, OptimumOnnxOptions, number?, number?][] = [
  ['llama text-generation-with-past, fp32', LLAMA, { task: 'text-generation-with-past' }],
  // float16 activations: the states carry float16 rounding (relative ~1e-3), hence the looser bound.
  ['llama text-generation-with-past, whole graph float16 (--dtype fp16), float16 KV inputs', LLAMA, { task: 'text-generation-with-past', fp16Graph: true, externalData: true }, undefined, 3e-2],
  ['qwen2 text-generation, fp16 weights + external data', QWEN, { task: 'text-generation', fp16Weights: true, externalData: true }],
  ['qwen2 feature-extraction, no position_ids, external data via a graph file beside the model', QWEN, { task: 'feature-extraction', externalData: true, positionIds: false }, 0],
];

for (const [label, c, options, inlineLimit, tolerance = 1e-4] of CASES) {
  test(`optimum layout: ${label}: every layer's last-token state equals the reference`, async (t) => {
    const name = label.replace(/[^a-z0-9]+/gi, '-');
    const { dir, weights } = fixture(name, c, options);
    const refs = PROMPTS.map((p) => referenceStates(c, weights, dir, p));
    let worst = 0;
    for (const layer of [0, 1, -1]) {
      const runner = await ExpertRunner.open({ name, model: dir, layer, pooling: 'last', batchSize: 3, intraOpThreads: 1, inlineExternalDataBytes: inlineLimit });
      try {
        assert.equal(runner.numLayers, c.numLayers);
        assert.equal(runner.width, c.hiddenSize);
        const states = await runner.extract(PROMPTS); // one padded batch of three lengths
        const index = layer < 0 ? c.numLayers + 1 + layer : layer;
        states.forEach((s, i) => {
          const ref = refs[i][index];
          const diff = maxAbsDiff(s.data, ref[ref.length - 1]);
          worst = Math.max(worst, diff);
          assert.ok(diff < tolerance, `${label} layer ${layer} prompt ${i}: max abs diff ${diff}`);
        });
      } finally {
        await runner.dispose();
      }
    }
    t.diagnostic(`max |state diff| ${worst.toExponential(2)}`);
    if (inlineLimit === 0) assert.ok(readdirSync(dir).some((f) => /^\.model\.musketeers-[0-9a-f]{16}\.onnx$/.test(f)), 'the graph file beside the model');
  });
}

test('optimum layout: chat templates wrap the prompt (auto reads tokenizer_config.json), none leaves it', async () => {
  const { dir, weights } = fixture('chat', LLAMA, { task: 'text-generation-with-past' });
  const runner = await ExpertRunner.open({ name: 'chat', model: join(dir, 'model.onnx'), chatTemplate: 'auto', systemPrompt: 'Be brief.', intraOpThreads: 1 });
  try {
    const rendered = runner.render('2+2?');
    assert.equal(rendered, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n');
    const [state] = await runner.extract(['2+2?']);
    const ref = referenceStates(LLAMA, weights, dir, rendered)[LLAMA.numLayers];
    assert.ok(maxAbsDiff(state.data, ref[ref.length - 1]) < 1e-4);
  } finally {
    await runner.dispose();
  }
  // The start of the reply goes after the generation prompt (experts.prompt: answer-start).
  const chatRunner = await ExpertRunner.open({ name: 'chat2', model: dir, chatTemplate: 'auto', intraOpThreads: 1 });
  assert.equal(chatRunner.render({ user: '2+2?', assistant: '<answer>' }), '<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<answer>');
  await chatRunner.dispose();
  const plain = await ExpertRunner.open({ name: 'plain', model: dir, intraOpThreads: 1 });
  assert.equal(plain.render('2+2?'), '2+2?');
  assert.equal(plain.render({ user: '2+2?\n', assistant: '<answer>' }), '2+2?\n<answer>');
  await plain.dispose();
  const template = join(root, 't.jinja');
  writeFileSync(template, "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}");
  const custom = await ExpertRunner.open({ name: 'custom', model: dir, chatTemplate: template, intraOpThreads: 1 });
  assert.equal(custom.render('hi'), '[user] hi\n[assistant] ');
  await custom.dispose();
  assert.equal(CHATML_TEMPLATE.includes('add_generation_prompt'), true);
});

test('optimum layout: experts inspect shows the located layer outputs and how they were found', () => {
  const { dir } = fixture('inspect', LLAMA, { task: 'text-generation-with-past', externalData: true });
  const r = inspectModel(join(dir, 'model.onnx'));
  assert.ok(r.hiddenStates, r.hiddenStatesError);
  assert.deepEqual(
    r.hiddenStates.tensors.map((t) => t.tensor),
    ['/model/embed_tokens/Gather_output_0', '/model/layers.0/Add_1_output_0', '/model/layers.1/Add_1_output_0'],
  );
  assert.equal(r.hiddenStates.width, LLAMA.hiddenSize);
  const text = formatInspection(r);
  assert.match(text, /module scopes/);
  assert.match(text, /past_key_values\.0\.key/);
  assert.match(text, /layer  2 \( -1\)  \/model\/layers\.1\/Add_1_output_0/);
  assert.match(text, /external data: model\.onnx_data/);
  assert.match(text, /runner feeds: input_ids, attention_mask \(left padding\), position_ids = cumsum\(mask\) - 1; 4 past_key_values inputs fed empty \[batch, 2, 0, 8\] float32/);
});

test('optimum layout: a constant of block 0 shared with block 1 (exporter CSE) does not hide the layer output', async () => {
  const { dir, weights } = fixture('cse', LLAMA, { task: 'text-generation-with-past' });
  const file = join(dir, 'model.onnx');
  const { model } = readOnnxModelFile(file);
  const g = model.graph!;
  // A Constant named in block 0's scope whose value block 1 multiplies its attention output by (1.0).
  const one = { name: '/model/layers.0/self_attn/Constant_99', opType: 'Constant', input: [], output: ['/model/layers.0/self_attn/Constant_99_output_0'], attribute: [toAttributeProto('value', attr.tensor(floatTensor('', [], Float32Array.of(1))))] };
  const o1 = g.node.findIndex((n) => n.name === '/model/layers.1/self_attn/o_proj/MatMul');
  const out = g.node[o1].output[0];
  const scaled = { name: '/model/layers.1/self_attn/Mul_99', opType: 'Mul', input: [`${out}_raw`, one.output[0]], output: [out], attribute: [] };
  const nodes = [one, ...g.node];
  const k = nodes.findIndex((n) => n.name === '/model/layers.1/self_attn/o_proj/MatMul');
  nodes[k] = { ...nodes[k], output: [`${out}_raw`] };
  nodes.splice(k + 1, 0, scaled);
  writeFileSync(file, encodeModel({ ...model, graph: { ...g, node: nodes } }));
  const r = inspectModel(file);
  assert.deepEqual(r.hiddenStates?.tensors.map((t) => t.tensor), ['/model/embed_tokens/Gather_output_0', '/model/layers.0/Add_1_output_0', '/model/layers.1/Add_1_output_0']);
  const runner = await ExpertRunner.open({ name: 'cse', model: dir, layer: 1, intraOpThreads: 1 });
  const [state] = await runner.extract(['abc']);
  await runner.dispose();
  const ref = referenceStates(LLAMA, weights, dir, 'abc')[1];
  assert.ok(maxAbsDiff(state.data, ref[ref.length - 1]) < 1e-4);
});

test('optimum layout: bad inputs get errors naming the file and what is supported', async () => {
  const { dir } = fixture('bad', LLAMA, { task: 'text-generation-with-past', externalData: true });
  const modelFile = join(dir, 'model.onnx');
  const { model } = readOnnxModelFile(modelFile);

  // No scope names: layers cannot be located.
  const anonymous = join(dir, 'anonymous.onnx');
  writeFileSync(anonymous, encodeModel({ ...model, graph: { ...model.graph!, node: model.graph!.node.map((n, i) => ({ ...n, name: `node_${i}` })) } }));
  await assert.rejects(ExpertRunner.open({ name: 'anon', model: anonymous, tokenizer: dir }), (e: Error) => {
    assert.match(e.message, /anonymous\.onnx: no locatable decoder-layer outputs/);
    assert.match(e.message, /Supported: .*hidden_states\.\{i\}.*\/model\/layers\.\{i\}/);
    return true;
  });

  // Merged decoder input.
  const merged = join(dir, 'merged.onnx');
  writeFileSync(merged, encodeModel({ ...model, graph: { ...model.graph!, input: [...model.graph!.input, valueInfo('use_cache_branch', DataType.BOOL, [1])] } }));
  await assert.rejects(ExpertRunner.open({ name: 'merged', model: merged, tokenizer: dir }), /merged\.onnx: a merged decoder \(input use_cache_branch\) is not supported; export without merging/);

  // Tokenizer of another model (more ids than the embedding has rows).
  const small = fixture('small-vocab', decoderConfig({ family: 'llama', vocabSize: 40, hiddenSize: 16, numLayers: 1, numHeads: 2 }), { task: 'feature-extraction' });
  await assert.rejects(ExpertRunner.open({ name: 'mismatch', model: small.dir }), (e: Error) => {
    assert.match(e.message, /expert 'mismatch': tokenizer .* has \d+ ids but model .*small-vocab\/model\.onnx embeds only 40/);
    return true;
  });

  // Missing external data file.
  rmSync(join(dir, 'model.onnx_data'));
  await assert.rejects(ExpertRunner.open({ name: 'nodata', model: dir }), /model\.onnx: external data file .*bad\/model\.onnx_data .* is missing; copy it next to the model/);

  // A directory without a model.
  await assert.rejects(ExpertRunner.open({ name: 'empty', model: root }), /expert 'empty': no model in .*: looked for model\.onnx, onnx\/model\.onnx/);
  assert.ok(existsSync(modelFile));
});
