// Tests of the `gcd` task port: RG's config defaults and checks, the same items as RG's generator
// (reference values printed by CPython running RG's generation logic), and RG's default scorer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gcdTask } from '../../tasks/arithmetic/gcd.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => gcdTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = gcdTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

test('gcd: config defaults equal Reasoning Gym GCDConfig', () => {
  assert.deepEqual(parse({}), { seed: 42, size: 500, min_numbers: 2, max_numbers: 2, min_value: 1, max_value: 1000 });
});

test('gcd: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_numbers: 1 }), /min_numbers.*at least 2/);
  assert.match(issues({ min_numbers: 3, max_numbers: 2 }), /max_numbers \(2\) must be >= min_numbers \(3\)/);
  assert.match(issues({ min_value: 0 }), /min_value.*positive/);
  assert.match(issues({ min_value: 100, max_value: 50 }), /max_value \(50\) must be > min_value \(100\)/);
  assert.match(issues({ min_value: 5, max_value: 5 }), /max_value/); // RG asserts strictly greater
  assert.match(issues({ max_numbers: 2.5 }), /max_numbers/);
  assert.match(issues({ min_numbrs: 2 }), /min_numbrs|unrecognized/i); // strict: typos rejected
});

test('gcd: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 123 });
  assert.deepEqual(gcdTask.generate(config, 7), gcdTask.generate(config, 7));
  const questions = new Set(Array.from({ length: 50 }, (_, i) => gcdTask.generate(config, i).question));
  assert.ok(questions.size >= 48);
  assert.notDeepEqual(gcdTask.generate(config, 7), gcdTask.generate(parse({ seed: 124 }), 7));
});

test('gcd: same numbers as Reasoning Gym for the same seed and index', () => {
  // CPython, RG's _generate_numbers with random.Random(42 + i), default config:
  // [([26, 760], 2), ([688, 716], 4), ([297, 30], 3), ([428, 500], 4), ([410, 41], 41)]
  const config = parse({});
  const expected: Array<[number[], number]> = [
    [[26, 760], 2],
    [[688, 716], 4],
    [[297, 30], 3],
    [[428, 500], 4],
    [[410, 41], 41],
  ];
  expected.forEach(([numbers, result], i) => {
    const entry = gcdTask.generate(config, i);
    assert.deepEqual(entry.metadata.numbers, numbers);
    assert.equal(entry.metadata.result, result);
    assert.equal(entry.answer, String(result));
    assert.ok(entry.question.includes(numbers.join(', ')));
  });
  // seed 7, 2-4 numbers in 1..100: [([47, 75], 1), ([11, 18], 1), ([24, 87], 3)] (third try kept even if GCD 1)
  const c7 = parse({ seed: 7, min_numbers: 2, max_numbers: 4, min_value: 1, max_value: 100 });
  assert.deepEqual([0, 1, 2].map((i) => gcdTask.generate(c7, i).metadata.numbers), [[47, 75], [11, 18], [24, 87]]);
});

test('gcd: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 5, min_numbers: 2, max_numbers: 4, min_value: 10, max_value: 300 });
  const counts = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const entry = gcdTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'gcd');
    assert.equal(md.source_index, i);
    assert.ok(md.numbers.length >= 2 && md.numbers.length <= 4);
    assert.equal(md.num_terms, md.numbers.length);
    counts.add(md.num_terms);
    for (const n of md.numbers) assert.ok(Number.isInteger(n) && n >= 10 && n <= 300);
    assert.equal(md.result, md.numbers.reduce(gcd));
    assert.deepEqual(md.difficulty, { num_terms: [2, 4], value: [10, 300] });
    assert.equal(gcdTask.score(entry.answer, entry), 1);
  }
  assert.deepEqual([...counts].sort(), [2, 3, 4]);
});

test('gcd: RG default scorer, partial credit included', () => {
  const entry: TaskEntry = { question: 'q', answer: '4', metadata: {} };
  // Values printed by CPython running RG's ProceduralDataset.score_answer with oracle '4':
  const cases: Array<[string | null | undefined, number]> = [
    ['4', 1.0],
    ['The answer is 4', 0.06666666666666667], // 1/15
    [' 4', 0.5],
    ['44', 0.5],
    ['', 0.0],
    [null, 0.0],
    [undefined, 0.0],
    ['4.0', 0.3333333333333333],
    ['😀4', 0.5], // code points, not UTF-16 units
    ['3', 0.0],
    ['GCD = 4.', 0.125],
  ];
  for (const [candidate, expected] of cases) assert.equal(gcdTask.score(candidate, entry), expected, String(candidate));
  assert.equal(gcdTask.score('4', { question: 'q', answer: null, metadata: {} }), 0); // RG raises; never throw here
});

test('gcd: scores an entry written by reasoning_gym (JSON)', () => {
  // RG's json.dumps of GCDDataset(GCDConfig(seed=42))[1] (question text elided; tuples become arrays).
  const entry = JSON.parse(
    '{"question": "(reasoning_gym question text)", "answer": "4", "metadata": {"source_dataset": "gcd", ' +
      '"source_index": 1, "numbers": [688, 716], "result": 4, "num_terms": 2, ' +
      '"difficulty": {"num_terms": [2, 2], "value": [1, 1000]}}}',
  ) as TaskEntry;
  assert.equal(gcdTask.score('4', entry), 1);
  assert.equal(gcdTask.score('gcd 4', entry), 0.2);
  assert.equal(gcdTask.score('2', entry), 0);
  const ours = gcdTask.generate(parse({}), 1);
  assert.deepEqual(ours.metadata, entry.metadata);
});
