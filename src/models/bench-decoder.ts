// Micro benchmark of the tfjs decoder on one backend: KV-cached sampling tokens/s, teacher-forced forward
// tokens/s and forward+backward tokens/s (all weights trainable). No assertions; numbers for reports.
// Run directly: `node dist/src/models/bench-decoder.js [cpu|wasm|auto] [batch] [seq]`.

import { pathToFileURL } from 'node:url';

import { type BackendRequest, selectBackend } from './backend.js';
import { type DecoderConfig, decoderConfig } from './decoder-config.js';
import { TfDecoder } from './decoder.js';
import * as tf from './tf.js';
import { timeIt, type Timing } from '../util/timing.js';

export interface BenchOptions {
  batch?: number;
  /** Tokens per row: the teacher-forced sequence length (prompt + completion) and the number of sampled tokens. */
  seq?: number;
  /** Prompt tokens per row: the prompt part of the teacher-forced `seq`, and the prompt before sampling; default min(16, seq/2). */
  promptLen?: number;
  /** Timed runs per measurement (the median is reported); default 3. */
  repeats?: number;
  /** Untimed runs before timing each measurement; default 1. */
  warmup?: number;
  /** Also time the forward pass alone (default true). */
  forward?: boolean;
}

export interface BenchResult {
  backend: string;
  /** The tfjs backend actually active while timing (`tf.getBackend()`: 'tensorflow' for tfjs-node). */
  tfBackend: string;
  config: DecoderConfig;
  batch: number;
  seq: number;
  /** New tokens per second summed over the batch (prefill included in the time). */
  sampleTokensPerSec: number;
  /** Teacher-forced sequenceLogProbs, forward only. */
  forwardTokensPerSec: number;
  /** Teacher-forced sequenceLogProbs, forward + gradients of every weight. */
  forwardBackwardTokensPerSec: number;
  /** Milliseconds per call (median over repeats; forward is NaN when not measured). */
  ms: { sample: number; forward: number; forwardBackward: number };
  /** Milliseconds per call: median, min and max over repeats. */
  timings: { sample: Timing; forward?: Timing; forwardBackward: Timing };
  repeats: number;
  warmup: number;
}

/** The configuration quoted in reports: hidden 128, 4 layers, 4 heads, vocab 512. */
export const BENCH_CONFIG: DecoderConfig = decoderConfig({ vocabSize: 512, hiddenSize: 128, numLayers: 4, numHeads: 4, intermediateSize: 512 });

export async function benchDecoder(backend: BackendRequest, config: DecoderConfig = BENCH_CONFIG, options: BenchOptions = {}): Promise<BenchResult> {
  const name = await selectBackend(backend);
  const batch = options.batch ?? 8;
  const seq = options.seq ?? 64;
  const promptLen = options.promptLen ?? Math.min(16, Math.max(1, seq >> 1));
  const repeats = options.repeats ?? 3;
  const warmup = options.warmup ?? 1;
  if (!(promptLen >= 1 && promptLen < seq)) throw new Error(`benchDecoder: promptLen ${promptLen} must be in [1, seq ${seq})`);
  const dec = TfDecoder.random(config, 1, { trainable: true });
  const row = (n: number, offset: number) => Array.from({ length: n }, (_, i) => (i * 7 + offset * 13 + 1) % config.vocabSize);
  const promptIds = Array.from({ length: batch }, (_, b) => row(promptLen, b));
  const completionIds = Array.from({ length: batch }, (_, b) => row(seq - promptLen, b + 100));
  const vars = dec.trainableVariables();

  const sample = async () => {
    await dec.generate({ promptIds, maxNewTokens: seq, temperature: 1, topP: 1, seed: 0 });
  };
  const forward = async () => {
    const lp = dec.sequenceLogProbs({ promptIds, completionIds });
    await lp.data();
    lp.dispose();
  };
  const forwardBackward = async () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(dec.sequenceLogProbs({ promptIds, completionIds })) as tf.Scalar, vars);
    await Promise.all(Object.values(grads).map((g) => g.data()));
    tf.dispose([value, ...Object.values(grads)]);
  };
  const tfBackend = tf.getBackend();
  let timings: BenchResult['timings'];
  try {
    timings = {
      sample: await timeIt(sample, repeats, warmup),
      forward: options.forward === false ? undefined : await timeIt(forward, repeats, warmup),
      forwardBackward: await timeIt(forwardBackward, repeats, warmup),
    };
  } finally {
    dec.dispose();
  }
  const ms = { sample: timings.sample.median, forward: timings.forward?.median ?? Number.NaN, forwardBackward: timings.forwardBackward.median };
  const tokens = batch * seq;
  return {
    backend: name,
    tfBackend,
    config,
    batch,
    seq,
    sampleTokensPerSec: tokens / (ms.sample / 1000),
    forwardTokensPerSec: tokens / (ms.forward / 1000),
    forwardBackwardTokensPerSec: tokens / (ms.forwardBackward / 1000),
    ms,
    timings,
    repeats,
    warmup,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [backend = 'auto', batch = '8', seq = '64'] = process.argv.slice(2);
  const result = await benchDecoder(backend as BackendRequest, BENCH_CONFIG, { batch: Number(batch), seq: Number(seq) });
  const round = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({ ...result, config: undefined, timings: undefined, sampleTokensPerSec: round(result.sampleTokensPerSec), forwardTokensPerSec: round(result.forwardTokensPerSec), forwardBackwardTokensPerSec: round(result.forwardBackwardTokensPerSec), ms: { sample: round(result.ms.sample), forward: round(result.ms.forward), forwardBackward: round(result.ms.forwardBackward) } })}\n`,
  );
}
