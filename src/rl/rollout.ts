// The rollout generator, separate from the update: sample G completions per prompt from the policy
// (optionally conditioned on the router's soft context tokens), decode them, extract the answer with
// Reasoning Gym's tag convention and score it with the task's verifier, plus an optional format reward.

import { extractAnswer } from '../../tasks/common/extract.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { TaskEntry } from '../../tasks/types.js';
import type { FinishReason } from '../models/sampling.js';
import type { ContextTokens, TextGenerator } from './policy-engine.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';

export interface RewardOptions {
  answerTag: string;
  /** Weight of the format reward (1 when the completion holds a well-formed answer tag). */
  formatRewardWeight: number;
}

export interface RewardBreakdown {
  answer: string | null;
  /** The task verifier's score in [0, 1]. */
  taskScore: number;
  /** 1 when an answer tag was found, else 0. */
  formatScore: number;
  /** taskScore + formatRewardWeight * formatScore */
  reward: number;
}

/** Reward of one completion text for one entry. */
export function rewardFor(registry: TaskRegistry, entry: TaskEntry, text: string, options: RewardOptions): RewardBreakdown {
  const task = registry.get(String(entry.metadata.source_dataset));
  const answer = extractAnswer(text, options.answerTag);
  const taskScore = task.score(answer, entry);
  const formatScore = answer === null ? 0 : 1;
  return { answer, taskScore, formatScore, reward: taskScore + options.formatRewardWeight * formatScore };
}

export interface RolloutOptions extends RewardOptions {
  groupSize: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** A completion ends once its text contains one of these (e.g. `</answer>`). */
  stopStrings?: string[];
}

export interface Rollout extends RewardBreakdown {
  /** Index of the prompt in the batch; completions of one prompt are contiguous (a group). */
  promptIndex: number;
  task: string;
  completionIds: number[];
  text: string;
  finishReason: FinishReason;
}

export interface SampledCompletion {
  /** Index of the prompt in the batch; completions of one prompt are contiguous (a group). */
  promptIndex: number;
  completionIds: number[];
  text: string;
  finishReason: FinishReason;
}

/**
 * Sample `groupSize` completions for each prompt. `promptIds[p]` are the tokens of prompt p (BOS
 * included); `prefix` ([P, K, hidden], optional) are its soft context tokens. Returns P * G
 * completions, group by group. The prefix is not disposed.
 */
export async function sampleCompletions(
  policy: TextGenerator,
  tokenizer: TextTokenizer,
  promptIds: readonly number[][],
  prefix: ContextTokens | undefined,
  options: Omit<RolloutOptions, keyof RewardOptions>,
): Promise<SampledCompletion[]> {
  if (prefix && prefix.shape[0] !== promptIds.length) throw new Error(`prefix has ${prefix.shape[0]} rows for ${promptIds.length} prompts`);
  const G = options.groupSize;
  const rows = promptIds.flatMap((_, p) => new Array<number>(G).fill(p)); // [P * G] prompt index per row
  // Each prompt (with its context tokens) is prefilled once and shared by its G rows.
  const result = await policy.generate({
    prefix,
    promptIds: [...promptIds],
    rowPrompt: rows,
    maxNewTokens: options.maxNewTokens,
    temperature: options.temperature,
    topP: options.topP,
    eosId: tokenizer.eosId,
    padId: tokenizer.padId,
    seed: options.seed,
    stopStrings: options.stopStrings,
    decode: (ids) => tokenizer.decode(ids, { skipSpecial: true }),
  });
  return result.tokens.map((ids, r) => ({
    promptIndex: rows[r],
    completionIds: ids,
    text: tokenizer.decode(ids, { skipSpecial: true }),
    finishReason: result.finishReason[r],
  }));
}

/** Score sampled completions with the verifiers of their prompts' tasks. */
export function scoreCompletions(registry: TaskRegistry, entries: readonly TaskEntry[], completions: readonly SampledCompletion[], options: RewardOptions): Rollout[] {
  return completions.map((c) => ({
    ...c,
    task: String(entries[c.promptIndex].metadata.source_dataset),
    ...rewardFor(registry, entries[c.promptIndex], c.text, options),
  }));
}

/** sampleCompletions then scoreCompletions. */
export async function generateRollouts(
  policy: TextGenerator,
  tokenizer: TextTokenizer,
  registry: TaskRegistry,
  entries: readonly TaskEntry[],
  promptIds: readonly number[][],
  prefix: ContextTokens | undefined,
  options: RolloutOptions,
): Promise<Rollout[]> {
  if (entries.length !== promptIds.length) throw new Error(`${entries.length} entries but ${promptIds.length} prompts`);
  return scoreCompletions(registry, entries, await sampleCompletions(policy, tokenizer, promptIds, prefix, options), options);
}
