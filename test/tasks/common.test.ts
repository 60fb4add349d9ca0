// Tests of the shared task machinery: the CPython-compatible RNG (numbers printed by CPython 3.11),
// Python string/decimal semantics, answer extraction and prompt templates.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { extractAnswer, renderPrompt } from '../../tasks/common/extract.js';
import { cpythonDecimalEquals as pyDecimalEquals, computeDecimalReward as decimalReward } from '../../tasks/common/decimal.js';
import { pyLen, pySplit, pyStrip } from '../../tasks/common/pystr.js';
import { PyRandom } from '../../tasks/common/rng.js';
import { exactOrContainedScore } from '../../tasks/common/scoring.js';

test('PyRandom reproduces CPython random.Random(42)', () => {
  // python3 -c "import random; r=random.Random(42); print([r.getrandbits(32) for _ in range(3)], r.random(), ...)"
  const r = new PyRandom(42);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [2746317213, 478163327, 107420369]);
  assert.equal(r.random(), 0.7415504997598329);
  assert.equal(r.randint(1, 100), 32);
  assert.equal(r.randint(0, 10 ** 12), 151282538206);
  assert.equal(r.choice([...'abcdef']), 'f');
  const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  r.shuffle(xs);
  assert.deepEqual(xs, [7, 2, 5, 6, 0, 3, 4, 9, 8, 1]);
  assert.deepEqual(r.sample(Array.from({ length: 100 }, (_, i) => i), 7), [29, 64, 77, 3, 71, 25, 91]);
  assert.deepEqual(r.sample(Array.from({ length: 30 }, (_, i) => i), 3), [20, 22, 17]);
  assert.equal(r.uniform(2, 5), 3.258559462884976);
  assert.deepEqual(r.choices([...'abc'], undefined, 4), ['b', 'a', 'c', 'c']);
  assert.deepEqual(r.choices([...'abc'], [1, 5, 2], 4), ['b', 'b', 'b', 'b']);
});

test('PyRandom seeds like CPython for 0, negatives and seeds wider than 32 bits', () => {
  assert.equal(new PyRandom(2 ** 40 + 7).randint(0, 999), 628);
  assert.equal(new PyRandom(0).random(), 0.8444218515250481);
  assert.equal(new PyRandom(-5).random(), 0.6229016948897019);
});

test('PyRandom state round-trips', () => {
  const a = new PyRandom(7);
  a.random();
  const b = new PyRandom(1);
  b.setState(a.getState());
  assert.equal(a.random(), b.random());
});

test('Python string semantics', () => {
  assert.equal(pyLen('a😀b'), 3);
  assert.equal(pyStrip('\u001f x \u0085'), 'x');
  assert.equal(pyStrip('\ufeffx'), '\ufeffx'); // BOM is not whitespace in Python
  assert.deepEqual(pySplit('  a \t b\nc  '), ['a', 'b', 'c']);
  assert.deepEqual(pySplit('   '), []);
});

test('Python Decimal equality', () => {
  assert.equal(pyDecimalEquals('+01000.00', '1000'), true);
  assert.equal(pyDecimalEquals('1e3', '1000'), true);
  assert.equal(pyDecimalEquals('-0', '0.000'), true);
  assert.equal(pyDecimalEquals('1_000', '1000'), true);
  assert.equal(pyDecimalEquals(' 12 ', '12'), true);
  assert.equal(pyDecimalEquals('-12', '12'), false);
  assert.equal(pyDecimalEquals('NaN', 'NaN'), false);
  assert.equal(pyDecimalEquals('Infinity', 'inf'), true);
  assert.equal(pyDecimalEquals('sNaN', '1'), null);
  assert.equal(pyDecimalEquals('1,000', '1000'), null);
  assert.equal(pyDecimalEquals('12a', '12'), null);
  assert.equal(pyDecimalEquals('.5', '0.50'), true);
  assert.equal(pyDecimalEquals('5.', '5'), true);
});

test('decimalReward and exactOrContainedScore follow reasoning_gym.utils', () => {
  assert.equal(decimalReward('+01,000.00', '1000'), 1);
  assert.equal(decimalReward('The answer is 1000', '1000'), 4 / 18);
  assert.equal(decimalReward('', '1'), 0);
  assert.equal(decimalReward(null, '1'), 0);
  assert.equal(decimalReward('7', '8'), 0);
  assert.equal(exactOrContainedScore('abc', 'abc'), 1);
  assert.equal(exactOrContainedScore('xabc', 'abc'), 0.75);
  assert.equal(exactOrContainedScore(undefined, 'abc'), 0);
});

test('extractAnswer takes the last tagged answer and trims one whitespace inside tags', () => {
  assert.equal(extractAnswer('<answer>1</answer> then <answer> 2 </answer>'), '2');
  assert.equal(extractAnswer('no tags'), null);
  assert.equal(extractAnswer('<answer>\n a\nb \n</answer>'), 'a\nb');
  assert.equal(extractAnswer('<answer>  x  </answer>', 'answer', false), ' x ');
  assert.equal(extractAnswer('<final>9</final>', 'final'), '9');
});

test('renderPrompt fills {question} and rejects unknown placeholders', () => {
  assert.equal(renderPrompt('Q: {question} {{ok}}', '1+1'), 'Q: 1+1 {ok}');
  assert.throws(() => renderPrompt('{questoin}', 'x'), /unknown placeholder \{questoin\}/);
});
