// The training engine's whole-step graphs, composed from the parts: the Perceiver router
// (./router-graph.ts) makes the context tokens, the decoder (./decoder-graph.ts) scores the completions
// conditioned on them, the loss (./losses.ts) and its gradients (./autodiff.ts) follow in the same
// graph. Three kinds:
//   scores — log-probs of given completions (old policy, reference policy); no gradients;
//   grpo   — GRPO loss, its diagnostics and the gradient of every trainable tensor, one session run;
//   sft    — the weighted NLL of whole sequences and the gradient of every decoder weight.
// Tensors enter under fixed names: base weights under their Hugging Face names, LoRA under PEFT names,
// router parameters as `router.param.<name>`; the gradient of trainable tensor N is output `grad.N`,
// with N the checkpoint name (`router.<name>`, `policy.<name>`), as the tfjs engine names its Adam state.

import type { DecoderConfig, DecoderWeights } from '../models/decoder-config.js';
import type { RouterConfig } from '../router/config.js';
import type { GrpoHyper } from '../rl/grpo.js';
import { gradients } from './autodiff.js';
import { type CompletionSpec, type LoraSpec, type WeightSource, COMPLETION_INPUTS, completionScoresGraph, sequenceScoresGraph } from './decoder-graph.js';
import { Graph, type Value } from './graph.js';
import { grpoLossGraph, sftLossGraph } from './losses.js';
import { type ExpertStateKind, routerGraph, routerParamInputs } from './router-graph.js';

/** Output names of the step graphs. */
export const STEP_OUTPUTS = { logp: 'logp', loss: 'loss', kl: 'kl', clipLow: 'clip_low', clipHigh: 'clip_high', entropy: 'entropy' } as const;
/** Fed inputs of the loss. */
export const LOSS_INPUTS = { advantages: 'grpo.advantages', oldLogp: 'grpo.old_logp', refLogp: 'grpo.ref_logp', sftWeights: 'sft.weights' } as const;

export const gradName = (param: string): string => `grad.${param}`;
export const routerCheckpointName = (name: string): string => `router.${name}`;
export const policyCheckpointName = (name: string): string => `policy.${name}`;

/** What a graph contains and which of its tensors are trained. */
export interface PolicyLayout {
  decoder: DecoderConfig;
  /** LoRA adapters on the policy (absent: none, e.g. the reference policy). */
  lora?: LoraSpec;
  /** The router and how each expert's states enter (absent: no context tokens). */
  router?: { config: RouterConfig; kinds: readonly ExpertStateKind[] };
  /** Trainable tensors: the router's parameters, and the policy's LoRA or every base weight. */
  train: { router: boolean; policy: 'none' | 'lora' | 'full' };
  /**
   * How frozen base weights enter: `inputs` (fed from one host copy shared by every session) or
   * `initializers` (embedded in each graph; values from `frozen`).
   */
  frozenAs: 'inputs' | 'initializers';
  /** Values of the frozen base weights when frozenAs is `initializers`. */
  frozen?: DecoderWeights;
}

export interface StepSizes {
  /** Distinct prompts, their padded width, completion rows and their padded width. */
  P: number;
  Tp: number;
  R: number;
  C: number;
}

/** A graph under construction and the trainable inputs (checkpoint name -> graph value). */
interface Built {
  g: Graph;
  logp: Value;
  entropy?: Value;
  trainable: Map<string, Value>;
}

function completionSpec(layout: PolicyLayout, sizes: StepSizes, entropy: boolean): CompletionSpec {
  return { config: layout.decoder, P: sizes.P, Tp: sizes.Tp, K: layout.router ? layout.router.config.numLatents : 0, R: sizes.R, C: sizes.C, lora: layout.lora, entropy };
}

/** Router (optional) -> context tokens -> completion log-probs, with every tensor placed as the layout says. */
function buildScores(name: string, layout: PolicyLayout, sizes: StepSizes, entropy: boolean): Built {
  const g = new Graph(name);
  const trainable = new Map<string, Value>();
  let prefix: Value | undefined;
  if (layout.router) {
    const { params, inputs } = routerParamInputs(g, layout.router.config);
    prefix = routerGraph(g, layout.router.config, sizes.P, layout.router.kinds, params).context; // [P, K, hidden]
    if (layout.train.router) for (const [n, v] of inputs) trainable.set(routerCheckpointName(n), v);
  }
  const base: WeightSource = (w, shape) => {
    if (layout.train.policy === 'full') {
      const v = g.floatInput(w, shape);
      trainable.set(policyCheckpointName(w), v);
      return v;
    }
    if (layout.frozenAs === 'inputs') return g.floatInput(w, shape);
    const data = layout.frozen?.get(w);
    if (!data) throw new Error(`policy graph ${name}: frozen weight ${w} has no value (frozenAs initializers needs layout.frozen)`);
    return g.initializer(w, 'float32', shape, data.data);
  };
  const lora: WeightSource = (w, shape) => {
    const v = g.floatInput(w, shape);
    if (layout.train.policy === 'lora') trainable.set(policyCheckpointName(w), v);
    return v;
  };
  const { logp, entropy: ent } = completionScoresGraph(g, completionSpec(layout, sizes, entropy), base, lora, prefix);
  return { g, logp, entropy: ent, trainable };
}

/** The float mask [R, C] of real completion tokens (from the decoder's bool input). */
function realMask(g: Graph): Value {
  const real = g.inputs.find((v) => v.name === COMPLETION_INPUTS.real);
  if (!real) throw new Error(`graph ${g.name} has no ${COMPLETION_INPUTS.real} input`);
  return g.cast(real, g.float);
}

/** Log-probs [R, C] of given completions (output `logp`). */
export function scoresGraph(layout: PolicyLayout, sizes: StepSizes): Graph {
  const b = buildScores(`scores_${sizeKey(sizes)}`, layout, sizes, false);
  b.g.output(b.logp, STEP_OUTPUTS.logp);
  return b.g;
}

export interface GrpoGraphOptions {
  hyper: GrpoHyper;
  /** Old log-probs are fed (mu > 1); else the current ones, detached (ratio 1). */
  givenOld: boolean;
  /** Reference log-probs are fed (beta > 0). */
  givenRef: boolean;
}

/** GRPO loss, diagnostics and `grad.<name>` of every trainable tensor. */
export function grpoGraph(layout: PolicyLayout, sizes: StepSizes, options: GrpoGraphOptions): Graph {
  const b = buildScores(`grpo_${sizeKey(sizes)}`, layout, sizes, true);
  const { g } = b;
  const shape = [sizes.R, sizes.C];
  const out = grpoLossGraph(
    g,
    {
      logp: b.logp,
      oldLogp: options.givenOld ? g.floatInput(LOSS_INPUTS.oldLogp, shape) : undefined,
      refLogp: options.givenRef ? g.floatInput(LOSS_INPUTS.refLogp, shape) : undefined,
      mask: realMask(g),
      advantages: g.floatInput(LOSS_INPUTS.advantages, [sizes.R]),
      entropy: b.entropy,
    },
    options.hyper,
  );
  return withGradients(b, out.loss, { [STEP_OUTPUTS.kl]: out.kl, [STEP_OUTPUTS.clipLow]: out.clipRatioLow, [STEP_OUTPUTS.clipHigh]: out.clipRatioHigh, [STEP_OUTPUTS.entropy]: out.entropy! });
}

/**
 * Supervised step of a decoder on whole sequences: R rows of [BOS] + sequence (C tokens, one pass),
 * token weights fed as `sft.weights` [R, C]; every base weight trainable.
 */
export function sftGraph(decoder: DecoderConfig, sizes: { R: number; C: number }): Graph {
  const g = new Graph(`sft_R${sizes.R}_C${sizes.C}`);
  const trainable = new Map<string, Value>();
  const base: WeightSource = (w, shape) => {
    const v = g.floatInput(w, shape);
    trainable.set(policyCheckpointName(w), v);
    return v;
  };
  const { logp } = sequenceScoresGraph(g, { config: decoder, R: sizes.R, C: sizes.C }, base);
  const loss = sftLossGraph(g, logp, g.floatInput(LOSS_INPUTS.sftWeights, [sizes.R, sizes.C]));
  return withGradients({ g, logp, trainable }, loss, {});
}

function withGradients(b: Built, loss: Value, extra: Record<string, Value>): Graph {
  const names = [...b.trainable.keys()];
  const grads = gradients(b.g, loss, names.map((n) => b.trainable.get(n)!));
  b.g.output(loss, STEP_OUTPUTS.loss);
  for (const [n, v] of Object.entries(extra)) b.g.output(v, n);
  grads.forEach((d, i) => b.g.output(d, gradName(names[i])));
  return b.g;
}

export function sizeKey(s: StepSizes): string {
  return `P${s.P}_T${s.Tp}_R${s.R}_C${s.C}`;
}
