// Routing diagnostics logged every step (issue: what the experts contribute): how large the router's
// context tokens are next to the prompt's own token embeddings, the gradient norm reaching the router
// apart from the policy's, and each task's attention mass on its specialist expert (the expert whose
// model card shows the largest held-out accuracy above the task's constant-answer rate).

import type { MusketeersConfig } from '../config.js';
import type { DecoderWeights } from '../models/decoder-config.js';
import { modelDir, readCard } from '../world/build.js';
import type { RoutingRecord } from './metrics.js';
import type { ContextTokens } from './policy-engine.js';

/** L2 norm of each row of the policy's token embedding table [vocab]. */
export function tokenEmbeddingNorms(weights: DecoderWeights): Float32Array {
  const e = weights.get('model.embed_tokens.weight');
  if (!e) throw new Error('the policy has no model.embed_tokens.weight');
  const [V, H] = e.shape;
  const out = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let h = 0; h < H; h++) s += e.data[v * H + h] ** 2;
    out[v] = Math.sqrt(s);
  }
  return out;
}

/**
 * Mean over prompts of (mean L2 norm of its K context tokens) / (mean L2 norm of its prompt tokens'
 * embeddings). Near 0: the context tokens are drowned by the prompt; near 1: they are as loud as words.
 */
export function contextNormRatio(context: ContextTokens, promptIds: readonly (readonly number[])[], tokenNorms: Float32Array): number {
  const [P, K, H] = context.shape;
  if (promptIds.length !== P) throw new Error(`contextNormRatio: ${P} context rows for ${promptIds.length} prompts`);
  let sum = 0;
  for (let p = 0; p < P; p++) {
    let ctx = 0;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += context.data[(p * K + k) * H + h] ** 2;
      ctx += Math.sqrt(s);
    }
    const ids = promptIds[p];
    const words = ids.reduce((a, id) => a + tokenNorms[id], 0) / Math.max(1, ids.length);
    sum += ctx / K / Math.max(words, 1e-12);
  }
  return sum / P;
}

/** Global gradient norms of the router's parameters and of the policy's (LoRA or full) separately. */
export function gradientGroupNorms(grads: ReadonlyMap<string, ArrayLike<number>>): { router: number; policy: number } {
  let router = 0;
  let policy = 0;
  for (const [name, g] of grads) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    if (name.startsWith('router.')) router += s;
    else policy += s;
  }
  return { router: Math.sqrt(router), policy: Math.sqrt(policy) };
}

/** One task's specialist and why (from the world's model cards). */
export interface Specialist {
  expert: string;
  accuracy: number;
  constantAnswerAccuracy: number;
}

/**
 * The specialist of each task among the routed experts: the one whose card shows the largest held-out
 * accuracy above the constant-answer rate (tasks where no expert beats it, and experts without a card
 * — real-model exports — are left out).
 */
export function findSpecialists(config: MusketeersConfig, experts: readonly string[]): Record<string, Specialist> {
  const out: Record<string, Specialist> = {};
  if (!config.world) return out;
  for (const task of config.data.tasks.map((t) => t.name)) {
    let best: (Specialist & { margin: number }) | undefined;
    for (const expert of experts) {
      const card = readCard(modelDir(config, expert));
      const held = card?.heldOut.find((h) => h.task === task);
      const base = card?.baselines.find((b) => b.task === task);
      if (!held || !base) continue;
      const margin = held.accuracy - base.accuracy;
      if (margin > 0 && (!best || margin > best.margin)) best = { expert, accuracy: held.accuracy, constantAnswerAccuracy: base.accuracy, margin };
    }
    if (best) out[task] = { expert: best.expert, accuracy: best.accuracy, constantAnswerAccuracy: best.constantAnswerAccuracy };
  }
  return out;
}

/** `router/specialist_mass/<task>`: mean mass of the step's prompts of each task on its specialist. */
export function specialistMassMetrics(experts: readonly string[], routing: readonly RoutingRecord[], specialists: Readonly<Record<string, Specialist>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [task, s] of Object.entries(specialists)) {
    const k = experts.indexOf(s.expert);
    const rows = routing.filter((r) => r.task === task);
    if (k < 0 || rows.length === 0) continue;
    out[`router/specialist_mass/${task}`] = rows.reduce((a, r) => a + r.mass[k], 0) / rows.length;
  }
  return out;
}
