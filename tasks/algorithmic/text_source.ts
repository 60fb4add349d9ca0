// Deterministic English-like text and word pools for the word tasks (letter_counting, word_sorting,
// spell_backward), built from the `word-list` npm package (~274k lowercase English words).
//
// Departure from Reasoning Gym: RG draws its spans and words from data files it ships (a public-domain
// novel for letter_counting / word_sorting, a 3-10 letter word file for spell_backward). We may not copy
// those, so the novel's role is played by a fixed synthetic corpus: sentences of common function words
// mixed with dictionary words, generated once by a fixed-seed CPython-compatible RNG, with the first word
// of every sentence (and a few others, like names) capitalised. The tasks use it exactly as RG uses the
// novel (RG's word list `self.words` = our `corpusWords()`), so their RNG calls and semantics are RG's;
// only the source text differs, so the items are not RG's items.

import { readFileSync } from 'node:fs';

import wordListPath from 'word-list';

import { pyLen } from '../common/pystr.js';
import { PyRandom } from '../common/rng.js';

/** Seed of the corpus generator; changing it changes every word-task item. */
export const CORPUS_SEED = 2889;
/** Number of sentences in the corpus (10,034 words, about the size of RG's novel). */
export const CORPUS_SENTENCES = 900;

/**
 * Relative frequencies of dictionary-word lengths 3..18 in the corpus, roughly those of content words in
 * English prose, so that the text is not dominated by the long, rare words that fill a dictionary.
 */
const LENGTH_WEIGHTS: readonly number[] = [6, 10, 12, 12, 11, 9, 7, 5, 3.5, 2.5, 1.5, 1, 0.6, 0.4, 0.2, 0.1];
const MIN_CORPUS_WORD_LEN = 3;

/** Common English function words (our own list) that make the corpus read like running text. */
const FUNCTION_WORDS: readonly string[] = [
  'the', 'of', 'and', 'a', 'to', 'in', 'is', 'was', 'that', 'it', 'he', 'she', 'they', 'with', 'as',
  'for', 'on', 'at', 'by', 'from', 'his', 'her', 'had', 'have', 'be', 'not', 'but', 'or', 'an', 'this',
  'which', 'were', 'are', 'all', 'one', 'their', 'there', 'would', 'been', 'so', 'when', 'who', 'will',
  'more', 'no', 'if', 'out', 'up', 'into', 'than', 'them', 'can', 'only', 'other', 'its', 'then', 'some',
  'what', 'over', 'such', 'our', 'these', 'like', 'upon', 'after', 'we', 'you', 'my', 'very', 'could',
];

/** The dictionary as one string plus word offsets: no per-word strings until a word is drawn. */
interface Dictionary {
  text: string;
  starts: Int32Array;
  lengths: Int32Array;
}

/** A read-only pool of words, drawn by index (`rng.randbelow(pool.size)` is Python's `rng.choice`). */
export interface WordPool {
  readonly size: number;
  get(i: number): string;
}

let dictionaryCache: Dictionary | null = null;
let sentenceCache: readonly (readonly string[])[] | null = null;
let corpusCache: readonly string[] | null = null;
const vocabularyCache = new Map<string, readonly string[]>();
const dictionaryPoolCache = new Map<string, WordPool>();

function loadDictionary(): Dictionary {
  if (dictionaryCache === null) {
    const bytes = readFileSync(wordListPath);
    const starts = new Int32Array(bytes.length >> 1);
    const lengths = new Int32Array(bytes.length >> 1);
    let count = 0;
    let start = 0;
    let valid = true;
    // One pass over the bytes; lines of lowercase a-z only are kept (the package holds nothing else).
    for (let i = 0; i <= bytes.length; i++) {
      const c = i < bytes.length ? bytes[i] : 10;
      if (c === 10) {
        if (valid && i > start) {
          starts[count] = start;
          lengths[count] = i - start;
          count++;
        }
        start = i + 1;
        valid = true;
      } else if (c < 97 || c > 122) {
        valid = false;
      }
    }
    dictionaryCache = {
      text: bytes.toString('latin1'), // byte offsets are string offsets for ASCII
      starts: starts.slice(0, count),
      lengths: lengths.slice(0, count),
    };
  }
  return dictionaryCache;
}

function dictionaryWord(d: Dictionary, i: number): string {
  return d.text.slice(d.starts[i], d.starts[i] + d.lengths[i]);
}

/** All words of the `word-list` package (lowercase a-z only), in the package's (sorted) order. */
export function dictionaryWords(): string[] {
  const d = loadDictionary();
  return Array.from(d.starts, (_, i) => dictionaryWord(d, i));
}

/** Dictionary words whose length lies in [minLen, maxLen], in dictionary order. Cached. */
export function dictionaryPool(minLen: number, maxLen: number): WordPool {
  const key = `${minLen}:${maxLen}`;
  let pool = dictionaryPoolCache.get(key);
  if (pool === undefined) {
    const d = loadDictionary();
    const picked = new Int32Array(d.lengths.length);
    let n = 0;
    for (let i = 0; i < d.lengths.length; i++) {
      if (d.lengths[i] >= minLen && d.lengths[i] <= maxLen) picked[n++] = i;
    }
    const indices = picked.slice(0, n);
    pool = { size: indices.length, get: (i: number) => dictionaryWord(d, indices[i]) };
    dictionaryPoolCache.set(key, pool);
  }
  return pool;
}

/** Python `rng.choice(pool)`: the same single `_randbelow(len(pool))` draw. */
export function drawWord(rng: PyRandom, pool: WordPool): string {
  if (pool.size === 0) throw new RangeError('cannot choose from an empty word pool');
  return pool.get(rng.randbelow(pool.size));
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function buildSentences(): string[][] {
  const rng = new PyRandom(CORPUS_SEED);
  const d = loadDictionary();
  const buckets: number[][] = LENGTH_WEIGHTS.map(() => []);
  for (let i = 0; i < d.lengths.length; i++) {
    const k = d.lengths[i] - MIN_CORPUS_WORD_LEN;
    if (k >= 0 && k < buckets.length) buckets[k].push(i);
  }
  const byLength: WordPool[] = buckets.map((indices) => ({
    size: indices.length,
    get: (i: number) => dictionaryWord(d, indices[i]),
  }));
  const lengthIndices = LENGTH_WEIGHTS.map((_, k) => k);
  const sentences: string[][] = [];
  for (let s = 0; s < CORPUS_SENTENCES; s++) {
    const length = rng.randint(4, 18);
    const words: string[] = [];
    for (let i = 0; i < length; i++) {
      const functionWord = rng.random() < 0.45;
      let word = functionWord
        ? rng.choice(FUNCTION_WORDS)
        : drawWord(rng, byLength[rng.choices(lengthIndices, LENGTH_WEIGHTS)[0]]);
      // Sentence starts are capitalised, and now and then a dictionary word plays a name.
      if (i === 0 || (!functionWord && rng.random() < 0.04)) word = capitalize(word);
      words.push(word);
    }
    sentences.push(words);
  }
  return sentences;
}

function corpusSentences(): readonly (readonly string[])[] {
  if (sentenceCache === null) sentenceCache = buildSentences();
  return sentenceCache;
}

/**
 * The corpus as a word sequence: the analogue of RG's `self.words` (the novel's `\b\w+\b` tokens). Cached;
 * the first call takes roughly 0.1-0.2 s (it reads the 2.6 MB word list and draws the sentences).
 */
export function corpusWords(): readonly string[] {
  if (corpusCache === null) corpusCache = corpusSentences().flat();
  return corpusCache;
}

/** The corpus as running text (sentences ending with a full stop); its `\b\w+\b` tokens are `corpusWords()`. */
export function corpusText(): string {
  return corpusSentences()
    .map((sentence) => sentence.join(' ') + '.')
    .join(' ');
}

/** Python's `sorted()` order for strings: by code point (JS's default sort compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/**
 * The distinct corpus words with length in [minLen, maxLen], sorted by code point: the analogue of RG
 * word_sorting's `sorted(set(word for word in words if min <= len(word) <= max))`. Cached.
 */
export function corpusVocabulary(minLen: number, maxLen: number): readonly string[] {
  const key = `${minLen}:${maxLen}`;
  let words = vocabularyCache.get(key);
  if (words === undefined) {
    const unique = new Set<string>();
    for (const w of corpusWords()) {
      const n = pyLen(w);
      if (n >= minLen && n <= maxLen) unique.add(w);
    }
    words = [...unique].sort(compareCodePoints);
    vocabularyCache.set(key, words);
  }
  return words;
}
