// Reasoning Gym's `products` task: multiply a few integers with a fixed digit count (exact, bigints).
// Same config and RNG stream; scored like RG with `compute_decimal_reward` (CPython Decimal semantics).

import { z } from 'zod';

import { baseTaskConfigShape, termsAndDigitsChecks } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';
import { computeDecimalReward } from '../common/decimal.js';

const DATASET_NAME = 'products';

export const productsConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_terms: z.number().int().default(2).describe('fewest factors (at least 1)'),
    max_terms: z.number().int().default(2).describe('most factors (>= min_terms)'),
    min_digits: z.number().int().default(1).describe('fewest digits per factor (at least 1)'),
    max_digits: z.number().int().default(5).describe('most digits per factor (>= min_digits)'),
    allow_negation: z
      .boolean()
      .default(false)
      .describe('draw factors from [-(10^d - 1), 10^d - 1] instead of positive d-digit numbers'),
  })
  .strict()
  .superRefine((config, ctx) => {
    termsAndDigitsChecks(config, ctx);
  });

export type ProductsConfig = z.output<typeof productsConfigSchema>;

export const productsTask = defineTask<ProductsConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Multiply two or more integers exactly.',
  configSchema: productsConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const numTerms = rng.randint(config.min_terms, config.max_terms);
    const numDigits = rng.randint(config.min_digits, config.max_digits);
    const maxValue = 10n ** BigInt(numDigits) - 1n;
    // With negation: [-(10^d - 1), 10^d - 1]; otherwise d-digit numbers, except that one digit includes 0.
    const minValue = config.allow_negation ? -maxValue : numDigits === 1 ? 0n : 10n ** BigInt(numDigits - 1);

    const factors: bigint[] = [];
    for (let i = 0; i < numTerms; i++) factors.push(rng.randintBig(minValue, maxValue));
    const result = factors.reduce((a, b) => a * b);
    const expression = factors.map(String).join(' * ');

    return {
      question: `Multiply out ${expression}. Reply with the product alone.`,
      answer: result.toString(),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        expression,
        num_terms: numTerms,
        num_digits: numDigits,
        difficulty: {
          num_terms: [config.min_terms, config.max_terms],
          num_digits: [config.min_digits, config.max_digits],
        },
      },
    };
  },

  score(answer, entry) {
    // RG: compute_decimal_reward(answer, entry["answer"], strip_commas=True), so "+01,000.00" == "1000".
    return computeDecimalReward(answer, entry.answer, true);
  },
});
