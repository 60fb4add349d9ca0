// Tests of the `letter_counting` port: RG's config defaults and checks, RG's generation logic over our
// corpus (reference values printed by CPython running RG's __getitem__ with our corpus as its text file),
// and RG's default scorer (reference scores printed by CPython running RG's score_answer).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { letterCountingTask } from '../../tasks/algorithmic/letter_counting.js';
import { corpusText, corpusWords } from '../../tasks/algorithmic/text_source.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => letterCountingTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = letterCountingTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('letter_counting: config defaults equal Reasoning Gym LetterCountingConfig', () => {
  assert.deepEqual(parse({}), { seed: 42, size: 500, min_words: 5, max_words: 15 });
});

test('letter_counting: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_words: 0 }), /min_words.*positive/);
  assert.match(issues({ min_words: 10, max_words: 5 }), /max_words \(5\) must be >= min_words \(10\)/);
  assert.match(issues({ max_words: 7.5 }), /max_words/);
  assert.match(issues({ min_word: 3 }), /min_word|unrecognized/i);
});

test('letter_counting: the corpus is sentence-like, deterministic and made of alphanumeric words', () => {
  const words = corpusWords();
  assert.ok(words.length > 8000 && words.length < 12000, `corpus has ${words.length} words`);
  assert.ok(words.every((w) => /^[A-Za-z]+$/.test(w)));
  assert.ok(words.some((w) => /^[A-Z]/.test(w)) && words.some((w) => /^[a-z]/.test(w)));
  // RG tokenises its text with \b\w+\b; our running text tokenises back to exactly corpusWords().
  assert.deepEqual(corpusText().match(/\b\w+\b/g), [...words]);
});

test('letter_counting: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 123 });
  assert.deepEqual(letterCountingTask.generate(config, 7), letterCountingTask.generate(config, 7));
  const questions = new Set(Array.from({ length: 50 }, (_, i) => letterCountingTask.generate(config, i).question));
  assert.equal(questions.size, 50);
  assert.notDeepEqual(letterCountingTask.generate(config, 7), letterCountingTask.generate(parse({ seed: 124 }), 7));
});

test("letter_counting: same RNG calls as RG's generator (RG's __getitem__ run over our corpus)", () => {
  // CPython, RG's LetterCountingDataset(seed=42) with read_data_file returning corpusText():
  const expected: Array<[string, string, string[]]> = [
    ['4', 'a', ['we', 'no', 'demonization', 'Could', 'so', 'we', 'zygodactyls', 'cleughs', 'Then', 'on', 'from', 'Fluier', 'sweat', 'their', 'beauxite']],
    ['1', 'h', ['rudas', 'prentices', 'humint', 'Antiquely', 'can']],
    ['1', 'v', ['to', 'atomising', 'sharon', 'bustline', 'medium', 'a', 'seas', 'yegg', 'gloom', 'scuttlefuls', 'rivlins']],
  ];
  const config = parse({});
  expected.forEach(([answer, letter, span], i) => {
    const entry = letterCountingTask.generate(config, i);
    assert.equal(entry.answer, answer);
    assert.equal(entry.metadata.target_letter, letter);
    assert.deepEqual(entry.metadata.span, span);
    assert.equal(entry.metadata.span_length, span.length);
    assert.ok(entry.question.includes(`"${letter}"`) && entry.question.includes(span.join(' ')));
  });
});

test('letter_counting: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 5, min_words: 2, max_words: 9 });
  const lengths = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const entry = letterCountingTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'letter_counting');
    assert.equal(md.source_index, i);
    assert.ok(md.span_length >= 2 && md.span_length <= 9);
    assert.equal(md.span.length, md.span_length);
    lengths.add(md.span_length);
    const joined = md.span.join('').toLowerCase();
    assert.ok(joined.includes(md.target_letter), 'the target letter occurs in the span');
    assert.equal(entry.answer, String(joined.split(md.target_letter).length - 1));
    assert.deepEqual(md.difficulty, { words: [2, 9] });
    assert.equal(letterCountingTask.score(entry.answer, entry), 1);
  }
  assert.equal(lengths.size, 8);
});

test("letter_counting: scores equal RG's default score_answer, partial credit included", () => {
  // An entry in RG's exact JSON shape (tuples become arrays), as read from a JSONL file.
  const entry = JSON.parse(
    '{"question": "How many e?", "answer": "4", "metadata": {"source_dataset": "letter_counting", ' +
      '"source_index": 3, "span_length": 3, "target_letter": "e", "span": ["Seven", "green", "trees"], ' +
      '"difficulty": {"words": [5, 15]}}}',
  ) as TaskEntry;
  // python3, RG's ProceduralDataset.score_answer with answer "4":
  // ["4", "4 times", "44", "5", "", None, " 4"] -> [1.0, 0.14285714285714285, 0.5, 0.0, 0.0, 0.0, 0.5]
  const cases: Array<[string | null, number]> = [
    ['4', 1],
    ['4 times', 0.14285714285714285], // 1/7
    ['44', 0.5],
    ['5', 0],
    ['', 0],
    [null, 0],
    [' 4', 0.5], // no stripping: 1/2
  ];
  for (const [candidate, score] of cases) assert.equal(letterCountingTask.score(candidate, entry), score, String(candidate));
  assert.equal(letterCountingTask.score(undefined, entry), 0);
  assert.equal(letterCountingTask.score('4', { question: '', answer: null, metadata: {} }), 0);
});
