// Held-out evaluation during and after training: greedy decoding of the policy, conditioned on the
// experts through the router as in training, on a fixed set of items per task from the evaluation
// split (text-concat: the experts' answers written before each question, as in training); accuracy, mean
// score and format rate per task, and where the router's attention went; per task also every item's
// score and a hash of the items, so `report` can pair two runs item by item.

import { createHash } from 'node:crypto';

import { extractAnswer } from '../../tasks/common/extract.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { TaskEntry } from '../../tasks/types.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import { disposeConditioning, type Conditioner } from './conditioning.js';
import type { RoutingRecord } from './metrics.js';
import type { TextGenerator } from './policy-engine.js';
import { encodePolicyPrompts, type PolicyChat } from './setup.js';

export interface TaskEvalReport {
  items: number;
  accuracy: number;
  meanScore: number;
  formatRate: number;
  /** Mean attention mass per expert over this task's prompts. */
  expertMass?: Record<string, number>;
  /** Mean routing entropy (nats) over this task's prompts. */
  routerEntropy?: number;
  /** Attention mass per expert of every evaluated prompt, in item order ([items][experts]); the same items at every evaluation. */
  promptMass?: number[][];
  /** Score of every evaluated item, in item order (accuracy counts the scores equal to 1). Absent in older reports. */
  itemScores?: number[];
  /** {@link itemListHash} of the evaluated items: equal hashes mean the same items in the same order. Absent in older reports. */
  itemsHash?: string;
}

export interface EvalReport {
  step: number;
  items: number;
  /** Mean over tasks of the per-task accuracy (each task counts the same). */
  accuracy: number;
  meanScore: number;
  formatRate: number;
  tasks: Record<string, TaskEvalReport>;
  expertMass?: Record<string, number>;
  routerEntropy?: number;
  seconds: number;
}

export interface EvalOptions {
  maxNewTokens: number;
  batchSize: number;
  /** Decoding of a row ends once its text contains one of these. */
  stopStrings?: string[];
  /** The policy's positions: a prompt that leaves no room for the completion is an error naming the fix. */
  maxPositions: number;
  /** The policy's chat template (policy.chatTemplate), if prompts are rendered with one. */
  chat?: PolicyChat;
}

/** Short hash (16 hex digits of SHA-256) of the items' questions and answers, in order. */
export function itemListHash(items: readonly Pick<TaskEntry, 'question' | 'answer'>[]): string {
  return createHash('sha256').update(JSON.stringify(items.map((e) => [e.question, e.answer]))).digest('hex').slice(0, 16);
}

function massRecord(experts: readonly string[], routing: readonly RoutingRecord[]): { expertMass?: Record<string, number>; routerEntropy?: number } {
  if (experts.length === 0 || routing.length === 0) return {};
  const expertMass: Record<string, number> = {};
  experts.forEach((e, i) => (expertMass[e] = routing.reduce((a, r) => a + r.mass[i], 0) / routing.length));
  return { expertMass, routerEntropy: routing.reduce((a, r) => a + r.entropy, 0) / routing.length };
}

export async function evaluateHeldOut(
  step: number,
  policy: TextGenerator,
  tokenizer: TextTokenizer,
  conditioner: Conditioner,
  registry: TaskRegistry,
  itemsByTask: ReadonlyMap<string, readonly TaskEntry[]>,
  options: EvalOptions,
): Promise<EvalReport> {
  const started = performance.now();
  const tasks: Record<string, TaskEvalReport> = {};
  const allRouting: RoutingRecord[] = [];
  for (const [name, items] of itemsByTask) {
    if (items.length === 0) continue;
    const task = registry.get(name);
    let correct = 0;
    let scoreSum = 0;
    let formatted = 0;
    const itemScores: number[] = [];
    const routing: RoutingRecord[] = [];
    for (let start = 0; start < items.length; start += options.batchSize) {
      const batch = items.slice(start, start + options.batchSize);
      const conditioning = await conditioner.condition(batch);
      try {
        routing.push(...conditioning.routing);
        const promptIds = encodePolicyPrompts(tokenizer, conditioning.promptTexts, {
          maxPositions: options.maxPositions,
          prefixTokens: conditioning.prefix?.shape[1] ?? 0,
          maxNewTokens: options.maxNewTokens,
          textConcat: conditioner.textExperts.length > 0,
          chat: options.chat,
        });
        const generated = await policy.generate({ prefix: conditioning.prefix, promptIds, maxNewTokens: options.maxNewTokens, temperature: 0, topP: 1, eosId: tokenizer.eosId, padId: tokenizer.padId, seed: 0, stopStrings: options.stopStrings, decode: (ids) => tokenizer.decode(ids, { skipSpecial: true }) });
        generated.tokens.forEach((ids, k) => {
          const answer = extractAnswer(tokenizer.decode(ids, { skipSpecial: true }), conditioner.format.answerTag);
          if (answer !== null) formatted++;
          const score = task.score(answer, batch[k]);
          scoreSum += score;
          itemScores.push(score);
          if (score === 1) correct++;
        });
      } finally {
        disposeConditioning(conditioning);
      }
    }
    allRouting.push(...routing);
    tasks[name] = {
      items: items.length,
      accuracy: correct / items.length,
      meanScore: scoreSum / items.length,
      formatRate: formatted / items.length,
      ...massRecord(conditioner.experts, routing),
      ...(routing.length > 0 ? { promptMass: routing.map((r) => r.mass.map((m) => Number(m.toFixed(6)))) } : {}),
      itemScores,
      itemsHash: itemListHash(items),
    };
  }
  const reports = Object.values(tasks);
  const avg = (f: (t: TaskEvalReport) => number) => (reports.length === 0 ? 0 : reports.reduce((a, t) => a + f(t), 0) / reports.length);
  return {
    step,
    items: reports.reduce((a, t) => a + t.items, 0),
    accuracy: avg((t) => t.accuracy),
    meanScore: avg((t) => t.meanScore),
    formatRate: avg((t) => t.formatRate),
    tasks,
    ...massRecord(conditioner.experts, allRouting),
    seconds: (performance.now() - started) / 1000,
  };
}
