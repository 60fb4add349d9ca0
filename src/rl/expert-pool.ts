// The frozen experts as the router sees them: one ExpertRunner per expert (ONNX Runtime, own tokenizer,
// chosen layer and pooling, on-disk cache), and the conversion of their pooled states into the tensors
// the router reads — [B, d_e] for pooled states, or [B, S, d_e] with a mask for `tokens` pooling.

import { HiddenStateCache } from '../experts/cache.js';
import type { ExecutionProvider } from '../experts/ort.js';
import type { PooledState, Pooling } from '../experts/pooling.js';
import { ExpertRunner, type ExpertPrompt } from '../experts/runner.js';
import * as tf from '../models/tf.js';
import type { ExpertStates } from '../router/perceiver.js';

export interface ExpertSpec {
  name: string;
  /** Path of model.onnx. */
  model: string;
  /** Directory or tokenizer.json; default the model's directory. */
  tokenizer?: string;
  /** Prepend BOS (the tiny world's models were trained with it). */
  addBos: boolean;
  /** `none`, `auto` or a template path (see ExpertOptions.chatTemplate); default none. */
  chatTemplate?: string;
  systemPrompt?: string;
}

export interface ExpertPoolOptions {
  layer: number;
  pooling: Pooling;
  providers: ExecutionProvider[];
  batchSize: number;
  /** Cache directory, or null for none. */
  cacheDir: string | null;
  warn?: (message: string) => void;
}

export interface ExtractedStates {
  /** One entry per expert, in pool order; the caller disposes them (see disposeStates). */
  states: ExpertStates[];
  seconds: number;
  cached: number;
  computed: number;
}

/** Tensors for the router from one expert's pooled states (all pooled, or all token sequences). */
export function statesToTensors(pooled: readonly PooledState[]): ExpertStates {
  if (pooled.length === 0) throw new Error('no states to convert');
  const width = pooled[0].shape[pooled[0].shape.length - 1];
  if (pooled[0].shape.length === 1) {
    const data = new Float32Array(pooled.length * width);
    pooled.forEach((p, i) => data.set(p.data, i * width));
    return { states: tf.tensor2d(data, [pooled.length, width]) };
  }
  // tokens pooling: pad every prompt's [S_i, d] to the longest S, masking the padding.
  const S = Math.max(...pooled.map((p) => p.shape[0]));
  const data = new Float32Array(pooled.length * S * width);
  const mask = new Float32Array(pooled.length * S);
  pooled.forEach((p, i) => {
    data.set(p.data, i * S * width);
    mask.fill(1, i * S, i * S + p.shape[0]);
  });
  return { states: tf.tensor3d(data, [pooled.length, S, width]), mask: tf.tensor2d(mask, [pooled.length, S]) };
}

export function disposeStates(states: readonly ExpertStates[]): void {
  for (const s of states) {
    s.states.dispose();
    s.mask?.dispose();
  }
}

/** Select rows of every expert's states (e.g. one prompt's states taken by another, for ablations). */
export function gatherStates(states: readonly ExpertStates[], rows: readonly number[]): ExpertStates[] {
  const index = tf.tensor1d(rows as number[], 'int32');
  try {
    return states.map((s) => ({ states: tf.gather(s.states, index) as tf.Tensor2D | tf.Tensor3D, mask: s.mask ? (tf.gather(s.mask, index) as tf.Tensor2D) : undefined }));
  } finally {
    index.dispose();
  }
}

export class ExpertPool {
  private constructor(
    readonly runners: ExpertRunner[],
    readonly cache: HiddenStateCache | undefined,
  ) {}

  static async open(specs: readonly ExpertSpec[], options: ExpertPoolOptions): Promise<ExpertPool> {
    const cache = options.cacheDir ? new HiddenStateCache(options.cacheDir, (file, reason) => options.warn?.(`hidden-state cache entry ${file} is corrupt (${reason}); recomputing it`)) : undefined;
    const runners = await openAll(specs, (spec) =>
      ExpertRunner.open(
        { name: spec.name, model: spec.model, tokenizer: spec.tokenizer, layer: options.layer, pooling: options.pooling, batchSize: options.batchSize, addBos: spec.addBos, chatTemplate: spec.chatTemplate, systemPrompt: spec.systemPrompt, executionProviders: options.providers },
        { cache, warn: options.warn },
      ),
    );
    return new ExpertPool(runners, cache);
  }

  get names(): string[] {
    return this.runners.map((r) => r.options.name);
  }

  get widths(): number[] {
    return this.runners.map((r) => r.width);
  }

  /** Every expert's states for `prompts` (same order), as router input tensors. */
  async extract(prompts: readonly ExpertPrompt[]): Promise<ExtractedStates> {
    const started = performance.now();
    const states: ExpertStates[] = [];
    let cached = 0;
    let computed = 0;
    try {
      for (const runner of this.runners) {
        const pooled = await runner.extract(prompts);
        cached += runner.lastStats.cached;
        computed += runner.lastStats.computed;
        states.push(statesToTensors(pooled));
      }
    } catch (error) {
      disposeStates(states);
      throw error;
    }
    return { states, seconds: (performance.now() - started) / 1000, cached, computed };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.dispose()));
  }
}

/** Open one resource per spec, in order; if any fails, the ones already open are disposed and the error rethrown. */
export async function openAll<S, T extends { dispose(): Promise<void> | void }>(specs: readonly S[], open: (spec: S) => Promise<T>): Promise<T[]> {
  const opened: T[] = [];
  try {
    for (const spec of specs) opened.push(await open(spec));
  } catch (error) {
    await Promise.all(opened.map((o) => o.dispose()));
    throw error;
  }
  return opened;
}
