// The router's configuration and its validation, plus the routing entropy of an expert-mass table: kept
// apart from perceiver.ts so that the ONNX engine (src/engine/) and the config schema can use them
// without loading TensorFlow.js. perceiver.ts re-exports everything here.

import { ROUTER_ATTENTIONS, type RouterAttention } from './attention.js';

export { ROUTER_ATTENTIONS, type RouterAttention };

export interface RouterConfig {
  /** Expert names, in the order their states are given. */
  experts: string[];
  /** Width of each expert's hidden state, same order. */
  expertWidths: number[];
  /** Common width D (paper: 512). */
  width: number;
  /** K latent queries = number of soft context tokens (paper: 8). */
  numLatents: number;
  /** Attention heads H (paper: 8); must divide width. */
  numHeads: number;
  /** Policy embedding width: size of each context token. */
  outputWidth: number;
  /** FFN inner width as a multiple of D. */
  ffnMultiplier: number;
  /** Extra latent self-attention blocks after the cross-attention (0 = none). */
  selfAttentionBlocks: number;
  /** Learned per-expert identity embedding added to that expert's projected states. */
  expertEmbeddings: boolean;
  /** Std of the output projection at initialisation ("near zero"). */
  outputInitStd: number;
  seed: number;
  /**
   * How the latents' cross-attention weights are formed: `learned` (softmax of scores; the method),
   * `uniform` (every expert position weighted equally: an ablation), `top1` (hard routing: each prompt
   * attends only to the expert that receives the most learned attention mass).
   */
  attention?: RouterAttention;
}

export interface RoutingStats {
  /** [B][E] */
  expertMass: number[][];
  /** Entropy (nats) of each prompt's expert-mass distribution. [B] */
  entropy: number[];
}

export function validateRouterConfig(c: RouterConfig): void {
  const problems: string[] = [];
  if (c.experts.length === 0) problems.push('at least one expert is needed');
  if (c.experts.length !== c.expertWidths.length) problems.push(`${c.experts.length} experts but ${c.expertWidths.length} widths`);
  if (new Set(c.experts).size !== c.experts.length) problems.push('expert names must be unique');
  for (const k of ['width', 'numLatents', 'numHeads', 'outputWidth', 'ffnMultiplier'] as const) if (!Number.isInteger(c[k]) || c[k] <= 0) problems.push(`${k} must be a positive integer (got ${c[k]})`);
  if (c.width % c.numHeads !== 0) problems.push(`width (${c.width}) must be divisible by numHeads (${c.numHeads})`);
  if (!Number.isInteger(c.selfAttentionBlocks) || c.selfAttentionBlocks < 0) problems.push(`selfAttentionBlocks must be >= 0 (got ${c.selfAttentionBlocks})`);
  if (problems.length > 0) throw new Error(`invalid router config: ${problems.join('; ')}`);
}

/** Entropy (nats) of each row of an expert-mass table [B][E]; zero masses contribute nothing. [B] */
export function routingEntropy(mass: readonly (readonly number[])[]): number[] {
  return mass.map((row) => row.reduce((a, p) => (p > 0 ? a - p * Math.log(p) : a), 0));
}
