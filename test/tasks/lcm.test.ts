// Tests of the `lcm` task port: RG's config defaults and checks, the same items as RG's generator
// (reference values printed by CPython running RG's generation logic), and RG's default scorer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { lcmTask } from '../../tasks/arithmetic/lcm.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => lcmTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = lcmTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
const lcm = (a: bigint, b: bigint): bigint => (a / gcd(a, b)) * b;

test('lcm: config defaults equal Reasoning Gym LCMConfig', () => {
  assert.deepEqual(parse({}), { seed: 42, size: 500, min_numbers: 2, max_numbers: 2, min_value: 1, max_value: 100 });
});

test('lcm: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_numbers: 1 }), /min_numbers.*at least 2/);
  assert.match(issues({ min_numbers: 3, max_numbers: 2 }), /max_numbers \(2\) must be >= min_numbers \(3\)/);
  assert.match(issues({ min_value: 0 }), /min_value.*positive/);
  assert.match(issues({ min_value: 100, max_value: 50 }), /max_value \(50\) must be > min_value \(100\)/);
  assert.match(issues({ min_value: 7, max_value: 7 }), /max_value/);
  assert.match(issues({ extra: true }), /extra|unrecognized/i);
});

test('lcm: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 9 });
  assert.deepEqual(lcmTask.generate(config, 3), lcmTask.generate(config, 3));
  const questions = new Set(Array.from({ length: 50 }, (_, i) => lcmTask.generate(config, i).question));
  assert.ok(questions.size >= 48);
});

test('lcm: same numbers as Reasoning Gym for the same seed and index', () => {
  // CPython, RG's _generate_numbers with random.Random(42 + i), default config:
  // [([95, 14], 1330), ([60, 48], 240), ([38, 4], 76), ([54, 63], 378), ([52, 6], 156)]
  const config = parse({});
  const expected: Array<[number[], number]> = [
    [[95, 14], 1330],
    [[60, 48], 240],
    [[38, 4], 76],
    [[54, 63], 378],
    [[52, 6], 156],
  ];
  expected.forEach(([numbers, result], i) => {
    const entry = lcmTask.generate(config, i);
    assert.deepEqual(entry.metadata.numbers, numbers);
    assert.equal(entry.metadata.result, result);
    assert.equal(entry.answer, String(result));
  });
});

test('lcm: LCMs beyond 2^53 are exact', () => {
  // CPython, 5 numbers in 1..100000, seed 42, index 0 and 1:
  // ([3279, 97197, 36049, 32099, 29257], 3596561896588737607947)
  // ([37498, 91256, 99967, 18866, 60626], 48907442243683314821992)
  const config = parse({ min_numbers: 5, max_numbers: 5, min_value: 1, max_value: 100000 });
  const e0 = lcmTask.generate(config, 0);
  assert.deepEqual(e0.metadata.numbers, [3279, 97197, 36049, 32099, 29257]);
  assert.equal(e0.answer, '3596561896588737607947');
  assert.equal(e0.metadata.result, '3596561896588737607947'); // string where a JSON number would round
  assert.equal(lcmTask.generate(config, 1).answer, '48907442243683314821992');
  assert.equal(lcmTask.score('3596561896588737607947', e0), 1);
});

test('lcm: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 11, min_numbers: 2, max_numbers: 4, min_value: 3, max_value: 40 });
  for (let i = 0; i < 200; i++) {
    const entry = lcmTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'lcm');
    assert.equal(md.source_index, i);
    assert.ok(md.numbers.length >= 2 && md.numbers.length <= 4);
    for (const n of md.numbers) assert.ok(Number.isInteger(n) && n >= 3 && n <= 40);
    assert.equal(entry.answer, md.numbers.map(BigInt).reduce(lcm).toString());
    assert.equal(String(md.result), entry.answer);
    assert.deepEqual(md.difficulty, { numbers: [2, 4], value: [3, 40] });
    assert.equal(lcmTask.score(entry.answer, entry), 1);
  }
});

test('lcm: RG default scorer, partial credit included', () => {
  const entry: TaskEntry = { question: 'q', answer: '1330', metadata: {} };
  // Values printed by CPython running RG's ProceduralDataset.score_answer with oracle '1330':
  assert.equal(lcmTask.score('1330', entry), 1.0);
  assert.equal(lcmTask.score('LCM: 1330', entry), 0.4444444444444444); // 4/9
  assert.equal(lcmTask.score('1,330', entry), 0.0); // no comma tolerance in the default scorer
  assert.equal(lcmTask.score('133', entry), 0.0);
  assert.equal(lcmTask.score(null, entry), 0.0);
  assert.equal(lcmTask.score('', entry), 0.0);
});

test('lcm: scores an entry written by reasoning_gym (JSON)', () => {
  // RG's json.dumps of LCMDataset(LCMConfig(seed=42))[0] (question text elided; tuples become arrays).
  const entry = JSON.parse(
    '{"question": "(reasoning_gym question text)", "answer": "1330", "metadata": {"source_dataset": "lcm", ' +
      '"source_index": 0, "numbers": [95, 14], "result": 1330, ' +
      '"difficulty": {"numbers": [2, 2], "value": [1, 100]}}}',
  ) as TaskEntry;
  assert.equal(lcmTask.score('1330', entry), 1);
  assert.equal(lcmTask.score('13300', entry), 0.8);
  assert.equal(lcmTask.score('1331', entry), 0);
  assert.deepEqual(lcmTask.generate(parse({}), 0).metadata, entry.metadata);
});
