// Reasoning Gym's default scoring rule, ported with Python's string semantics. The decimal rule
// (`compute_decimal_reward`) lives in ./decimal.ts.

import { pyLen } from './pystr.js';

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
