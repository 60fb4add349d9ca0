// The tfjs decoder per backend (benchDecoder in src/models/bench-decoder.ts): KV-cached sampling tokens/s
// and teacher-forced forward+backward tokens/s (every weight trainable), for the quickstart policy
// architecture and the 128-wide, 4-layer reference configuration. Backends that do not load are listed
// as unavailable. Backends are switched in this process (tf.setBackend); the backend actually active
// while timing is recorded and checked.

import { join } from 'node:path';

import { loadConfig } from '../src/config.js';
import { BACKEND_NAMES, type BackendName, currentBackend, selectBackend } from '../src/models/backend.js';
import { BENCH_CONFIG, benchDecoder } from '../src/models/bench-decoder.js';
import { decoderConfig, type DecoderConfig } from '../src/models/decoder-config.js';
import { buildCharTokenizer, projectTokenizer } from '../src/models/tokenizer/build.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { round, type BenchContext, type BenchSection, type BenchSectionDef } from './common.js';

/** The tfjs name each backend registers under. */
const TF_NAME: Record<BackendName, string> = { 'tfjs-node-gpu': 'tensorflow', 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export interface DecoderBenchOptions {
  /** Config whose `role: policy` world model is benchmarked; default configs/quickstart.yaml. */
  configPath?: string;
  /** Backends in run order; default wasm, cpu, tfjs-node, tfjs-node-gpu. */
  backends?: BackendName[];
  /** Which models: the config's policy and/or the 128x4 reference; default both. */
  models?: ('policy' | 'reference')[];
  /** Rows x tokens per row for a backend; default 8x64 (the cpu backend and quick runs: 2x32). */
  shape?: (backend: BackendName) => { batch: number; seq: number };
  repeats?: number;
  warmup?: number;
}

function policyArchitecture(configPath: string): { label: string; arch: DecoderConfig } {
  const { config } = loadConfig(configPath);
  const policy = config.world?.models.find((m) => m.role === 'policy');
  if (!policy) throw new Error(`bench decoder: ${configPath} has no world model with role policy`);
  // The BPE vocabulary size is the configured one; the char tokenizer's is fixed by its alphabet.
  const vocabSize = policy.tokenizer.kind === 'bpe' ? policy.tokenizer.vocabSize : projectTokenizer(buildCharTokenizer(), policy.name).vocabSize;
  const arch = decoderConfig({ vocabSize, ...policy.architecture });
  return { label: `${policy.name} (${arch.hiddenSize}x${arch.numLayers}, vocab ${vocabSize})`, arch };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

export async function benchDecoders(ctx: BenchContext, options: DecoderBenchOptions = {}): Promise<BenchSection> {
  const configPath = options.configPath ?? join(PACKAGE_ROOT, 'configs', 'quickstart.yaml');
  const backends = options.backends ?? (['wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'] as BackendName[]);
  for (const b of backends) if (!BACKEND_NAMES.includes(b)) throw new Error(`bench decoder: unknown backend ${b}; use ${BACKEND_NAMES.join(', ')}`);
  const which = options.models ?? ['policy', 'reference'];
  const models = which.map((m) => (m === 'policy' ? policyArchitecture(configPath) : { label: 'reference (128x4, vocab 512)', arch: BENCH_CONFIG }));
  const shape = options.shape ?? ((b: BackendName) => (ctx.quick || b === 'cpu' ? { batch: 2, seq: 32 } : { batch: 8, seq: 64 }));
  const repeats = options.repeats ?? (ctx.quick ? 1 : 3);
  const warmup = options.warmup ?? 1;

  const rows: (string | number)[][] = [];
  const records: Record<string, unknown>[] = [];
  for (const backend of backends) {
    try {
      await selectBackend(backend);
    } catch (error) {
      const reason = firstLine(error);
      const missing = /Cannot find (package|module)/.test(reason);
      rows.push([backend, '-', '-', '-', '-', '-', missing ? 'unavailable: package not installed' : `unavailable: ${reason.slice(0, 80)}`]);
      records.push({ backend, available: false, reason });
      continue;
    }
    for (const { label, arch } of models) {
      const { batch, seq } = shape(backend);
      ctx.progress?.(`decoder: ${backend} ${label} ${batch}x${seq}`);
      const r = await benchDecoder(backend, arch, { batch, seq, repeats, warmup });
      if (r.tfBackend !== TF_NAME[backend]) {
        throw new Error(`bench decoder: asked for ${backend} but tfjs ran on '${r.tfBackend}': switching tfjs backends in one process failed; run each backend in its own process (--only decoder per backend)`);
      }
      records.push({
        backend,
        available: true,
        tfBackend: r.tfBackend,
        // wasm only: SIMD and thread count of the loaded binary.
        simd: currentBackend()?.simd,
        threads: currentBackend()?.threads,
        model: label,
        config: arch,
        batch,
        seq,
        repeats,
        warmup,
        sampleTokensPerSec: r.sampleTokensPerSec,
        forwardTokensPerSec: r.forwardTokensPerSec,
        forwardBackwardTokensPerSec: r.forwardBackwardTokensPerSec,
        ms: r.timings,
      });
      const range = (tokens: number, t: { min: number; max: number }) => `${round(tokens / (t.max / 1000), 0)}-${round(tokens / (t.min / 1000), 0)}`;
      rows.push([
        backend,
        label,
        `${batch}x${seq}`,
        round(r.sampleTokensPerSec, 0),
        round(r.forwardTokensPerSec, 0),
        round(r.forwardBackwardTokensPerSec, 0),
        `sample ${range(batch * seq, r.timings.sample)}, fwd+bwd ${range(batch * seq, r.timings.forwardBackward)}`,
      ]);
    }
  }
  return {
    name: 'decoder',
    title: `TensorFlow.js decoder per backend (random weights, all trainable; ${repeats} timed runs after ${warmup})`,
    headers: ['backend', 'model', 'batch x tokens', 'sample tok/s', 'fwd tok/s', 'fwd+bwd tok/s', 'min-max tok/s'],
    rows,
    records,
    notes: [
      'sample: KV-cached generation of `tokens` new tokens per row after a prompt (prefill included); fwd / fwd+bwd: teacher-forced log-probs of',
      'a row of `tokens` tokens, forward only / with gradients of every weight. tok/s counts all rows. The cpu backend runs a smaller shape.',
    ],
  };
}

export const section: BenchSectionDef = {
  name: 'decoder',
  order: 30,
  description: 'tfjs decoder sampling and forward+backward tokens/s per backend',
  run: (ctx) => benchDecoders(ctx),
};
