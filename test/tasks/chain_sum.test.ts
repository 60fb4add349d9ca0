// Tests of the chain_sum port: config, determinism, items identical to reasoning_gym's (values printed by
// the mirrored Python generator), and compute_decimal_reward scoring with CPython Decimal semantics.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { chainSumTask as task } from '../../tasks/arithmetic/chain_sum.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (c: Record<string, unknown> = {}) => task.configSchema.parse(c);

function issues(config: Record<string, unknown>): string {
  const r = task.configSchema.safeParse(config);
  assert.equal(r.success, false, `expected ${JSON.stringify(config)} to be rejected`);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('config defaults equal reasoning_gym ChainSumConfig', () => {
  assert.deepEqual(parse(), {
    seed: 42,
    size: 500,
    min_terms: 2,
    max_terms: 6,
    min_digits: 1,
    max_digits: 4,
    allow_negation: false,
  });
});

test('invalid configs are rejected with a message naming the key and the fix', () => {
  assert.match(issues({ min_terms: 0 }), /min_terms: min_terms \(0\) must be positive; set min_terms to 1/);
  assert.match(issues({ min_terms: 3, max_terms: 2 }), /max_terms: max_terms \(2\) must be >= min_terms \(3\)/);
  assert.match(issues({ min_digits: 0 }), /min_digits.*must be positive/);
  assert.match(issues({ min_digits: 4, max_digits: 2 }), /max_digits.*raise max_digits or lower min_digits/);
  assert.match(issues({ size: 0 }), /size/);
  assert.match(issues({ allow_negation: 'yes' }), /allow_negation/);
  assert.match(issues({ operators: ['+'] }), /operators/); // unknown key
});

test('generation is deterministic by (seed, index) and varies with the index', () => {
  const config = parse();
  assert.deepEqual(task.generate(config, 9), task.generate(config, 9));
  const expressions = new Set(Array.from({ length: 50 }, (_, i) => task.generate(config, i).metadata.expression));
  assert.ok(expressions.size >= 45, `only ${expressions.size} distinct expressions in 50`);
});

test('items match reasoning_gym item for item (answers and metadata from the Python generator)', () => {
  // python3: ChainSumDataset(ChainSumConfig(seed=42))[i]
  const config = parse();
  const expected: [number, string, string, number, number][] = [
    [0, '7', '4 + 3', 2, 1],
    [1, '1692', '812 + 880', 2, 3],
    [2, '15', '2 + 6 + 3 + 4 + 0', 5, 1],
  ];
  for (const [i, answer, expression, numTerms, numDigits] of expected) {
    const e = task.generate(config, i);
    assert.equal(e.answer, answer);
    assert.deepEqual(e.metadata, {
      source_dataset: 'chain_sum',
      source_index: i,
      num_terms: numTerms,
      num_digits: numDigits,
      expression,
      difficulty: { num_terms: [2, 6], num_digits: [1, 4] },
    });
    assert.ok(e.question.includes(expression));
  }
  // python3: ChainSumConfig(seed=7, allow_negation=True, max_digits=12, max_terms=12)
  const neg = parse({ seed: 7, allow_negation: true, max_digits: 12, max_terms: 12 });
  assert.equal(task.generate(neg, 0).metadata.expression, '-191 - 334 + -901 + -851 + 682 + 98 - -807');
  assert.equal(task.generate(neg, 0).answer, '-690');
  assert.equal(task.generate(neg, 1).answer, '-1972942');
});

test('200 items respect the config, numbers have the drawn digit count, and the oracle scores 1.0', () => {
  for (const allow_negation of [false, true]) {
    const config = parse({ min_terms: 2, max_terms: 7, min_digits: 1, max_digits: 5, allow_negation });
    let sawNegative = false;
    for (let i = 0; i < 200; i++) {
      const e = task.generate(config, i);
      const md = e.metadata as Record<string, any>;
      assert.equal(md.source_index, i);
      assert.ok(md.num_terms >= 2 && md.num_terms <= 7);
      assert.ok(md.num_digits >= 1 && md.num_digits <= 5);
      assert.deepEqual(md.difficulty, { num_terms: [2, 7], num_digits: [1, 5] });
      const tokens = (md.expression as string).split(' ');
      assert.equal(tokens.length, 2 * md.num_terms - 1);
      let sum = 0;
      for (let k = 0; k < tokens.length; k += 2) {
        const n = Number(tokens[k]);
        const sign = k === 0 || tokens[k - 1] === '+' ? 1 : -1;
        if (k > 0) assert.ok(tokens[k - 1] === '+' || tokens[k - 1] === '-');
        sum += sign * n;
        const max = 10 ** md.num_digits - 1;
        if (allow_negation) {
          assert.ok(Math.abs(n) <= max);
          if (n < 0) sawNegative = true;
        } else {
          assert.ok(n <= max && n >= (md.num_digits === 1 ? 0 : 10 ** (md.num_digits - 1)), `${n} vs ${md.num_digits} digits`);
        }
      }
      assert.equal(String(sum), e.answer);
      assert.equal(task.score(e.answer, e), 1);
    }
    assert.equal(sawNegative, allow_negation);
  }
});

test('scoring equals reasoning_gym compute_decimal_reward, partial credit included', () => {
  const entry = task.generate(parse(), 1); // answer '1692'
  assert.equal(entry.answer, '1692');
  // Values printed by reasoning_gym.utils.compute_decimal_reward(candidate, '1692') in python3:
  const cases: [string | null | undefined, number][] = [
    ['1692', 1],
    ['1,692', 1],
    ['+01,692.00', 1],
    ['1.692e3', 1],
    [' 1692\n', 1],
    ['1,6,9,2', 1], // every comma is removed, wherever it is
    ['1_692', 1], // CPython's Decimal drops underscores anywhere ...
    ['_1692_', 1], // ... even leading and trailing ones
    ['١٦٩٢', 1], // and reads any Unicode decimal digits (Arabic-Indic here)
    ['1692 legs', 4 / 9], // contained: len('1692') / len('1692 legs') = 0.4444444444444444
    ['16920', 0.8], // RG quirk: a wrong number containing the oracle earns 4 / 5
    ['-1692', 0.8], // ... and so does the wrong sign
    ['1692.5', 2 / 3], // 4 / 6
    ['sNaN', 0], // Decimal raises on comparing a signaling NaN; RG's bare except gives 0
    ['', 0],
    [null, 0],
    [undefined, 0],
  ];
  for (const [candidate, expected] of cases) assert.equal(task.score(candidate, entry), expected, String(candidate));
});

test('scores an entry exactly as reasoning_gym writes it to JSONL', () => {
  const line =
    '{"question": "(RG\'s question text; not used in scoring)", ' +
    '"answer": "15", "metadata": {"source_dataset": "chain_sum", "source_index": 2, "num_terms": 5, ' +
    '"num_digits": 1, "expression": "2 + 6 + 3 + 4 + 0", "difficulty": {"num_terms": [2, 6], "num_digits": [1, 4]}}}';
  const entry = JSON.parse(line) as TaskEntry;
  assert.equal(task.score('15', entry), 1);
  assert.equal(task.score('15.0', entry), 1);
  assert.equal(task.score('= 15', entry), 0.5); // python3: 2 / 4
  assert.equal(task.score('1 5', entry), 0); // inner space: not a Decimal, not contained
  // RG's compute_decimal_reward raises when the oracle is not a string; never throw here.
  assert.equal(task.score('15', { question: '', answer: null, metadata: {} }), 0);
  // A zero oracle: RG accepts '-0' and exponents up to libmpdec's limit, and not beyond.
  const zero: TaskEntry = { question: '', answer: '0', metadata: {} };
  assert.equal(task.score('-0', zero), 1);
  assert.equal(task.score('0e5', zero), 1);
  assert.equal(task.score('0e1000000000000000000', zero), 1 / 21); // python3: 0.047619047619047616
});
