// The two engines against each other on random tiny models: from the same weights, the onnx engine
// (generated graphs on ONNX Runtime) and the tfjs engine (the reference) give the same completion
// log-probs, GRPO loss, diagnostics (KL, clip fractions, entropy) and gradients of every trainable
// tensor — the policy's LoRA with the router, every weight in `full` mode, Hugging Face-style variants
// (GQA with q/k/v biases, tied embeddings, llama3 rope scaling) — the same greedy completions, and the
// same weights after one supervised step.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { loadConfig, type MusketeersConfig } from '../../src/config.js';
import { selectBackend } from '../../src/models/backend.js';
import { type DecoderConfig, type DecoderWeights, decoderConfig, initDecoderWeights } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { initLoraWeights } from '../../src/models/lora-init.js';
import * as tf from '../../src/models/tf.js';
import { initRouterWeights } from '../../src/router/init.js';
import type { RouterConfig } from '../../src/router/config.js';
import { OnnxEngine } from '../../src/rl/engine-onnx.js';
import { TfjsEngine } from '../../src/rl/engine-tfjs.js';
import type { GrpoHyper } from '../../src/rl/grpo.js';
import type { EngineCheckpoint, PolicyEngine } from '../../src/rl/policy-engine.js';
import { routerConfig } from '../../src/rl/setup.js';
import type { UpdateBatch } from '../../src/rl/update.js';
import { trainSft, type SftExample } from '../../src/world/sft.js';
import { trainSftOnnx } from '../../src/world/sft-onnx.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { seededUniform } from '../helpers/gradcheck.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
/** scripts/gpu-check.sh runs this file with MUSKETEERS_PROVIDERS=cuda,cpu. */
const PROVIDERS = (process.env.MUSKETEERS_PROVIDERS ?? 'cpu').split(',') as ('cuda' | 'cpu')[];

before(async () => {
  await selectBackend('cpu');
});

interface Variant {
  label: string;
  arch: Partial<DecoderConfig>;
  mode: 'lora' | 'full';
  router: boolean;
  targets?: string;
}

const VARIANTS: Variant[] = [
  { label: 'LoRA + router, GQA with q/k/v biases, untied head', arch: { numHeads: 4, numKvHeads: 2, attentionBias: true, tieWordEmbeddings: false }, mode: 'lora', router: true, targets: '[q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head]' },
  { label: 'full mode + router, tied embeddings', arch: { numHeads: 2, tieWordEmbeddings: true }, mode: 'full', router: true },
  { label: 'LoRA without router, llama3 rope scaling', arch: { numHeads: 2, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 } }, mode: 'lora', router: false },
];

function variantConfig(v: Variant, aggregation: GrpoHyper['aggregation']): MusketeersConfig {
  const sets = [`policy.mode=${v.mode}`, `method=${v.router ? 'musketeers' : 'no-experts'}`, `grpo.lossAggregation=${aggregation}`, 'grpo.beta=0.04', 'grpo.epsilonHigh=0.28', 'grpo.maxGradNorm=0'];
  if (v.targets) sets.push(`policy.lora.targets=${v.targets}`);
  return loadConfig(SMOKE, sets).config;
}

function archOf(v: Variant): DecoderConfig {
  return decoderConfig({ vocabSize: 40, hiddenSize: 16, numLayers: 2, intermediateSize: 24, maxPositionEmbeddings: 64, ...v.arch } as Parameters<typeof decoderConfig>[0]);
}

function noisy(w: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, rand: () => number, scale: number): DecoderWeights {
  return new Map([...w].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.map((x) => x + scale * rand()) }]));
}

/** A checkpoint both engines load: moved router and LoRA (B non-zero), zero Adam moments. */
function startState(config: MusketeersConfig, arch: DecoderConfig, rc: RouterConfig | undefined, base: DecoderWeights, rand: () => number): EngineCheckpoint {
  const router = rc ? noisy(initRouterWeights(rc), rand, 0.2) : new Map();
  const policy = config.policy.mode === 'lora' ? noisy(initLoraWeights(arch, { ...config.policy.lora }), rand, 0.3) : config.policy.mode === 'full' ? noisy(base, rand, 0.05) : new Map();
  const zeros = (m: DecoderWeights, prefix: string) => new Map([...m].map(([n, t]) => [`${prefix}.${n}`, { shape: [...t.shape], data: new Float32Array(t.data.length) }]));
  const moments = () => new Map([...zeros(router, 'router'), ...zeros(policy, 'policy')]);
  return { router, policy, optimizer: { step: 0, m: moments(), v: moments() } };
}

function batchOf(rand: (lo?: number, hi?: number) => number, router: RouterConfig | undefined): UpdateBatch {
  const promptIds = [[1, 5, 9], [1, 7, 3, 3, 11, 2, 8], [1, 30, 4, 4, 4]];
  const lengths = [3, 1, 6, 5, 2, 4];
  const completionIds = lengths.map((n) => Array.from({ length: n }, () => Math.floor(rand(2, 39.99))));
  const expertStates = router ? router.expertWidths.map((w) => ({ states: tf.tensor2d(Float32Array.from({ length: 3 * w }, () => rand()), [3, w]) })) : undefined;
  return { promptIds, completionIds, rowPrompt: [0, 0, 1, 1, 2, 2], advantages: [1.2, -0.7, 0.4, -1.5, 0.9, 0.1], expertStates };
}

async function openBoth(config: MusketeersConfig, arch: DecoderConfig, rc: RouterConfig | undefined, weights: DecoderWeights): Promise<[PolicyEngine, PolicyEngine]> {
  const files = { name: 'parity', dir: '/nonexistent', architecture: arch, weights };
  const tfjs = new TfjsEngine({ config, files, router: rc, backend: 'cpu' });
  const onnx = await OnnxEngine.open({ config: { ...config, train: { ...config.train, engine: 'onnx', providers: PROVIDERS } }, files, router: rc, backend: 'cpu', warn: (m) => process.stderr.write(`${m}\n`) });
  return [tfjs, onnx];
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return ref === 0 ? diff : diff / ref;
}

const maxAbs = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, r) => row.map((x, t) => Math.abs(x - b[r][t]))));

for (const v of VARIANTS) {
  for (const aggregation of ['token-mean', 'seq-mean-token-mean', 'dr-grpo'] as const) {
    test(`engines agree on log-probs, GRPO loss, diagnostics and gradients: ${v.label}, ${aggregation}`, async () => {
      const rand = seededUniform(11);
      const config = variantConfig(v, aggregation);
      const arch = archOf(v);
      const weights = initDecoderWeights(arch, 5, 0.3);
      const rc = v.router ? routerConfig(config, ['e1', 'e2'], [8, 12], arch.hiddenSize) : undefined;
      const [tfjs, onnx] = await openBoth(config, arch, rc, weights);
      const batch = batchOf(rand, rc);
      try {
        const state = startState(config, arch, rc, weights, () => rand());
        tfjs.restore(state);
        onnx.restore(state);
        const [lt, lo] = [await tfjs.policyLogProbs(batch), await onnx.policyLogProbs(batch)];
        assert.ok(maxAbs(lo, lt) <= 1e-4, `log-probs differ by ${maxAbs(lo, lt)}`);
        // Old log-probs moved away from the current ones so that both clips are active; a reference for the KL.
        const oldLogp = lt.map((row) => row.map((x) => x + 0.4 * rand()));
        const refLogp = lt.map((row) => row.map((x) => x - 0.3 * rand(0, 1)));
        const hyper: GrpoHyper = { epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04, aggregation, maxCompletionLength: 8 };
        for (const given of [{ oldLogp, refLogp }, { refLogp }]) {
          const [gt, go] = [await tfjs.gradients({ ...batch, ...given }, hyper), await onnx.gradients({ ...batch, ...given }, hyper)];
          for (const k of ['loss', 'kl', 'clipRatioLow', 'clipRatioHigh', 'entropy'] as const) {
            assert.ok(Math.abs(go[k] - gt[k]) <= 1e-4 * Math.max(1, Math.abs(gt[k])), `${k}: onnx ${go[k]} vs tfjs ${gt[k]}`);
          }
          if (given.oldLogp) assert.ok(gt.clipRatioLow > 0 || gt.clipRatioHigh > 0, 'the case should clip');
          assert.deepEqual([...go.grads.keys()].sort(), [...gt.grads.keys()].sort());
          for (const [name, ref] of gt.grads) {
            const err = relativeError(go.grads.get(name)!, ref);
            assert.ok(err <= 1e-4, `gradient of ${name}: relative error ${err}`);
          }
        }
        // Greedy completions from the same weights are the same tokens.
        const prefix = rc ? (await tfjs.router!.route(batch.expertStates!)).context : undefined;
        const request = { promptIds: batch.promptIds, prefix, maxNewTokens: 6, temperature: 0, topP: 1, seed: 1 };
        assert.deepEqual((await onnx.generator.generate(request)).tokens, (await tfjs.generator.generate(request)).tokens);
      } finally {
        batch.expertStates?.forEach((s) => s.states.dispose());
        await tfjs.dispose();
        await onnx.dispose();
      }
    });
  }
}

test('one supervised step from the same weights gives the same weights on both engines (within 1e-5)', async () => {
  const arch = decoderConfig({ vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 24, maxPositionEmbeddings: 64 });
  const rand = seededUniform(3);
  const pool: SftExample[] = Array.from({ length: 6 }, (_, i) => ({ promptIds: Array.from({ length: 3 + i }, () => Math.floor(rand(2, 29.99))), targetIds: [5, 6, 2] }));
  const options = { steps: 2, batchSize: 4, learningRate: 0.01, warmupSteps: 0, promptLossWeight: 0.1, clipNorm: 1, seed: 9, bosId: 1 };
  const tfDecoder = TfDecoder.random(arch, 4, { name: 'sft-parity' });
  const weights = initDecoderWeights(arch, 4);
  try {
    const lt = trainSft(tfDecoder, pool, options).losses;
    const lo = (await trainSftOnnx(arch, weights, pool, options, {}, { executionProviders: PROVIDERS })).losses;
    lo.forEach((l, i) => assert.ok(Math.abs(l - lt[i]) <= 1e-5 * Math.max(1, Math.abs(lt[i])), `loss of step ${i + 1}: onnx ${l} vs tfjs ${lt[i]}`));
    const after = tfDecoder.getWeights();
    for (const [name, t] of weights) {
      const ref = after.get(name)!.data;
      const diff = Math.max(...t.data.map((x, i) => Math.abs(x - ref[i])));
      assert.ok(diff <= 1e-5, `${name}: max difference ${diff}`);
    }
  } finally {
    tfDecoder.dispose();
  }
});
