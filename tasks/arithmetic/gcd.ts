// Reasoning Gym's `gcd` task: find the greatest common divisor of a few random positive integers.
// Same config, RNG stream and default scorer (exact match, or partial credit when the answer is contained).

import { z } from 'zod';

import { baseTaskConfigShape, minimum, orderedRange } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'gcd';

export const gcdConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_numbers: z.number().int().default(2).describe('fewest integers in one question (at least 2)'),
    max_numbers: z.number().int().default(2).describe('most integers in one question (>= min_numbers)'),
    min_value: z.number().int().default(1).describe('smallest value of each integer (at least 1)'),
    max_value: z.number().int().default(1000).describe('largest value of each integer (> min_value)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_numbers < 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_numbers'],
        message: `min_numbers (${config.min_numbers}) must be at least 2; a GCD needs two or more numbers`,
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

export type GcdConfig = z.output<typeof gcdConfigSchema>;

function gcd2(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return Math.abs(a);
}

export const gcdTask = defineTask<GcdConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Greatest common divisor of two or more random positive integers.',
  configSchema: gcdConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    // As in Reasoning Gym: up to three draws looking for a GCD above 1; the last draw is kept regardless.
    let numbers: number[] = [];
    let result = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const count = rng.randint(config.min_numbers, config.max_numbers);
      numbers = [];
      for (let i = 0; i < count; i++) numbers.push(rng.randint(config.min_value, config.max_value));
      result = numbers.reduce(gcd2);
      if (result > 1) break;
    }
    return {
      question:
        `What is the greatest common divisor (GCD) of the numbers ${numbers.join(', ')}? ` +
        'Answer with the GCD alone, as a single integer.',
      answer: String(result),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        numbers,
        result,
        num_terms: numbers.length,
        difficulty: {
          num_terms: [config.min_numbers, config.max_numbers],
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
