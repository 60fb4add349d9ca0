// The numbers one GRPO step writes to metrics.jsonl, as pure functions of what the step produced. Names
// follow TRL where one exists (reward, reward_std, frac_reward_zero_std, kl, clip_ratio, entropy,
// completions/mean_length) plus per-task rewards, router/entropy and router/expert_mass/<expert>
// (overall and per task: router/expert_mass/<task>/<expert>).

import { mean, type AdvantageResult } from './grpo.js';

export interface RolloutRecord {
  task: string;
  /** Total reward (task score + weighted format reward). */
  reward: number;
  /** The task verifier's score in [0, 1]. */
  taskScore: number;
  formatScore: number;
  /** Completion length in tokens. */
  length: number;
  /** Stopped by the token budget rather than EOS. */
  truncated: boolean;
}

/** One prompt's routing: its task, attention mass per expert (sums to 1) and the entropy of that mass. */
export interface RoutingRecord {
  task: string;
  mass: number[];
  entropy: number;
}

/** Reward, accuracy and completion statistics of one step's rollouts, overall and per task. */
export function rolloutMetrics(rollouts: readonly RolloutRecord[], advantages: AdvantageResult): Record<string, number> {
  const out: Record<string, number> = {};
  const lengths = rollouts.map((r) => r.length);
  out.reward = mean(rollouts.map((r) => r.reward));
  out.reward_std = mean(advantages.groupStd);
  out.frac_reward_zero_std = advantages.fracZeroStd;
  out.accuracy = mean(rollouts.map((r) => (r.taskScore === 1 ? 1 : 0)));
  out['rewards/task_score'] = mean(rollouts.map((r) => r.taskScore));
  out['rewards/format'] = mean(rollouts.map((r) => r.formatScore));
  out['completions/mean_length'] = mean(lengths);
  out['completions/min_length'] = Math.min(...lengths);
  out['completions/max_length'] = Math.max(...lengths);
  out['completions/clipped_ratio'] = mean(rollouts.map((r) => (r.truncated ? 1 : 0)));
  for (const task of [...new Set(rollouts.map((r) => r.task))].sort()) {
    const mine = rollouts.filter((r) => r.task === task);
    out[`reward/${task}`] = mean(mine.map((r) => r.reward));
    out[`accuracy/${task}`] = mean(mine.map((r) => (r.taskScore === 1 ? 1 : 0)));
  }
  return out;
}

/** Mean routing entropy and expert mass over prompts, overall and per task. */
export function routingMetrics(experts: readonly string[], prompts: readonly RoutingRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (prompts.length === 0) return out;
  const put = (prefix: string, list: readonly RoutingRecord[], entropyKey: string) => {
    out[entropyKey] = mean(list.map((p) => p.entropy));
    experts.forEach((e, i) => (out[`${prefix}${e}`] = mean(list.map((p) => p.mass[i]))));
  };
  put('router/expert_mass/', prompts, 'router/entropy');
  for (const task of [...new Set(prompts.map((p) => p.task))].sort()) {
    put(`router/expert_mass/${task}/`, prompts.filter((p) => p.task === task), `router/entropy/${task}`);
  }
  return out;
}

/** Entropy (nats) of a probability vector; 0 * log 0 = 0. */
export function entropyOf(p: readonly number[]): number {
  return p.reduce((a, x) => (x > 0 ? a - x * Math.log(x) : a), 0);
}

/** Exponential moving average for progress display: ema(prev, x) with weight `alpha` on x. */
export function ema(previous: number | undefined, x: number, alpha = 0.1): number {
  return previous === undefined || !Number.isFinite(previous) ? x : previous + alpha * (x - previous);
}
