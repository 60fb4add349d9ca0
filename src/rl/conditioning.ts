// How the policy is conditioned on the experts for a batch of task entries: each expert reads the
// prompt (ONNX, cached), the router turns the pooled states into K soft context tokens, and the routing
// (per-expert attention mass and entropy per prompt) is kept as data. With no experts (the
// `no-experts` baseline) there is no prefix and no routing.

import type { TaskEntry } from '../../tasks/types.js';
import * as tf from '../models/tf.js';
import { routingStats, type ExpertStates, type PerceiverRouter } from '../router/perceiver.js';
import { expertPromptParts, type ExpertPromptMode, type PromptFormat } from '../world/format.js';
import { disposeStates, gatherStates, type ExpertPool } from './expert-pool.js';

export type ExpertPerturbation = 'none' | 'shuffle' | 'zero';
import type { RoutingRecord } from './metrics.js';

export interface Conditioning {
  /** Expert states per expert, [P, ...] each (undefined without experts). Disposed by dispose(). */
  states?: ExpertStates[];
  /** Soft context tokens [P, K, hidden] computed without gradients (undefined without experts). */
  prefix?: tf.Tensor3D;
  routing: RoutingRecord[];
  /** Seconds spent reading the experts. */
  expertSeconds: number;
  cached: number;
  computed: number;
}

export class Conditioner {
  constructor(
    readonly format: PromptFormat,
    readonly pool?: ExpertPool,
    readonly router?: PerceiverRouter,
    /** Ablations: `shuffle` gives prompt i the states of prompt (i + 1) mod P of its batch; `zero` gives zeros. */
    readonly perturb: ExpertPerturbation = 'none',
    /** What the experts read (see formatExpertPrompt). */
    readonly expertPrompt: ExpertPromptMode = 'question',
  ) {
    if (Boolean(pool) !== Boolean(router)) throw new Error('a conditioner needs both an expert pool and a router, or neither');
  }

  get experts(): string[] {
    return this.pool?.names ?? [];
  }

  async condition(entries: readonly TaskEntry[]): Promise<Conditioning> {
    if (!this.pool || !this.router) return { routing: [], expertSeconds: 0, cached: 0, computed: 0 };
    const extracted = await this.pool.extract(entries.map((e) => expertPromptParts(this.format, e, this.expertPrompt)));
    if (this.perturb !== 'none') {
      const original = extracted.states;
      extracted.states = this.perturb === 'zero' ? original.map((s) => ({ states: tf.zerosLike(s.states), mask: s.mask?.clone() })) : gatherStates(original, entries.map((_, i) => (i + 1) % entries.length));
      disposeStates(original);
    }
    try {
      const out = this.router.forward(extracted.states);
      const stats = routingStats(out.expertMass);
      out.attention.dispose();
      out.expertMass.dispose();
      const routing = entries.map((e, i) => ({ task: String(e.metadata.source_dataset), mass: stats.expertMass[i], entropy: stats.entropy[i] }));
      return { states: extracted.states, prefix: out.context, routing, expertSeconds: extracted.seconds, cached: extracted.cached, computed: extracted.computed };
    } catch (error) {
      disposeStates(extracted.states);
      throw error;
    }
  }
}

export function disposeConditioning(c: Conditioning): void {
  if (c.states) disposeStates(c.states);
  c.prefix?.dispose();
}
