// Reasoning Gym's `word_sorting` task: sort a handful of words ascending or descending by code point
// (ASCII/Unicode order), optionally after a case transformation. Same config, RNG calls and scorer
// (positional partial credit) as RG; the words come from our own corpus (text_source.ts), not RG's novel.

import { z } from 'zod';

import { baseTaskConfigShape, orderedRange } from '../common/config.js';
import { PY_WS_CLASS, pyLen, pyStrip } from '../common/pystr.js';
import { rngForItem, type PyRandom } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';
import { compareCodePoints, corpusVocabulary } from './text_source.js';

const DATASET_NAME = 'word_sorting';

/** RG's `TextTransformation` values. */
export const TEXT_TRANSFORMATIONS = ['lowercase', 'uppercase', 'original', 'randomcase'] as const;
export type TextTransformation = (typeof TEXT_TRANSFORMATIONS)[number];

export const wordSortingConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_words: z.number().int().default(3).describe('fewest words to sort (at least 1)'),
    max_words: z.number().int().default(10).describe('most words to sort (>= min_words)'),
    min_word_length: z.number().int().default(3).describe('shortest word, in characters (at least 1)'),
    max_word_length: z.number().int().default(12).describe('longest word, in characters (>= min_word_length)'),
    transformation: z
      .enum(TEXT_TRANSFORMATIONS)
      .default('original')
      .describe('case applied to the words before sorting: lowercase, uppercase, original or randomcase (each letter)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_words <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_words'],
        message: `min_words (${config.min_words}) must be positive; set min_words to 1 or more`,
      });
    }
    orderedRange<typeof config>('min_words', 'max_words')(config, ctx);
    if (config.min_word_length <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_word_length'],
        message: `min_word_length (${config.min_word_length}) must be positive; set min_word_length to 1 or more`,
      });
    }
    orderedRange<typeof config>('min_word_length', 'max_word_length')(config, ctx);
    // RG fails later, inside random.sample, when the word pool is smaller than the word count; say so now.
    if (config.min_word_length > 0 && config.min_word_length <= config.max_word_length) {
      const available = corpusVocabulary(config.min_word_length, config.max_word_length).length;
      if (config.max_words > available) {
        ctx.addIssue({
          code: 'custom',
          path: ['max_words'],
          message:
            `max_words (${config.max_words}) exceeds the ${available} distinct words of ` +
            `${config.min_word_length}-${config.max_word_length} characters in the text source; ` +
            'lower max_words or widen min_word_length..max_word_length',
        });
      }
    }
  });

export type WordSortingConfig = z.output<typeof wordSortingConfigSchema>;

function transformWord(word: string, transformation: TextTransformation, rng: PyRandom): string {
  switch (transformation) {
    case 'lowercase':
      return word.toLowerCase();
    case 'uppercase':
      return word.toUpperCase();
    case 'randomcase': {
      // One rng.choice([True, False]) per character, in order, as RG does.
      let out = '';
      for (const ch of word) out += rng.choice([true, false]) ? ch.toUpperCase() : ch.toLowerCase();
      return out;
    }
    default:
      return word;
  }
}

const ANSWER_SEPARATOR = new RegExp(`,${PY_WS_CLASS}*`, 'u');

function arraysEqual(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const wordSortingTask = defineTask<WordSortingConfig>({
  name: DATASET_NAME,
  category: 'algorithmic',
  description: 'Sort a list of words in ascending or descending ASCII/Unicode order.',
  configSchema: wordSortingConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const pool = corpusVocabulary(config.min_word_length, config.max_word_length);
    const count = rng.randint(config.min_words, config.max_words);
    if (count > pool.length) {
      throw new RangeError(
        `word_sorting needs ${count} distinct words of ${config.min_word_length}-${config.max_word_length} characters ` +
          `but the text source has ${pool.length}; lower max_words or widen the word length range`,
      );
    }
    const originalWords = rng.sample(pool, count);
    const transformedWords = originalWords.map((w) => transformWord(w, config.transformation, rng));

    const ascending = [...transformedWords].sort(compareCodePoints);
    // Python's sorted(reverse=True) is stable; equal strings are identical, so order among them is moot.
    const descending = [...transformedWords].sort((a, b) => compareCodePoints(b, a));
    const isAscending = rng.choice([true, false]);
    const direction = isAscending ? 'ascending' : 'descending';
    const sortedWords = isAscending ? ascending : descending;

    return {
      question:
        `Sort the words below in ${direction} order, comparing them character by character by their ASCII/Unicode ` +
        'code points (so, for example, every uppercase letter comes before every lowercase letter).\n' +
        `Words: ${transformedWords.join(', ')}\n` +
        'Give the sorted words as one comma-separated list, like: first, second, third',
      answer: sortedWords.join(', '),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        original_words: originalWords,
        sorted_words: sortedWords,
        transformed_words: transformedWords,
        direction,
        num_words: originalWords.length,
        word_length: Math.max(...originalWords.map(pyLen)),
        difficulty: {
          num_words: [config.min_words, config.max_words],
          word_length: [config.min_word_length, config.max_word_length],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's WordSortingDataset.score_answer, which reads metadata.sorted_words (not entry.answer).
    const oracle = (entry.metadata as { sorted_words?: unknown } | undefined)?.sorted_words;
    // RG raises (KeyError/TypeError) on a missing or malformed sorted_words; here that gives 0.
    if (!Array.isArray(oracle) || !oracle.every((w) => typeof w === 'string')) return 0;
    if (typeof answer !== 'string' || answer.length === 0) return 0;

    const parsed = answer.split(ANSWER_SEPARATOR).map(pyStrip);
    if (arraysEqual(parsed, oracle)) return 1;
    // RG divides by len(oracle) and raises ZeroDivisionError for an empty oracle; here that gives 0.
    if (oracle.length === 0) return 0;

    let correctPositions = 0;
    parsed.forEach((word, i) => {
      if (i < oracle.length && word === oracle[i]) correctPositions++;
    });
    let partial = correctPositions / oracle.length;
    // The right words in a wrong order earn at least 0.2 (surprising, but RG's rule): compare as multisets.
    if (arraysEqual([...parsed].sort(compareCodePoints), [...oracle].sort(compareCodePoints))) {
      partial = Math.max(partial, 0.2);
    }
    return partial;
  },
});
