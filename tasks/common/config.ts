// Schema pieces shared by task configs: `seed` and `size` as in Reasoning Gym, and range checks
// that name both keys and say how to fix them.

import { z } from 'zod';

export const DEFAULT_TASK_SEED = 42;
export const DEFAULT_TASK_SIZE = 500;

export const baseTaskConfigShape = {
  seed: z.number().int().nonnegative().default(DEFAULT_TASK_SEED).describe('base seed; item i uses random.Random(seed + i)'),
  size: z.number().int().positive().default(DEFAULT_TASK_SIZE).describe('number of items in the dataset'),
};

/** Refinement: `config[low] <= config[high]`, reported on the `high` key. */
export function orderedRange<T extends Record<string, unknown>>(low: keyof T & string, high: keyof T & string) {
  return (config: T, ctx: z.RefinementCtx) => {
    const lo = config[low] as number;
    const hi = config[high] as number;
    if (hi < lo) {
      ctx.addIssue({
        code: 'custom',
        path: [high],
        message: `${high} (${hi}) must be >= ${low} (${lo}); raise ${high} or lower ${low}`,
      });
    }
  };
}

/** Refinement: `config[key] >= min`, reported on `key` with the fix. */
export function minimum<T extends Record<string, unknown>>(key: keyof T & string, min: number) {
  return (config: T, ctx: z.RefinementCtx) => {
    const value = config[key] as number;
    if (value < min) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          min === 1 ? `${key} (${value}) must be positive; set ${key} to 1 or more` : `${key} (${value}) must be at least ${min}; set ${key} to ${min} or more`,
      });
    }
  };
}

/** The checks Reasoning Gym's term/digit tasks share: min_terms, min_digits >= 1 and ordered ranges. */
export function termsAndDigitsChecks<T extends { min_terms: number; max_terms: number; min_digits: number; max_digits: number }>(config: T, ctx: z.RefinementCtx): void {
  const c = config as unknown as Record<string, unknown>;
  minimum('min_terms', 1)(c, ctx);
  orderedRange('min_terms', 'max_terms')(c, ctx);
  minimum('min_digits', 1)(c, ctx);
  orderedRange('min_digits', 'max_digits')(c, ctx);
}
