// Tests of the `word_sorting` port: RG's config defaults and checks, RG's generation logic over our corpus
// (reference values printed by CPython running RG's __getitem__ with our corpus as its text file), the
// case transformations, and RG's positional scorer (reference scores printed by CPython).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { corpusVocabulary } from '../../tasks/algorithmic/text_source.js';
import { wordSortingTask } from '../../tasks/algorithmic/word_sorting.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => wordSortingTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = wordSortingTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
const entryWith = (sortedWords: string[]): TaskEntry => ({ question: '', answer: sortedWords.join(', '), metadata: { sorted_words: sortedWords } });

test('word_sorting: config defaults equal Reasoning Gym WordSortingConfig', () => {
  assert.deepEqual(parse({}), {
    seed: 42,
    size: 500,
    min_words: 3,
    max_words: 10,
    min_word_length: 3,
    max_word_length: 12,
    transformation: 'original',
  });
});

test('word_sorting: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_words: 0 }), /min_words.*positive/);
  assert.match(issues({ min_words: 10, max_words: 5 }), /max_words \(5\) must be >= min_words \(10\)/);
  assert.match(issues({ min_word_length: 0 }), /min_word_length.*positive/);
  assert.match(issues({ min_word_length: 10, max_word_length: 5 }), /max_word_length \(5\) must be >= min_word_length \(10\)/);
  assert.match(issues({ transformation: 'titlecase' }), /transformation/);
  // RG would fail inside random.sample; we say why up front.
  assert.match(issues({ min_word_length: 40, max_word_length: 50 }), /max_words.*exceeds the 0 distinct words.*widen/);
});

test('word_sorting: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 123 });
  assert.deepEqual(wordSortingTask.generate(config, 7), wordSortingTask.generate(config, 7));
  const answers = new Set(Array.from({ length: 50 }, (_, i) => wordSortingTask.generate(config, i).answer));
  assert.equal(answers.size, 50);
});

test("word_sorting: same RNG calls as RG's generator (RG's __getitem__ run over our corpus)", () => {
  // CPython, RG's WordSortingDataset with read_data_file returning corpusText():
  // seed 42: ("Ergophobias, dozed, everywhither, geans", ascending), ("protonic, goy, bosk", descending)
  const config = parse({});
  const e0 = wordSortingTask.generate(config, 0);
  assert.equal(e0.answer, 'Ergophobias, dozed, everywhither, geans');
  assert.deepEqual(e0.metadata.original_words, ['Ergophobias', 'geans', 'everywhither', 'dozed']);
  assert.equal(e0.metadata.direction, 'ascending');
  const e1 = wordSortingTask.generate(config, 1);
  assert.equal(e1.answer, 'protonic, goy, bosk');
  assert.equal(e1.metadata.direction, 'descending');
  // seed 3, randomcase, 5-60 words of 3-15 letters, item 0 (20 words; one rng.choice per letter):
  const rc = wordSortingTask.generate(
    parse({ seed: 3, transformation: 'randomcase', min_words: 5, max_words: 60, min_word_length: 3, max_word_length: 15 }),
    0,
  );
  assert.equal(
    rc.answer,
    'uNlIKely, tOeY, tEIN, satYRaS, sKyjAcK, sKiFFed, sIDELiNer, pReLIbaTIonS, pOseUr, lInkster, fae, ' +
      'coUNTerpoiNt, ciRCulaTive, bathHoUSE, TOPIc, SUQ, SHiPpO, PrINtAblENESsEs, PotherB, Dsobo',
  );
  assert.deepEqual((rc.metadata.original_words as string[]).slice(0, 4), ['tein', 'sideliner', 'bathhouse', 'linkster']);
});

test('word_sorting: transformations and metadata respect the config over 200 items; the oracle scores 1', () => {
  for (const transformation of ['original', 'lowercase', 'uppercase', 'randomcase'] as const) {
    const config = parse({ seed: 9, transformation, min_words: 2, max_words: 12, min_word_length: 4, max_word_length: 9 });
    const counts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const entry = wordSortingTask.generate(config, i);
      const md = entry.metadata as Record<string, any>;
      assert.equal(md.source_dataset, 'word_sorting');
      assert.equal(md.source_index, i);
      assert.ok(md.num_words >= 2 && md.num_words <= 12);
      counts.add(md.num_words);
      assert.equal(new Set(md.original_words).size, md.num_words, 'sampled without replacement');
      for (const w of md.transformed_words) assert.ok(w.length >= 4 && w.length <= 9);
      assert.equal(md.word_length, Math.max(...md.original_words.map((w: string) => w.length)));
      md.transformed_words.forEach((w: string, k: number) => assert.equal(w.toLowerCase(), md.original_words[k].toLowerCase()));
      if (transformation === 'original') assert.deepEqual(md.transformed_words, md.original_words);
      if (transformation === 'lowercase') assert.ok(md.transformed_words.every((w: string) => w === w.toLowerCase()));
      if (transformation === 'uppercase') assert.ok(md.transformed_words.every((w: string) => w === w.toUpperCase()));
      // Code-point order: every uppercase letter sorts before every lowercase letter.
      const asc = [...md.transformed_words].sort();
      assert.deepEqual(md.sorted_words, md.direction === 'ascending' ? asc : asc.reverse());
      assert.equal(entry.answer, md.sorted_words.join(', '));
      assert.deepEqual(md.difficulty, { num_words: [2, 12], word_length: [4, 9] });
      assert.ok(entry.question.includes(md.direction) && entry.question.includes(md.transformed_words.join(', ')));
      assert.equal(wordSortingTask.score(entry.answer, entry), 1);
    }
    assert.equal(counts.size, 11);
  }
  // The corpus supplies mixed-case words, as RG's novel does (sentence starts, names).
  assert.ok(corpusVocabulary(3, 12).some((w) => /^[A-Z]/.test(w)));
});

test("word_sorting: scores equal RG's score_answer, partial credit included", () => {
  // An entry in RG's exact JSON shape; RG scores against metadata.sorted_words.
  const entry = JSON.parse(
    '{"question": "Sort ascending: cherry, apple, banana", "answer": "apple, banana, cherry", "metadata": ' +
      '{"source_dataset": "word_sorting", "source_index": 0, "original_words": ["cherry", "apple", "banana"], ' +
      '"sorted_words": ["apple", "banana", "cherry"], "transformed_words": ["cherry", "apple", "banana"], ' +
      '"direction": "ascending", "num_words": 3, "word_length": 6, "difficulty": {"num_words": [3, 10], "word_length": [3, 12]}}}',
  ) as TaskEntry;
  // python3, RG's WordSortingDataset.score_answer on this entry:
  const cases: Array<[string | null, number]> = [
    ['apple, banana, cherry', 1.0],
    ['apple,banana,        cherry', 1.0],
    ['banana, cherry, apple', 0.2], // no position right, same words: floor of 0.2
    ['gibberish', 0.0],
    [null, 0.0],
    ['', 0.0],
    ['apple, cherry, banana', 0.3333333333333333], // 1/3 beats 0.2
    ['apple, banana', 0.6666666666666666], // 2/3, different words
    ['apple, banana, cherry, date', 1.0], // surprising but RG: 3 of 3 oracle positions right
    ['Apple, banana, cherry', 0.6666666666666666], // case-sensitive
    ['apple ,banana, cherry', 1.0], // each part is stripped
    ['apple,\u3000banana,\u00a0cherry', 1.0], // Python's \s includes Unicode spaces
    ['apple; banana; cherry', 0.0],
    ['cherry, banana, apple', 0.3333333333333333],
  ];
  for (const [candidate, score] of cases) assert.equal(wordSortingTask.score(candidate, entry), score, String(candidate));
  // python3: sorted_words ["Zeta", "alpha", "beta", "beta"] ->
  // ["Zeta, alpha, beta, beta", "alpha, beta, beta, Zeta", "beta, Zeta, alpha, beta", "Zeta, alpha, beta"] -> [1.0, 0.25, 0.25, 0.75]
  const e2 = entryWith(['Zeta', 'alpha', 'beta', 'beta']);
  assert.equal(wordSortingTask.score('Zeta, alpha, beta, beta', e2), 1.0);
  assert.equal(wordSortingTask.score('alpha, beta, beta, Zeta', e2), 0.25);
  assert.equal(wordSortingTask.score('beta, Zeta, alpha, beta', e2), 0.25);
  assert.equal(wordSortingTask.score('Zeta, alpha, beta', e2), 0.75);
  // Where RG raises (missing sorted_words, empty oracle), we return 0 instead of throwing.
  assert.equal(wordSortingTask.score('a', { question: '', answer: 'a', metadata: {} }), 0);
  assert.equal(wordSortingTask.score('a', entryWith([])), 0);
});
