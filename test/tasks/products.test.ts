// Tests of the products port: config, determinism, items identical to reasoning_gym's (values printed by
// the mirrored Python generator, bigint products included), and compute_decimal_reward scoring.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { productsTask as task } from '../../tasks/arithmetic/products.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (c: Record<string, unknown> = {}) => task.configSchema.parse(c);

function issues(config: Record<string, unknown>): string {
  const r = task.configSchema.safeParse(config);
  assert.equal(r.success, false, `expected ${JSON.stringify(config)} to be rejected`);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('config defaults equal reasoning_gym ProductsConfig', () => {
  assert.deepEqual(parse(), {
    seed: 42,
    size: 500,
    min_terms: 2,
    max_terms: 2,
    min_digits: 1,
    max_digits: 5,
    allow_negation: false,
  });
});

test('invalid configs are rejected with a message naming the key and the fix', () => {
  assert.match(issues({ min_terms: 0 }), /min_terms: min_terms \(0\) must be positive/);
  assert.match(issues({ min_terms: 3, max_terms: 2 }), /max_terms: max_terms \(2\) must be >= min_terms \(3\); raise max_terms/);
  assert.match(issues({ min_digits: -1 }), /min_digits.*must be positive/);
  assert.match(issues({ min_digits: 6 }), /max_digits: max_digits \(5\) must be >= min_digits \(6\)/);
  assert.match(issues({ max_digits: 2.5 }), /max_digits/);
  assert.match(issues({ negation: true }), /negation/); // unknown key
});

test('generation is deterministic by (seed, index) and varies with the index', () => {
  const config = parse();
  assert.deepEqual(task.generate(config, 3), task.generate(config, 3));
  const expressions = new Set(Array.from({ length: 50 }, (_, i) => task.generate(config, i).metadata.expression));
  assert.ok(expressions.size >= 45, `only ${expressions.size} distinct expressions in 50`);
});

test('items match reasoning_gym item for item (answers and metadata from the Python generator)', () => {
  // python3: ProductsDataset(ProductsConfig(seed=42))[i]
  const config = parse();
  const expected: [number, string, string, number][] = [
    [0, '12', '4 * 3', 1],
    [1, '714560', '812 * 880', 3],
    [2, '2049425730', '81037 * 25290', 5],
  ];
  for (const [i, answer, expression, numDigits] of expected) {
    const e = task.generate(config, i);
    assert.equal(e.answer, answer);
    assert.deepEqual(e.metadata, {
      source_dataset: 'products',
      source_index: i,
      expression,
      num_terms: 2,
      num_digits: numDigits,
      difficulty: { num_terms: [2, 2], num_digits: [1, 5] },
    });
    assert.ok(e.question.includes(expression));
  }
  // python3: ProductsConfig(seed=3, allow_negation=True, max_terms=12, max_digits=20)[0], beyond 2^53
  const wide = task.generate(parse({ seed: 3, allow_negation: true, max_terms: 12, max_digits: 20 }), 0);
  assert.equal(
    wide.metadata.expression,
    '-7594124069093860533 * 1140358456303377398 * 714829862921516199 * 8689650543055901246 * -1344191085802659926',
  );
  assert.equal(
    wide.answer,
    '72307789571827955751662895604006112301422003515259427523433485260046942699630301111290004136',
  );
});

test('200 items respect the config, factors have the drawn digit count, and the oracle scores 1.0', () => {
  for (const allow_negation of [false, true]) {
    const config = parse({ min_terms: 2, max_terms: 4, min_digits: 1, max_digits: 6, allow_negation });
    let sawNegative = false;
    for (let i = 0; i < 200; i++) {
      const e = task.generate(config, i);
      const md = e.metadata as Record<string, any>;
      assert.equal(md.source_index, i);
      assert.ok(md.num_terms >= 2 && md.num_terms <= 4);
      assert.ok(md.num_digits >= 1 && md.num_digits <= 6);
      assert.deepEqual(md.difficulty, { num_terms: [2, 4], num_digits: [1, 6] });
      const factors = (md.expression as string).split(' * ').map(BigInt);
      assert.equal(factors.length, md.num_terms);
      const max = 10n ** BigInt(md.num_digits) - 1n;
      const min = allow_negation ? -max : md.num_digits === 1 ? 0n : 10n ** BigInt(md.num_digits - 1);
      for (const f of factors) {
        assert.ok(f >= min && f <= max, `${f} outside [${min}, ${max}]`);
        if (f < 0n) sawNegative = true;
      }
      assert.equal(factors.reduce((a, b) => a * b).toString(), e.answer);
      assert.equal(task.score(e.answer, e), 1);
    }
    assert.equal(sawNegative, allow_negation);
  }
});

test('scoring equals reasoning_gym compute_decimal_reward, partial credit included', () => {
  const entry = task.generate(parse(), 1); // answer '714560'
  assert.equal(entry.answer, '714560');
  // Values printed by reasoning_gym.utils.compute_decimal_reward(candidate, '714560') in python3:
  const cases: [string | null | undefined, number][] = [
    ['714560', 1],
    ['714,560', 1],
    ['7.1456E+5', 1],
    ['714560.000', 1],
    ['714_560', 1],
    ['= 714560', 0.75], // 6 / 8
    ['714 560', 0], // a space inside is neither a Decimal nor contains the oracle
    ['wrong', 0],
    ['The answer is 714560', 6 / 20], // 0.3
    [null, 0],
  ];
  for (const [candidate, expected] of cases) assert.equal(task.score(candidate, entry), expected, String(candidate));
});

test('scores an entry exactly as reasoning_gym writes it to JSONL', () => {
  const line =
    '{"question": "(RG\'s question text; not used in scoring)", ' +
    '"answer": "12", "metadata": {"source_dataset": "products", "source_index": 0, "expression": "4 * 3", ' +
    '"num_terms": 2, "num_digits": 1, "difficulty": {"num_terms": [2, 2], "num_digits": [1, 5]}}}';
  const entry = JSON.parse(line) as TaskEntry;
  assert.equal(task.score('12', entry), 1);
  assert.equal(task.score('+012.0', entry), 1);
  assert.equal(task.score('１２', entry), 1); // python3: Decimal reads fullwidth digits
  assert.equal(task.score('120', entry), 2 / 3); // python3: 0.6666666666666666
  assert.equal(task.score(',', entry), 0);
});
