// Measures OnnxDecoder's two ways of holding the frozen base weights (initializers vs graph inputs):
// session compile time, run time of completionLogProbs and of a generate() decode step, and the process
// RSS with six cached sessions (two score buckets, two prefill widths, two decode capacities).
// Each (config, mode) runs in its own child process so that RSS is not shared.
//   node dist/scripts/bench-onnx-decoder-weights.js            # both configs, both modes
//   node dist/scripts/bench-onnx-decoder-weights.js tiny inputs # one measurement (JSON line)

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { OnnxDecoder } from '../src/engine/onnx-decoder.js';
import { type DecoderConfig, decoderConfig, initDecoderWeights } from '../src/models/decoder-config.js';

const CONFIGS: Record<string, DecoderConfig> = {
  tiny: decoderConfig({ vocabSize: 64, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64 }),
  wide: decoderConfig({ vocabSize: 8000, hiddenSize: 512, numLayers: 4, numHeads: 8, numKvHeads: 4, intermediateSize: 1376 }),
};

type Mode = 'initializers' | 'inputs';

function rows(n: number, len: number, vocab: number, seed: number): number[][] {
  return Array.from({ length: n }, (_, r) => Array.from({ length: len - (r % 3) }, (_, t) => (seed * 31 + r * 7 + t * 13) % vocab));
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

async function measure(name: string, mode: Mode): Promise<Record<string, number | string>> {
  const config = CONFIGS[name];
  const weights = initDecoderWeights(config, 1);
  const rssBase = process.memoryUsage().rss;
  const dec = new OnnxDecoder(config, weights, { weightsAs: mode });
  const V = config.vocabSize;
  const rowPrompt = [0, 0, 0, 0, 1, 1, 1, 1];
  // Two score buckets (C 16 and 32), compiled on first use, then timed warm.
  const batch = (C: number) => ({ promptIds: rows(2, 30, V, 1), completionIds: rows(8, C, V, 2), rowPrompt });
  await dec.completionLogProbs(batch(14));
  await dec.completionLogProbs(batch(30));
  const scoreRuns: number[] = [];
  for (let i = 0; i < 3; i++) scoreRuns.push((await timed(() => dec.completionLogProbs(batch(30)))).ms);
  // Two prefill widths x two decode capacities: prompts of 12 and 30 tokens, 8 and 40 new tokens.
  const gen = (len: number, n: number) => dec.generate({ promptIds: rows(2, len, V, 3), rowPrompt, maxNewTokens: n, temperature: 0, topP: 1, seed: 1 });
  await gen(12, 8);
  await gen(30, 40);
  const compiled = dec.sessions.compiled;
  const compileSeconds = dec.sessions.compileSeconds;
  const g1 = await timed(() => gen(30, 34)); // prefill + 33 steps (capacity 96)
  const g2 = await timed(() => gen(30, 64)); // prefill + 63 steps, same sessions
  if (dec.sessions.compiled !== compiled) throw new Error('the timed runs compiled new sessions');
  const stepMs = (g2.ms - g1.ms) / 30;
  (globalThis as { gc?: () => void }).gc?.();
  const rss = process.memoryUsage().rss;
  await dec.dispose();
  return {
    config: name,
    mode,
    sessions: compiled,
    compileSecondsPerSession: +(compileSeconds / compiled).toFixed(3),
    scoresMs: +Math.min(...scoreRuns).toFixed(1),
    generate34Ms: +g1.ms.toFixed(1),
    decodeStepMs: +stepMs.toFixed(2),
    weightsMB: +([...weights.values()].reduce((a, w) => a + w.data.byteLength, 0) / 2 ** 20).toFixed(1),
    rssMB: +(rss / 2 ** 20).toFixed(0),
    rssGrowthMB: +((rss - rssBase) / 2 ** 20).toFixed(0),
  };
}

async function main(): Promise<void> {
  const [name, mode] = process.argv.slice(2);
  if (name && mode) {
    console.log(JSON.stringify(await measure(name, mode as Mode)));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  for (const c of Object.keys(CONFIGS)) {
    for (const m of ['initializers', 'inputs'] as const) {
      process.stdout.write(execFileSync(process.execPath, ['--expose-gc', self, c, m], { encoding: 'utf8' }));
    }
  }
}

await main();
