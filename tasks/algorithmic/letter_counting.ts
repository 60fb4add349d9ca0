// Reasoning Gym's `letter_counting` task: count how often one letter occurs (case-insensitively) in a span
// of words. Same config, RNG calls and default scorer as RG; the span comes from our own corpus
// (text_source.ts) instead of the novel RG ships, so the items are not RG's items.

import { z } from 'zod';

import { baseTaskConfigShape, orderedRange } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';
import { compareCodePoints, corpusWords } from './text_source.js';

const DATASET_NAME = 'letter_counting';

export const letterCountingConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_words: z.number().int().default(5).describe('fewest words in the text span (at least 1)'),
    max_words: z.number().int().default(15).describe('most words in the text span (>= min_words)'),
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
  });

export type LetterCountingConfig = z.output<typeof letterCountingConfigSchema>;

export const letterCountingTask = defineTask<LetterCountingConfig>({
  name: DATASET_NAME,
  category: 'algorithmic',
  description: 'Count how many times a given letter appears (ignoring case) in a short span of text.',
  configSchema: letterCountingConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const words = corpusWords();
    // As in RG: a span length (capped by the corpus length), then a start position, then a letter.
    const spanLength = Math.min(rng.randint(config.min_words, config.max_words), words.length);
    const start = rng.randint(0, words.length - spanLength);
    const span = words.slice(start, start + spanLength);

    const letterSet = new Set(Array.from(span.join('').toLowerCase()));
    if (letterSet.size === 0) letterSet.add('a'); // RG's fallback; unreachable with non-empty words
    const targetLetter = rng.choice([...letterSet].sort(compareCodePoints));

    let count = 0;
    for (const word of span) {
      for (const ch of word.toLowerCase()) if (ch === targetLetter) count++;
    }

    return {
      question:
        `Count the occurrences of the letter "${targetLetter}" in the text below, treating upper and lower case ` +
        `as the same letter.\nText: "${span.join(' ')}"\nAnswer with a single integer.`,
      answer: String(count),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        span_length: spanLength,
        target_letter: targetLetter,
        span,
        difficulty: {
          words: [config.min_words, config.max_words],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's default ProceduralDataset.score_answer: exact match 1.0, else len(oracle)/len(answer) when the
    // oracle is a substring of the answer (so "3 times" scores 1/7 against "3"). RG raises a TypeError when
    // entry.answer is not a string and the candidate differs; here that gives 0.
    return typeof entry.answer === 'string' ? exactOrContainedScore(answer, entry.answer) : 0;
  },
});
