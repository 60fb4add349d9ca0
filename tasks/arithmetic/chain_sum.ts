// Reasoning Gym's `chain_sum` task: add and subtract a chain of integers with a fixed digit count.
// Same config and RNG stream; scored like RG with `compute_decimal_reward` (CPython Decimal semantics).

import { z } from 'zod';

import { baseTaskConfigShape, termsAndDigitsChecks } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';
import { computeDecimalReward } from '../common/decimal.js';

const DATASET_NAME = 'chain_sum';

export const chainSumConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_terms: z.number().int().default(2).describe('fewest numbers in the chain (at least 1)'),
    max_terms: z.number().int().default(6).describe('most numbers in the chain (>= min_terms)'),
    min_digits: z.number().int().default(1).describe('fewest digits per number (at least 1)'),
    max_digits: z.number().int().default(4).describe('most digits per number (>= min_digits)'),
    allow_negation: z
      .boolean()
      .default(false)
      .describe('draw numbers from [-(10^d - 1), 10^d - 1] instead of positive d-digit numbers'),
  })
  .strict()
  .superRefine((config, ctx) => {
    termsAndDigitsChecks(config, ctx);
  });

export type ChainSumConfig = z.output<typeof chainSumConfigSchema>;

export const chainSumTask = defineTask<ChainSumConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Add and subtract a chain of integers.',
  configSchema: chainSumConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const numTerms = rng.randint(config.min_terms, config.max_terms);
    const numDigits = rng.randint(config.min_digits, config.max_digits);
    // d digits: [10^(d-1), 10^d - 1], except that one digit includes 0. Bigints keep wide configs exact.
    const minValue = numDigits === 1 ? 0n : 10n ** BigInt(numDigits - 1);
    const maxValue = 10n ** BigInt(numDigits) - 1n;

    const constants: bigint[] = [];
    for (let i = 0; i < numTerms; i++) {
      constants.push(config.allow_negation ? rng.randintBig(-maxValue, maxValue) : rng.randintBig(minValue, maxValue));
    }
    const operators: string[] = [];
    for (let i = 0; i < numTerms - 1; i++) operators.push(rng.choice(['+', '-']));

    let result = constants[0];
    const parts = [String(result)];
    operators.forEach((op, i) => {
      const c = constants[i + 1];
      result = op === '+' ? result + c : result - c;
      parts.push(op, String(c));
    });
    const expression = parts.join(' ');

    return {
      question: `Compute ${expression} and reply with the resulting number only.`,
      answer: result.toString(),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        num_terms: numTerms,
        num_digits: numDigits,
        expression,
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
