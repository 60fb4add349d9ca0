// Reasoning Gym's `base_conversion` task: rewrite a non-negative integer from one base (2-36) in another.
// Same config, RNG stream and default scorer as RG, so items match RG's except for the value 0 (see
// `toBase`) and configs with min_base == max_base, which RG accepts and then loops on forever.

import { z } from 'zod';

import { baseTaskConfigShape } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'base_conversion';

export const baseConversionConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_base: z.number().int().default(2).describe('smallest base used, between 2 and 36'),
    max_base: z.number().int().default(16).describe('largest base used, above min_base and at most 36'),
    min_value: z.number().int().default(0).describe('smallest decimal value to convert (>= 0)'),
    max_value: z.number().int().default(1000).describe('largest decimal value to convert (> min_value)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_base < 2 || config.min_base > 36) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_base'],
        message: `min_base (${config.min_base}) must be between 2 and 36`,
      });
    }
    // RG only asserts min_base <= max_base, but its generator redraws the target base until it differs from
    // the source base, which never ends when both bounds are equal; so the range must hold two bases.
    if (config.max_base <= config.min_base || config.max_base > 36) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_base'],
        message:
          `max_base (${config.max_base}) must be greater than min_base (${config.min_base}) and at most 36, ` +
          'so that source and target bases can differ',
      });
    }
    if (config.min_value < 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_value'],
        message: `min_value (${config.min_value}) must be non-negative; set min_value to 0 or more`,
      });
    }
    if (config.max_value <= config.min_value) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_value'],
        message: `max_value (${config.max_value}) must be > min_value (${config.min_value}); raise max_value or lower min_value`,
      });
    }
    if (config.max_value >= Number.MAX_SAFE_INTEGER) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_value'],
        message: `max_value (${config.max_value}) must be below 2^53 - 1; lower max_value`,
      });
    }
  });

export type BaseConversionConfig = z.output<typeof baseConversionConfigSchema>;

/** RG's base names: "binary", "hexadecimal", otherwise "base-N". */
function baseName(base: number): string {
  if (base === 2) return 'binary';
  if (base === 16) return 'hexadecimal';
  return `base-${base}`;
}

/**
 * The value in the given base, lowercase digits a-z above 9. Departure from RG: for the value 0 in a base
 * other than 2 and 16, RG's `reversed(digits) or [0]` yields "" (a reversed iterator is always truthy),
 * giving an empty number in the question and an empty oracle that no answer can match; we write "0", which
 * is what RG's code evidently intends. RG-generated entries with answer "" still score as RG scores them.
 */
function toBase(value: number, base: number): string {
  return value.toString(base);
}

export const baseConversionTask = defineTask<BaseConversionConfig>({
  name: DATASET_NAME,
  category: 'algorithmic',
  description: 'Convert a non-negative integer from one number base (2-36) to another.',
  configSchema: baseConversionConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const value = rng.randint(config.min_value, config.max_value);
    const sourceBase = rng.randint(config.min_base, config.max_base);
    let targetBase = rng.randint(config.min_base, config.max_base);
    while (targetBase === sourceBase) targetBase = rng.randint(config.min_base, config.max_base);

    const sourceRepr = toBase(value, sourceBase);
    const targetRepr = toBase(value, targetBase);
    return {
      question:
        `Convert the ${baseName(sourceBase)} number ${sourceRepr} to ${baseName(targetBase)}.\n` +
        'In bases above 10, write the digits from ten upwards as lowercase letters (a = 10, b = 11, ..., z = 35). ' +
        'Answer with the converted number only, with no prefix such as 0x or 0b.',
      answer: targetRepr,
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        decimal_value: value,
        source_base: sourceBase,
        target_base: targetBase,
        source_repr: sourceRepr,
        target_repr: targetRepr,
        difficulty: {
          base: [config.min_base, config.max_base],
          value: [config.min_value, config.max_value],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's default ProceduralDataset.score_answer: exact (case-sensitive) match 1.0, else
    // len(oracle)/len(answer) when the oracle is contained in the answer ("0x1f" vs "1f": 0.5). With RG's
    // empty oracle for the value 0 every answer scores 0.0. RG raises a TypeError when entry.answer is not
    // a string and the candidate differs; here that gives 0.
    return typeof entry.answer === 'string' ? exactOrContainedScore(answer, entry.answer) : 0;
  },
});
