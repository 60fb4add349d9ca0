// The features the information probes read, one row per task item: (i) each expert's pooled hidden
// state at a chosen layer and pooling (ONNX Runtime through the expert runners, on-disk cache), (ii) the
// router's K soft context tokens, flattened (the run's checkpoint or the router at initialisation), and
// (iii) the policy's final hidden state (after the final norm, what the LM head reads) at the last
// prompt position, with the context tokens prepended and without them.

import { contextTensor, tfRouterRuntime } from '../../rl/engine-tfjs.js';
import type { ContextTokens } from '../../rl/policy-engine.js';
import type { TaskEntry } from '../../../tasks/types.js';
import type { MusketeersConfig } from '../../config.js';
import { UsageError } from '../../errors.js';
import type { Pooling } from '../../experts/pooling.js';
import { padLeft } from '../../models/decoder-batch.js';
import type { TfDecoder } from '../../models/decoder.js';
import * as tf from '../../models/tf.js';
import { Conditioner, disposeConditioning } from '../../rl/conditioning.js';
import { ExpertPool } from '../../rl/expert-pool.js';
import { applyCheckpointWeights, buildPolicy, encodePolicyPrompts, expertSpecs, loadPolicyFiles, loadPolicyTokenizer, policyChat, routerConfig } from '../../rl/setup.js';
import { PerceiverRouter } from '../../router/perceiver.js';
import type { TrainCheckpoint } from '../../rl/checkpoint.js';
import { expertPromptParts, type PromptFormat } from '../../world/format.js';
import { matrix, type Matrix } from './ridge.js';

/** Progress of a long feature pass: `done` of `total` items of stage `stage`. */
export type ProgressFn = (stage: string, done: number, total: number) => void;

const CHUNK = 64;

export function promptFormat(config: MusketeersConfig): PromptFormat {
  return { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
}

/** Rows of float vectors (one per item) as a Matrix. */
function rowsToMatrix(rows: readonly ArrayLike<number>[], source: string): Matrix {
  const d = rows[0]?.length ?? 0;
  const m = matrix(rows.length, d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`${source}: feature rows differ in width (${r.length} vs ${d})`);
    m.data.set(r, i * d);
  });
  return m;
}

/** Token-sequence states ([S_i, d] flattened, e.g. an oracle's `tokens` encoding) zero-padded to the longest, so every row has one width. */
function padRows(rows: Float32Array[]): Float32Array[] {
  const longest = Math.max(0, ...rows.map((r) => r.length));
  return rows.map((r) => {
    if (r.length === longest) return r;
    const padded = new Float32Array(longest);
    padded.set(r);
    return padded;
  });
}

/** Open the config's experts at one layer and pooling; a layer no expert has is a usage error naming --layer when it came from the flag. */
async function openPool(config: MusketeersConfig, layer: number, pooling: Pooling, fromFlag: boolean, warn?: (m: string) => void): Promise<ExpertPool> {
  try {
    return await ExpertPool.open(expertSpecs(config), { ...config.experts, layer, pooling, warn });
  } catch (error) {
    const message = (error as Error).message;
    if (/layer .* is out of range/.test(message)) throw new UsageError(`${fromFlag ? '--layer' : 'experts.layer'} ${layer}: ${message}`);
    throw error;
  }
}

/** Each expert's pooled state of every item at `layer`/`pooling`: expert name -> [items, d_e]. */
export async function expertFeatures(
  config: MusketeersConfig,
  entries: readonly TaskEntry[],
  at: { layer: number; pooling: Pooling; fromFlag: boolean },
  options: { progress?: ProgressFn; warn?: (m: string) => void } = {},
): Promise<Map<string, Matrix>> {
  const pool = await openPool(config, at.layer, at.pooling, at.fromFlag, options.warn);
  const format = promptFormat(config);
  const items = entries.map((entry) => ({ entry, prompt: expertPromptParts(format, entry, config.experts.prompt) }));
  const out = new Map<string, Matrix>();
  try {
    for (const source of pool.sources) {
      const stage = `${source.name} layer ${at.layer} ${at.pooling}`;
      const rows: Float32Array[] = [];
      for (let start = 0; start < items.length; start += CHUNK) {
        const pooled = await source.extract(items.slice(start, start + CHUNK));
        for (const p of pooled) rows.push(p.data);
        options.progress?.(stage, rows.length, items.length);
      }
      out.set(source.name, rowsToMatrix(padRows(rows), stage));
    }
  } finally {
    await pool.dispose();
  }
  return out;
}

export interface PolicyFeatures {
  /** The router's context tokens [items, K * hidden]; absent without a router (method no-experts, text-concat). */
  router?: Matrix;
  /** The policy's last prompt-position state with the context tokens prepended [items, hidden]; absent without a router. */
  withContext?: Matrix;
  /** The same without context tokens [items, hidden]. */
  withoutContext: Matrix;
  /** Experts the router reads (empty without a router). */
  experts: string[];
}

/** Final hidden state at the last prompt position, [B, hidden], for left-padded prompts (after the optional prefix). */
export function lastPromptStates(decoder: TfDecoder, promptIds: readonly (readonly number[])[], padId: number, prefix?: tf.Tensor3D): Float32Array[] {
  const padded = padLeft(promptIds, padId);
  const out = decoder.forward({ inputIds: padded.ids, attentionMask: padded.mask, prefixEmbeds: prefix });
  try {
    const [B, T, H] = out.finalHidden.shape;
    const last = tf.tidy(() => tf.reshape(tf.slice(out.finalHidden, [0, T - 1, 0], [B, 1, H]), [B, H]));
    const data = last.dataSync() as Float32Array;
    last.dispose();
    return Array.from({ length: B }, (_, b) => data.slice(b * H, (b + 1) * H));
  } finally {
    out.logits.dispose();
    out.finalHidden.dispose();
  }
}

/** Flattened context tokens per row of a [B, K, H] prefix. */
function flattenPrefix(prefix: ContextTokens): Float32Array[] {
  const [B, K, H] = prefix.shape;
  const data = prefix.data;
  return Array.from({ length: B }, (_, b) => data.slice(b * K * H, (b + 1) * K * H));
}

/**
 * Router context tokens and policy states of every item: the policy (and router) of the config, with
 * the checkpoint's weights when given, else as training starts (base weights, router at initialisation).
 */
export async function policyFeatures(
  config: MusketeersConfig,
  entries: readonly TaskEntry[],
  checkpoint: Pick<TrainCheckpoint, 'router' | 'policy'> | undefined,
  options: { progress?: ProgressFn; warn?: (m: string) => void } = {},
): Promise<PolicyFeatures> {
  const files = loadPolicyFiles(config);
  const chat = policyChat(config, files);
  const tokenizer = loadPolicyTokenizer(files);
  const policy = buildPolicy(config, files, 'probe-policy');
  files.weights.clear();
  let pool: ExpertPool | undefined;
  let router: PerceiverRouter | undefined;
  try {
    if (config.method === 'musketeers') {
      pool = await openPool(config, config.experts.layer, config.experts.pooling, false, options.warn);
      router = new PerceiverRouter(routerConfig(config, pool.names, pool.widths, files.architecture.hiddenSize));
    }
    if (checkpoint) applyCheckpointWeights(config, checkpoint, policy.decoder, router);
    const conditioner = new Conditioner(promptFormat(config), pool, router ? tfRouterRuntime(router) : undefined, config.experts.perturb, config.experts.prompt);
    const padId = tokenizer.padId ?? tokenizer.eosId ?? 0;
    const rows = { router: [] as Float32Array[], withContext: [] as Float32Array[], withoutContext: [] as Float32Array[] };
    for (let start = 0; start < entries.length; start += 32) {
      const conditioning = await conditioner.condition(entries.slice(start, start + 32));
      try {
        const ids = encodePolicyPrompts(tokenizer, conditioning.promptTexts, { maxPositions: files.architecture.maxPositionEmbeddings, prefixTokens: conditioning.prefix?.shape[1] ?? 0, maxNewTokens: 0, chat });
        rows.withoutContext.push(...lastPromptStates(policy.decoder, ids, padId));
        if (conditioning.prefix) {
          rows.router.push(...flattenPrefix(conditioning.prefix));
          const prefix = contextTensor(conditioning.prefix);
          try {
            rows.withContext.push(...lastPromptStates(policy.decoder, ids, padId, prefix));
          } finally {
            prefix.dispose();
          }
        }
      } finally {
        disposeConditioning(conditioning);
      }
      options.progress?.('policy and router', Math.min(entries.length, start + 32), entries.length);
    }
    return {
      ...(router ? { router: rowsToMatrix(rows.router, 'router'), withContext: rowsToMatrix(rows.withContext, 'policy with context') } : {}),
      withoutContext: rowsToMatrix(rows.withoutContext, 'policy without context'),
      experts: conditioner.experts,
    };
  } finally {
    router?.dispose();
    policy.decoder.dispose();
    await pool?.dispose();
  }
}
