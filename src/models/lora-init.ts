// LoRA adapters at initialisation as plain arrays, for engines that do not hold tf.Variables (the onnx
// engine): A drawn U(-1/sqrt(in), 1/sqrt(in)) from one seeded uniform stream over the decoder's
// projections in order (per layer q, k, v, o, gate, up, down; then lm_head), B zero — the same values
// TfDecoder.attachLora draws. PEFT names: `base_model.model.<module>.lora_A.weight` [r, in], `lora_B` [out, r].

import type { DecoderConfig, DecoderWeights, LoraTarget } from './decoder-config.js';
import { expectedWeightShapes } from './decoder-config.js';

export interface LoraInit {
  rank: number;
  alpha: number;
  targets: readonly LoraTarget[];
  seed?: number;
}

/** Small seeded uniform generator in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The decoder's projections in LoRA draw order: `[module name, [out, in]]`. */
export function loraModules(config: DecoderConfig): [string, number[]][] {
  const shapes = expectedWeightShapes(config);
  const out: [string, number[]][] = [];
  const modules = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'];
  for (let i = 0; i < config.numLayers; i++) for (const m of modules) out.push([`model.layers.${i}.${m}`, shapes.get(`model.layers.${i}.${m}.weight`)!]);
  if (!config.tieWordEmbeddings) out.push(['lm_head', shapes.get('lm_head.weight')!]);
  return out;
}

/** The LoRA weights attachLora would create, by PEFT name. */
export function initLoraWeights(config: DecoderConfig, lora: LoraInit): DecoderWeights {
  if (lora.targets.includes('lm_head') && config.tieWordEmbeddings) throw new Error('LoRA target lm_head needs untied embeddings (tieWordEmbeddings=false)');
  const uniform = mulberry32(lora.seed ?? 0);
  const out: DecoderWeights = new Map();
  for (const [module, [outF, inF]] of loraModules(config)) {
    const short = module.split('.').pop() as LoraTarget;
    if (!lora.targets.includes(short)) continue;
    const bound = 1 / Math.sqrt(inF);
    const a = new Float32Array(lora.rank * inF);
    for (let i = 0; i < a.length; i++) a[i] = (2 * uniform() - 1) * bound;
    out.set(`base_model.model.${module}.lora_A.weight`, { shape: [lora.rank, inF], data: a });
    out.set(`base_model.model.${module}.lora_B.weight`, { shape: [outF, lora.rank], data: new Float32Array(outF * lora.rank) });
  }
  return out;
}
