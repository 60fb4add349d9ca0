// The router on ONNX Runtime, without gradients (rollouts and evaluation): OnnxRouter holds the config
// and the weights (seeded by src/router/init.ts exactly as PerceiverRouter, or set from a checkpoint
// with the same checks), compiles one forward graph per batch size and state layout (SessionCache), and
// returns the context tokens, attention and routing statistics as typed arrays. Also the feed helpers
// the training engine uses to give a batch's expert states and the router weights to any graph built
// with routerGraph (./router-graph.ts).

import { type FloatType, Graph, sizeOf } from './graph.js';
import { type EngineSessionOptions, type Feeds, SessionCache } from './session.js';
import { type ExpertStateKind, routerGraph, routerMaskName, routerParamInputs, routerParamName, routerStateName } from './router-graph.js';
import { type RouterConfig, routingEntropy, validateRouterConfig } from '../router/config.js';
import { type RouterWeight, checkRouterCheckpoint, initRouterWeights } from '../router/init.js';

/** One expert's states for a batch: pooled [B, d_e], or tokens [B, S, d_e] with an optional mask [B, S] (default: all visible). */
export interface RouterStateBatch {
  data: Float32Array | Float64Array;
  shape: number[];
  mask?: Float32Array | Float64Array;
}

export interface OnnxRouterOutput {
  /** [B, K, outputWidth] */
  context: Float32Array;
  /** Cross-attention averaged over heads. [B, K, N], N = total expert positions */
  attention: Float32Array;
  /** [B][E], rows sum to 1 */
  expertMass: number[][];
  /** Entropy (nats) of each row of expertMass. [B] */
  entropy: number[];
  batch: number;
  /** N, the number of key positions over all experts. */
  positions: number;
}

/** Batch size and the state kind of each expert (what routerGraph takes), checked against the config. */
export function routerStateKinds(config: RouterConfig, states: readonly RouterStateBatch[]): { batch: number; kinds: ExpertStateKind[] } {
  if (states.length !== config.experts.length) throw new Error(`router expects ${config.experts.length} experts (${config.experts.join(', ')}), got ${states.length}`);
  const batch = states[0].shape[0];
  const kinds = states.map((s, e): ExpertStateKind => {
    const name = config.experts[e];
    const shape = `[${s.shape.join(', ')}]`;
    if (s.shape.length !== 2 && s.shape.length !== 3) throw new Error(`expert '${name}' states have shape ${shape}; expected [B, d_e] or [B, S, d_e]`);
    const width = s.shape[s.shape.length - 1];
    if (width !== config.expertWidths[e]) throw new Error(`expert '${name}' states have width ${width}, the router was built for ${config.expertWidths[e]}`);
    if (s.shape[0] !== batch) throw new Error(`expert '${name}' has ${s.shape[0]} rows, expected ${batch}`);
    if (s.data.length !== sizeOf(s.shape)) throw new Error(`expert '${name}' states hold ${s.data.length} values for shape ${shape}`);
    if (s.shape.length === 2) {
      if (s.mask) throw new Error(`expert '${name}' has pooled states ${shape} and a mask; masks go with token states [B, S, d_e]`);
      return { kind: 'pooled' };
    }
    if (s.mask && s.mask.length !== batch * s.shape[1]) throw new Error(`expert '${name}' mask holds ${s.mask.length} values, expected [${batch}, ${s.shape[1]}]`);
    return { kind: 'tokens', length: s.shape[1] };
  });
  if (!Number.isInteger(batch) || batch <= 0) throw new Error(`router states need at least one row (expert '${config.experts[0]}' has shape [${states[0].shape.join(', ')}])`);
  return { batch, kinds };
}

function asFloat(data: Float32Array | Float64Array, float: FloatType): Float32Array | Float64Array {
  if (float === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

/** Feeds router.states.<e> (and router.mask.<e> for token states; all ones when no mask is given) of a graph built by routerGraph. */
export function routerFeeds(config: RouterConfig, states: readonly RouterStateBatch[], float: FloatType = 'float32'): Feeds {
  const { batch, kinds } = routerStateKinds(config, states);
  const feeds: Feeds = {};
  states.forEach((s, e) => {
    feeds[routerStateName(e)] = asFloat(s.data, float);
    const kind = kinds[e];
    if (kind.kind === 'tokens') feeds[routerMaskName(e)] = s.mask ? asFloat(s.mask, float) : asFloat(new Float64Array(batch * kind.length).fill(1), float);
  });
  return feeds;
}

/** Feeds router.param.<name> for every weight (graphs whose parameters come from routerParamInputs). */
export function routerWeightFeeds(weights: ReadonlyMap<string, RouterWeight>, float: FloatType = 'float32'): Feeds {
  const feeds: Feeds = {};
  for (const [name, w] of weights) feeds[routerParamName(name)] = asFloat(w.data, float);
  return feeds;
}

/** The no-gradient forward graph: parameters as inputs, outputs `context`, `attention`, `expertMass`. */
export function routerForwardGraph(config: RouterConfig, batch: number, kinds: readonly ExpertStateKind[], float: FloatType = 'float32'): Graph {
  const g = new Graph(`router_forward_b${batch}`, float);
  const { params } = routerParamInputs(g, config);
  const out = routerGraph(g, config, batch, kinds, params);
  g.output(out.context, 'context');
  g.output(out.attention, 'attention');
  g.output(out.expertMass, 'expertMass');
  return g;
}

/** Shape-bucket key of a forward graph: batch and each expert's layout. */
function layoutKey(batch: number, kinds: readonly ExpertStateKind[]): string {
  return `router-forward:b${batch}:${kinds.map((k) => (k.kind === 'pooled' ? 'p' : `t${k.length}`)).join(',')}`;
}

export class OnnxRouter {
  private readonly weights = new Map<string, RouterWeight>();
  private readonly sessions: SessionCache;

  constructor(
    readonly config: RouterConfig,
    options: EngineSessionOptions = {},
  ) {
    validateRouterConfig(config);
    for (const [name, w] of initRouterWeights(config)) this.weights.set(name, w);
    this.sessions = new SessionCache(options);
  }

  /** Named float32 copies of every parameter (for checkpoints), in creation order. */
  getWeights(): Map<string, RouterWeight> {
    const out = new Map<string, RouterWeight>();
    for (const [name, w] of this.weights) out.set(name, { shape: [...w.shape], data: w.data.slice() });
    return out;
  }

  /** Replace every parameter (copied); the same checks and messages as PerceiverRouter.setWeights. */
  setWeights(weights: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
    checkRouterCheckpoint(new Map([...this.weights].map(([n, w]) => [n, w.shape])), weights);
    for (const [name, v] of this.weights) v.data = Float32Array.from(weights.get(name)!.data);
  }

  parameterCount(): number {
    return [...this.weights.values()].reduce((a, w) => a + w.data.length, 0);
  }

  /** Sessions compiled so far (one per batch size and state layout). */
  get compiledSessions(): number {
    return this.sessions.compiled;
  }

  /** Route one batch (no gradients). `states[e]` holds expert e's states for the same B prompts. */
  async forward(states: readonly RouterStateBatch[]): Promise<OnnxRouterOutput> {
    const { batch, kinds } = routerStateKinds(this.config, states);
    const session = await this.sessions.get(layoutKey(batch, kinds), () => routerForwardGraph(this.config, batch, kinds));
    const out = await session.run({ ...routerFeeds(this.config, states), ...routerWeightFeeds(this.weights) });
    const E = this.config.experts.length;
    const massFlat = out.expertMass as Float32Array;
    const expertMass = Array.from({ length: batch }, (_, b) => Array.from(massFlat.subarray(b * E, (b + 1) * E)));
    const positions = kinds.reduce((n, k) => n + (k.kind === 'pooled' ? 1 : k.length), 0);
    return { context: out.context as Float32Array, attention: out.attention as Float32Array, expertMass, entropy: routingEntropy(expertMass), batch, positions };
  }

  async dispose(): Promise<void> {
    await this.sessions.dispose();
  }
}
