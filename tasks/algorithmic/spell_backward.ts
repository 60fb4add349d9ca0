// Reasoning Gym's `spell_backward` task: spell one word backwards. Same config, RNG call and scorer
// (per-position partial credit) as RG; RG's default word file `words3to10.txt` is replaced by the 3-10
// letter words of the `word-list` package (text_source.ts), so the items are not RG's items.

import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { baseTaskConfigShape, orderedRange } from '../common/config.js';
import { pyLen, pyStrip } from '../common/pystr.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';
import { dictionaryPool, drawWord, type WordPool } from './text_source.js';

const DATASET_NAME = 'spell_backward';

/** RG's default `data_file`; here it names the built-in pool of 3-10 letter words. */
export const BUILTIN_WORD_FILE = 'words3to10.txt';
const BUILTIN_MIN_LEN = 3;
const BUILTIN_MAX_LEN = 10;

export const spellBackwardConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_word_len: z.number().int().default(3).describe('shortest word, in characters (at least 1)'),
    max_word_len: z.number().int().default(10).describe('longest word, in characters (>= min_word_len)'),
    data_file: z
      .string()
      .min(1)
      .default(BUILTIN_WORD_FILE)
      .describe(
        `word source: "${BUILTIN_WORD_FILE}" (default) is the built-in pool of 3-10 letter English words; ` +
          'any other value is read as the path of a UTF-8 file with one word per line',
      ),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_word_len <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_word_len'],
        message: `min_word_len (${config.min_word_len}) must be positive; set min_word_len to 1 or more`,
      });
    }
    orderedRange<typeof config>('min_word_len', 'max_word_len')(config, ctx);
    // RG fails later, in rng.choice on an empty list, when no word of the file fits the lengths.
    if (
      config.data_file === BUILTIN_WORD_FILE &&
      config.min_word_len <= config.max_word_len &&
      (config.min_word_len > BUILTIN_MAX_LEN || config.max_word_len < BUILTIN_MIN_LEN)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_word_len'],
        message:
          `min_word_len..max_word_len (${config.min_word_len}..${config.max_word_len}) must overlap ` +
          `${BUILTIN_MIN_LEN}..${BUILTIN_MAX_LEN}, the word lengths of ${BUILTIN_WORD_FILE}; ` +
          'change the range or point data_file at a word file with such words',
      });
    }
  });

export type SpellBackwardConfig = z.output<typeof spellBackwardConfigSchema>;

/** Python `str.splitlines()` line boundaries. */
const PY_LINE_BREAK = /\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]/u;
/** Python `str.isalnum()` (letters and numeric characters), for non-empty strings. */
const PY_ALNUM = /^[\p{L}\p{N}]+$/u;

const fileWordCache = new Map<string, WordPool>();

function wordPool(config: SpellBackwardConfig): WordPool {
  if (config.data_file === BUILTIN_WORD_FILE) {
    return dictionaryPool(
      Math.max(config.min_word_len, BUILTIN_MIN_LEN),
      Math.min(config.max_word_len, BUILTIN_MAX_LEN),
    );
  }
  const key = `${config.data_file}\u0000${config.min_word_len}:${config.max_word_len}`;
  let pool = fileWordCache.get(key);
  if (pool === undefined) {
    // RG's filter: stripped lines that are alphanumeric and of an allowed length.
    const words = readFileSync(config.data_file, 'utf8')
      .split(PY_LINE_BREAK)
      .map(pyStrip)
      .filter((w) => PY_ALNUM.test(w) && pyLen(w) >= config.min_word_len && pyLen(w) <= config.max_word_len);
    pool = { size: words.length, get: (i: number) => words[i] };
    fileWordCache.set(key, pool);
  }
  return pool;
}

/** Python `s[::-1]`: reverse by code point. */
function reverseCodePoints(s: string): string {
  return Array.from(s).reverse().join('');
}

export const spellBackwardTask = defineTask<SpellBackwardConfig>({
  name: DATASET_NAME,
  category: 'algorithmic',
  description: 'Spell a single English word backwards.',
  configSchema: spellBackwardConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const pool = wordPool(config);
    if (pool.size === 0) {
      throw new RangeError(
        `spell_backward: no word of ${config.min_word_len}-${config.max_word_len} characters in ${config.data_file}; ` +
          'change min_word_len/max_word_len or data_file',
      );
    }
    const word = drawWord(rng, pool); // RG: rng.choice(self.words)
    return {
      question: `Write the following word with its letters in reverse order (for instance, "stop" gives "pots"): ${word}`,
      answer: reverseCodePoints(word),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        word,
        word_len: pyLen(word),
        difficulty: {
          word_len: [config.min_word_len, config.max_word_len],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's SpellBackwardDataset.score_answer: case-insensitive exact match 1.0; otherwise 1/len(expected)
    // for every position, up to the shorter length, where the letters agree (a mismatch does not stop the
    // count). When every expected letter matches but the candidate is longer, RG subtracts 0.2 only if the
    // float sum is exactly 1.0 (lengths 1-5, 8, 12, 16, 17, ...); for other lengths no penalty applies and
    // the sum can even exceed 1 (9 letters: 1.0000000000000002). Surprising, and matched on purpose by
    // summing in the same order.
    if (typeof answer !== 'string') return 0;
    // RG's bare except turns a non-string entry.answer (AttributeError on .lower()) into 0.0.
    if (typeof entry.answer !== 'string') return 0;
    const expected = Array.from(entry.answer.toLowerCase());
    const given = Array.from(answer.toLowerCase());
    if (expected.join('') === given.join('')) return 1;
    const answerLen = expected.length;
    let reward = 0;
    for (let i = 0; i < expected.length; i++) {
      if (i >= given.length) break;
      if (expected[i] === given[i]) reward += 1 / answerLen;
    }
    if (reward === 1.0) reward -= 0.2;
    return reward;
  },
});
