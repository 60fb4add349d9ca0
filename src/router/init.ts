// The router's parameters without TensorFlow.js: their names, shapes and order (`routerParamSpecs`) and
// their seeded initial values (`initRouterWeights`), drawn from one PyRandom stream in that order
// (Box-Muller normals, two draws each; zeros and ones draw nothing). PerceiverRouter builds its
// variables from these values, so the tfjs router and the ONNX engine start from identical weights.

import { PyRandom } from '../../tasks/common/rng.js';
import { type RouterConfig, validateRouterConfig } from './config.js';

export type RouterInit = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface RouterParamSpec {
  name: string;
  shape: number[];
  init: RouterInit;
}

export interface RouterWeight {
  shape: number[];
  data: Float32Array;
}

const normal = (std: number): RouterInit => ({ kind: 'normal', std });
const ZEROS: RouterInit = { kind: 'zeros' };
const ONES: RouterInit = { kind: 'ones' };

/** Specs of one attention + FFN block (`cross` or `self.<s>`), in creation order. */
function blockSpecs(prefix: string, D: number, F: number): RouterParamSpec[] {
  return [
    ...['q', 'k', 'v', 'o'].map((p) => ({ name: `${prefix}.${p}.weight`, shape: [D, D], init: normal(1 / Math.sqrt(D)) })),
    { name: `${prefix}.norm_q.weight`, shape: [D], init: ONES },
    { name: `${prefix}.norm_q.bias`, shape: [D], init: ZEROS },
    { name: `${prefix}.norm_ffn.weight`, shape: [D], init: ONES },
    { name: `${prefix}.norm_ffn.bias`, shape: [D], init: ZEROS },
    { name: `${prefix}.ffn.up.weight`, shape: [F, D], init: normal(1 / Math.sqrt(D)) },
    { name: `${prefix}.ffn.up.bias`, shape: [F], init: ZEROS },
    { name: `${prefix}.ffn.down.weight`, shape: [D, F], init: normal(1 / Math.sqrt(F)) },
    { name: `${prefix}.ffn.down.bias`, shape: [D], init: ZEROS },
  ];
}

/** Every router parameter in creation order (linear weights are [out, in]). */
export function routerParamSpecs(config: RouterConfig): RouterParamSpec[] {
  validateRouterConfig(config);
  const D = config.width;
  const F = D * config.ffnMultiplier;
  const specs: RouterParamSpec[] = [];
  config.expertWidths.forEach((dIn, i) => {
    specs.push({ name: `proj.${i}.weight`, shape: [D, dIn], init: normal(1 / Math.sqrt(dIn)) });
    specs.push({ name: `proj.${i}.bias`, shape: [D], init: ZEROS });
  });
  if (config.expertEmbeddings) specs.push({ name: 'expert_embed', shape: [config.experts.length, D], init: normal(0.02) });
  specs.push({ name: 'latents', shape: [config.numLatents, D], init: normal(0.02) });
  specs.push(...blockSpecs('cross', D, F));
  specs.push({ name: 'cross.norm_kv.weight', shape: [D], init: ONES });
  specs.push({ name: 'cross.norm_kv.bias', shape: [D], init: ZEROS });
  for (let s = 0; s < config.selfAttentionBlocks; s++) specs.push(...blockSpecs(`self.${s}`, D, F));
  specs.push({ name: 'out.norm.weight', shape: [D], init: ONES });
  specs.push({ name: 'out.norm.bias', shape: [D], init: ZEROS });
  specs.push({ name: 'out.weight', shape: [config.outputWidth, D], init: normal(config.outputInitStd) });
  return specs;
}

/** The seeded initial value of every router parameter, in creation order (a Map keeps it). */
export function initRouterWeights(config: RouterConfig): Map<string, RouterWeight> {
  const rng = new PyRandom(config.seed);
  const draw = (init: RouterInit): number => {
    if (init.kind === 'zeros') return 0;
    if (init.kind === 'ones') return 1;
    const u = Math.max(rng.random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random()) * init.std;
  };
  const out = new Map<string, RouterWeight>();
  for (const spec of routerParamSpecs(config)) {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = draw(spec.init);
    out.set(spec.name, { shape: [...spec.shape], data });
  }
  return out;
}

/**
 * Check router checkpoint weights against the parameters a router has (`expected`: name -> shape),
 * before anything is written: every parameter present with its shape and value count, no unknown ones.
 */
export function checkRouterCheckpoint(expected: ReadonlyMap<string, readonly number[]>, weights: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
  for (const [name, shape] of expected) {
    const w = weights.get(name);
    if (!w) throw new Error(`router checkpoint lacks ${name}`);
    if (w.shape.join(',') !== shape.join(',')) throw new Error(`router parameter ${name} has shape [${w.shape}] in the checkpoint, expected [${shape}]`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== n) throw new Error(`router parameter ${name} holds ${w.data.length} values in the checkpoint, expected ${n} for [${shape}]`);
  }
  for (const name of weights.keys()) if (!expected.has(name)) throw new Error(`router checkpoint has unknown parameter ${name}`);
}
