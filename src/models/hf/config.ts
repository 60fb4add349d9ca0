// Reading a Hugging Face `config.json` into the project's DecoderConfig: the Llama family as the tfjs
// decoder implements it (Llama, Qwen2, Mistral-style configs without sliding windows; SmolLM is Llama).
// Llama 3.1/3.2's `rope_scaling` (rope_type llama3) is supported. Anything the decoder would compute
// differently (another architecture, other rope scaling, MLP biases, an activation other than SiLU,
// sliding-window attention) is refused with an error naming the file and the key, never approximated.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { HfModelError } from '../../errors.js';
import { type DecoderConfig, type RopeScaling, decoderConfig } from '../decoder-config.js';

/** `architectures[0]` values this loader accepts, with their `model_type`. */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<string, string>> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
};

export { HfModelError };

type Json = Record<string, unknown>;

export function readJsonFile(path: string, what: string): Json {
  if (!existsSync(path)) throw new HfModelError(`${what} not found: ${path}`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new HfModelError(`${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HfModelError(`${what} ${path} must hold a JSON object`);
  return value as Json;
}

/** DecoderConfig of an HF `config.json` object; `source` names the file in errors. */
export function decoderConfigFromHf(json: Json, source: string): DecoderConfig {
  const supported = `supported: ${Object.entries(SUPPORTED_ARCHITECTURES)
    .map(([a, t]) => `${a} (model_type ${t})`)
    .join(', ')}; SmolLM checkpoints are LlamaForCausalLM`;
  const archs = Array.isArray(json.architectures) ? (json.architectures as unknown[]).map(String) : [];
  const modelType = typeof json.model_type === 'string' ? json.model_type : undefined;
  const arch = archs[0];
  const knownTypes = new Set(Object.values(SUPPORTED_ARCHITECTURES));
  if (arch !== undefined ? SUPPORTED_ARCHITECTURES[arch] === undefined : modelType === undefined || !knownTypes.has(modelType)) {
    throw new HfModelError(`${source}: unsupported architecture ${arch ?? `model_type ${modelType ?? '(none)'}`}; ${supported}`);
  }
  const family = arch !== undefined ? SUPPORTED_ARCHITECTURES[arch] : modelType!;
  if (modelType !== undefined && modelType !== family) throw new HfModelError(`${source}: architectures says ${arch} but model_type is ${modelType}; ${supported}`);

  const problems: string[] = [];
  const int = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback;
    if (!Number.isInteger(v) || (v as number) <= 0) problems.push(`${key} must be a positive integer (got ${JSON.stringify(json[key])})`);
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) problems.push(`${key} must be a positive number (got ${JSON.stringify(json[key])})`);
    return v as number;
  };
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') problems.push(`hidden_act '${String(act)}' is not supported (only silu)`);
  let ropeScaling: RopeScaling | undefined;
  if (json.rope_scaling !== undefined && json.rope_scaling !== null) {
    const r = json.rope_scaling as Record<string, unknown>;
    const type = r.rope_type ?? r.type;
    const nums = ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'].map((k) => r[k]);
    if (type === 'llama3' && nums.every((v) => typeof v === 'number')) {
      const [factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings] = nums as number[];
      ropeScaling = { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings };
    } else {
      problems.push(`rope_scaling ${JSON.stringify(json.rope_scaling)} is not supported (supported: none, or rope_type llama3 with factor, low_freq_factor, high_freq_factor, original_max_position_embeddings)`);
    }
  }
  if (json.mlp_bias === true) problems.push('mlp_bias: true is not supported');
  if (json.use_sliding_window === true || (family === 'mistral' && json.sliding_window !== null && json.sliding_window !== undefined)) {
    problems.push('sliding-window attention (use_sliding_window / sliding_window) is not supported');
  }
  const config = {
    family,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads: int('num_key_value_heads', numHeads),
    headDim: json.head_dim === undefined || json.head_dim === null ? hiddenSize / numHeads : int('head_dim'),
    ropeTheta: num('rope_theta', 10000),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    // LlamaConfig, Qwen2Config and MistralConfig default to untied; real configs spell it out.
    tieWordEmbeddings: json.tie_word_embeddings === true,
    // Qwen2 always has q/k/v biases; Llama has them when attention_bias is set.
    attentionBias: family === 'qwen2' ? true : json.attention_bias === true,
    maxPositionEmbeddings: int('max_position_embeddings', 2048),
    ropeScaling,
  };
  if (problems.length > 0) throw new HfModelError(`${source}: cannot load this model: ${problems.join('; ')}`);
  try {
    return decoderConfig(config);
  } catch (error) {
    throw new HfModelError(`${source}: ${(error as Error).message}`);
  }
}

/** Read `<dir>/config.json` as a DecoderConfig. */
export function readHfConfig(dir: string): DecoderConfig {
  const path = join(dir, 'config.json');
  return decoderConfigFromHf(readJsonFile(path, 'model config'), path);
}
