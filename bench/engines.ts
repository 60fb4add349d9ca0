// The two engines side by side in one process: the same GRPO step at the quickstart sizes (the real
// training loop, per phase), the same SFT step at the world's sizes (each world model's architecture
// and batch size, sequences of the typical quickstart length), and — unless --quick — one GRPO step on
// the onnx engine at a 0.5B-class policy shape (the Qwen2.5-0.5B config, random weights, LoRA) with its
// peak RSS. Records: {engine, workload, phase, seconds} (phase `step` = the whole step).

import { join } from 'node:path';

import { loadConfig } from '../src/config.js';
import { decoderConfig, initDecoderWeights, type DecoderConfig } from '../src/models/decoder-config.js';
import { TfDecoder } from '../src/models/decoder.js';
import * as tf from '../src/models/tf.js';
import { OnnxEngine } from '../src/rl/engine-onnx.js';
import type { GrpoHyper } from '../src/rl/grpo.js';
import { routerConfig } from '../src/rl/setup.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { trainSft, type SftExample } from '../src/world/sft.js';
import { trainSftOnnx } from '../src/world/sft-onnx.js';
import { benchGrpo } from './grpo.js';
import { round, type BenchContext, type BenchSection, type BenchSectionDef } from './common.js';

const ENGINES = ['tfjs', 'onnx'] as const;
/** Providers of the onnx engine (scripts/gpu-check.sh sets MUSKETEERS_PROVIDERS=cuda,cpu). */
const PROVIDERS = (process.env.MUSKETEERS_PROVIDERS ?? 'cpu').split(',').map((p) => p.trim()) as ('cuda' | 'cpu')[];
const providerSets = [`train.providers=[${PROVIDERS.join(',')}]`, `world.providers=[${PROVIDERS.join(',')}]`];
type EngineName = (typeof ENGINES)[number];

export interface EngineRecord {
  engine: EngineName;
  workload: 'grpo' | 'sft' | 'grpo-0.5b';
  phase: 'rollout' | 'reference' | 'backward' | 'update' | 'step';
  seconds: number;
  [extra: string]: unknown;
}

export interface EnginesBenchOptions {
  /** Config of the GRPO and SFT sizes (default configs/quickstart.yaml). */
  configPath?: string;
  /** Timed GRPO steps after one warm-up (default 5; quick 2). */
  grpoSteps?: number;
  /** Extra --set overrides for the GRPO run (tests shrink the sizes). */
  overrides?: string[];
  /** Timed SFT steps after one warm-up step (default 10; quick 3). */
  sftSteps?: number;
  /** Prompt + target tokens of each SFT sequence (default 48: a typical quickstart item). */
  sftLength?: number;
  /** Run the 0.5B-class step (default: not in quick mode). */
  large?: boolean;
}

/** GRPO at the config's sizes: the training loop's own per-phase times on each engine. */
async function grpoRecords(ctx: BenchContext, configPath: string, steps: number, overrides: string[]): Promise<EngineRecord[]> {
  const out: EngineRecord[] = [];
  for (const engine of ENGINES) {
    ctx.progress?.(`engines: GRPO on ${engine}`);
    const section = await benchGrpo(ctx, { configPath, steps, overrides: [...overrides, ...providerSets, `train.engine=${engine}`] });
    for (const r of section.records) {
      const phase = String(r.phase);
      if (phase === 'rollout' || phase === 'reference' || phase === 'backward' || phase === 'update' || phase === 'step') out.push({ engine, workload: 'grpo', phase, seconds: Number(r.seconds), ...(phase === 'step' ? { peakRssBytes: r.peakRssBytes, rows: r.rows } : {}) });
    }
  }
  return out;
}

/** A pool of same-length sequences (one shape bucket) over a vocabulary. */
function sftPool(vocab: number, length: number, n = 64): SftExample[] {
  let s = 12345;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) % (vocab - 3) + 3;
  return Array.from({ length: n }, () => ({ promptIds: Array.from({ length: length - 6 }, next), targetIds: Array.from({ length: 6 }, next) }));
}

/** Seconds per SFT step of one world model's architecture on both engines (after one warm-up step). */
async function sftRecords(ctx: BenchContext, name: string, arch: DecoderConfig, batchSize: number, steps: number, length: number): Promise<EngineRecord[]> {
  const pool = sftPool(arch.vocabSize, length);
  const options = { steps: steps + 1, batchSize, learningRate: 1e-3, warmupSteps: 0, promptLossWeight: 0.1, clipNorm: 1, seed: 1, bosId: 1 };
  const out: EngineRecord[] = [];
  for (const engine of ENGINES) {
    ctx.progress?.(`engines: SFT of ${name} on ${engine}`);
    const times: number[] = [];
    const onStep = () => times.push(performance.now());
    if (engine === 'tfjs') {
      const decoder = TfDecoder.random(arch, 1, { name: `bench-sft-${name}` });
      try {
        trainSft(decoder, pool, options, { onStep });
      } finally {
        decoder.dispose();
      }
    } else {
      await trainSftOnnx(arch, initDecoderWeights(arch, 1), pool, options, { onStep }, { executionProviders: PROVIDERS });
    }
    const seconds = (times[times.length - 1] - times[0]) / 1000 / (times.length - 1);
    out.push({ engine, workload: 'sft', phase: 'step', seconds, model: name, batchSize, tokensPerSequence: length });
  }
  return out;
}

/** The Qwen2.5-0.5B shape (hidden 896, 24 layers, 14 heads / 2 KV heads, MLP 4864, vocab 151936, tied, q/k/v biases). */
export function qwen05bShape(): DecoderConfig {
  return decoderConfig({ family: 'qwen2', vocabSize: 151936, hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, intermediateSize: 4864, maxPositionEmbeddings: 1024, ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true, attentionBias: true });
}

/** One GRPO step (rollout, reference, forward + backward, Adam) on the onnx engine at a 0.5B-class shape. */
async function largeRecords(ctx: BenchContext, configPath: string): Promise<EngineRecord[]> {
  const arch = qwen05bShape();
  ctx.progress?.('engines: 0.5B-class policy, random weights (about 2 GB of float32)');
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const config = loadConfig(configPath, ['train.engine=onnx', ...providerSets, 'policy.lora.rank=8', 'grpo.beta=0.04']).config;
  const rc = routerConfig(config, ['e1', 'e2'], [64, 48], arch.hiddenSize);
  const engine = await OnnxEngine.open({ config, files: { name: 'qwen2.5-0.5b-shape', dir: '', architecture: arch, weights: initDecoderWeights(arch, 1) }, router: rc, backend: 'none' });
  const P = 2;
  const G = 4;
  const promptIds = Array.from({ length: P }, (_, p) => Array.from({ length: 64 }, (_, t) => 100 + ((p * 131 + t * 17) % 5000)));
  const states = rc.expertWidths.map((w) => ({ states: tf.randomNormal([P, w], 0, 1, 'float32', 3) as tf.Tensor2D }));
  try {
    const routed = await engine.router!.route(states);
    const rowPrompt = promptIds.flatMap((_, p) => new Array<number>(G).fill(p));
    const t0 = performance.now();
    const gen = await engine.generator.generate({ promptIds, rowPrompt, prefix: routed.context, maxNewTokens: 32, temperature: 1, topP: 1, seed: 1 });
    const t1 = performance.now();
    const rows = { promptIds, completionIds: gen.tokens, expertStates: states, rowPrompt };
    const refLogp = await engine.referenceLogProbs!(rows);
    const t2 = performance.now();
    const hyper: GrpoHyper = { epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0.04, aggregation: 'token-mean', maxCompletionLength: 32 };
    const u = await engine.update({ ...rows, refLogp, advantages: rowPrompt.map((_, r) => (r % 2 === 0 ? 1 : -1)) }, hyper, 1e-4);
    const t3 = performance.now();
    const extra = { peakRssBytes: peakRss, rows: P * G, promptTokens: 64, completionTokens: gen.tokens.reduce((a, t) => a + t.length, 0), parameters: 494_032_768, trainable: engine.trainableParameters };
    return [
      { engine: 'onnx', workload: 'grpo-0.5b', phase: 'rollout', seconds: (t1 - t0) / 1000 },
      { engine: 'onnx', workload: 'grpo-0.5b', phase: 'reference', seconds: (t2 - t1) / 1000 },
      { engine: 'onnx', workload: 'grpo-0.5b', phase: 'backward', seconds: u.backwardSeconds },
      { engine: 'onnx', workload: 'grpo-0.5b', phase: 'update', seconds: u.updateSeconds },
      { engine: 'onnx', workload: 'grpo-0.5b', phase: 'step', seconds: (t3 - t0) / 1000, ...extra, peakRssBytes: Math.max(peakRss, process.memoryUsage().rss) },
    ];
  } finally {
    clearInterval(timer);
    states.forEach((s) => s.states.dispose());
    await engine.dispose();
  }
}

export async function benchEngines(ctx: BenchContext, options: EnginesBenchOptions = {}): Promise<BenchSection> {
  const configPath = options.configPath ?? join(PACKAGE_ROOT, 'configs', 'quickstart.yaml');
  const config = loadConfig(configPath, options.overrides ?? []).config;
  const records: EngineRecord[] = await grpoRecords(ctx, configPath, options.grpoSteps ?? (ctx.quick ? 2 : 5), options.overrides ?? []);
  for (const m of config.world?.models ?? []) {
    const arch = decoderConfig({ vocabSize: m.tokenizer.vocabSize ?? 160, ...m.architecture });
    records.push(...(await sftRecords(ctx, m.name, arch, m.train.batchSize, options.sftSteps ?? (ctx.quick ? 3 : 10), options.sftLength ?? 48)));
  }
  if (options.large ?? !ctx.quick) records.push(...(await largeRecords(ctx, configPath)));
  const find = (engine: EngineName, workload: string, phase: string, model?: string) => records.find((r) => r.engine === engine && r.workload === workload && r.phase === phase && (model === undefined || r.model === model))?.seconds;
  const rows: (string | number)[][] = [];
  const row = (label: string, t?: number, o?: number) => rows.push([label, t === undefined ? '-' : round(t * 1000, 1), o === undefined ? '-' : round(o * 1000, 1), t !== undefined && o !== undefined && o > 0 ? `${round(t / o, 1)}x` : '-']);
  for (const phase of ['rollout', 'reference', 'backward', 'update', 'step']) row(`GRPO ${phase}`, find('tfjs', 'grpo', phase), find('onnx', 'grpo', phase));
  for (const m of config.world?.models ?? []) row(`SFT step ${m.name}`, find('tfjs', 'sft', 'step', m.name), find('onnx', 'sft', 'step', m.name));
  const large = records.filter((r) => r.workload === 'grpo-0.5b');
  for (const r of large) row(`GRPO 0.5B ${r.phase}`, undefined, r.seconds);
  const bigStep = large.find((r) => r.phase === 'step');
  return {
    name: 'engines',
    title: `Engines side by side: tfjs ${tf.getBackend()} vs onnx ${PROVIDERS.join('+')} (ms per step; GRPO at ${configPath.split('/').pop()} sizes, SFT at each world model's size)`,
    headers: ['workload', 'tfjs ms', 'onnx ms', 'speed-up'],
    rows,
    records,
    notes: [
      'GRPO rows: the training loop\'s per-phase times (mean of the timed steps after one warm-up); SFT rows: seconds per supervised step after one warm-up (sequences of the typical quickstart length).',
      ...(bigStep ? [`0.5B-class step (Qwen2.5-0.5B shape, random weights, LoRA r 8 on q/k/v/o, router, ${String(bigStep.rows)} rollouts of up to 32 tokens after 64-token prompts): peak RSS ${round(Number(bigStep.peakRssBytes) / 2 ** 30, 2)} GiB.`] : []),
    ],
  };
}

export const section: BenchSectionDef = {
  name: 'engines',
  order: 45,
  description: 'tfjs vs onnx engine in one process: a GRPO step (per phase) at the quickstart sizes, an SFT step per world model, and a 0.5B-class GRPO step on onnx',
  run: (ctx) => benchEngines(ctx),
};
