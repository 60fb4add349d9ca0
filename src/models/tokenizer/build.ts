// The project's own tokenizers for its tiny experts: a character-level one over a fixed alphabet and
// a byte-level BPE trained here (deterministic), both written as Hugging Face tokenizer.json files.

import { basename, join } from 'node:path';

import { Tokenizer } from '@huggingface/tokenizers';

import { writeFileAtomic } from '../../util/fs.js';
import type { HfAddedToken, HfBpeModel, HfPreTokenizer, HfTokenizerConfig, HfTokenizerJson } from './format.js';
import { tokenizerFromJson } from './hf.js';
import type { TextTokenizer } from './types.js';

/** Special tokens of every project tokenizer, with fixed ids 0..3 (pad first so zero-padding is PAD). */
export const SPECIAL_TOKENS = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } as const;
export const SPECIAL_IDS = { pad: 0, bos: 1, eos: 2, unk: 3 } as const;
const SPECIAL_LIST = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos, SPECIAL_TOKENS.unk];

/**
 * Alphabet of the character tokenizer, version 1 (ids 4.. in this order; never reorder: ids are
 * baked into trained experts). Tab, newline, carriage return, printable ASCII, then the Unicode
 * characters the tasks print (propositional logic: ¬ ∧ ∨ → ↔) and a few common in math word problems.
 */
export const CHAR_ALPHABET_V1: readonly string[] = [
  '\t',
  '\n',
  '\r',
  ...Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)),
  ...'¬∧∨→↔⊕×÷−±≤≥≠≈√π°€£¢…–—‘’“”',
];

function addedTokens(): HfAddedToken[] {
  return SPECIAL_LIST.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

function bpeModel(vocab: Record<string, number>, merges: string[]): HfBpeModel {
  return {
    type: 'BPE',
    dropout: null,
    unk_token: SPECIAL_TOKENS.unk,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab,
    merges,
  };
}

function vocabObject(tokens: readonly string[]): Record<string, number> {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (Object.hasOwn(vocab, t)) throw new Error(`duplicate token ${JSON.stringify(t)} (ids ${vocab[t]} and ${id})`);
    vocab[t] = id;
  });
  return vocab;
}

/**
 * Character-level tokenizer: one token per character of {@link CHAR_ALPHABET_V1}, every other
 * character maps to `<unk>` (id 3). Stored as a BPE model without merges and without
 * pre-tokenizer (so each character is a token), decoded by concatenation (`Fuse`).
 */
export function buildCharTokenizer(): HfTokenizerJson {
  const tokens = [...SPECIAL_LIST, ...CHAR_ALPHABET_V1];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: bpeModel(vocabObject(tokens), []),
  };
}

/**
 * How the BPE tokenizer pre-splits digits (BPE never merges across pre-token boundaries):
 * - 'groups-of-3': runs of digits are cut into groups of up to 3 from the left ("12345" -> "123","45"),
 *   as Llama 3 / GPT-4 do; merges may then form 2- and 3-digit tokens. The default: coarser than the
 *   character tokenizer (fewer tokens per number) while each number is still split the same way wherever it appears.
 * - 'individual': every digit is its own pre-token (digits stay single tokens, as in Llama 2 / the char tokenizer).
 * - 'free': GPT-2 byte-level splitting only; whole numbers are one pre-token and merges chunk digits by
 *   frequency, so the same digits can be split differently in different numbers (hardest for arithmetic).
 */
export type DigitMode = 'groups-of-3' | 'individual' | 'free';

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } as const;

/** The pre-tokenizer of the project's BPE for a digit mode (byte-level, GPT-2 regex, after any digit split). */
export function bpePreTokenizer(digits: DigitMode): HfPreTokenizer {
  if (digits === 'free') return { ...BYTE_LEVEL };
  const pattern = digits === 'individual' ? '\\p{N}' : '\\p{N}{1,3}';
  return {
    type: 'Sequence',
    pretokenizers: [{ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false }, { ...BYTE_LEVEL }],
  };
}

/** The 256 byte-level symbols (GPT-2's bytes_to_unicode), in byte order. */
export function byteLevelAlphabet(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

export interface BpeTrainOptions {
  /** Total vocabulary size including the 4 specials and 256 byte symbols (>= 260). Typical: 256-1024 merges. */
  vocabSize: number;
  /**
   * Tie-break among equally frequent pairs: 0 (default) prefers the pair with the smallest ids, as the
   * Rust trainer does; another seed uses a seeded hash order, giving a different but equally valid tokenizer.
   */
  seed?: number;
  /** Digit pre-splitting; default 'groups-of-3'. */
  digits?: DigitMode;
  /** Stop merging when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
}

function skeletonJson(preTokenizer: HfPreTokenizer, vocabTokens: readonly string[], merges: string[]): HfTokenizerJson {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(),
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: null,
    decoder: { ...BYTE_LEVEL },
    model: bpeModel(vocabObject(vocabTokens), merges),
  };
}

/** Seeded 32-bit mix of a pair, for tie-breaking (murmur3-style finalizer). */
function tieHash(seed: number, a: number, b: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(a + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(b + 1, 0x27d4eb2f);
  h ^= h >>> 13;
  h = Math.imul(h, 0x165667b1);
  h ^= h >>> 16;
  return h >>> 0;
}

const PAIR_BASE = 65536; // ids stay below this, so a pair key a * PAIR_BASE + b is an exact integer

/**
 * Train a byte-level BPE tokenizer on `corpus` (the project's own deterministic trainer): pre-tokenize
 * with the same pre-tokenizer the file declares (run by tokenizers.js, so training and encoding agree),
 * count pre-token frequencies, then repeatedly merge the most frequent adjacent pair (ties: see
 * `seed`). Any text round-trips, since all 256 bytes are in the vocabulary. The result may be smaller
 * than `vocabSize` when no pair occurs `minFrequency` times any more.
 */
export function trainBpeTokenizer(corpus: readonly string[], options: BpeTrainOptions): HfTokenizerJson {
  const { vocabSize, seed = 0, digits = 'groups-of-3', minFrequency = 2 } = options;
  const base = SPECIAL_LIST.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < base || vocabSize > PAIR_BASE) {
    throw new RangeError(`vocabSize ${vocabSize} must be an integer in [${base}, ${PAIR_BASE}] (4 specials + 256 bytes + merges)`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} must be an integer`);
  const preTokenizer = bpePreTokenizer(digits);
  const tokens: string[] = [...SPECIAL_LIST, ...byteLevelAlphabet()];
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));

  // Pre-tokenize with tokenizers.js itself (byte-level symbols out).
  const pre = new Tokenizer(skeletonJson(preTokenizer, tokens, []), {}).pre_tokenizer;
  if (pre === null) throw new Error('internal: BPE pre-tokenizer was not built');
  const wordCounts = new Map<string, number>();
  for (const text of corpus) {
    for (const w of pre.pre_tokenize(text)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  const uniqueWords = [...wordCounts.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const words: number[][] = uniqueWords.map((w) => Array.from(w, (ch) => idOf.get(ch)!));
  const freq: number[] = uniqueWords.map((w) => wordCounts.get(w)!);

  const pairCount = new Map<number, number>();
  const pairWhere = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: 1 | -1): void => {
    const w = words[wi];
    const f = freq[wi] * sign;
    for (let i = 0; i + 1 < w.length; i++) {
      const key = w[i] * PAIR_BASE + w[i + 1];
      const c = (pairCount.get(key) ?? 0) + f;
      if (c === 0) pairCount.delete(key);
      else pairCount.set(key, c);
      if (sign === 1) {
        let set = pairWhere.get(key);
        if (!set) pairWhere.set(key, (set = new Set()));
        set.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);

  const merges: string[] = [];
  while (tokens.length < vocabSize) {
    let bestKey = -1;
    let bestCount = 0;
    let bestTie = 0;
    for (const [key, count] of pairCount) {
      if (count < bestCount) continue;
      const tie = seed === 0 ? key : tieHash(seed, Math.floor(key / PAIR_BASE), key % PAIR_BASE);
      if (count === bestCount && (tie > bestTie || (tie === bestTie && key > bestKey))) continue;
      bestKey = key;
      bestCount = count;
      bestTie = tie;
    }
    if (bestKey < 0 || bestCount < minFrequency) break;
    const a = Math.floor(bestKey / PAIR_BASE);
    const b = bestKey % PAIR_BASE;
    const merged = tokens[a] + tokens[b];
    let newId = idOf.get(merged);
    if (newId === undefined) {
      newId = tokens.length;
      tokens.push(merged);
      idOf.set(merged, newId);
    }
    // The Rust reader skips merge lines starting with "#version" (old merges.txt headers).
    if (tokens[a].startsWith('#version')) throw new Error(`internal: merge ${JSON.stringify(tokens[a])} would be read as a header`);
    merges.push(`${tokens[a]} ${tokens[b]}`);
    const where = [...(pairWhere.get(bestKey) ?? [])].sort((x, y) => x - y);
    pairWhere.delete(bestKey);
    for (const wi of where) {
      const w = words[wi];
      addPairs(wi, -1);
      const out: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(newId);
          i++;
        } else {
          out.push(w[i]);
        }
      }
      words[wi] = out;
      addPairs(wi, 1);
    }
    pairCount.delete(bestKey);
  }
  return skeletonJson(preTokenizer, tokens, merges);
}

/** The minimal tokenizer_config.json of a project tokenizer (special token names, no cleanup of spaces). */
export function projectTokenizerConfig(json: HfTokenizerJson, options: { name?: string; modelMaxLength?: number } = {}): HfTokenizerConfig {
  const present = new Set(json.added_tokens.map((t) => t.content));
  const config: HfTokenizerConfig = { tokenizer_class: 'PreTrainedTokenizerFast' };
  if (options.name !== undefined) config.name_or_path = options.name;
  for (const kind of ['bos', 'eos', 'pad', 'unk'] as const) {
    if (present.has(SPECIAL_TOKENS[kind])) config[`${kind}_token`] = SPECIAL_TOKENS[kind];
  }
  config.model_max_length = options.modelMaxLength ?? 2048;
  config.clean_up_tokenization_spaces = false;
  return config;
}

/** An in-memory TextTokenizer for a project tokenizer.json (behaves as the same files loaded with loadTokenizer). */
export function projectTokenizer(json: HfTokenizerJson, name: string): TextTokenizer {
  return tokenizerFromJson(json, projectTokenizerConfig(json, { name }), { name, source: `in-memory tokenizer '${name}'` });
}

/**
 * Stable text of a tokenizer.json: 2-space JSON, vocab written in id order (as the Rust crate does;
 * a plain JS object would move integer-like tokens such as "12" to the front), trailing newline.
 */
export function serializeTokenizerJson(json: HfTokenizerJson): string {
  const placeholder = '\u0000VOCAB\u0000';
  const text = JSON.stringify({ ...json, model: { ...json.model, vocab: placeholder } }, null, 2);
  const entries = Object.entries(json.model.vocab).sort((x, y) => x[1] - y[1]);
  const indent = '      ';
  const vocabText =
    entries.length === 0 ? '{}' : `{\n${entries.map(([t, id]) => `${indent}${JSON.stringify(t)}: ${id}`).join(',\n')}\n    }`;
  const quoted = JSON.stringify(placeholder);
  const at = text.indexOf(quoted);
  if (at < 0) throw new Error('internal: vocab placeholder not found while serializing tokenizer.json');
  return `${text.slice(0, at)}${vocabText}${text.slice(at + quoted.length)}\n`;
}

/**
 * Write `dir/tokenizer.json` and a minimal `dir/tokenizer_config.json` (bos/eos/pad/unk names,
 * model_max_length, name_or_path = `name` or the directory name), each atomically.
 */
export function saveTokenizer(
  dir: string,
  json: HfTokenizerJson,
  options: { name?: string; modelMaxLength?: number } = {},
): { tokenizerJsonPath: string; configPath: string } {
  const tokenizerJsonPath = join(dir, 'tokenizer.json');
  const configPath = join(dir, 'tokenizer_config.json');
  const config = projectTokenizerConfig(json, { name: options.name ?? basename(dir), modelMaxLength: options.modelMaxLength });
  writeFileAtomic(tokenizerJsonPath, serializeTokenizerJson(json));
  writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { tokenizerJsonPath, configPath };
}
