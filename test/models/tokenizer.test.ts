// Tests of the project's tokenizers: char-level and trained byte-level BPE (round trips on task texts,
// compression, determinism, HF tokenizer.json format), saving/loading through tokenizers.js, errors.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { Tokenizer } from '@huggingface/tokenizers';

import {
  CHAR_ALPHABET_V1,
  SPECIAL_IDS,
  SPECIAL_TOKENS,
  buildCharTokenizer,
  byteLevelAlphabet,
  projectTokenizer,
  saveTokenizer,
  serializeTokenizerJson,
  trainBpeTokenizer,
} from '../../src/models/tokenizer/build.js';
import { corpusTexts, generateCorpusItems, loadCorpusTasks } from '../../src/models/tokenizer/corpus.js';
import type { HfTokenizerJson } from '../../src/models/tokenizer/format.js';
import { TokenizerLoadError, loadTokenizer, tokenizerFromJson } from '../../src/models/tokenizer/hf.js';
import type { TextTokenizer } from '../../src/models/tokenizer/types.js';

const tasks = await loadCorpusTasks();
// Training corpus (seed 42) and held-out texts (another seed) of every available task.
const trainTexts = corpusTexts(generateCorpusItems(tasks, { itemsPerTask: 30 }));
const heldOut = corpusTexts(generateCorpusItems(tasks, { itemsPerTask: 20, seed: 7 }));
const bpeJson = trainBpeTokenizer(trainTexts, { vocabSize: 512 });
const bpe = projectTokenizer(bpeJson, 'bpe512');
const charTok = projectTokenizer(buildCharTokenizer(), 'char');

const tmp = mkdtempSync(join(tmpdir(), 'musketeers-tok-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const totalChars = (texts: string[]) => texts.reduce((n, s) => n + s.length, 0);

test('corpus: several tasks, hundreds of texts, deterministic', async () => {
  assert.ok(tasks.length >= 4, `only ${tasks.length} tasks available`);
  assert.ok(trainTexts.length >= 300 && heldOut.length >= 200, `${trainTexts.length} / ${heldOut.length} texts`);
  assert.deepEqual(corpusTexts(generateCorpusItems(tasks, { itemsPerTask: 30 })), trainTexts);
  assert.notDeepEqual(heldOut.slice(0, 20), trainTexts.slice(0, 20));
  const two = await loadCorpusTasks(['lcm', 'gcd']);
  assert.deepEqual(
    two.map((t) => t.name),
    ['lcm', 'gcd'],
  );
  await assert.rejects(loadCorpusTasks(['gcdd']), /unknown or unavailable task 'gcdd'.*gcd/);
  assert.throws(() => generateCorpusItems(two, { itemsPerTask: 0 }), /itemsPerTask 0/);
  assert.throws(() => generateCorpusItems(two, { itemsPerTask: 2, configs: { gcd: { max_value: 0 } } }), /task 'gcd'.*max_value/);
});

test('char tokenizer: specials, one token per character, round trip on task texts', () => {
  assert.equal(charTok.padId, 0);
  assert.equal(charTok.bosId, 1);
  assert.equal(charTok.eosId, 2);
  assert.equal(charTok.unkId, 3);
  assert.equal(charTok.vocabSize, 4 + CHAR_ALPHABET_V1.length);
  assert.equal(charTok.idToToken(0), '<pad>');
  assert.equal(charTok.tokenToId('a'), 4 + CHAR_ALPHABET_V1.indexOf('a'));
  assert.deepEqual([...charTok.specialIds].sort(), [0, 1, 2, 3]);
  for (const text of [...trainTexts, ...heldOut]) {
    const ids = charTok.encode(text);
    assert.equal(ids.length, [...text].length, `one token per character: ${JSON.stringify(text.slice(0, 60))}`);
    const unknown = [...text].filter((ch) => !CHAR_ALPHABET_V1.includes(ch));
    assert.deepEqual(unknown, [], `task text ${JSON.stringify(text.slice(0, 60))} has characters outside the char alphabet; add them in a new alphabet version`);
    assert.ok(!ids.includes(SPECIAL_IDS.unk));
    assert.equal(charTok.decode(ids), text);
  }
  // Every alphabet character is its own token, in order.
  assert.deepEqual(charTok.encode(CHAR_ALPHABET_V1.join('')), CHAR_ALPHABET_V1.map((_, i) => i + 4));
});

test('char tokenizer: unknown characters, BOS/EOS, skipSpecial, empty input', () => {
  assert.deepEqual(charTok.encode('aé😀b'), [charTok.tokenToId('a'), 3, 3, charTok.tokenToId('b')]);
  assert.equal(charTok.decode(charTok.encode('aéb')), 'a<unk>b');
  const ids = charTok.encode('hi', { addBos: true, addEos: true });
  assert.deepEqual(ids, [1, charTok.tokenToId('h'), charTok.tokenToId('i'), 2]);
  assert.equal(charTok.decode(ids), '<bos>hi<eos>');
  assert.equal(charTok.decode(ids, { skipSpecial: true }), 'hi');
  assert.deepEqual(charTok.encode(''), []);
  assert.deepEqual(charTok.encode('', { addBos: true }), [1]);
  assert.equal(charTok.decode([]), '');
  assert.equal(charTok.decode([0, 1], { skipSpecial: true }), '');
  assert.throws(() => charTok.decode([charTok.vocabSize]), /cannot decode id \d+; ids must be integers in \[0, \d+\)/);
  assert.throws(() => charTok.decode([1.5]), RangeError);
});

test('BPE: round trip on held-out task texts and arbitrary Unicode; compresses', (t) => {
  for (const text of [...trainTexts, ...heldOut]) {
    const ids = bpe.encode(text);
    assert.ok(!ids.includes(SPECIAL_IDS.unk));
    assert.equal(bpe.decode(ids), text, `round trip of ${JSON.stringify(text.slice(0, 60))}`);
  }
  const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
  for (const text of [ascii, 'héllo wörld 😀 ∧ ¬p → q\r\n\t  ', '  leading and trailing  ', '000123 4567890 -12.5e3']) {
    assert.equal(bpe.decode(bpe.encode(text)), text);
  }
  const trainRate = bpe.encode(trainTexts.join('\n')).length / totalChars(trainTexts);
  const heldRate = heldOut.reduce((n, s) => n + bpe.encode(s).length, 0) / totalChars(heldOut);
  t.diagnostic(`BPE vocab ${bpe.vocabSize}: ${trainRate.toFixed(3)} tokens/char on training texts, ${heldRate.toFixed(3)} held out`);
  assert.equal(bpe.vocabSize, 512);
  assert.ok(heldRate < 0.6, `tokens per char ${heldRate} should be clearly below 1`);
  assert.ok(heldRate > 0.1, `tokens per char ${heldRate} implausibly low`);
});

test('BPE: training is deterministic, corpus-order independent, and the seed changes tie-breaks', () => {
  const again = serializeTokenizerJson(trainBpeTokenizer(trainTexts, { vocabSize: 512 }));
  assert.equal(again, serializeTokenizerJson(bpeJson));
  const reversed = serializeTokenizerJson(trainBpeTokenizer([...trainTexts].reverse(), { vocabSize: 512 }));
  assert.equal(reversed, again);
  const seeded = serializeTokenizerJson(trainBpeTokenizer(trainTexts, { vocabSize: 512, seed: 3 }));
  assert.equal(seeded, serializeTokenizerJson(trainBpeTokenizer(trainTexts, { vocabSize: 512, seed: 3 })));
  assert.notEqual(seeded, again);
  assert.throws(() => trainBpeTokenizer(trainTexts, { vocabSize: 259 }), /vocabSize 259 must be an integer in \[260, 65536\]/);
  // Ties go to the pair with the smallest ids (as in the Rust trainer) when seed is 0.
  assert.deepEqual(trainBpeTokenizer(['cd', 'ab', 'cd', 'ab'], { vocabSize: 261 }).model.merges, ['a b']);
  // Stops early when no pair occurs twice any more.
  const tiny = trainBpeTokenizer(['abab'], { vocabSize: 1000 });
  assert.deepEqual(tiny.model.merges, ['a b']);
});

/** Reference BPE: apply merges to each pre-token in rank order (lowest rank first, leftmost on ties). */
function referenceBpeIds(json: HfTokenizerJson, text: string): number[] {
  const pre = new Tokenizer(json, {}).pre_tokenizer!;
  const rank = new Map(json.model.merges.map((m, i) => [m, i]));
  const ids: number[] = [];
  for (const word of pre.pre_tokenize(text) as string[]) {
    const symbols: string[] = Array.from(word);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = rank.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
    }
    for (const s of symbols) ids.push(json.model.vocab[s]);
  }
  return ids;
}

test('BPE: tokenizers.js applies the merges as a plain reference BPE does', () => {
  for (const text of heldOut.slice(0, 150)) assert.deepEqual(bpe.encode(text), referenceBpeIds(bpeJson, text));
});

test('BPE digit modes: individual digits, groups of up to 3 from the left', () => {
  const digitRuns = (tok: TextTokenizer, text: string) =>
    tok.encode(text).map((id) => tok.idToToken(id)!).filter((s) => /\d/.test(s));
  const numbers = 'Sort 1234567 and 98, then 100 200 300 400 500 6000000 777 1000 12 5.';
  const individual = projectTokenizer(trainBpeTokenizer(trainTexts, { vocabSize: 600, digits: 'individual' }), 'ind');
  for (const s of digitRuns(individual, numbers + trainTexts.join(' '))) assert.match(s, /^\D*\d\D*$/, `token ${s} has several digits`);
  const grouped = projectTokenizer(trainBpeTokenizer([...trainTexts, ...Array(20).fill(numbers)], { vocabSize: 600 }), 'g3');
  const tokens = digitRuns(grouped, '1234567');
  assert.deepEqual(tokens.join(''), '1234567');
  // Cuts fall on the 3-digit group boundaries (after "123" and "456"): no token spans one.
  let pos = 0;
  for (const tok of tokens) {
    const end = pos + tok.length;
    assert.ok(Math.floor(pos / 3) === Math.floor((end - 1) / 3), `token ${tok} crosses a 3-digit group boundary`);
    pos = end;
  }
  assert.ok(grouped.encode('1000').length < charTok.encode('1000').length, 'frequent numbers become multi-digit tokens');
  const free = trainBpeTokenizer(trainTexts, { vocabSize: 512, digits: 'free' });
  assert.equal(free.pre_tokenizer?.type, 'ByteLevel');
});

test('tokenizer.json follows the Rust tokenizers serialization (readable by the Python library)', () => {
  for (const json of [bpeJson, buildCharTokenizer()]) {
    const parsed = JSON.parse(serializeTokenizerJson(json)) as HfTokenizerJson;
    assert.deepEqual(Object.keys(parsed), ['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model']);
    assert.equal(parsed.version, '1.0');
    assert.deepEqual(Object.keys(parsed.model), [
      'type', 'dropout', 'unk_token', 'continuing_subword_prefix', 'end_of_word_suffix', 'fuse_unk', 'byte_fallback', 'ignore_merges', 'vocab', 'merges',
    ]);
    for (const added of parsed.added_tokens) {
      assert.deepEqual(Object.keys(added).sort(), ['content', 'id', 'lstrip', 'normalized', 'rstrip', 'single_word', 'special']);
      assert.equal(parsed.model.vocab[added.content], added.id, `added token ${added.content} has the same id in the model vocab`);
    }
    assert.deepEqual(parsed.added_tokens.map((a) => [a.content, a.id]), Object.entries(SPECIAL_TOKENS).map(([k, v]) => [v, SPECIAL_IDS[k as keyof typeof SPECIAL_IDS]]));
    const ids = Object.values(parsed.model.vocab).sort((a, b) => a - b);
    assert.deepEqual(ids, ids.map((_, i) => i), 'vocab ids are 0..n-1');
    assert.ok(parsed.model.unk_token !== null && parsed.model.vocab[parsed.model.unk_token] !== undefined);
    for (const merge of parsed.model.merges) {
      const parts = merge.split(' ');
      assert.equal(parts.length, 2, `merge "${merge}" must have exactly one space`);
      assert.ok(!merge.startsWith('#version'));
      for (const p of [...parts, parts.join('')]) assert.ok(parsed.model.vocab[p] !== undefined, `merge part ${p} in vocab`);
    }
    if (parsed.decoder.type === 'ByteLevel') {
      assert.deepEqual(Object.keys(parsed.decoder), ['type', 'add_prefix_space', 'trim_offsets', 'use_regex']);
    }
  }
  // The byte-level alphabet is GPT-2's bytes_to_unicode: space -> 'Ġ', newline -> 'Ċ', 'A' -> 'A'.
  const alphabet = byteLevelAlphabet();
  assert.equal(new Set(alphabet).size, 256);
  assert.equal(alphabet[0x20], 'Ġ');
  assert.equal(alphabet[0x0a], 'Ċ');
  assert.equal(alphabet[0x41], 'A');
  // Vocab written in id order, integer-like tokens included.
  const text = serializeTokenizerJson(buildCharTokenizer());
  assert.ok(text.indexOf('"<pad>": 0') < text.indexOf('"0": '), 'vocab in id order');
});

test('save then loadTokenizer: same behaviour as the in-memory tokenizers', () => {
  for (const [name, json, mem] of [
    ['char', buildCharTokenizer(), charTok],
    ['bpe512', bpeJson, bpe],
  ] as const) {
    const dir = join(tmp, name);
    const { tokenizerJsonPath, configPath } = saveTokenizer(dir, json, { modelMaxLength: 1024 });
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    assert.equal(config.bos_token, '<bos>');
    assert.equal(config.eos_token, '<eos>');
    assert.equal(config.pad_token, '<pad>');
    assert.equal(config.unk_token, '<unk>');
    assert.equal(config.model_max_length, 1024);
    assert.equal(config.clean_up_tokenization_spaces, false);
    for (const loaded of [loadTokenizer(dir), loadTokenizer(tokenizerJsonPath)]) {
      assert.equal(loaded.name, name);
      assert.equal(loaded.vocabSize, mem.vocabSize);
      assert.deepEqual([loaded.padId, loaded.bosId, loaded.eosId, loaded.unkId], [0, 1, 2, 3]);
      for (const text of heldOut.slice(0, 100)) {
        const ids = loaded.encode(text, { addBos: true, addEos: true });
        assert.deepEqual(ids, mem.encode(text, { addBos: true, addEos: true }));
        assert.equal(loaded.decode(ids, { skipSpecial: true }), text);
      }
    }
    // Saving again gives the same bytes.
    const before = readFileSync(tokenizerJsonPath);
    saveTokenizer(dir, json, { modelMaxLength: 1024 });
    assert.deepEqual(readFileSync(tokenizerJsonPath), before);
  }
});

test('loadTokenizer errors name the path and what is expected', () => {
  const missing = join(tmp, 'nope');
  assert.throws(() => loadTokenizer(missing), (e: Error) => e instanceof TokenizerLoadError && e.message.includes(missing) && /tokenizer\.json/.test(e.message));
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  assert.throws(() => loadTokenizer(empty), (e: Error) => e.message.includes(join(empty, 'tokenizer.json')) && /no tokenizer\.json/.test(e.message));
  const corrupt = join(tmp, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'tokenizer.json'), serializeTokenizerJson(bpeJson).slice(0, 500));
  assert.throws(() => loadTokenizer(corrupt), (e: Error) => e.message.includes(join(corrupt, 'tokenizer.json')) && /not valid JSON/.test(e.message));
  const badConfig = join(tmp, 'bad-config');
  saveTokenizer(badConfig, buildCharTokenizer());
  writeFileSync(join(badConfig, 'tokenizer_config.json'), '{"bos_token": ');
  assert.throws(() => loadTokenizer(badConfig), (e: Error) => e.message.includes(join(badConfig, 'tokenizer_config.json')) && /not valid JSON/.test(e.message));
  writeFileSync(join(badConfig, 'tokenizer_config.json'), '{"bos_token": "<s>"}');
  assert.throws(() => loadTokenizer(badConfig), /bos_token '<s>' but .*tokenizer\.json has no such token/);
  const wordLevel = join(tmp, 'wordlevel');
  mkdirSync(wordLevel);
  writeFileSync(join(wordLevel, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } }));
  assert.throws(() => loadTokenizer(wordLevel), (e: Error) => /unsupported tokenizer model type 'WordLevel'/.test(e.message) && /BPE, WordPiece, Unigram/.test(e.message) && e.message.includes(wordLevel));
  assert.throws(() => tokenizerFromJson({ version: '1.0' }), /no "model" object/);
});

test('a tokenizer without BOS/EOS/PAD (as real models may be) reports undefined and refuses addBos', () => {
  const json = { ...buildCharTokenizer(), added_tokens: [] };
  const tok = tokenizerFromJson(json, {}, { name: 'bare' });
  assert.equal(tok.bosId, undefined);
  assert.equal(tok.eosId, undefined);
  assert.equal(tok.padId, undefined);
  assert.equal(tok.unkId, 3, 'unk comes from the model unk_token');
  assert.throws(() => tok.encode('x', { addBos: true }), /has no BOS token/);
  assert.deepEqual(tok.encode('ab'), charTok.encode('ab'));
});
