// The `onnx` engine: the policy, its LoRA adapters (or every weight in `full` mode) and the router as
// generated ONNX graphs on ONNX Runtime (src/engine/), the weights as host Float32Arrays that FloatAdam
// updates in place. One GRPO step runs one session: router -> context tokens -> completion log-probs ->
// loss, diagnostics and gradients (src/engine/policy-graphs.ts); rollouts and evaluation run the prefill
// and KV-cached decode graphs (src/engine/onnx-decoder.ts). Sessions are cached per shape bucket.
// Checkpoints hold the same tensors under the same names as the tfjs engine's.

import { cudaProviderInstalled, CUDA_INSTALL_HINT, type ExecutionProvider } from '../experts/ort.js';
import { DataError } from '../errors.js';
import { FloatAdam } from '../engine/adam.js';
import { type CompletionSpec, bucketLength, completionFeeds } from '../engine/decoder-graph.js';
import type { TypedArray } from '../engine/graph.js';
import { OnnxDecoder } from '../engine/onnx-decoder.js';
import { routerFeeds, routerForwardGraph, routerStateKinds, routerWeightFeeds, type RouterStateBatch } from '../engine/onnx-router.js';
import { type PolicyLayout, type StepSizes, LOSS_INPUTS, STEP_OUTPUTS, gradName, grpoGraph, policyCheckpointName, routerCheckpointName, scoresGraph, sizeKey } from '../engine/policy-graphs.js';
import { type EngineSession, type Feeds, SessionCache } from '../engine/session.js';
import type { DecoderWeights, NamedTensor } from '../models/decoder-config.js';
import { initLoraWeights } from '../models/lora-init.js';
import type { ExpertStates } from '../router/perceiver.js';
import { routingEntropy, type RouterConfig } from '../router/config.js';
import { initRouterWeights } from '../router/init.js';
import type { EngineSetup } from './engine-tfjs.js';
import { checkedMoments } from './engine-tfjs.js';
import type { GrpoHyper } from './grpo.js';
import { learningRateOf, type EngineCheckpoint, type EngineGradients, type GenerateRequest, type PolicyEngine, type RoutedBatch, type RouterRuntime, type ScoreRows, type StepLearningRate, type TextGenerator } from './policy-engine.js';
import { trainingSeed } from './setup.js';
import { gradientGroupNorms } from './diagnostics.js';
import type { UpdateBatch, UpdateMetrics } from './update.js';

export interface OnnxEngineOptions extends EngineSetup {
  warn?: (message: string) => void;
}

/** Prompt and completion widths are rounded up to a multiple of this (one cached session per bucket). */
const BUCKET = 8;

/** `[cuda, cpu]` without an installed CUDA provider becomes `[cpu]`, with one warning. */
export function resolveProviders(requested: readonly ExecutionProvider[], warn?: (m: string) => void, key = 'train.providers'): ExecutionProvider[] {
  if (!requested.includes('cuda') || cudaProviderInstalled()) return [...requested];
  warn?.(`${key} asks for cuda but ${CUDA_INSTALL_HINT}; the onnx engine runs on the CPU`);
  const rest = requested.filter((p) => p !== 'cuda');
  return rest.length > 0 ? rest : ['cpu'];
}

function copyWeights(w: ReadonlyMap<string, NamedTensor>): DecoderWeights {
  return new Map([...w].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }]));
}

/** Expert states from the pool (tfjs tensors) as host arrays for the router's graphs. */
function hostStates(states: readonly ExpertStates[]): RouterStateBatch[] {
  return states.map((s) => ({ data: s.states.dataSync() as Float32Array, shape: [...s.states.shape], mask: s.mask ? (s.mask.dataSync() as Float32Array) : undefined }));
}

/** Rows [R][<= C] as a right-padded [R, C] float32 array. */
function padRows(rows: readonly (readonly number[])[], C: number): Float32Array {
  const out = new Float32Array(rows.length * C);
  rows.forEach((r, i) => out.set(r.slice(0, C), i * C));
  return out;
}

export class OnnxEngine implements PolicyEngine {
  readonly kind = 'onnx' as const;
  readonly device: string;
  readonly generator: TextGenerator;
  readonly router?: RouterRuntime;
  readonly trainableParameters: number;
  readonly referenceLogProbs?: (rows: ScoreRows) => Promise<number[][]>;
  private readonly sessions: SessionCache;
  private readonly decoder: OnnxDecoder;
  /** Base weights the policy graphs read (trainable in full mode); LoRA; the router's parameters. */
  private readonly base: DecoderWeights;
  private readonly lora: DecoderWeights;
  private readonly routerWeights: DecoderWeights;
  /** The reference: base weights and router at initialisation (beta > 0). */
  private readonly refBase?: DecoderWeights;
  private readonly refRouter?: DecoderWeights;
  private readonly optimizer: FloatAdam;

  private constructor(
    private readonly setup: OnnxEngineOptions,
    private readonly providers: ExecutionProvider[],
  ) {
    const { config, files } = setup;
    const mode = config.policy.mode;
    this.device = `onnx ${providers.join('+')}`;
    this.sessions = new SessionCache({ executionProviders: providers, warn: setup.warn });
    const loaded: DecoderWeights = new Map(files.weights); // the arrays stay alive after the caller clears its map
    this.base = mode === 'full' ? copyWeights(loaded) : loaded;
    this.lora = mode === 'lora' ? initLoraWeights(files.architecture, { ...config.policy.lora, seed: trainingSeed(config) + 17 }) : new Map();
    this.routerWeights = setup.router ? initRouterWeights(setup.router) : new Map();
    if (config.grpo.beta > 0) {
      this.refBase = loaded;
      this.refRouter = setup.router ? initRouterWeights(setup.router) : undefined;
    }
    const params = new Map<string, NamedTensor>();
    if (setup.router && config.router.trainable) for (const [n, t] of this.routerWeights) params.set(routerCheckpointName(n), t);
    const policyParams = mode === 'lora' ? this.lora : mode === 'full' ? this.base : new Map<string, NamedTensor>();
    for (const [n, t] of policyParams) params.set(policyCheckpointName(n), t);
    if (params.size === 0) throw new DataError('nothing to train: method no-experts with policy.mode frozen has no trainable parameters; use policy.mode lora or full');
    this.optimizer = FloatAdam.fromNamed(params, { beta1: config.grpo.adamBeta1, beta2: config.grpo.adamBeta2, weightDecay: config.grpo.weightDecay, clipNorm: config.grpo.maxGradNorm });
    this.trainableParameters = [...params.values()].reduce((a, t) => a + t.data.length, 0);
    this.decoder = new OnnxDecoder(files.architecture, this.base, { executionProviders: providers, weightsAs: 'inputs', lora: mode === 'lora' ? { rank: config.policy.lora.rank, alpha: config.policy.lora.alpha, targets: config.policy.lora.targets } : undefined, bucket: BUCKET });
    if (mode === 'lora') this.decoder.setLoraWeights(this.lora);
    this.generator = { generate: (r) => this.generate(r) };
    if (setup.router) {
      const rc = setup.router;
      this.router = { experts: rc.experts, route: (states) => this.route(rc, this.routerWeights, states) };
    }
    if (this.refBase) this.referenceLogProbs = (rows) => this.logProbs(rows, 'reference');
  }

  static async open(options: OnnxEngineOptions): Promise<OnnxEngine> {
    return new OnnxEngine(options, resolveProviders(options.config.train.providers, options.warn));
  }

  // ---------------------------------------------------------------- layouts and feeds

  private layout(which: 'policy' | 'reference', kinds?: ReturnType<typeof routerStateKinds>['kinds']): PolicyLayout {
    const { config, files, router } = this.setup;
    const policy = which === 'policy';
    const mode = config.policy.mode;
    return {
      decoder: files.architecture,
      lora: policy && mode === 'lora' ? { rank: config.policy.lora.rank, alpha: config.policy.lora.alpha, targets: config.policy.lora.targets } : undefined,
      router: router && kinds ? { config: router, kinds } : undefined,
      train: { router: policy && router !== undefined && config.router.trainable, policy: policy ? (mode === 'frozen' ? 'none' : mode) : 'none' },
      frozenAs: 'inputs',
    };
  }

  /** Sizes of the step graphs for a batch: prompt and completion widths rounded up to the bucket. */
  private sizes(rows: ScoreRows): StepSizes {
    const R = rows.completionIds.length;
    return {
      P: rows.promptIds.length,
      Tp: bucketLength(Math.max(1, ...rows.promptIds.map((p) => p.length)), BUCKET),
      R,
      C: bucketLength(Math.max(1, ...rows.completionIds.map((c) => c.length)), BUCKET),
    };
  }

  /** Decoder + router feeds of a batch (tensors by graph input name). */
  private batchFeeds(layout: PolicyLayout, sizes: StepSizes, rows: ScoreRows, host: RouterStateBatch[] | undefined): Record<string, TypedArray> {
    const spec: CompletionSpec = { config: layout.decoder, P: sizes.P, Tp: sizes.Tp, K: layout.router ? layout.router.config.numLatents : 0, R: sizes.R, C: sizes.C, lora: layout.lora, entropy: false };
    const rowPrompt = rows.rowPrompt ?? rows.completionIds.map((_, r) => r);
    const feeds: Record<string, TypedArray> = completionFeeds(spec, { promptIds: rows.promptIds, completionIds: rows.completionIds, rowPrompt });
    if (layout.router && host) Object.assign(feeds, routerFeeds(layout.router.config, host));
    return feeds;
  }

  /** Every input of a session: the given data first, then weights by name (base, LoRA, router parameters). */
  private async run(session: EngineSession, data: Record<string, TypedArray>, which: 'policy' | 'reference'): Promise<Record<string, TypedArray>> {
    const base = which === 'policy' ? this.base : this.refBase!;
    const router = which === 'policy' ? this.routerWeights : (this.refRouter ?? this.routerWeights);
    const routerFeedsByName = routerWeightFeeds(router);
    const feeds: Feeds = {};
    for (const v of session.inputs) {
      const hit = data[v.name] ?? routerFeedsByName[v.name] ?? base.get(v.name)?.data ?? this.lora.get(v.name)?.data;
      if (!hit) throw new Error(`onnx engine: no data for input ${v.name} of graph ${session.name}`);
      feeds[v.name] = hit;
    }
    return session.run(feeds);
  }

  /** The batch's expert states as host arrays (read once per call) and their layout for the router graph. */
  private hostBatch(rows: ScoreRows): { host?: RouterStateBatch[]; kinds?: ReturnType<typeof routerStateKinds>['kinds'] } {
    if (!this.setup.router || !rows.expertStates) return {};
    const host = hostStates(rows.expertStates);
    return { host, kinds: routerStateKinds(this.setup.router, host).kinds };
  }

  // ---------------------------------------------------------------- PolicyEngine

  private async logProbs(rows: ScoreRows, which: 'policy' | 'reference'): Promise<number[][]> {
    const width = Math.max(0, ...rows.completionIds.map((c) => c.length));
    if (rows.completionIds.length === 0 || width === 0) return rows.completionIds.map(() => new Array<number>(width).fill(0));
    const { host, kinds } = this.hostBatch(rows);
    const layout = this.layout(which, kinds);
    const sizes = this.sizes(rows);
    const key = `scores:${which}:${sizeKey(sizes)}:${kindsKey(kinds)}`;
    const session = await this.sessions.get(key, () => scoresGraph(layout, sizes));
    const out = (await this.run(session, this.batchFeeds(layout, sizes, rows, host), which))[STEP_OUTPUTS.logp] as Float32Array; // [R, C]
    return rows.completionIds.map((_, r) => Array.from(out.subarray(r * sizes.C, r * sizes.C + width)));
  }

  async policyLogProbs(rows: ScoreRows): Promise<number[][]> {
    return this.logProbs(rows, 'policy');
  }

  async gradients(batch: UpdateBatch, hyper: GrpoHyper): Promise<EngineGradients> {
    const t0 = performance.now();
    const { host, kinds } = this.hostBatch(batch);
    const layout = this.layout('policy', kinds);
    const sizes = this.sizes(batch);
    const givenOld = batch.oldLogp !== undefined;
    const givenRef = batch.refLogp !== undefined;
    const key = `grpo:${sizeKey(sizes)}:${kindsKey(kinds)}:old${Number(givenOld)}:ref${Number(givenRef)}:${hyperKey(hyper)}`;
    const session = await this.sessions.get(key, () => grpoGraph(layout, sizes, { hyper, givenOld, givenRef }));
    const feeds = this.batchFeeds(layout, sizes, batch, host);
    feeds[LOSS_INPUTS.advantages] = Float32Array.from(batch.advantages);
    if (batch.oldLogp) feeds[LOSS_INPUTS.oldLogp] = padRows(batch.oldLogp, sizes.C);
    if (batch.refLogp) feeds[LOSS_INPUTS.refLogp] = padRows(batch.refLogp, sizes.C);
    const out = await this.run(session, feeds, 'policy');
    const scalar = (name: string) => (out[name] as Float32Array)[0];
    const grads = new Map<string, Float32Array>();
    for (const name of this.optimizer.names()) grads.set(name, out[gradName(name)] as Float32Array);
    return {
      loss: scalar(STEP_OUTPUTS.loss),
      kl: scalar(STEP_OUTPUTS.kl),
      clipRatioLow: scalar(STEP_OUTPUTS.clipLow),
      clipRatioHigh: scalar(STEP_OUTPUTS.clipHigh),
      entropy: scalar(STEP_OUTPUTS.entropy),
      grads,
      backwardSeconds: (performance.now() - t0) / 1000,
    };
  }

  async update(batch: UpdateBatch, hyper: GrpoHyper, learningRate: StepLearningRate): Promise<UpdateMetrics> {
    const g = await this.gradients(batch, hyper);
    const t1 = performance.now();
    const groups = gradientGroupNorms(g.grads);
    const step = Number.isFinite(g.loss) ? this.optimizer.apply(g.grads, (name) => learningRateOf(learningRate, name)) : { gradNorm: NaN, applied: false };
    if (step.applied && this.setup.config.policy.mode === 'lora') this.decoder.setLoraWeights(this.lora);
    return {
      loss: g.loss,
      kl: g.kl,
      clipRatioLow: g.clipRatioLow,
      clipRatioHigh: g.clipRatioHigh,
      clipRatio: g.clipRatioLow + g.clipRatioHigh,
      entropy: g.entropy,
      gradNorm: step.gradNorm,
      gradNormRouter: groups.router,
      gradNormPolicy: groups.policy,
      applied: step.applied,
      backwardSeconds: g.backwardSeconds,
      updateSeconds: (performance.now() - t1) / 1000,
    };
  }

  private async route(rc: RouterConfig, weights: DecoderWeights, states: readonly ExpertStates[]): Promise<RoutedBatch> {
    const host = hostStates(states);
    const { batch, kinds } = routerStateKinds(rc, host);
    const session = await this.sessions.get(`router:b${batch}:${kindsKey(kinds)}`, () => routerForwardGraph(rc, batch, kinds));
    const out = await session.run({ ...routerFeeds(rc, host), ...routerWeightFeeds(weights) }, ['context', 'expertMass']);
    const E = rc.experts.length;
    const massFlat = out.expertMass as Float32Array;
    const expertMass = Array.from({ length: batch }, (_, b) => Array.from(massFlat.subarray(b * E, (b + 1) * E)));
    return { context: { data: out.context as Float32Array, shape: [batch, rc.numLatents, rc.outputWidth] }, expertMass, entropy: routingEntropy(expertMass) };
  }

  private async generate(request: GenerateRequest): Promise<import('../models/decoder.js').GenerateResult> {
    const { prefix, ...rest } = request;
    return this.decoder.generate({ ...rest, prefix: prefix ? { data: prefix.data, K: prefix.shape[1] } : undefined });
  }

  stats(): Record<string, number> {
    const decoder = this.decoder.sessions;
    return {
      sessions: this.sessions.compiled + decoder.compiled,
      compileSeconds: Math.round((this.sessions.compileSeconds + decoder.compileSeconds) * 1000) / 1000,
    };
  }

  checkpoint(): EngineCheckpoint {
    const mode = this.setup.config.policy.mode;
    return {
      router: copyWeights(this.routerWeights),
      policy: mode === 'lora' ? copyWeights(this.lora) : mode === 'full' ? copyWeights(this.base) : new Map(),
      optimizer: this.optimizer.getState(),
    };
  }

  setReference(state: Pick<EngineCheckpoint, 'router' | 'policy'>): void {
    if (this.refRouter) assignInPlace(this.refRouter, state.router, 'reference router');
    if (this.refBase && this.setup.config.policy.mode === 'full') assignInPlace(this.refBase, state.policy, 'reference policy');
  }

  restore(state: EngineCheckpoint): void {
    const mode = this.setup.config.policy.mode;
    if (this.setup.router) assignInPlace(this.routerWeights, state.router, 'router checkpoint');
    if (mode === 'lora') {
      assignInPlace(this.lora, state.policy, 'LoRA checkpoint');
      this.decoder.setLoraWeights(this.lora);
    } else if (mode === 'full') assignInPlace(this.base, state.policy, 'policy checkpoint');
    const names = this.optimizer.names();
    this.optimizer.setState({ step: state.optimizer.step, m: checkedMoments(state.optimizer.m, names), v: checkedMoments(state.optimizer.v, names) });
  }

  async dispose(): Promise<void> {
    await this.decoder.dispose();
    await this.sessions.dispose();
  }
}

/** Copy checkpoint values into the live arrays (which the optimizer and sessions hold), names and shapes checked. */
function assignInPlace(live: DecoderWeights, saved: ReadonlyMap<string, NamedTensor>, what: string): void {
  const problems: string[] = [];
  for (const [name, t] of live) {
    const s = saved.get(name);
    if (!s) problems.push(`missing ${name}`);
    else if (s.shape.join(',') !== t.shape.join(',')) problems.push(`${name} has shape [${s.shape}], expected [${t.shape}]`);
  }
  for (const name of saved.keys()) if (!live.has(name)) problems.push(`unknown tensor ${name}`);
  if (problems.length > 0) throw new DataError(`${what} does not match this run: ${problems.join('; ')}`);
  for (const [name, t] of live) t.data.set(saved.get(name)!.data);
}

function kindsKey(kinds: ReturnType<typeof routerStateKinds>['kinds'] | undefined): string {
  return kinds ? kinds.map((k) => (k.kind === 'pooled' ? 'p' : `t${k.length}`)).join(',') : 'none';
}

function hyperKey(h: GrpoHyper): string {
  return `${h.aggregation}:${h.epsilonLow}:${h.epsilonHigh}:${h.beta}:${h.maxCompletionLength}`;
}
