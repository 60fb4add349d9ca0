// Tests of the `spell_backward` port: RG's config defaults and checks, RG's generation logic over our word
// pool (reference values printed by CPython running RG's __getitem__ with our 3-10 letter words as its
// words3to10.txt), custom word files, and RG's per-position scorer (reference scores printed by CPython).

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { spellBackwardTask } from '../../tasks/algorithmic/spell_backward.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => spellBackwardTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = spellBackwardTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
const withAnswer = (answer: string | null): TaskEntry => ({ question: '', answer, metadata: {} });

test('spell_backward: config defaults equal Reasoning Gym SpellBackwardConfig', () => {
  assert.deepEqual(parse({}), { seed: 42, size: 500, min_word_len: 3, max_word_len: 10, data_file: 'words3to10.txt' });
});

test('spell_backward: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_word_len: 0 }), /min_word_len.*positive/);
  assert.match(issues({ min_word_len: 4, max_word_len: 3 }), /max_word_len \(3\) must be >= min_word_len \(4\)/);
  // RG would fail in rng.choice on an empty list; the built-in file has only 3-10 letter words.
  assert.match(issues({ min_word_len: 11, max_word_len: 12 }), /must overlap 3\.\.10.*data_file/);
  assert.match(issues({ data_file: '' }), /data_file/);
  assert.match(issues({ word_len: 3 }), /word_len|unrecognized/i);
});

test('spell_backward: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 123 });
  assert.deepEqual(spellBackwardTask.generate(config, 7), spellBackwardTask.generate(config, 7));
  const words = new Set(Array.from({ length: 50 }, (_, i) => spellBackwardTask.generate(config, i).metadata.word));
  assert.equal(words.size, 50);
});

test("spell_backward: same RNG call as RG's generator (RG's __getitem__ run over our word pool)", () => {
  // CPython, RG's SpellBackwardDataset(seed=42) reading our 3-10 letter words as words3to10.txt:
  // items 0-3: teabag, authorizes, nebula, grim
  const config = parse({});
  const words = [0, 1, 2, 3].map((i) => spellBackwardTask.generate(config, i));
  assert.deepEqual(words.map((e) => e.metadata.word), ['teabag', 'authorizes', 'nebula', 'grim']);
  assert.deepEqual(words.map((e) => e.answer), ['gabaet', 'sezirohtua', 'aluben', 'mirg']);
  assert.ok(words[0].question.endsWith(': teabag'));
});

test('spell_backward: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 5, min_word_len: 5, max_word_len: 7 });
  const lengths = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const entry = spellBackwardTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'spell_backward');
    assert.equal(md.source_index, i);
    assert.ok(md.word_len >= 5 && md.word_len <= 7);
    assert.equal(md.word.length, md.word_len);
    lengths.add(md.word_len);
    assert.equal(entry.answer, [...md.word].reverse().join(''));
    assert.deepEqual(md.difficulty, { word_len: [5, 7] });
    assert.equal(spellBackwardTask.score(entry.answer, entry), 1);
  }
  assert.equal(lengths.size, 3);
  // Lengths outside 3..10 are clipped to the built-in file's words, as with RG's file.
  const wide = parse({ seed: 1, min_word_len: 8, max_word_len: 20 });
  for (let i = 0; i < 50; i++) assert.ok((spellBackwardTask.generate(wide, i).metadata.word_len as number) <= 10);
});

test('spell_backward: data_file reads a word file with RG filtering (strip, isalnum, length)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spell-backward-'));
  const file = join(dir, 'words.txt');
  writeFileSync(file, '  zebra \nno\nwell-known\nnaïve\r\nab12\n\nsupercalifragilistic\n');
  const config = parse({ seed: 1, data_file: file });
  const seen = new Set(Array.from({ length: 40 }, (_, i) => spellBackwardTask.generate(config, i).metadata.word));
  assert.deepEqual([...seen].sort(), ['ab12', 'naïve', 'zebra']);
  assert.throws(() => spellBackwardTask.generate(parse({ data_file: file, min_word_len: 6, max_word_len: 9 }), 0), /no word of 6-9/);
});

test("spell_backward: scores equal RG's score_answer, partial credit included", () => {
  const entry = JSON.parse(
    '{"question": "Spell backward: hello", "answer": "olleh", "metadata": {"source_dataset": "spell_backward", ' +
      '"source_index": 2, "word": "hello", "word_len": 5, "difficulty": {"word_len": [3, 10]}}}',
  ) as TaskEntry;
  // python3, RG's SpellBackwardDataset.score_answer with answer "olleh":
  // ["olleh", "OLLEH", "olle", "ollehx", "xlleh", "oxxeh", "hello", "", None, "o"]
  //   -> [1.0, 1.0, 0.8, 0.8, 0.8, 0.6000000000000001, 0.2, 0.0, 0.0, 0.2]
  const cases: Array<[string | null, number]> = [
    ['olleh', 1.0],
    ['OLLEH', 1.0], // case-insensitive
    ['olle', 0.8], // 4 x 1/5
    ['ollehx', 0.8], // all 5 right but longer: 1.0 - 0.2
    ['xlleh', 0.8], // a mismatch does not stop the count
    ['oxxeh', 0.6000000000000001], // 3 x 1/5
    ['hello', 0.2], // only the middle l matches
    ['', 0.0],
    [null, 0.0],
    ['o', 0.2],
  ];
  for (const [candidate, score] of cases) assert.equal(spellBackwardTask.score(candidate, entry), score, String(candidate));
  // python3: the -0.2 applies only when the float sum is exactly 1.0:
  // score("abcdefghiz", "abcdefghi") = 1.0000000000000002 (above 1!), score("abcdefghijz", "abcdefghij") = 0.9999999999999999,
  // score("abcdefghz", "abcdefgh") = 0.8
  assert.equal(spellBackwardTask.score('abcdefghiz', withAnswer('abcdefghi')), 1.0000000000000002);
  assert.equal(spellBackwardTask.score('abcdefghijz', withAnswer('abcdefghij')), 0.9999999999999999);
  assert.equal(spellBackwardTask.score('abcdefghz', withAnswer('abcdefgh')), 0.8);
  // python3: score("😀b", "😀a") = 0.5 (code points), score("ΣΑΣ", "σας") = 1.0 (final sigma), score("x", None) = 0.0
  assert.equal(spellBackwardTask.score('😀b', withAnswer('😀a')), 0.5);
  assert.equal(spellBackwardTask.score('ΣΑΣ', withAnswer('σας')), 1.0);
  assert.equal(spellBackwardTask.score('x', withAnswer(null)), 0.0);
});
