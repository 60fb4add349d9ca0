// What a decoder graph takes as inputs and how the runner fills them for one batch of left-padded
// prompts: `input_ids` and `attention_mask` (required), `position_ids` (Hugging Face's rule:
// cumsum(mask) - 1, padding set to 1), and an empty KV cache for every `past_key_values.{i}.key|value`
// input ([batch, kv_heads, 0, head_dim] in the declared float type, as optimum feeds the first step).
// Any other input is refused with the list of what is supported.

import { DataType, type ModelProto } from '../models/onnx/onnx-proto.js';
import type { ModelConfigHints } from './model-files.js';
import { emptyFloatTensor, int64Tensor, type Feeds } from './ort.js';

export interface PastInput {
  name: string;
  type: 'float32' | 'float16';
  heads: number;
  headDim: number;
}

export interface FeedPlan {
  positionIds: boolean;
  past: PastInput[];
}

const SUPPORTED_INPUTS = 'input_ids, attention_mask, position_ids, past_key_values.{i}.key / .value';

/** Read the graph's inputs into a plan; errors name the file, the input and what is supported. */
export function planFeeds(model: ModelProto, source: string, hints?: ModelConfigHints): FeedPlan {
  const graph = model.graph!;
  const inits = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((i) => !inits.has(i.name));
  const names = new Set(inputs.map((i) => i.name));
  for (const required of ['input_ids', 'attention_mask']) {
    if (!names.has(required)) throw new Error(`${source}: the graph has no ${required} input (its inputs: ${[...names].join(', ')}); supported inputs: ${SUPPORTED_INPUTS}`);
  }
  const plan: FeedPlan = { positionIds: names.has('position_ids'), past: [] };
  for (const input of inputs) {
    if (['input_ids', 'attention_mask', 'position_ids'].includes(input.name)) continue;
    if (input.name === 'use_cache_branch') {
      throw new Error(`${source}: a merged decoder (input use_cache_branch) is not supported; export without merging: \`optimum-cli export onnx --task text-generation-with-past --no-post-process ...\``);
    }
    if (!/^past_key_values\.\d+\.(key|value)$/.test(input.name)) {
      throw new Error(`${source}: unsupported graph input ${input.name}; supported inputs: ${SUPPORTED_INPUTS}`);
    }
    const t = input.type?.tensorType;
    const elem = t?.elemType;
    if (elem !== DataType.FLOAT && elem !== DataType.FLOAT16) throw new Error(`${source}: input ${input.name} has element type ${elem}; past key/values must be float32 or float16`);
    const dims = t?.shape?.dim ?? [];
    const fixed = (i: number) => (dims[i]?.dimValue !== undefined ? Number(dims[i].dimValue) : undefined);
    const heads = fixed(1) ?? hints?.numKvHeads;
    const headDim = fixed(3) ?? hints?.headDim;
    if (dims.length !== 4 || heads === undefined || headDim === undefined) {
      throw new Error(`${source}: cannot tell the KV-cache shape of ${input.name} (need [batch, heads, past, head_dim] with fixed heads and head_dim, or a config.json beside the model)`);
    }
    plan.past.push({ name: input.name, type: elem === DataType.FLOAT ? 'float32' : 'float16', heads, headDim });
  }
  return plan;
}

/** Position ids of a left-padded row, as transformers computes them: cumsum(mask) - 1, padding set to 1. */
export function hfPositionIds(mask: readonly number[]): number[] {
  let sum = 0;
  return mask.map((m) => {
    sum += m;
    return m === 0 ? 1 : sum - 1;
  });
}

/** The feeds for one batch of left-padded ids and their mask. */
export function buildFeeds(plan: FeedPlan, ids: number[][], mask: number[][]): Feeds {
  const feeds: Feeds = { input_ids: int64Tensor(ids), attention_mask: int64Tensor(mask) };
  if (plan.positionIds) feeds.position_ids = int64Tensor(mask.map(hfPositionIds));
  for (const p of plan.past) feeds[p.name] = emptyFloatTensor(p.type, [ids.length, p.heads, 0, p.headDim]);
  return feeds;
}
