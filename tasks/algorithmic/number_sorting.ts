// Reasoning Gym's `number_sorting` task: sort random decimal numbers ascending or descending and answer
// as a list of quoted numbers. Same config, RNG stream, numpy rounding, Python number formatting and
// scorer as RG, so the items equal RG's items for the same seed and index.

import { z } from 'zod';

import { baseTaskConfigShape, orderedRange } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';
import {
  numpyRound,
  pyFloatOf,
  pyFloatRepr,
  pyIterate,
  pyJsonLoads,
  pyLiteralEval,
  pyStrListRepr,
  type PyValue,
} from './py_values.js';

const DATASET_NAME = 'number_sorting';

export const numberSortingConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_numbers: z.number().int().default(3).describe('fewest numbers to sort (at least 1)'),
    max_numbers: z.number().int().default(10).describe('most numbers to sort (>= min_numbers)'),
    min_decimals: z.number().int().default(0).describe('fewest decimal places a number is rounded to (>= 0)'),
    max_decimals: z.number().int().default(2).describe('most decimal places a number is rounded to (>= min_decimals)'),
    min_value: z.number().finite().default(-100.0).describe('lower end of the range numbers are drawn from'),
    max_value: z.number().finite().default(100.0).describe('upper end of the range numbers are drawn from (> min_value)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_numbers <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_numbers'],
        message: `min_numbers (${config.min_numbers}) must be positive; set min_numbers to 1 or more`,
      });
    }
    orderedRange<typeof config>('min_numbers', 'max_numbers')(config, ctx);
    if (config.min_decimals < 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_decimals'],
        message: `min_decimals (${config.min_decimals}) must be non-negative; set min_decimals to 0 or more`,
      });
    }
    orderedRange<typeof config>('min_decimals', 'max_decimals')(config, ctx);
    if (!(config.min_value < config.max_value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_value'],
        message: `max_value (${config.max_value}) must be > min_value (${config.min_value}); raise max_value or lower min_value`,
      });
    }
  });

export type NumberSortingConfig = z.output<typeof numberSortingConfigSchema>;

/**
 * Python's `xs == sorted(xs)` (or `sorted(xs, reverse=True)`) for a list of floats. With NaNs present,
 * Python's sort is not a sort, but list equality compares the same float objects by identity, and CPython
 * 3.11's `sorted` leaves a list unchanged exactly when no neighbour pair is strictly out of order (checked
 * on 600,000 random lists with NaNs, up to 300 long). So a NaN passes the check wherever it stands.
 */
function isPySorted(xs: readonly number[], descending: boolean): boolean {
  for (let i = 0; i + 1 < xs.length; i++) {
    if (descending ? xs[i] < xs[i + 1] : xs[i + 1] < xs[i]) return false;
  }
  return true;
}

/** Python `[float(x) for x in values]`, or null where one conversion raises. */
function floatsOf(values: readonly PyValue[]): number[] | null {
  const out: number[] = [];
  for (const v of values) {
    const x = pyFloatOf(v);
    if (x === null) return null;
    out.push(x);
  }
  return out;
}

export const numberSortingTask = defineTask<NumberSortingConfig>({
  name: DATASET_NAME,
  category: 'algorithmic',
  description: 'Sort a list of decimal numbers in ascending or descending order.',
  configSchema: numberSortingConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const count = rng.randint(config.min_numbers, config.max_numbers);
    const numbers: number[] = [];
    for (let i = 0; i < count; i++) {
      const value = rng.uniform(config.min_value, config.max_value);
      const decimals = rng.randint(config.min_decimals, config.max_decimals);
      numbers.push(numpyRound(value, decimals));
    }
    const numberStrs = numbers.map(pyFloatRepr);
    // Stable sorts, as Python's sorted(); -0.0 and 0.0 compare equal and keep their order.
    const ascending = [...numbers].sort((a, b) => a - b).map(pyFloatRepr);
    const descending = [...numbers].sort((a, b) => b - a).map(pyFloatRepr);
    const isAscending = rng.choice([true, false]);
    const direction = isAscending ? 'ascending' : 'descending';
    const sortedNumbers = isAscending ? ascending : descending;

    return {
      question:
        `Put these numbers in ${direction} order: ${numberStrs.join(', ')}\n` +
        'Answer with a Python-style list in square brackets in which every number is written exactly as given ' +
        "and wrapped in quotes, for example ['-3.5', '0.25', '7.0', '12'] rather than -3.5, 0.25, 7.0, 12.",
      answer: pyStrListRepr(sortedNumbers),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        original_numbers: numberStrs,
        direction,
        sorted_numbers: sortedNumbers,
        numbers: count,
        difficulty: {
          numbers: [config.min_numbers, config.max_numbers],
          decimals: [config.min_decimals, config.max_decimals],
          value: [config.min_value, config.max_value],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's NumberSortingDataset.score_answer: 1.0 or 0.0. The candidate, with ' replaced by ", must be a
    // JSON list as long as entry.answer's list, sorted in metadata.direction (any value other than
    // "ascending" means descending), and within 1.0 of the oracle number by number. Every failure,
    // including RG's try/except paths, gives 0.0. Surprising but matched: a "nan" element passes both the
    // order and the tolerance checks (all NaNs score 1.0); a JSON true/false counts as 1.0/0.0.
    if (typeof answer !== 'string') return 0;
    const user = pyJsonLoads(answer.replaceAll("'", '"'));
    if (user === null || user.type !== 'list') return 0;

    if (typeof entry.answer !== 'string') return 0; // json.loads(None) raises TypeError
    // RG: json.loads(entry["answer"]), falling back to eval() (RG's own answers are Python list reprs).
    const expectedValue = pyJsonLoads(entry.answer) ?? pyLiteralEval(entry.answer);
    if (expectedValue === null) return 0;
    const expectedItems = pyIterate(expectedValue);
    if (expectedItems === null) return 0; // len() of a number raises TypeError
    if (user.items.length !== expectedItems.length) return 0;

    const userFloats = floatsOf(user.items);
    const expectedFloats = floatsOf(expectedItems);
    if (userFloats === null || expectedFloats === null) return 0;

    const direction = (entry.metadata as { direction?: unknown } | undefined)?.direction;
    if (direction === undefined) return 0; // KeyError
    if (!isPySorted(userFloats, direction !== 'ascending')) return 0;

    const tolerance = 1;
    for (let i = 0; i < userFloats.length; i++) {
      if (Math.abs(userFloats[i] - expectedFloats[i]) > tolerance) return 0;
    }
    return 1;
  },
});
