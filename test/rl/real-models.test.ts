// configs/real-models.yaml end to end on stand-ins: its policy.path and experts.onnx entries pointed
// at fixture directories (a sharded BF16 Qwen2 checkpoint with a ChatML template; optimum exports of a
// float16 external-data Llama and a Qwen2 feature extractor), sizes shrunk, and `train` runs two GRPO
// steps without any world: the router reads the two ONNX experts by name, the policy renders its
// prompts with its chat template, and an unknown expert name or a missing policy are errors.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { parse } from 'yaml';

import { validateConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { readJsonl } from '../../src/rl/run-dir.js';
import { loadPolicyFiles, loadPolicyTokenizer, policyChat, policyPromptIds } from '../../src/rl/setup.js';
import { train, type StepMetrics } from '../../src/rl/trainer.js';
import { fixtureTokenizerVocabSize, roundWeights, writeHfModelDir, writeOptimumDir } from '../helpers/hf-fixtures.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { randomWeights } from '../models/decoder-fixtures.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

function realModelsConfig(patch: (raw: Record<string, any>) => void): Record<string, any> {
  const raw = parse(readFileSync(join(REPO_ROOT, 'configs', 'real-models.yaml'), 'utf8')) as Record<string, any>;
  patch(raw);
  return raw;
}

test('configs/real-models.yaml trains on a Hugging Face checkpoint policy and optimum ONNX experts (fixtures)', async () => {
  const V = fixtureTokenizerVocabSize();
  const policyDir = join(root, 'hf', 'qwen');
  const pc = decoderConfig({ family: 'qwen2', vocabSize: V, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, attentionBias: true, tieWordEmbeddings: true, maxPositionEmbeddings: 512 });
  writeHfModelDir(policyDir, pc, roundWeights(randomWeights(pc, 1, 0.05), 'BF16'), { dtype: 'BF16', shards: 2 });
  const llama = decoderConfig({ family: 'llama', vocabSize: V, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 24, maxPositionEmbeddings: 512 });
  writeOptimumDir(join(root, 'onnx', 'llama'), llama, roundWeights(randomWeights(llama, 2), 'F16'), { task: 'text-generation-with-past', fp16Weights: true, externalData: true });
  const qwen = decoderConfig({ family: 'qwen2', vocabSize: V, hiddenSize: 24, numLayers: 1, numHeads: 2, intermediateSize: 32, attentionBias: true, tieWordEmbeddings: false, maxPositionEmbeddings: 512 });
  writeOptimumDir(join(root, 'onnx', 'qwen-fe'), qwen, randomWeights(qwen, 3), { task: 'feature-extraction' });

  const raw = realModelsConfig((r) => {
    r.outputDir = join(root, 'runs');
    r.data = { ...r.data, trainSize: 16, evalSize: 8, prompt: { ...r.data.prompt, system: 'Answer.' }, tasks: [{ name: 'chain_sum', config: { min_terms: 2, max_terms: 2, min_digits: 1, max_digits: 1 } }] };
    r.policy.path = policyDir;
    r.experts.onnx = [
      { name: 'llama-fp16', path: join(root, 'onnx', 'llama') },
      { name: 'qwen-fe', path: join(root, 'onnx', 'qwen-fe', 'model.onnx'), chatTemplate: 'none' },
    ];
    r.experts.providers = ['cpu'];
    r.experts.cacheDir = null;
    r.router = { width: 16, numLatents: 2, numHeads: 2, ffnMultiplier: 2 };
    r.grpo = { groupSize: 2, maxNewTokens: 4 };
    r.train = { steps: 2, promptsPerStep: 2, evalEvery: 0, evalItemsPerTask: 2, checkpointEvery: 2, sampleEvery: 0, backend: 'cpu' };
  });
  const config = validateConfig(raw);
  const files = loadPolicyFiles(config);
  const tokenizer = loadPolicyTokenizer(files);
  const ids = policyPromptIds(tokenizer, 'What is 2 + 3?\n', policyChat(config, files));
  assert.equal(tokenizer.decode(ids), '<|im_start|>system\nAnswer.<|im_end|>\n<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n');
  assert.deepEqual(policyPromptIds(tokenizer, 'q'), [tokenizer.bosId, ...tokenizer.encode('q')]);

  const { summary } = await train({ config });
  assert.equal(summary.completedSteps, 2);
  const metrics = readJsonl<StepMetrics>(join(summary.runDir, 'metrics.jsonl'));
  for (const m of metrics) {
    const a = Number(m['router/expert_mass/llama-fp16']);
    const b = Number(m['router/expert_mass/qwen-fe']);
    assert.ok(Math.abs(a + b - 1) < 1e-5, `expert masses ${a} + ${b}`);
  }

  // Bad input: an expert name that is neither a world expert nor an experts.onnx entry; no policy at all.
  assert.throws(() => validateConfig({ ...raw, experts: { ...raw.experts, models: ['llama-fp16', 'gpt-9'] } }), (e: ConfigError) => {
    assert.match(e.message, /experts\.models\.1: no world expert, experts\.onnx or experts\.oracle entry is named 'gpt-9'; the experts are llama-fp16, qwen-fe/);
    return true;
  });
  // Text generation (method text-concat) is for the tiny world's experts only: refused before anything runs.
  assert.throws(() => validateConfig({ ...raw, method: 'text-concat' }), (e: ConfigError) => {
    assert.match(e.message, /experts\.models: method text-concat generates text with the tiny world's experts only; llama-fp16, qwen-fe are real-model experts/);
    return true;
  });
  const noPolicy = validateConfig({ ...raw, policy: { mode: 'lora' } });
  await assert.rejects(train({ config: noPolicy, runDir: join(root, 'runs', 'none') }), /training needs a policy: set policy\.path to a Hugging Face checkpoint directory, or add a `world` section/);
});
