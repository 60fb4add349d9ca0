// The `tfjs` engine: the policy (TfDecoder, LoRA or full), the Perceiver router, the frozen reference
// copies and Adam, all TensorFlow.js on the selected backend. It is the reference implementation the
// onnx engine is checked against. Also the adapters that let tfjs models serve engine-neutral callers
// (the conditioner's router, rollouts and evaluation).

import type { MusketeersConfig } from '../config.js';
import { DataError } from '../errors.js';
import type { TfDecoder } from '../models/decoder.js';
import type { NamedTensor } from '../models/decoder-config.js';
import { NamedAdam } from '../models/optim.js';
import * as tf from '../models/tf.js';
import { PerceiverRouter, routingStats, type ExpertStates, type RouterConfig } from '../router/perceiver.js';
import type { GrpoHyper } from './grpo.js';
import { learningRateOf, type ContextTokens, type EngineCheckpoint, type EngineGradients, type GenerateRequest, type PolicyEngine, type RoutedBatch, type RouterRuntime, type ScoreRows, type StepLearningRate, type TextGenerator } from './policy-engine.js';
import { applyCheckpointWeights, buildPolicy, type PolicyFiles } from './setup.js';
import { completionLogProbs, grpoGradients, grpoUpdate, type UpdateBatch, type UpdateMetrics } from './update.js';

/** Context tokens as a tfjs tensor (the caller disposes it). */
export function contextTensor(c: ContextTokens): tf.Tensor3D {
  return tf.tensor3d(c.data, c.shape);
}

/** A TfDecoder as a TextGenerator. */
export function tfGenerator(decoder: TfDecoder): TextGenerator {
  return {
    generate: async (request: GenerateRequest) => {
      const { prefix, ...rest } = request;
      const prefixEmbeds = prefix ? contextTensor(prefix) : undefined;
      try {
        return await decoder.generate({ ...rest, prefixEmbeds });
      } finally {
        prefixEmbeds?.dispose();
      }
    },
  };
}

/** A PerceiverRouter as the conditioner's RouterRuntime. */
export function tfRouterRuntime(router: PerceiverRouter): RouterRuntime {
  return {
    experts: router.config.experts,
    route: async (states: readonly ExpertStates[]): Promise<RoutedBatch> => {
      const out = router.forward(states);
      try {
        const stats = routingStats(out.expertMass);
        const [P, K, H] = out.context.shape;
        return { context: { data: (await out.context.data()) as Float32Array, shape: [P, K, H] }, expertMass: stats.expertMass, entropy: stats.entropy };
      } finally {
        tf.dispose([out.context, out.attention, out.expertMass]);
      }
    },
  };
}

/** Checkpoint optimizer moments are stored under parameter names; keep those the optimizer knows. */
export function checkedMoments(moments: Map<string, NamedTensor>, names: Iterable<string>): Map<string, NamedTensor> {
  for (const name of names) if (!moments.has(name)) throw new DataError(`checkpoint lacks optimizer state for ${name}; it was written by a different policy mode or router shape`);
  return moments;
}

export interface EngineSetup {
  config: MusketeersConfig;
  files: PolicyFiles;
  /** The router's shape when the method routes expert states. */
  router?: RouterConfig;
  /** The TensorFlow.js backend in use (for `device`). */
  backend: string;
}

export class TfjsEngine implements PolicyEngine {
  readonly kind = 'tfjs' as const;
  readonly device: string;
  readonly generator: TextGenerator;
  readonly router?: RouterRuntime;
  readonly trainableParameters: number;
  readonly referenceLogProbs?: (rows: ScoreRows) => Promise<number[][]>;
  private readonly policy: ReturnType<typeof buildPolicy>;
  private readonly reference?: ReturnType<typeof buildPolicy>;
  private readonly tfRouter?: PerceiverRouter;
  private readonly refRouter?: PerceiverRouter;
  private readonly params = new Map<string, tf.Variable>();
  private readonly optimizer: NamedAdam;

  constructor(private readonly setup: EngineSetup) {
    const { config, files } = setup;
    this.device = `tfjs ${setup.backend}`;
    this.policy = buildPolicy(config, files, 'policy');
    if (config.grpo.beta > 0) this.reference = buildPolicy({ ...config, policy: { ...config.policy, mode: 'frozen' } }, files, 'reference');
    if (setup.router) {
      this.tfRouter = new PerceiverRouter(setup.router);
      if (this.reference) this.refRouter = new PerceiverRouter(setup.router); // same seed: the router at initialisation
      this.router = tfRouterRuntime(this.tfRouter);
    }
    if (this.tfRouter && config.router.trainable) for (const [n, v] of this.tfRouter.variables) this.params.set(`router.${n}`, v);
    for (const [n, v] of this.policy.params) this.params.set(`policy.${n}`, v);
    if (this.params.size === 0) {
      this.disposeModels();
      throw new DataError('nothing to train: method no-experts with policy.mode frozen has no trainable parameters; use policy.mode lora or full');
    }
    this.optimizer = new NamedAdam(this.params, { beta1: config.grpo.adamBeta1, beta2: config.grpo.adamBeta2, weightDecay: config.grpo.weightDecay, clipNorm: config.grpo.maxGradNorm });
    this.trainableParameters = [...this.params.values()].reduce((a, v) => a + v.size, 0);
    this.generator = tfGenerator(this.policy.decoder);
    if (this.reference) {
      const ref = this.reference;
      this.referenceLogProbs = async (rows) => completionLogProbs(ref.decoder, this.refRouter, rows);
    }
  }

  async policyLogProbs(rows: ScoreRows): Promise<number[][]> {
    return completionLogProbs(this.policy.decoder, this.tfRouter, rows);
  }

  async gradients(batch: UpdateBatch, hyper: GrpoHyper): Promise<EngineGradients> {
    const g = grpoGradients(this.policy.decoder, this.tfRouter, this.params, batch, hyper);
    const grads = new Map<string, Float32Array>();
    for (const [n, t] of g.grads) grads.set(n, (await t.data()) as Float32Array);
    tf.dispose([...g.grads.values()]);
    return { loss: g.loss, kl: g.kl, clipRatioLow: g.clipRatioLow, clipRatioHigh: g.clipRatioHigh, entropy: g.entropy, grads, backwardSeconds: g.backwardSeconds };
  }

  async update(batch: UpdateBatch, hyper: GrpoHyper, learningRate: StepLearningRate): Promise<UpdateMetrics> {
    return grpoUpdate(this.policy.decoder, this.tfRouter, this.optimizer, this.params, batch, hyper, (name) => learningRateOf(learningRate, name));
  }

  setReference(state: Pick<EngineCheckpoint, 'router' | 'policy'>): void {
    this.refRouter?.setWeights(new Map(state.router));
    if (this.reference && this.setup.config.policy.mode === 'full') this.reference.decoder.setWeights(new Map(state.policy));
  }

  checkpoint(): EngineCheckpoint {
    const mode = this.setup.config.policy.mode;
    return {
      router: this.tfRouter ? this.tfRouter.getWeights() : new Map(),
      policy: mode === 'lora' ? this.policy.decoder.getLoraWeights() : mode === 'full' ? this.policy.decoder.getWeights() : new Map(),
      optimizer: this.optimizer.getState(),
    };
  }

  restore(state: EngineCheckpoint): void {
    applyCheckpointWeights(this.setup.config, state, this.policy.decoder, this.tfRouter);
    const names = [...this.params.keys()];
    this.optimizer.setState({ step: state.optimizer.step, m: checkedMoments(state.optimizer.m, names), v: checkedMoments(state.optimizer.v, names) });
  }

  private disposeModels(): void {
    this.tfRouter?.dispose();
    this.refRouter?.dispose();
    this.policy.decoder.dispose();
    this.reference?.decoder.dispose();
  }

  async dispose(): Promise<void> {
    this.optimizer?.dispose();
    this.disposeModels();
  }
}
