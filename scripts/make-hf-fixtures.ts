// Writes small random-weight stand-ins for real models into a directory, in the layouts the real tools
// write (see test/helpers/hf-fixtures.ts): Hugging Face checkpoint directories for the policy and
// optimum ONNX exports for the experts, plus `real-models.yaml`, configs/real-models.yaml pointed at
// them, so the real-model path can be tried end to end without any download:
//   npm run build && node dist/scripts/make-hf-fixtures.js /tmp/hf-fixtures
//   npx musketeers experts inspect /tmp/hf-fixtures/onnx/llama-fp16
//   npx musketeers train /tmp/hf-fixtures/real-models.yaml

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse, stringify } from 'yaml';

import { decoderConfig } from '../src/models/decoder-config.js';
import { fixtureTokenizerVocabSize, roundWeights, writeHfModelDir, writeOptimumDir } from '../test/helpers/hf-fixtures.js';
import { randomWeights } from '../test/models/decoder-fixtures.js';

if (process.argv[2] === undefined) {
  process.stderr.write('usage: node dist/scripts/make-hf-fixtures.js OUT_DIR\n');
  process.exit(2);
}
const out = resolve(process.argv[2]);
mkdirSync(out, { recursive: true });
const V = fixtureTokenizerVocabSize();

const qwen = decoderConfig({ family: 'qwen2', vocabSize: V, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64, attentionBias: true, tieWordEmbeddings: true, ropeTheta: 1e6, maxPositionEmbeddings: 1024 });
writeHfModelDir(join(out, 'hf', 'qwen2-tiny'), qwen, roundWeights(randomWeights(qwen, 1, 0.05), 'BF16'), { dtype: 'BF16', shards: 2 });
const llama = decoderConfig({ family: 'llama', vocabSize: V, hiddenSize: 32, numLayers: 3, numHeads: 4, numKvHeads: 1, intermediateSize: 48, rmsNormEps: 1e-5, maxPositionEmbeddings: 1024 });
writeHfModelDir(join(out, 'hf', 'llama-tiny'), llama, randomWeights(llama, 2, 0.05), { dtype: 'F32' });

const expertA = decoderConfig({ family: 'llama', vocabSize: V, hiddenSize: 48, numLayers: 3, numHeads: 4, numKvHeads: 2, intermediateSize: 96, maxPositionEmbeddings: 1024 });
writeOptimumDir(join(out, 'onnx', 'llama-fp16'), expertA, roundWeights(randomWeights(expertA, 3), 'F16'), { task: 'text-generation-with-past', fp16Weights: true, externalData: true });
const expertB = decoderConfig({ family: 'qwen2', vocabSize: V, hiddenSize: 24, numLayers: 2, numHeads: 2, intermediateSize: 48, attentionBias: true, tieWordEmbeddings: false, maxPositionEmbeddings: 1024 });
writeOptimumDir(join(out, 'onnx', 'qwen2-feature-extraction'), expertB, randomWeights(expertB, 4), { task: 'feature-extraction', externalData: true });
const expertC = decoderConfig({ family: 'llama', vocabSize: V, hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 1024 });
writeOptimumDir(join(out, 'onnx', 'llama-no-past'), expertC, randomWeights(expertC, 5), { task: 'text-generation' });

// configs/real-models.yaml, pointed at the fixtures and shrunk to a CPU-sized run.
const here = resolve(new URL('.', import.meta.url).pathname, '..', '..');
const raw = parse(readFileSync(join(here, 'configs', 'real-models.yaml'), 'utf8')) as Record<string, any>;
raw.name = 'real-models-fixtures';
raw.outputDir = join(out, 'runs');
raw.policy.path = join(out, 'hf', 'qwen2-tiny');
raw.experts.onnx = [
  { name: 'llama-fp16', path: join(out, 'onnx', 'llama-fp16') },
  { name: 'qwen2-fe', path: join(out, 'onnx', 'qwen2-feature-extraction') },
  { name: 'llama-no-past', path: join(out, 'onnx', 'llama-no-past') },
];
raw.experts.providers = ['cpu'];
raw.router = { width: 32, numLatents: 4, numHeads: 4 };
raw.grpo = { ...raw.grpo, groupSize: 4, maxNewTokens: 16 };
raw.train = { ...raw.train, steps: 10, promptsPerStep: 2, evalEvery: 0, evalItemsPerTask: 8 };
writeFileSync(join(out, 'real-models.yaml'), `# configs/real-models.yaml pointed at random-weight fixtures (scripts/make-hf-fixtures.ts)\n${stringify(raw)}`);
process.stdout.write(`wrote ${out}: hf/{qwen2-tiny,llama-tiny}, onnx/{llama-fp16,qwen2-feature-extraction,llama-no-past}, real-models.yaml\n`);
