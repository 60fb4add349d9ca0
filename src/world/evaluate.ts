// Held-out evaluation of a tiny model per task: greedy decoding with the KV cache, Reasoning Gym
// answer extraction and the task's own scorer, plus the teacher-forced negative log-likelihood of the
// reference answer (a smooth measure of what a model knows even where it is rarely exactly right).

import { extractAnswer } from '../../tasks/common/extract.js';
import type { AnyTaskDefinition, TaskEntry } from '../../tasks/types.js';
import type { GenerateOptions, GenerateResult, TfDecoder } from '../models/decoder.js';
import * as tf from '../models/tf.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import { formatPrompt, type PromptFormat } from './format.js';
import { formatTarget, type TargetKind } from './targets.js';

export interface TaskEvaluation {
  task: string;
  items: number;
  /** Fraction scoring exactly 1. */
  accuracy: number;
  meanScore: number;
  /** Mean NLL per token of `<answer>…</answer>` + EOS given the prompt (nats). */
  answerNll: number;
  /** Fraction of completions holding an answer tag. */
  formatRate: number;
}

export interface EvaluateOptions {
  format: PromptFormat;
  maxNewTokens: number;
  batchSize: number;
  /** Which answers the answer NLL is measured on: those the model was trained to write. */
  targets?: TargetKind;
}

/** What the evaluation needs of a model, on either engine. */
export interface EvaluatedModel {
  /** Sum of log p(completion tokens | prompt) over the batch. */
  completionLogProbSum(promptIds: number[][], completionIds: number[][]): Promise<number>;
  generate(options: Omit<GenerateOptions, 'prefixEmbeds'>): Promise<GenerateResult>;
}

/** A TfDecoder as an EvaluatedModel. */
export function tfEvaluatedModel(decoder: TfDecoder): EvaluatedModel {
  return {
    completionLogProbSum: async (promptIds, completionIds) =>
      tf.tidy(() => {
        const { logProbs } = decoder.completionScores({ promptIds, completionIds }, false); // [B, T], 0 at padding
        return tf.sum(logProbs).dataSync()[0];
      }),
    generate: (options) => decoder.generate(options),
  };
}

export async function evaluateTask(
  decoder: EvaluatedModel,
  tokenizer: TextTokenizer,
  task: AnyTaskDefinition,
  items: readonly TaskEntry[],
  options: EvaluateOptions,
): Promise<TaskEvaluation> {
  const bos = tokenizer.bosId!;
  const eos = tokenizer.eosId!;
  let correct = 0;
  let scoreSum = 0;
  let formatted = 0;
  let nllSum = 0;
  let nllTokens = 0;
  for (let start = 0; start < items.length; start += options.batchSize) {
    const batch = items.slice(start, start + options.batchSize);
    const promptIds = batch.map((e) => [bos, ...tokenizer.encode(formatPrompt(options.format, e))]);
    // Teacher-forced NLL of the answer the model was trained to write (targets.ts).
    const targets = batch.map((e) => [...tokenizer.encode(formatTarget(options.format, e, options.targets)), eos]);
    const nll = -(await decoder.completionLogProbSum(promptIds, targets));
    nllSum += nll;
    nllTokens += targets.reduce((a, t) => a + t.length, 0);
    // Greedy decoding.
    const generated = await decoder.generate({ promptIds, maxNewTokens: options.maxNewTokens, temperature: 0, topP: 1, eosId: eos, seed: 0 });
    generated.tokens.forEach((ids, k) => {
      const text = tokenizer.decode(ids, { skipSpecial: true });
      const answer = extractAnswer(text, options.format.answerTag);
      if (answer !== null) formatted++;
      const score = task.score(answer, batch[k]);
      scoreSum += score;
      if (score === 1) correct++;
    });
  }
  const n = Math.max(items.length, 1);
  return {
    task: task.name,
    items: items.length,
    accuracy: correct / n,
    meanScore: scoreSum / n,
    answerNll: nllTokens > 0 ? nllSum / nllTokens : 0,
    formatRate: formatted / n,
  };
}
