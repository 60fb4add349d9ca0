// Supervised training of one world model on the engine `world.engine` names, and the trained model as
// the evaluation sees it: `tfjs` trains a TfDecoder (./sft.ts), `onnx` trains Float32Array weights
// with generated graphs (./sft-onnx.ts) and evaluates them with the ONNX sampling graphs. Both start
// from the same seeded weights and write the same checkpoints.

import type { MusketeersConfig } from '../config.js';
import { resolveProviders } from '../rl/engine-onnx.js';
import { OnnxDecoder } from '../engine/onnx-decoder.js';
import { type DecoderConfig, type DecoderWeights, initDecoderWeights } from '../models/decoder-config.js';
import { TfDecoder } from '../models/decoder.js';
import { type EvaluatedModel, tfEvaluatedModel } from './evaluate.js';
import { trainSft, type SftExample, type SftHooks, type SftOptions, type SftResult } from './sft.js';
import { trainSftOnnx } from './sft-onnx.js';

export interface TrainedWorldModel {
  result: SftResult;
  weights: DecoderWeights;
  model: EvaluatedModel;
  /** What trained it, for the model card (`tfjs wasm`, `onnx cpu`). */
  device(tfjsBackend: string): string;
  dispose(): Promise<void>;
}

export async function trainWorldModel(
  world: NonNullable<MusketeersConfig['world']>,
  arch: DecoderConfig,
  seed: number,
  pool: readonly SftExample[],
  options: SftOptions,
  hooks: SftHooks,
  name: string,
  engine: { intraOpThreads?: number; warn?: (m: string) => void } = {},
): Promise<TrainedWorldModel> {
  if (world.engine === 'tfjs') {
    const decoder = TfDecoder.random(arch, seed, { name: `world-${name}` });
    try {
      const result = trainSft(decoder, pool, options, hooks);
      return { result, weights: decoder.getWeights(), model: tfEvaluatedModel(decoder), device: (backend) => `tfjs ${backend}`, dispose: async () => decoder.dispose() };
    } catch (error) {
      decoder.dispose();
      throw error;
    }
  }
  const providers = resolveProviders(world.providers, engine.warn);
  const session = { executionProviders: providers, intraOpThreads: engine.intraOpThreads };
  const weights = initDecoderWeights(arch, seed);
  const result = await trainSftOnnx(arch, weights, pool, options, hooks, session);
  const decoder = new OnnxDecoder(arch, weights, { executionProviders: providers, session });
  const model: EvaluatedModel = {
    completionLogProbSum: async (promptIds, completionIds) => {
      const { logProbs } = await decoder.completionLogProbs({ promptIds, completionIds });
      return logProbs.reduce((a, row) => a + row.reduce((b, x) => b + x, 0), 0);
    },
    generate: (o) => decoder.generate(o),
  };
  return { result, weights, model, device: () => `onnx ${providers.join('+')}`, dispose: () => decoder.dispose() };
}
