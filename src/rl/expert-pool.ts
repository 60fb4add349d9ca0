// The frozen experts as the router sees them: one ExpertRunner per model expert (ONNX Runtime, own
// tokenizer, chosen layer and pooling, on-disk cache) or one OracleExpert per oracle (a diagnostic whose
// state is a function of the item's answer, ../experts/oracle.ts), and the conversion of their states
// into the tensors the router reads — [B, d_e] for pooled states, or [B, S, d_e] with a mask for `tokens`.

import { HiddenStateCache } from '../experts/cache.js';
import type { ExecutionProvider } from '../experts/ort.js';
import type { PooledState, Pooling } from '../experts/pooling.js';
import { OracleExpert, type OracleSettings, type OracleSplits } from '../experts/oracle.js';
import { ExpertRunner, type ExpertPrompt } from '../experts/runner.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import type { TaskEntry } from '../../tasks/types.js';
import * as tf from '../models/tf.js';
import type { ExpertStates } from '../router/perceiver.js';

/** A model expert: an ONNX export read through its own tokenizer. */
export interface ModelExpertSpec {
  kind?: 'model';
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

/** An oracle expert (a diagnostic that sees answers): its settings, the splits it may read, the policy's tokenizer. */
export interface OracleExpertSpec {
  kind: 'oracle';
  name: string;
  settings: OracleSettings;
  /** The config's splits, computed when the oracle opens. */
  splits: () => OracleSplits;
  tokenizer: () => TextTokenizer;
}

export type ExpertSpec = ModelExpertSpec | OracleExpertSpec;

/** One item as the experts see it: the task entry (oracles read its answer) and the prompt models read. */
export interface ExpertItem {
  entry: TaskEntry;
  prompt: ExpertPrompt;
}

/** What the pool needs of an expert, model or oracle. */
export interface ExpertSource {
  readonly name: string;
  readonly width: number;
  readonly lastStats: { cached: number; computed: number };
  extract(items: readonly ExpertItem[]): Promise<PooledState[]>;
  dispose(): Promise<void>;
}

/** A model expert as a source (reads prompts). */
class RunnerSource implements ExpertSource {
  constructor(readonly runner: ExpertRunner) {}
  get name(): string {
    return this.runner.options.name;
  }
  get width(): number {
    return this.runner.width;
  }
  get lastStats(): { cached: number; computed: number } {
    return this.runner.lastStats;
  }
  extract(items: readonly ExpertItem[]): Promise<PooledState[]> {
    return this.runner.extract(items.map((i) => i.prompt));
  }
  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}

/** An oracle as a source (reads entries' answers). */
class OracleSource implements ExpertSource {
  constructor(readonly oracle: OracleExpert) {}
  get name(): string {
    return this.oracle.name;
  }
  get width(): number {
    return this.oracle.width;
  }
  get lastStats(): { cached: number; computed: number } {
    return this.oracle.lastStats;
  }
  extract(items: readonly ExpertItem[]): Promise<PooledState[]> {
    return this.oracle.extract(items.map((i) => i.entry));
  }
  dispose(): Promise<void> {
    return this.oracle.dispose();
  }
}

/** Open one expert source: an ONNX runner for a model, an oracle over the config's splits. */
async function openSource(spec: ExpertSpec, options: ExpertPoolOptions, cache: HiddenStateCache | undefined): Promise<ExpertSource> {
  if (spec.kind === 'oracle') {
    const tokenizer = spec.settings.encoding === 'tokens' ? spec.tokenizer() : undefined;
    return new OracleSource(new OracleExpert(spec.settings, spec.splits(), tokenizer));
  }
  const runner = await ExpertRunner.open(
    { name: spec.name, model: spec.model, tokenizer: spec.tokenizer, layer: options.layer, pooling: options.pooling, batchSize: options.batchSize, addBos: spec.addBos, chatTemplate: spec.chatTemplate, systemPrompt: spec.systemPrompt, executionProviders: options.providers },
    { cache, warn: options.warn },
  );
  return new RunnerSource(runner);
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
    readonly sources: ExpertSource[],
    readonly cache: HiddenStateCache | undefined,
  ) {}

  static async open(specs: readonly ExpertSpec[], options: ExpertPoolOptions): Promise<ExpertPool> {
    const cache = options.cacheDir ? new HiddenStateCache(options.cacheDir, (file, reason) => options.warn?.(`hidden-state cache entry ${file} is corrupt (${reason}); recomputing it`)) : undefined;
    const sources = await openAll(specs, (spec) => openSource(spec, options, cache));
    return new ExpertPool(sources, cache);
  }

  get names(): string[] {
    return this.sources.map((r) => r.name);
  }

  get widths(): number[] {
    return this.sources.map((r) => r.width);
  }

  /** Every expert's states for `items` (same order), as router input tensors. */
  async extract(items: readonly ExpertItem[]): Promise<ExtractedStates> {
    const started = performance.now();
    const states: ExpertStates[] = [];
    let cached = 0;
    let computed = 0;
    try {
      for (const source of this.sources) {
        const pooled = await source.extract(items);
        cached += source.lastStats.cached;
        computed += source.lastStats.computed;
        states.push(statesToTensors(pooled));
      }
    } catch (error) {
      disposeStates(states);
      throw error;
    }
    return { states, seconds: (performance.now() - started) / 1000, cached, computed };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.sources.map((r) => r.dispose()));
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
