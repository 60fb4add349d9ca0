// Tests of the `count_bits` task port: RG's config defaults and checks, the same items as RG's
// generator (reference values printed by CPython running RG's generation logic), and RG's default scorer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { countBitsTask } from '../../tasks/arithmetic/count_bits.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => countBitsTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = countBitsTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('count_bits: config defaults equal Reasoning Gym CountBitsConfig', () => {
  assert.deepEqual(parse({}), { seed: 42, size: 500, min_n: 1, max_n: 2 ** 31 - 1 });
});

test('count_bits: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_n: -1 }), /min_n.*at least 1/);
  assert.match(issues({ min_n: 0 }), /min_n.*at least 1/);
  assert.match(issues({ min_n: 10, max_n: 5 }), /max_n \(5\) must be >= min_n \(10\)/);
  assert.match(issues({ max: 5 }), /max|unrecognized/i);
  assert.equal(parse({ min_n: 5, max_n: 5 }).max_n, 5); // RG allows min_n == max_n
});

test('count_bits: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 1 });
  assert.deepEqual(countBitsTask.generate(config, 4), countBitsTask.generate(config, 4));
  const numbers = new Set(Array.from({ length: 50 }, (_, i) => countBitsTask.generate(config, i).metadata.number));
  assert.equal(numbers.size, 50);
});

test('count_bits: same numbers as Reasoning Gym for the same seed and index', () => {
  // CPython, random.Random(42 + i).randint(1, 2**31 - 1), bin(n)[2:], count of '1':
  const expected: Array<[number, string, number]> = [
    [1373158607, '1010001110110001011110011001111', 18],
    [82789451, '100111011110100010001001011', 14],
    [877324117, '110100010010101110011101010101', 16],
    [583848003, '100010110011001101000001000011', 12],
    [1907541172, '1110001101100101100010010110100', 15],
  ];
  // beyond 32 bits too: random.Random(42).randint(1, 2**53 - 1) = 1002783120652702, 24 ones
  const wide = countBitsTask.generate(parse({ max_n: Number.MAX_SAFE_INTEGER }), 0);
  assert.equal(wide.metadata.number, 1002783120652702);
  assert.equal(wide.answer, '24');
  const config = parse({});
  expected.forEach(([number, binary, solution], i) => {
    const entry = countBitsTask.generate(config, i);
    assert.equal(entry.metadata.number, number);
    assert.equal(entry.metadata.n, number);
    assert.equal(entry.metadata.binary, binary);
    assert.equal(entry.metadata.solution, solution);
    assert.equal(entry.answer, String(solution));
    assert.ok(entry.question.includes(String(number)));
  });
});

test('count_bits: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 3, min_n: 10, max_n: 1000 });
  for (let i = 0; i < 200; i++) {
    const entry = countBitsTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'count_bits');
    assert.equal(md.source_index, i);
    assert.ok(md.number >= 10 && md.number <= 1000);
    assert.equal(parseInt(md.binary, 2), md.number);
    let count = 0;
    for (let n = md.number; n > 0; n >>= 1) count += n & 1;
    assert.equal(md.solution, count);
    assert.deepEqual(md.difficulty, { n: [10, 1000] });
    assert.equal(countBitsTask.score(entry.answer, entry), 1);
  }
  // a one-number range is allowed and always gives that number
  assert.equal(countBitsTask.generate(parse({ min_n: 255, max_n: 255 }), 0).answer, '8');
});

test('count_bits: RG default scorer, partial credit included', () => {
  const entry: TaskEntry = { question: 'q', answer: '18', metadata: {} };
  // RG's ProceduralDataset.score_answer: len(oracle) / len(candidate) when the oracle is contained.
  assert.equal(countBitsTask.score('18', entry), 1);
  assert.equal(countBitsTask.score('18 bits', entry), 2 / 7); // CPython: 0.2857142857142857
  assert.equal(countBitsTask.score('118', entry), 2 / 3); // contained, so partial credit although wrong
  assert.equal(countBitsTask.score('18.0', entry), 0.5);
  assert.equal(countBitsTask.score('eighteen', entry), 0);
  assert.equal(countBitsTask.score(null, entry), 0);
});

test('count_bits: scores an entry written by reasoning_gym (JSON)', () => {
  // RG's json.dumps of CountBitsDataset(CountBitsConfig(seed=42))[1] (question text elided).
  const entry = JSON.parse(
    '{"question": "(reasoning_gym question text)", "answer": "14", "metadata": {"source_dataset": "count_bits", ' +
      '"source_index": 1, "number": 82789451, "solution": 14, "binary": "100111011110100010001001011", ' +
      '"n": 82789451, "difficulty": {"n": [1, 2147483647]}}}',
  ) as TaskEntry;
  assert.equal(countBitsTask.score('14', entry), 1);
  assert.equal(countBitsTask.score(' 14 ', entry), 0.5);
  assert.equal(countBitsTask.score('13', entry), 0);
  assert.deepEqual(countBitsTask.generate(parse({}), 1).metadata, entry.metadata);
});
