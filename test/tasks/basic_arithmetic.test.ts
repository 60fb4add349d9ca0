// Tests of the basic_arithmetic port: config, determinism, items identical to reasoning_gym's (answers and
// metadata printed by running the mirrored Python generator), the repaired flat chains, and scoring.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { basicArithmeticTask as task } from '../../tasks/arithmetic/basic_arithmetic.js';
import { evalFloorDiv, findCommonDivisors, floorDiv } from '../../tasks/arithmetic/int_math.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (c: Record<string, unknown> = {}) => task.configSchema.parse(c);

function issues(config: Record<string, unknown>): string {
  const r = task.configSchema.safeParse(config);
  assert.equal(r.success, false, `expected ${JSON.stringify(config)} to be rejected`);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('config defaults equal reasoning_gym BasicArithmeticDatasetConfig', () => {
  assert.deepEqual(parse(), {
    seed: 42,
    size: 500,
    min_terms: 2,
    max_terms: 6,
    min_digits: 1,
    max_digits: 4,
    operators: ['+', '-', '*', '/'],
    allow_parentheses: true,
    allow_negation: true,
    format_style: 'simple',
    whitespace: 'single',
  });
});

test('invalid configs are rejected with a message naming the key and the fix', () => {
  assert.match(issues({ min_terms: 0 }), /min_terms: min_terms \(0\) must be positive/);
  assert.match(issues({ min_terms: 3, max_terms: 2 }), /max_terms: max_terms \(2\) must be >= min_terms \(3\)/);
  assert.match(issues({ min_digits: 0 }), /min_digits.*must be positive/);
  assert.match(issues({ min_digits: 3, max_digits: 2 }), /max_digits.*raise max_digits or lower min_digits/);
  assert.match(issues({ operators: ['^'] }), /operators\.0: unsupported operator '\^'/);
  assert.match(issues({ operators: [] }), /operators is empty/);
  assert.match(issues({ operators: ['/'] }), /add '\+', '-' or '\*' to operators/);
  assert.match(issues({ whitespace: 'tabs' }), /whitespace/);
  assert.match(issues({ unknown_key: 1 }), /unknown_key/);
  // '/' alone is fine without parentheses (a flat chain) or with a single term.
  assert.equal(task.configSchema.safeParse({ operators: ['/'], allow_parentheses: false }).success, true);
  assert.equal(task.configSchema.safeParse({ operators: ['/'], min_terms: 1, max_terms: 1 }).success, true);
});

test('generation is deterministic by (seed, index) and varies with the index', () => {
  const config = parse();
  assert.deepEqual(task.generate(config, 5), task.generate(config, 5));
  const questions = new Set(Array.from({ length: 50 }, (_, i) => task.generate(config, i).question));
  assert.ok(questions.size >= 45, `only ${questions.size} distinct questions in 50`);
  assert.notDeepEqual(task.generate(parse({ seed: 1 }), 0), task.generate(parse({ seed: 2 }), 0));
});

test('items match reasoning_gym item for item (answers and metadata from the Python generator)', () => {
  // python3: BasicArithmeticDataset(BasicArithmeticDatasetConfig(seed=42))[i] for i in (0, 1, 2, 3, 7)
  const config = parse();
  const expected: [number, string, string, number, number][] = [
    [0, '30', '-5 * -6', 2, 1],
    [1, '193', '965 / 5', 2, 3],
    [2, '-2', '0 + -2 + -4 * 0 * 3', 5, 1],
    [3, '8860', '-65 - -9292 + 5869 + -6236', 4, 4],
    [7, '-290', '( 393 + -683 )', 2, 3],
  ];
  for (const [i, answer, expression, numTerms, numDigits] of expected) {
    const e = task.generate(config, i);
    assert.equal(e.answer, answer);
    assert.deepEqual(e.metadata, {
      source_dataset: 'basic_arithmetic',
      source_index: i,
      expression,
      num_terms: numTerms,
      num_digits: numDigits,
      difficulty: { num_terms: [2, 6], num_digits: [1, 4] },
    });
  }
  // python3: same with seed=11, whitespace='random', format_style='natural'
  const spaced = parse({ seed: 11, whitespace: 'random', format_style: 'natural' });
  const s: [number, string, string][] = [
    [0, '-3123', '-( (-6915/5)-7652+4844 ) -7314'],
    [1, '-13986', '(-232 /116+(144 + -98)* -304)'],
    [2, '181860', '-(313- -854)--741*247'],
  ];
  for (const [i, answer, expression] of s) {
    const e = task.generate(spaced, i);
    assert.equal(e.answer, answer);
    assert.equal(e.metadata.expression, expression);
    assert.ok(e.question.includes(expression));
  }
});

test('an item on which reasoning_gym raises ZeroDivisionError is drawn again instead', () => {
  // python3: BasicArithmeticDataset(config(seed=42, operators=['/', '+']))[11718] raises
  // ZeroDivisionError ('-61 / -69 / -( -49 + 43 + -3 + 9 )'); the neighbours match RG.
  const config = parse({ operators: ['/', '+'] });
  const e = task.generate(config, 11718);
  assert.equal(String(evalFloorDiv(e.metadata.expression as string)), e.answer);
  assert.equal(task.generate(config, 11717).answer, '2711'); // RG: '2711'
  assert.equal(task.generate(config, 11719).answer, '-1897'); // RG: '-1897'
});

test('flat chains (allow_parentheses=false) show the divisor actually used and keep reasoning_gym answers', () => {
  // python3 seed=13, allow_parentheses=False: item 3 is '7872 / 4668 + 6831 / 3713' with answer '7'
  // (RG divided by 984 and 977, drawn from the divisors, not by the numbers it printed); item 6: '8 / 3' -> '2'.
  const config = parse({ seed: 13, allow_parentheses: false });
  const e3 = task.generate(config, 3);
  assert.equal(e3.answer, '7');
  assert.equal(e3.metadata.expression, '7872 / 984 + 6831 / 977');
  assert.equal(task.generate(config, 6).metadata.expression, '8 / 4');
  assert.match(e3.question, /from left to right/);
  // Left to right: every answer follows from the shown expression read in order.
  const flat = parse({ seed: 14, allow_parentheses: false, operators: ['/', '*', '/', '+', '-'], max_digits: 3 });
  for (let i = 0; i < 200; i++) {
    const e = task.generate(flat, i);
    const tokens = (e.metadata.expression as string).split(' ');
    let v = BigInt(tokens[0]);
    for (let k = 1; k < tokens.length; k += 2) {
      const c = BigInt(tokens[k + 1]);
      const op = tokens[k];
      if (op === '/') assert.equal(v % c, 0n, `inexact division in ${e.metadata.expression}`);
      v = op === '+' ? v + c : op === '-' ? v - c : op === '*' ? v * c : floorDiv(v, c);
    }
    assert.equal(String(v), e.answer, String(e.metadata.expression));
  }
});

test('200 items respect the config, evaluate to their answer, and the oracle scores 1.0', () => {
  const variants = [{}, { allow_negation: false }, { whitespace: 'no_space' }, { format_style: 'natural', whitespace: 'random' }];
  for (const extra of variants) {
    const config = parse({ min_terms: 2, max_terms: 5, min_digits: 1, max_digits: 3, ...extra });
    for (let i = 0; i < 200; i++) {
      const e = task.generate(config, i);
      const md = e.metadata as Record<string, any>;
      assert.equal(md.source_dataset, 'basic_arithmetic');
      assert.equal(md.source_index, i);
      assert.ok(md.num_terms >= 2 && md.num_terms <= 5);
      assert.ok(md.num_digits >= 1 && md.num_digits <= 3);
      assert.deepEqual(md.difficulty, { num_terms: [2, 5], num_digits: [1, 3] });
      assert.equal(String(evalFloorDiv(md.expression)), e.answer);
      // With single spaces '-(' only appears as a negated group (a minus sign before '(' reads '- (').
      if (!config.allow_negation) assert.ok(!md.expression.includes('-('), md.expression);
      assert.ok(e.question.includes(md.expression));
      assert.equal(task.score(e.answer, e), 1);
    }
  }
});

test('Python integer semantics of the evaluator and divisor order', () => {
  assert.equal(evalFloorDiv('-7 / 2'), -4n); // python3: -7 // 2 == -4
  assert.equal(evalFloorDiv('7 / -2'), -4n);
  assert.equal(evalFloorDiv('-(3+-4)*--2'), 2n);
  assert.equal(evalFloorDiv('2 * 3 / 4'), 1n); // (2*3)//4
  assert.throws(() => evalFloorDiv('1/(2-2)'), /division or modulo by zero/);
  // python3: find_common_divisors(36, 0) == [1, 36, 2, 18, 3, 12, 4, 9, 6]
  assert.deepEqual(findCommonDivisors(36n, 0n), [1n, 36n, 2n, 18n, 3n, 12n, 4n, 9n, 6n]);
  assert.deepEqual(findCommonDivisors(-12n, 18n), [1n, 6n, 2n, 3n]);
  // Above 10^12 the divisors come from a factorisation; same order as the trial loop.
  // python3: find_common_divisors(736453112000214, 0)[:8]
  //   == [1, 736453112000214, 2, 368226556000107, 3, 245484370666738, 6, 122742185333369]
  assert.deepEqual(
    findCommonDivisors(736453112000214n, 0n).slice(0, 8),
    [1n, 736453112000214n, 2n, 368226556000107n, 3n, 245484370666738n, 6n, 122742185333369n],
  );
});

test('scoring equals reasoning_gym default score_answer, partial credit included', () => {
  const entry: TaskEntry = task.generate(parse(), 2); // answer '-2'
  assert.equal(entry.answer, '-2');
  // Values printed by ProceduralDataset.score_answer in python3:
  assert.equal(task.score('-2', entry), 1);
  assert.equal(task.score('The answer is -2', entry), 0.125); // 2 / 16
  assert.equal(task.score('-2.0', entry), 0.5); // no numeric tolerance in the default scorer: 2 / 4
  assert.equal(task.score(' -2', entry), 2 / 3);
  assert.equal(task.score('-20', entry), 2 / 3); // RG quirk: a wrong number containing the oracle earns credit
  assert.equal(task.score('2', entry), 0);
  assert.equal(task.score('', entry), 0);
  assert.equal(task.score(null, entry), 0);
  assert.equal(task.score(undefined, entry), 0);
});

test('scores an entry exactly as reasoning_gym writes it to JSONL', () => {
  const line =
    '{"question": "(RG\'s question text; not used in scoring)", "answer": "30", "metadata": {"source_dataset": "basic_arithmetic", ' +
    '"source_index": 0, "expression": "-5 * -6", "num_terms": 2, "num_digits": 1, ' +
    '"difficulty": {"num_terms": [2, 6], "num_digits": [1, 4]}}}';
  const entry = JSON.parse(line) as TaskEntry;
  assert.equal(task.score('30', entry), 1);
  assert.equal(task.score('30.0', entry), 0.5); // python3: 2 / 4
  assert.equal(task.score('x', entry), 0);
  // RG raises TypeError when the oracle is not a string; never throw here.
  assert.equal(task.score('30', { question: '', answer: null, metadata: {} }), 0);
});
