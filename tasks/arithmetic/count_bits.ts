// Reasoning Gym's `count_bits` task: count the 1 bits in the binary form of a random positive integer.
// Same config, RNG stream and default scorer (exact match, or partial credit when the answer is contained).

import { z } from 'zod';

import { baseTaskConfigShape } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'count_bits';

export const countBitsConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_n: z.number().int().default(1).describe('smallest number to ask about (at least 1)'),
    max_n: z
      .number()
      .int()
      .default(2 ** 31 - 1)
      .describe('largest number to ask about (>= min_n)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    // RG: assert 1 <= min_n <= max_n
    if (config.min_n < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_n'],
        message: `min_n (${config.min_n}) must be at least 1; set min_n to a positive integer`,
      });
    }
    if (config.max_n < config.min_n) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_n'],
        message: `max_n (${config.max_n}) must be >= min_n (${config.min_n}); raise max_n or lower min_n`,
      });
    }
  });

export type CountBitsConfig = z.output<typeof countBitsConfigSchema>;

export const countBitsTask = defineTask<CountBitsConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Count the 1 bits in the binary representation of a random positive integer.',
  configSchema: countBitsConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const number = rng.randint(config.min_n, config.max_n);
    const binary = number.toString(2);
    let solution = 0;
    for (const ch of binary) if (ch === '1') solution++;
    return {
      question: `Write ${number} in binary. How many of its digits are 1? Answer with the count as a single integer.`,
      answer: String(solution),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        number,
        solution,
        binary,
        n: number,
        difficulty: {
          n: [config.min_n, config.max_n],
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
