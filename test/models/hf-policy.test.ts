// Policies from Hugging Face checkpoint directories (fixtures written by test/helpers/hf-fixtures.ts):
// Qwen2 (q/k/v biases, untied head, GQA) saved as sharded BF16, Llama (tied head, saved anyway) as one
// F16 file and a Llama 3.2-style checkpoint (rope_scaling llama3) load into the tfjs decoder, with LoRA on top, and give the logits of the same
// weights' optimum-layout ONNX graph run by ONNX Runtime within 1e-3; bad checkpoints (unsupported
// architecture or rope scaling, a missing shard, a tokenizer of another model) get errors naming the file.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { exitCodeOf, HfModelError } from '../../src/errors.js';
import { createSession, float32Data } from '../../src/experts/ort.js';
import { buildFeeds, planFeeds } from '../../src/experts/feeds.js';
import { selectBackend } from '../../src/models/backend.js';
import { decoderConfig, ropeInvFreq, type DecoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { readHfCheckpoint, readHfTokenizer } from '../../src/models/hf/policy.js';
import { readOnnxModelFile } from '../../src/models/onnx/model-file.js';
import type { SafetensorsDtype } from '../../src/models/safetensors.js';
import { fixtureTokenizerVocabSize, roundWeights, writeHfModelDir, writeOptimumDir } from '../helpers/hf-fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { leftPaddedPrompts, randomWeights } from './decoder-fixtures.js';

const root = tempDir('hf-policy-');
after(() => rmSync(root, { recursive: true, force: true }));
before(async () => {
  await selectBackend('cpu');
});

const V = fixtureTokenizerVocabSize();
const QWEN = decoderConfig({ family: 'qwen2', vocabSize: V + 6, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 56, attentionBias: true, tieWordEmbeddings: false, ropeTheta: 1e6, rmsNormEps: 1e-6 });
const LLAMA3 = decoderConfig({
  family: 'llama', vocabSize: V, hiddenSize: 32, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 16, intermediateSize: 40, tieWordEmbeddings: true, rmsNormEps: 1e-5, ropeTheta: 500000,
  ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
});
const LLAMA = decoderConfig({ family: 'llama', vocabSize: V, hiddenSize: 24, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 16, intermediateSize: 40, tieWordEmbeddings: true, rmsNormEps: 1e-5 });

const CASES: { label: string; c: DecoderConfig; dtype: SafetensorsDtype; shards: number; task: 'text-generation' | 'text-generation-with-past' }[] = [
  { label: 'Qwen2 (biases, untied, GQA), BF16 in 3 shards', c: QWEN, dtype: 'BF16', shards: 3, task: 'text-generation-with-past' },
  { label: 'Llama (tied head saved anyway, headDim 16), F16 single file', c: LLAMA, dtype: 'F16', shards: 1, task: 'text-generation' },
  { label: 'Llama 3.2-style (rope_scaling llama3, theta 5e5), BF16', c: LLAMA3, dtype: 'BF16', shards: 1, task: 'text-generation-with-past' },
];

for (const { label, c, dtype, shards, task } of CASES) {
  test(`HF checkpoint ${label}: tfjs logits (LoRA attached) match the ONNX export within 1e-3`, async (t) => {
    const weights = roundWeights(randomWeights(c, 21), dtype); // what the checkpoint holds
    const tag = label.replace(/[^a-z0-9]+/gi, '-');
    const hfDir = join(root, `${tag}-hf`);
    writeHfModelDir(hfDir, c, weights, { dtype, shards, saveTiedHead: c.tieWordEmbeddings });
    const onnxDir = join(root, `${tag}-onnx`);
    const onnxFile = writeOptimumDir(onnxDir, c, weights, { task });

    const checkpoint = readHfCheckpoint(hfDir);
    assert.deepEqual(checkpoint.architecture, c);
    const tokenizer = readHfTokenizer(checkpoint, 'policy');
    const texts = ['<|im_start|>user\nWhat is 3 + 4? Then add 15 to it and halve the result.<|im_end|>', 'Sort 9, 2, 5.'];
    const encoded = texts.map((x) => tokenizer.encode(x));
    const T = Math.max(...encoded.map((e) => e.length));
    const ids = encoded.map((e) => [...new Array<number>(T - e.length).fill(0), ...e]);
    const mask = encoded.map((e) => [...new Array<number>(T - e.length).fill(0), ...e.map(() => 1)]);

    const decoder = new TfDecoder(checkpoint.architecture, checkpoint.weights, { name: `hf_${c.family}` });
    decoder.attachLora({ rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'], seed: 3 });
    const out = decoder.forward({ inputIds: ids, attentionMask: mask });
    const tfLogits = await out.logits.data();
    out.logits.dispose();
    out.finalHidden.dispose();
    decoder.dispose();

    const { model } = readOnnxModelFile(onnxFile);
    const session = await createSession(onnxFile, { intraOpThreads: 1 });
    const result = await session.run(buildFeeds(planFeeds(model, onnxFile), ids, mask), ['logits']);
    const ortLogits = float32Data(result.logits, 'logits');
    await session.dispose();

    let diff = 0;
    for (let b = 0; b < ids.length; b++) {
      for (let s = 0; s < T; s++) {
        if (mask[b][s] === 0) continue; // padded positions are not defined the same way
        for (let v = 0; v < c.vocabSize; v++) {
          const i = (b * T + s) * c.vocabSize + v;
          diff = Math.max(diff, Math.abs(tfLogits[i] - ortLogits[i]));
        }
      }
    }
    t.diagnostic(`max |logit diff| ${diff.toExponential(2)}`);
    assert.ok(diff < 1e-3, `max abs logit difference ${diff}`);
    assert.ok(Math.max(...Array.from(ortLogits, Math.abs)) > 0.05, 'the logits are not trivially small');
  });
}

test('Llama 3 rope scaling: inverse frequencies equal transformers\' formula (values from a numpy transcription) in all three bands', () => {
  // numpy: inv = base ** -(arange(0, D, 2) / D); wavelen = 2 pi / inv; divide by factor where wavelen > old / low,
  // keep where wavelen < old / high, else (1 - s) inv / factor + s inv with s = (old / wavelen - low) / (high - low).
  const expected = [1.0, 0.19392274474868576, 0.03760603093086393, 0.0072926647372171085, 0.00042955679655936815, 8.570255489881478e-6, 1.661967467795309e-6, 3.2229329303788936e-7];
  const got = ropeInvFreq(LLAMA3);
  expected.forEach((e, j) => assert.ok(Math.abs(got[j] - e) <= 1e-12 * e, `inv_freq[${j}] ${got[j]} vs ${e}`));
  assert.notEqual(got[4], ropeInvFreq({ ...LLAMA3, ropeScaling: undefined })[4]); // the medium band is interpolated
  const config = JSON.parse(readFileSync(join(root, 'Llama-3-2-style-rope-scaling-llama3-theta-5e5-BF16-hf', 'config.json'), 'utf8')) as { rope_scaling: unknown };
  assert.deepEqual(config.rope_scaling, { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
});

test('HF checkpoints: bad input gets errors naming the file and what is supported', () => {
  const weights = randomWeights(LLAMA, 4);
  const base = join(root, 'bad-base');
  writeHfModelDir(base, LLAMA, weights, { shards: 2 });
  const config = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as Record<string, unknown>;
  const withConfig = (name: string, patch: Record<string, unknown>) => {
    const dir = join(root, name);
    writeHfModelDir(dir, LLAMA, weights, {});
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...patch }));
    return dir;
  };

  assert.throws(() => readHfCheckpoint(withConfig('gpt2', { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' })), (e: Error) => {
    assert.ok(e instanceof HfModelError);
    assert.equal(exitCodeOf(e), 1);
    assert.match(e.message, /gpt2\/config\.json: unsupported architecture GPT2LMHeadModel; supported: LlamaForCausalLM \(model_type llama\), Qwen2ForCausalLM \(model_type qwen2\)/);
    return true;
  });
  assert.throws(() => readHfCheckpoint(withConfig('rope', { rope_scaling: { rope_type: 'yarn', factor: 4 } })), /rope\/config\.json: cannot load this model: rope_scaling .* is not supported \(supported: none, or rope_type llama3/);

  rmSync(join(base, 'model-00002-of-00002.safetensors'));
  assert.throws(() => readHfCheckpoint(base), /missing shard .*bad-base\/model-00002-of-00002\.safetensors \(listed in .*model\.safetensors\.index\.json\)/);

  const small = withConfig('small-vocab', { vocab_size: 40 });
  assert.throws(() => readHfCheckpoint(small), /small-vocab: the weights do not match config\.json: model\.embed_tokens\.weight in .*model\.safetensors has shape/);
  assert.throws(
    () => readHfTokenizer({ dir: small, architecture: { ...LLAMA, vocabSize: 40 } }, 'policy'),
    /small-vocab\/tokenizer\.json has \d+ ids but .*small-vocab\/config\.json gives vocab_size 40: the tokenizer belongs to another model/,
  );
  assert.throws(() => readHfCheckpoint(join(root, 'nowhere')), /nowhere is not a directory/);
});
