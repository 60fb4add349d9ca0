// What the GRPO loop needs from an engine, independent of how it computes: route expert states into
// context tokens, sample and score completions, compute old/reference log-probs, take an optimizer step,
// and hand its trainable tensors to checkpoints. Two engines implement it: `tfjs` (./engine-tfjs.ts,
// TensorFlow.js, the reference) and `onnx` (./engine-onnx.ts, generated graphs on ONNX Runtime).
// Context tokens travel between them as plain float32 data.

import type { Engine } from '../config.js';
import type { GenerateOptions, GenerateResult } from '../models/decoder.js';
import type { NamedTensor } from '../models/decoder-config.js';
import type { AdamState } from '../models/optim.js';
import type { ExpertStates } from '../router/perceiver.js';
import type { RouterAttention } from '../router/attention.js';
import type { GrpoHyper } from './grpo.js';
import type { UpdateBatch, UpdateMetrics } from './update.js';

/** Soft context tokens of a batch of prompts: [P, K, hidden], row-major. */
export interface ContextTokens {
  data: Float32Array;
  shape: [number, number, number];
}

/** A batch routed: the context tokens and, per prompt, the attention mass on each expert and its entropy. */
export interface RoutedBatch {
  context: ContextTokens;
  /** [P][E] */
  expertMass: number[][];
  /** [P] nats */
  entropy: number[];
}

/** The router as the conditioner uses it (no gradients). */
export interface RouterRuntime {
  readonly experts: readonly string[];
  route(states: readonly ExpertStates[]): Promise<RoutedBatch>;
}

/** GenerateOptions with plain context tokens instead of an engine tensor. */
export type GenerateRequest = Omit<GenerateOptions, 'prefixEmbeds'> & { prefix?: ContextTokens };

/** Anything that decodes completions for prompts (the policy of either engine). */
export interface TextGenerator {
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

/** Rows to score: prompts once each, completions with the prompt of each row. */
export type ScoreRows = Pick<UpdateBatch, 'promptIds' | 'completionIds' | 'expertStates' | 'rowPrompt'>;

/** Trainable tensors and optimizer state as checkpoints store them. */
export interface EngineCheckpoint {
  router: Map<string, NamedTensor>;
  policy: Map<string, NamedTensor>;
  optimizer: AdamState;
}

/** A batch's loss and diagnostics, and the gradient of each trainable tensor by checkpoint name. */
export interface EngineGradients {
  loss: number;
  kl: number;
  clipRatioLow: number;
  clipRatioHigh: number;
  /** Mean per-token entropy over completion tokens. */
  entropy: number;
  grads: Map<string, Float32Array>;
  backwardSeconds: number;
}

/** Learning rates of one step: one for every trainable tensor, or one for the router's and one for the policy's. */
export type StepLearningRate = number | { router: number; policy: number };

/** The rate of one trainable tensor (checkpoint names: `router.*` for the router, the rest the policy's). */
export function learningRateOf(lr: StepLearningRate, name: string): number {
  return typeof lr === 'number' ? lr : name.startsWith('router.') ? lr.router : lr.policy;
}

export interface PolicyEngine {
  readonly kind: Engine;
  /** What runs the computation, for run.json and logs (e.g. `tfjs wasm`, `onnx cpu`). */
  readonly device: string;
  /** The policy (conditioned on the router's context tokens) for rollouts and evaluation. */
  readonly generator: TextGenerator;
  /** The router in its current state, when the method has one. */
  readonly router?: RouterRuntime;
  readonly trainableParameters: number;
  /** Log-probs [R][C] of the rows under the current policy (and router). */
  policyLogProbs(rows: ScoreRows): Promise<number[][]>;
  /** Log-probs under the reference (the policy and router at initialisation); only when beta > 0. */
  referenceLogProbs?(rows: ScoreRows): Promise<number[][]>;
  /** The GRPO loss, its diagnostics and every trainable tensor's gradient, without an update. */
  gradients(batch: UpdateBatch, hyper: GrpoHyper): Promise<EngineGradients>;
  /** One optimizer step on the GRPO loss of the batch. */
  update(batch: UpdateBatch, hyper: GrpoHyper, learningRate: StepLearningRate): Promise<UpdateMetrics>;
  /**
   * Make a warm-up's result the reference (beta > 0): the router, and in full mode the policy weights.
   * In LoRA mode the reference stays the base policy without adapters (its graphs have no LoRA inputs).
   */
  setReference(state: Pick<EngineCheckpoint, 'router' | 'policy'>): void;
  checkpoint(): EngineCheckpoint;
  /** Engine counters for the run summary (onnx: sessions compiled per shape bucket and the seconds that took). */
  stats?(): Record<string, number>;
  /** Load a checkpoint's trainable tensors and optimizer state (names and shapes checked). */
  restore(state: EngineCheckpoint): void;
  dispose(): Promise<void>;
}

/** How a router attends (kept here so engines need not import the tfjs router). */
export type { RouterAttention };

/** Entropy (nats) of each row of a probability table. */
export function rowEntropy(mass: readonly (readonly number[])[]): number[] {
  return mass.map((row) => row.reduce((a, p) => (p > 0 ? a - p * Math.log(p) : a), 0));
}
