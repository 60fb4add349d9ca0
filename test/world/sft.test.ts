// Supervised training of a tiny decoder: the loss falls, the prompt format is what the verifier reads,
// and a run interrupted at a checkpoint and resumed reaches exactly the weights of an uninterrupted run.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { selectBackend } from '../../src/models/backend.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { buildCharTokenizer, projectTokenizer } from '../../src/models/tokenizer/build.js';
import { formatExpertPrompt, formatPrompt, referenceAnswer } from '../../src/world/format.js';
import { formatTarget } from '../../src/world/targets.js';
import { trainSft, type SftCheckpoint, type SftExample } from '../../src/world/sft.js';
import { taskRegistry } from '../../tasks/index.js';

const tokenizer = projectTokenizer(buildCharTokenizer(), 'char');
const FORMAT = { template: 'Q: {question}', answerTag: 'answer' };

before(async () => {
  await selectBackend('cpu');
});

function pool(n: number): SftExample[] {
  const task = taskRegistry.get('chain_sum');
  const config = task.configSchema.parse({ min_terms: 2, max_terms: 2, min_digits: 1, max_digits: 1 });
  return Array.from({ length: n }, (_, i) => {
    const e = task.generate(config, i);
    return { promptIds: tokenizer.encode(formatPrompt(FORMAT, e)), targetIds: [...tokenizer.encode(formatTarget(FORMAT, e)), tokenizer.eosId!] };
  });
}

const ARCH = decoderConfig({ vocabSize: tokenizer.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2, maxPositionEmbeddings: 128 });
const OPTIONS = { steps: 12, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, promptLossWeight: 0.1, clipNorm: 1, seed: 3, bosId: tokenizer.bosId! };

test('format: template, newline, answer tags; example_answer when Reasoning Gym has no answer', () => {
  const entry = { question: 'What is 2+2?', answer: '4', metadata: {} };
  assert.equal(formatPrompt(FORMAT, entry), 'Q: What is 2+2?\n');
  assert.equal(formatTarget(FORMAT, entry), '<answer>4</answer>');
  assert.equal(formatExpertPrompt(FORMAT, entry, 'question'), 'Q: What is 2+2?\n');
  assert.equal(formatExpertPrompt(FORMAT, entry, 'answer-start'), 'Q: What is 2+2?\n<answer>');
  assert.equal(referenceAnswer({ question: 'q', answer: null, metadata: { example_answer: 'P ∨ Q' } }), 'P ∨ Q');
  assert.throws(() => referenceAnswer({ question: 'q', answer: null, metadata: {} }), /no answer and no metadata\.example_answer/);
});

test('the loss falls', () => {
  const decoder = TfDecoder.random(ARCH, 1, { name: 'sft-falls' });
  const result = trainSft(decoder, pool(64), { ...OPTIONS, steps: 30 });
  const first = result.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
  const last = result.losses.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(last < 0.6 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.equal(result.skippedSteps, 0);
  decoder.dispose();
});

test('resume from a checkpoint reaches the same weights as an uninterrupted run', () => {
  const data = pool(32);
  const straight = TfDecoder.random(ARCH, 5, { name: 'sft-straight' });
  const full = trainSft(straight, data, OPTIONS);

  // A run killed at step 7, after its step-6 checkpoint.
  const checkpoints: SftCheckpoint[] = [];
  const killed = TfDecoder.random(ARCH, 5, { name: 'sft-killed' });
  assert.throws(
    () =>
      trainSft(killed, data, OPTIONS, {
        checkpointEvery: 6,
        checkpoint: (state) => checkpoints.push(state),
        onStep: (step) => {
          if (step === 7) throw new Error('killed');
        },
      }),
    /killed/,
  );
  assert.equal(checkpoints.length, 1);
  assert.equal(checkpoints[0].step, 6);

  // A fresh process: new weights (another seed even), resumed from the checkpoint.
  const resumed = TfDecoder.random(ARCH, 99, { name: 'sft-resumed' });
  const rest = trainSft(resumed, data, OPTIONS, { resumeFrom: checkpoints[0] });
  assert.deepEqual(rest.losses, full.losses);
  assert.equal(rest.tokens, full.tokens);
  const a = straight.getWeights();
  const b = resumed.getWeights();
  for (const [name, t] of a) assert.deepEqual(Array.from(b.get(name)!.data), Array.from(t.data), `${name} differs after resume`);
  [straight, killed, resumed].forEach((d) => d.dispose());
});
