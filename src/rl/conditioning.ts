// How the policy is conditioned on the experts for a batch of task entries: each expert reads the
// prompt (ONNX, cached), the router turns the pooled states into K soft context tokens, and the routing
// (per-expert attention mass and entropy per prompt) is kept as data. With no experts (the
// `no-experts` baseline) there is no prefix and no routing. With expert texts (the `text-concat`
// baseline) each expert writes a greedy answer and the policy's prompt text starts with them (no
// prefix, no routing). Every conditioning gives the policy's prompt text per entry.

import type { TaskEntry } from '../../tasks/types.js';
import * as tf from '../models/tf.js';
import type { ExpertStates } from '../router/perceiver.js';
import { expertPromptParts, formatExpertPrompt, formatPrompt, type ExpertPromptMode, type PromptFormat } from '../world/format.js';
import { disposeStates, gatherStates, type ExpertPool } from './expert-pool.js';
import type { ExpertTextPool } from './expert-texts.js';
import type { ContextTokens, RouterRuntime } from './policy-engine.js';
import { expertAnswerText, textConcatPrompt } from './text-concat.js';

export type ExpertPerturbation = 'none' | 'shuffle' | 'zero';
import type { RoutingRecord } from './metrics.js';

export interface Conditioning {
  /** The policy's prompt text per entry: the formatted question, preceded by the expert lines with text-concat. */
  promptTexts: string[];
  /** text-concat: what each expert's line shows, per entry ({expert: answer}). */
  expertTexts?: Record<string, string>[];
  /** Expert states per expert, [P, ...] each (undefined without experts). Disposed by dispose(). */
  states?: ExpertStates[];
  /** Soft context tokens [P, K, hidden] computed without gradients (undefined without experts). */
  prefix?: ContextTokens;
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
    readonly router?: RouterRuntime,
    /** Ablations: `shuffle` gives prompt i the states of prompt (i + 1) mod P of its batch; `zero` gives zeros. */
    readonly perturb: ExpertPerturbation = 'none',
    /** What the experts read (see formatExpertPrompt). */
    readonly expertPrompt: ExpertPromptMode = 'question',
    /** text-concat: experts that write their answers into the policy's prompt (no pool, no router). */
    readonly texts?: ExpertTextPool,
  ) {
    if (Boolean(pool) !== Boolean(router)) throw new Error('a conditioner needs both an expert pool and a router, or neither');
    if (texts && pool) throw new Error('a conditioner reads the experts either as hidden states (pool and router) or as texts, not both');
  }

  /** The experts the router attends to (none without a router). */
  get experts(): string[] {
    return this.pool?.names ?? [];
  }

  /** The experts whose texts the policy reads (text-concat), else none. */
  get textExperts(): string[] {
    return this.texts?.names ?? [];
  }

  async condition(entries: readonly TaskEntry[]): Promise<Conditioning> {
    const promptTexts = entries.map((e) => formatPrompt(this.format, e));
    if (this.texts) return this.conditionOnTexts(entries, promptTexts);
    if (!this.pool || !this.router) return { promptTexts, routing: [], expertSeconds: 0, cached: 0, computed: 0 };
    const extracted = await this.pool.extract(entries.map((entry) => ({ entry, prompt: expertPromptParts(this.format, entry, this.expertPrompt) })));
    if (this.perturb !== 'none') {
      const original = extracted.states;
      extracted.states = this.perturb === 'zero' ? original.map((s) => ({ states: tf.zerosLike(s.states), mask: s.mask?.clone() })) : gatherStates(original, entries.map((_, i) => (i + 1) % entries.length));
      disposeStates(original);
    }
    try {
      const out = await this.router.route(extracted.states);
      const routing = entries.map((e, i) => ({ task: String(e.metadata.source_dataset), mass: out.expertMass[i], entropy: out.entropy[i] }));
      return { promptTexts, states: extracted.states, prefix: out.context, routing, expertSeconds: extracted.seconds, cached: extracted.cached, computed: extracted.computed };
    } catch (error) {
      disposeStates(extracted.states);
      throw error;
    }
  }

  private async conditionOnTexts(entries: readonly TaskEntry[], questionPrompts: string[]): Promise<Conditioning> {
    const names = this.texts!.names;
    const generated = await this.texts!.generate(entries.map((e) => formatExpertPrompt(this.format, e, this.expertPrompt)));
    const expertTexts = generated.texts.map((row) => Object.fromEntries(row.map((g, k) => [names[k], expertAnswerText(g.text, this.format.answerTag)])));
    const promptTexts = questionPrompts.map((q, p) => textConcatPrompt(names.map((expert) => ({ expert, answer: expertTexts[p][expert] })), q));
    return { promptTexts, expertTexts, routing: [], expertSeconds: generated.seconds, cached: generated.cached, computed: generated.computed };
  }
}

export function disposeConditioning(c: Conditioning): void {
  if (c.states) disposeStates(c.states);
}
