// The Perceiver-style router (the paper's attention interface): each expert's hidden states are
// projected to a common width D, K learned latent queries cross-attend over all experts' projected
// states with H heads, an FFN refines the latents (pre-norm residual blocks, optional extra latent
// self-attention blocks), and an output projection initialised near zero maps the K latents to K soft
// context tokens of the policy's embedding width. The cross-attention weights are returned as data:
// per prompt, the attention mass on each expert and the routing entropy.

import { matMul } from '../models/matmul.js';
import * as tf from '../models/tf.js';
import { ROUTER_ATTENTIONS, type RouterAttention, type RouterConfig, type RoutingStats, routingEntropy, validateRouterConfig } from './config.js';
import { checkRouterCheckpoint, initRouterWeights } from './init.js';

export { ROUTER_ATTENTIONS, type RouterAttention, type RouterConfig, type RoutingStats, validateRouterConfig };

/** States of one expert for a batch: pooled [B, d_e], or token sequences [B, S, d_e] with a mask [B, S]. */
export interface ExpertStates {
  states: tf.Tensor2D | tf.Tensor3D;
  mask?: tf.Tensor2D;
}

export interface RouterOutput {
  /** Soft context tokens for the policy. [B, K, outputWidth] */
  context: tf.Tensor3D;
  /** Cross-attention probabilities, averaged over heads. [B, K, N] with N = total expert positions. */
  attention: tf.Tensor3D;
  /** Attention mass per expert, averaged over heads and latents; rows sum to 1. [B, E] */
  expertMass: tf.Tensor2D;
}

const LN_EPS = 1e-5;

/** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

export class PerceiverRouter {
  readonly variables = new Map<string, tf.Variable>();

  constructor(readonly config: RouterConfig) {
    // Names, shapes, order and seeded values come from ./init.ts (shared with the ONNX engine).
    for (const [name, w] of initRouterWeights(config)) this.variables.set(name, tf.variable(tf.tensor(w.data, w.shape), true));
  }

  private v(name: string): tf.Tensor {
    const t = this.variables.get(name);
    if (!t) throw new Error(`router has no parameter ${name}`);
    return t;
  }

  /** x [..., in] times W^T for W [out, in]. */
  private linear(x: tf.Tensor, weight: string, bias?: string): tf.Tensor {
    const W = this.v(weight) as tf.Tensor2D;
    const shape = x.shape;
    const flat = tf.reshape(x, [-1, shape[shape.length - 1]]) as tf.Tensor2D;
    let y: tf.Tensor = matMul(flat, W, false, true);
    if (bias) y = tf.add(y, this.v(bias));
    return tf.reshape(y, [...shape.slice(0, -1), W.shape[0]]);
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LN_EPS)));
    return tf.add(tf.mul(normed, this.v(`${prefix}.weight`)), this.v(`${prefix}.bias`));
  }

  /** Multi-head attention of queries [B, K, D] over keys/values [B, N, D]; keyMask [B, N] (1 = visible). */
  private attend(prefix: string, q: tf.Tensor, kv: tf.Tensor, keyMask?: tf.Tensor, uniform = false): { out: tf.Tensor; probs: tf.Tensor } {
    const { numHeads: H, width: D } = this.config;
    const dh = D / H;
    const [B, K] = q.shape;
    const N = kv.shape[1]!;
    const heads = (x: tf.Tensor, n: number) => tf.transpose(tf.reshape(x, [B!, n, H, dh]), [0, 2, 1, 3]); // [B, H, n, dh]
    const Q = heads(this.linear(q, `${prefix}.q.weight`), K!);
    const Kt = heads(this.linear(kv, `${prefix}.k.weight`), N);
    const V = heads(this.linear(kv, `${prefix}.v.weight`), N);
    let scores = tf.mul(tf.matMul(Q, Kt, false, true), 1 / Math.sqrt(dh)); // [B, H, K, N]
    if (keyMask) {
      const hidden = tf.sub(1, tf.reshape(keyMask, [B!, 1, 1, N]));
      scores = tf.sub(scores, tf.mul(hidden, 1e9));
    }
    // uniform: equal weight on every visible key (the scores are ignored).
    const probs = uniform ? tf.div(tf.mul(tf.onesLike(scores), tf.reshape(keyMask ?? tf.ones([B!, N]), [B!, 1, 1, N])), tf.sum(keyMask ?? tf.ones([B!, N]), -1).reshape([B!, 1, 1, 1])) : tf.softmax(scores, -1); // [B, H, K, N]
    const ctx = tf.reshape(tf.transpose(tf.matMul(probs, V), [0, 2, 1, 3]), [B!, K!, D]); // [B, K, D]
    return { out: this.linear(ctx, `${prefix}.o.weight`), probs };
  }

  /** x + FFN(LN(x)) with a GELU (tanh approximation) between the two projections. */
  private ffnResidual(prefix: string, x: tf.Tensor): tf.Tensor {
    const up = this.linear(this.layerNorm(x, `${prefix}.norm_ffn`), `${prefix}.ffn.up.weight`, `${prefix}.ffn.up.bias`);
    return tf.add(x, this.linear(gelu(up), `${prefix}.ffn.down.weight`, `${prefix}.ffn.down.bias`));
  }

  /**
   * Route one batch. `experts[e]` holds expert e's states for the same B prompts. Differentiable in the
   * router's variables; the caller owns (and disposes) the returned tensors.
   */
  forward(experts: readonly ExpertStates[]): RouterOutput {
    const { config } = this;
    if (experts.length !== config.experts.length) throw new Error(`router expects ${config.experts.length} experts (${config.experts.join(', ')}), got ${experts.length}`);
    return tf.tidy(() => {
      const B = experts[0].states.shape[0];
      const keys: tf.Tensor[] = [];
      const masks: tf.Tensor[] = [];
      const owner: number[] = [];
      experts.forEach((x, e) => {
        const width = x.states.shape[x.states.rank - 1];
        if (width !== config.expertWidths[e]) throw new Error(`expert '${config.experts[e]}' states have width ${width}, the router was built for ${config.expertWidths[e]}`);
        if (x.states.shape[0] !== B) throw new Error(`expert '${config.experts[e]}' has ${x.states.shape[0]} rows, expected ${B}`);
        const seq = x.states.rank === 2 ? (tf.expandDims(x.states, 1) as tf.Tensor3D) : (x.states as tf.Tensor3D); // [B, S, d_e]
        let projected = this.linear(seq, `proj.${e}.weight`, `proj.${e}.bias`); // [B, S, D]
        if (config.expertEmbeddings) projected = tf.add(projected, tf.slice(this.v('expert_embed'), [e, 0], [1, -1]));
        keys.push(projected);
        masks.push(x.mask ?? tf.ones([B, seq.shape[1]]));
        for (let s = 0; s < seq.shape[1]; s++) owner.push(e);
      });
      const kv = this.layerNorm(tf.concat(keys, 1), 'cross.norm_kv'); // [B, N, D]
      const keyMask = tf.concat(masks, 1); // [B, N]
      let latents: tf.Tensor = tf.tile(tf.expandDims(this.v('latents'), 0), [B, 1, 1]); // [B, K, D]
      const queries = this.layerNorm(latents, 'cross.norm_q');
      const mode = config.attention ?? 'learned';
      let crossMask = keyMask;
      if (mode === 'top1') {
        // Hard routing: the expert with the most learned attention mass (no gradient through the choice).
        const learned = tf.mean(this.attend('cross', queries, kv, keyMask).probs, [1, 2]) as tf.Tensor2D; // [B, N]
        const perExpert = matMul(learned, this.ownership(owner)); // [B, E]
        const chosen = tf.oneHot(tf.argMax(perExpert, 1), Math.max(2, config.experts.length)).slice([0, 0], [B, config.experts.length]); // [B, E]
        crossMask = tf.mul(keyMask, matMul(tf.cast(chosen, 'float32') as tf.Tensor2D, this.ownership(owner), false, true)); // [B, N]
      }
      const cross = this.attend('cross', queries, kv, crossMask, mode === 'uniform');
      latents = this.ffnResidual('cross', tf.add(latents, cross.out));
      for (let s = 0; s < config.selfAttentionBlocks; s++) {
        const normed = this.layerNorm(latents, `self.${s}.norm_q`);
        latents = this.ffnResidual(`self.${s}`, tf.add(latents, this.attend(`self.${s}`, normed, normed).out));
      }
      const context = this.linear(this.layerNorm(latents, 'out.norm'), 'out.weight') as tf.Tensor3D; // [B, K, outputWidth]
      const attention = tf.mean(cross.probs, 1) as tf.Tensor3D; // [B, K, N]
      const E = config.experts.length;
      const ownership = this.ownership(owner);
      const perLatent = tf.reshape(matMul(tf.reshape(attention, [-1, owner.length]) as tf.Tensor2D, ownership), [B, config.numLatents, E]);
      const expertMass = tf.mean(perLatent, 1) as tf.Tensor2D; // [B, E]
      return { context, attention, expertMass };
    });
  }

  /** [N, E]: 1 where key position n belongs to expert e (tf.oneHot needs depth >= 2). */
  private ownership(owner: readonly number[]): tf.Tensor2D {
    const E = this.config.experts.length;
    const onehot = new Float32Array(owner.length * E);
    owner.forEach((e, n) => (onehot[n * E + e] = 1));
    return tf.tensor2d(onehot, [owner.length, E]);
  }

  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()];
  }

  /** Named float32 copies of every parameter (for checkpoints). */
  getWeights(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of this.variables) out.set(name, { shape: v.shape.slice(), data: v.dataSync() as Float32Array });
    return out;
  }

  setWeights(weights: Map<string, { shape: number[]; data: Float32Array }>): void {
    checkRouterCheckpoint(new Map([...this.variables].map(([n, v]) => [n, v.shape])), weights);
    for (const [name, v] of this.variables) {
      const w = weights.get(name)!;
      v.assign(tf.tensor(w.data, w.shape));
    }
  }

  parameterCount(): number {
    return [...this.variables.values()].reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

/** Per-prompt expert mass and routing entropy (nats) as plain numbers. */
export function routingStats(expertMass: tf.Tensor2D): RoutingStats {
  const mass = expertMass.arraySync();
  return { expertMass: mass, entropy: routingEntropy(mass) };
}
