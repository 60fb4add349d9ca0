// Reasoning Gym's `lcm` task: find the least common multiple of a few random positive integers.
// Same config, RNG stream and default scorer (exact match, or partial credit when the answer is contained).

import { z } from 'zod';

import { baseTaskConfigShape, minimum, orderedRange } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'lcm';

export const lcmConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_numbers: z.number().int().default(2).describe('fewest integers in one question (at least 2)'),
    max_numbers: z.number().int().default(2).describe('most integers in one question (>= min_numbers)'),
    min_value: z.number().int().default(1).describe('smallest value of each integer (at least 1)'),
    max_value: z
      .number()
      .int()
      .default(100)
      .describe('largest value of each integer (> min_value); kept small by default because LCMs grow fast'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_numbers < 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_numbers'],
        message: `min_numbers (${config.min_numbers}) must be at least 2; an LCM needs two or more numbers`,
      });
    }
    orderedRange<typeof config>('min_numbers', 'max_numbers')(config, ctx);
    minimum<typeof config>('min_value', 1)(config, ctx);
    if (config.max_value <= config.min_value) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_value'],
        message: `max_value (${config.max_value}) must be > min_value (${config.min_value}); raise max_value or lower min_value`,
      });
    }
  });

export type LcmConfig = z.output<typeof lcmConfigSchema>;

function gcdBig(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

function lcmBig(a: bigint, b: bigint): bigint {
  return a === 0n || b === 0n ? 0n : (a / gcdBig(a, b)) * b;
}

export const lcmTask = defineTask<LcmConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Least common multiple of two or more random positive integers.',
  configSchema: lcmConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    // As in Reasoning Gym: up to three draws looking for an LCM below the product (numbers sharing a
    // factor); the last draw is kept regardless. LCMs can pass 2^53, so they are computed as bigints.
    let numbers: number[] = [];
    let result = 0n;
    for (let attempt = 0; attempt < 3; attempt++) {
      const count = rng.randint(config.min_numbers, config.max_numbers);
      numbers = [];
      for (let i = 0; i < count; i++) numbers.push(rng.randint(config.min_value, config.max_value));
      const big = numbers.map(BigInt);
      result = big.reduce(lcmBig);
      const product = big.reduce((x, y) => x * y);
      if (result < product) break;
    }
    const answer = result.toString();
    return {
      question:
        `What is the least common multiple (LCM) of the numbers ${numbers.join(', ')}? ` +
        'Answer with the LCM alone, as a single integer.',
      answer,
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        numbers,
        // A JSON number when exact; beyond 2^53 the exact decimal string (JSON numbers would round).
        result: result <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(result) : answer,
        difficulty: {
          numbers: [config.min_numbers, config.max_numbers],
          value: [config.min_value, config.max_value],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's default ProceduralDataset.score_answer. (RG raises a TypeError when entry.answer is not a
    // string and the candidate differs; here that gives 0.)
    return typeof entry.answer === 'string' ? exactOrContainedScore(answer, entry.answer) : 0;
  },
});
