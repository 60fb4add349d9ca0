// Tests of the `base_conversion` port: RG's config defaults and checks (plus the min_base == max_base
// guard), the same items as RG's generator (reference items printed by CPython running RG's
// __getitem__), the value-0 departure, and RG's default scorer (reference scores printed by CPython).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { baseConversionTask } from '../../tasks/algorithmic/base_conversion.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => baseConversionTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = baseConversionTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('base_conversion: config defaults equal Reasoning Gym BaseConversionConfig', () => {
  assert.deepEqual(parse({}), { seed: 42, size: 500, min_base: 2, max_base: 16, min_value: 0, max_value: 1000 });
});

test('base_conversion: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_base: 1 }), /min_base \(1\) must be between 2 and 36/);
  assert.match(issues({ min_base: 37 }), /min_base \(37\) must be between 2 and 36/);
  assert.match(issues({ min_base: 10, max_base: 5 }), /max_base \(5\) must be greater than min_base \(10\)/);
  assert.match(issues({ max_base: 40 }), /max_base \(40\).*at most 36/);
  // RG accepts equal bounds and then loops forever looking for a different target base.
  assert.match(issues({ min_base: 7, max_base: 7 }), /max_base \(7\) must be greater than min_base \(7\).*can differ/);
  assert.match(issues({ min_value: -1 }), /min_value.*non-negative/);
  assert.match(issues({ min_value: 10, max_value: 10 }), /max_value \(10\) must be > min_value \(10\)/);
  assert.match(issues({ base: 2 }), /base|unrecognized/i);
});

test('base_conversion: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 123 });
  assert.deepEqual(baseConversionTask.generate(config, 7), baseConversionTask.generate(config, 7));
  const questions = new Set(Array.from({ length: 50 }, (_, i) => baseConversionTask.generate(config, i).question));
  assert.ok(questions.size >= 49);
});

test('base_conversion: same items as Reasoning Gym for the same seed and index', () => {
  // CPython, RG's BaseConversionDataset(seed=42), items 0-3 (value, source base, target base, source repr, answer):
  const expected: Array<[number, number, number, string, string]> = [
    [654, 3, 2, '220020', '1010001110'],
    [39, 6, 13, '103', '30'],
    [418, 10, 13, '418', '262'],
    [278, 8, 9, '426', '338'],
  ];
  const config = parse({});
  expected.forEach(([value, source, target, sourceRepr, answer], i) => {
    const entry = baseConversionTask.generate(config, i);
    assert.deepEqual(
      [entry.metadata.decimal_value, entry.metadata.source_base, entry.metadata.target_base, entry.metadata.source_repr, entry.answer],
      [value, source, target, sourceRepr, answer],
    );
  });
  const q0 = baseConversionTask.generate(config, 0).question;
  assert.ok(q0.includes('base-3 number 220020 to binary'));
  assert.ok(baseConversionTask.generate(config, 1).question.includes('to base-13'));
});

test('base_conversion: value 0 is written "0" (RG writes "" outside bases 2 and 16)', () => {
  // CPython, RG with seed 8, bases 2-3, values 0-1, item 0: decimal_value 0, source base 3 -> source_repr "" (RG), "0" here.
  const entry = baseConversionTask.generate(parse({ seed: 8, min_base: 2, max_base: 3, min_value: 0, max_value: 1 }), 0);
  assert.equal(entry.metadata.decimal_value, 0);
  assert.equal(entry.metadata.source_base, 3);
  assert.equal(entry.metadata.source_repr, '0');
  assert.equal(entry.answer, '0');
});

test('base_conversion: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 5, min_base: 2, max_base: 36, min_value: 10, max_value: 100000 });
  const bases = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const entry = baseConversionTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'base_conversion');
    assert.equal(md.source_index, i);
    assert.ok(md.decimal_value >= 10 && md.decimal_value <= 100000);
    assert.ok(md.source_base >= 2 && md.source_base <= 36 && md.target_base >= 2 && md.target_base <= 36);
    assert.notEqual(md.source_base, md.target_base);
    bases.add(md.source_base);
    assert.equal(parseInt(md.source_repr, md.source_base), md.decimal_value);
    assert.equal(parseInt(entry.answer!, md.target_base), md.decimal_value);
    assert.equal(entry.answer, md.target_repr);
    assert.match(entry.answer!, /^[0-9a-z]+$/);
    assert.deepEqual(md.difficulty, { base: [2, 36], value: [10, 100000] });
    assert.equal(baseConversionTask.score(entry.answer, entry), 1);
  }
  assert.ok(bases.size > 25);
});

test("base_conversion: scores equal RG's default score_answer, partial credit included", () => {
  // An entry exactly as RG emits it (seed 42, item 1), parsed from JSON.
  const entry = JSON.parse(
    '{"question": "Convert base-6 103 to base-13.", "answer": "30", "metadata": {"source_dataset": "base_conversion", ' +
      '"source_index": 1, "decimal_value": 39, "source_base": 6, "target_base": 13, "source_repr": "103", ' +
      '"target_repr": "30", "difficulty": {"base": [2, 16], "value": [0, 1000]}}}',
  ) as TaskEntry;
  assert.equal(baseConversionTask.score('30', entry), 1);
  assert.equal(baseConversionTask.score('(30)_13', entry), 2 / 7);
  // python3, RG's default score_answer with answer "1f":
  // ["1f", "0x1f", "1F", "31", " 1f", "", None] -> [1.0, 0.5, 0.0, 0.0, 0.6666666666666666, 0.0, 0.0]
  const hex: TaskEntry = { question: '', answer: '1f', metadata: {} };
  const cases: Array<[string | null, number]> = [
    ['1f', 1.0],
    ['0x1f', 0.5],
    ['1F', 0.0], // case-sensitive
    ['31', 0.0],
    [' 1f', 0.6666666666666666],
    ['', 0.0],
    [null, 0.0],
  ];
  for (const [candidate, score] of cases) assert.equal(baseConversionTask.score(candidate, hex), score, String(candidate));
  // python3: RG's own entries for value 0 with a target base other than 2 and 16 have answer "", and
  // score 0.0 for "0", "" and anything else.
  const empty: TaskEntry = { question: '', answer: '', metadata: {} };
  for (const candidate of ['0', '', 'anything']) assert.equal(baseConversionTask.score(candidate, empty), 0);
});
