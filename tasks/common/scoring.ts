// Scoring rules shared by many Reasoning Gym tasks, ported with Python's string semantics.

import { pyDecimalEquals, pyLen } from './pystr.js';

/**
 * Reasoning Gym's default `ProceduralDataset.score_answer`: 1.0 for an exact match; otherwise, when the
 * oracle answer appears inside the candidate, partial credit len(oracle) / len(candidate); else 0.
 */
export function exactOrContainedScore(answer: string | null | undefined, oracle: string): number {
  if (typeof answer !== 'string' || answer.length === 0) return 0;
  if (answer === oracle) return 1;
  if (answer.includes(oracle)) return pyLen(oracle) / pyLen(answer);
  return 0;
}

/**
 * Reasoning Gym's `compute_decimal_reward`: equal as decimals (sign, leading zeros, trailing decimal
 * zeros and, with stripCommas, thousands separators tolerated) gives 1.0; otherwise the containment
 * partial credit of {@link exactOrContainedScore}, computed on the comma-stripped strings.
 */
export function decimalReward(answer: string | null | undefined, oracle: string, stripCommas = true): number {
  if (typeof answer !== 'string' || answer.length === 0) return 0;
  let a = answer;
  let o = oracle;
  if (stripCommas) {
    a = a.replaceAll(',', '');
    o = o.replaceAll(',', '');
  }
  if (pyDecimalEquals(a, o) === true) return 1;
  if (a.includes(o)) return pyLen(o) / pyLen(a);
  return 0;
}
