// Tests of the `fraction_simplification` task port: RG's config defaults and checks, the same items as
// RG's generator and RG's scorer (values printed by CPython running RG's own generation and scoring code).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fractionSimplificationTask as task } from '../../tasks/arithmetic/fraction_simplification.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => task.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = task.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

test('fraction_simplification: config defaults equal Reasoning Gym FractionSimplificationConfig', () => {
  assert.deepEqual(parse({}), {
    seed: 42,
    size: 500,
    min_value: 1,
    max_value: 1000,
    min_factor: 1,
    max_factor: 100,
    styles: ['plain', 'latex_inline', 'latex_frac', 'latex_dfrac'],
  });
});

test('fraction_simplification: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_value: 0 }), /min_value.*positive/);
  assert.match(issues({ min_value: 100, max_value: 50 }), /max_value \(50\) must be > min_value \(100\)/);
  assert.match(issues({ min_value: 50, max_value: 50 }), /max_value/);
  assert.match(issues({ min_factor: 0 }), /min_factor.*at least 1/);
  assert.match(issues({ min_factor: 5, max_factor: 3 }), /max_factor \(3\) must be >= min_factor \(5\)/);
  assert.match(issues({ styles: ['plain', 'mixed'] }), /styles\.1: .*'mixed'.*plain, latex_inline/);
  assert.match(issues({ styles: [] }), /styles must not be empty/);
  assert.match(issues({ max_value: 2 ** 40, max_factor: 2 ** 20 }), /max_value \* max_factor/);
  assert.match(issues({ style: ['plain'] }), /style|unrecognized/i);
  assert.deepEqual(parse({ styles: ['latex_dfrac'] }).styles, ['latex_dfrac']);
});

test('fraction_simplification: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 77 });
  assert.deepEqual(task.generate(config, 12), task.generate(config, 12));
  const questions = new Set(Array.from({ length: 50 }, (_, i) => task.generate(config, i).question));
  assert.ok(questions.size >= 48);
});

test('fraction_simplification: same items as Reasoning Gym for the same seed and index', () => {
  // CPython, RG's FractionSimplificationDataset(FractionSimplificationConfig(seed=42))[i] for i = 0..3:
  // answer, numerator, denominator, simplified_numerator, simplified_denominator, reduction_factor, style
  const expected: Array<[string, number, number, number, number, number, string]> = [
    ['$\\frac{23}{131}$', 92, 524, 23, 131, 4, 'latex_frac'],
    ['$40/293$', 3600, 26370, 40, 293, 90, 'latex_inline'],
    ['419/533', 29330, 37310, 419, 533, 70, 'plain'],
    ['$\\frac{279}{428}$', 17577, 26964, 279, 428, 63, 'latex_frac'],
  ];
  const config = parse({});
  expected.forEach(([answer, num, den, sNum, sDen, factor, style], i) => {
    const entry = task.generate(config, i);
    assert.equal(entry.answer, answer);
    assert.deepEqual(entry.metadata, {
      source_dataset: 'fraction_simplification',
      source_index: i,
      numerator: num,
      denominator: den,
      simplified_numerator: sNum,
      simplified_denominator: sDen,
      reduction_factor: factor,
      style,
      factor,
      difficulty: { value: [1, 1000], factor: [1, 100] },
    });
  });
  assert.ok(task.generate(config, 1).question.includes('$3600/26370$'));
  assert.ok(task.generate(config, 0).question.includes('$\\frac{92}{524}$'));
  // seed 3, values 5..15, factors 3..4: $\dfrac{7}{13}$, $\dfrac{8}{9}$, 9/14, $\frac{7}{15}$
  const c3 = parse({ seed: 3, min_value: 5, max_value: 15, min_factor: 3, max_factor: 4 });
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => task.generate(c3, i).answer),
    ['$\\dfrac{7}{13}$', '$\\dfrac{8}{9}$', '9/14', '$\\frac{7}{15}$'],
  );
});

test('fraction_simplification: RG fallback after ten failed tries is reproduced (not reduced)', () => {
  // CPython, seed 1, values 2..4, factors 1..2: index 103 falls back to 4/8 -> "$\dfrac{2}{4}$" and
  // index 3126 to 3/3 -> "$\frac{3}{3}$" (RG's fallback skips the GCD step).
  const config = parse({ seed: 1, min_value: 2, max_value: 4, min_factor: 1, max_factor: 2 });
  const e = task.generate(config, 103);
  assert.equal(e.answer, '$\\dfrac{2}{4}$');
  assert.equal(e.metadata.numerator, 4);
  assert.equal(e.metadata.denominator, 8);
  assert.equal(task.generate(config, 3126).answer, '$\\frac{3}{3}$');
});

test('fraction_simplification: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 8, min_value: 5, max_value: 60, min_factor: 2, max_factor: 9 });
  const styles = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const entry = task.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'fraction_simplification');
    assert.equal(md.source_index, i);
    for (const v of [md.simplified_numerator, md.simplified_denominator]) assert.ok(v >= 5 && v <= 60);
    assert.ok(md.simplified_numerator <= md.simplified_denominator);
    assert.ok(md.factor >= 2 && md.factor <= 9);
    assert.equal(md.reduction_factor, md.factor);
    assert.equal(md.numerator, md.simplified_numerator * md.factor);
    assert.equal(md.denominator, md.simplified_denominator * md.factor);
    assert.equal(gcd(md.simplified_numerator, md.simplified_denominator), 1);
    assert.deepEqual(md.difficulty, { value: [5, 60], factor: [2, 9] });
    styles.add(md.style);
    assert.equal(task.score(entry.answer, entry), 1);
  }
  assert.equal(styles.size, 4);
});

test('fraction_simplification: RG scorer, partial credit and edge cases', () => {
  // Entry = RG's dataset(seed=42)[0]: 92/524 -> $\frac{23}{131}$. Expected values printed by CPython
  // running RG's FractionSimplificationDataset.score_answer on each candidate.
  const entry = task.generate(parse({}), 0);
  const cases: Array<[string | null | undefined, number]> = [
    ['$\\frac{23}{131}$', 1.0],
    ['23/131', 1.0],
    [' $ 23 / 131 $ ', 1.0],
    ['\\dfrac{23}{131}', 1.0],
    ['\\DFRAC { 23 } { 131 } and more', 1.0], // IGNORECASE, re.match anchors only at the start
    ['92/524', 0.1], // the unreduced fraction
    ['23/524', 0.1], // unreduced denominator
    ['92/131', 0.1], // unreduced numerator
    ['46/262', 0.05], // parsed, wrong
    ['-23/-131', 0.05],
    ['23/131.0', 0.01], // int('131.0') fails -> None -> 0.01
    ['23', 0.01],
    ['', 0.01],
    [null, 0.01], // RG: None.strip() is caught -> 0.01, not 0
    [undefined, 0.01],
    ['٢٣/١٣١', 1.0], // Arabic-Indic digits: Python int() accepts them
    ['\\frac{٢٣}{١٣١}', 1.0], // and re's \d matches them
    ['𝟐𝟑/𝟏𝟑𝟏', 1.0], // mathematical bold digits (astral plane)
    ['+23/+131', 1.0],
    ['2_3/131', 1.0], // int() allows underscores between digits
    ['2 3/131', 0.01],
    ['023/0131', 1.0],
    ['\\frac{0023}{131}', 1.0],
    ['23/131/1', 0.01], // split('/', 1) -> int('131/1') fails
    ['\\frac{23}{131}/5', 1.0],
    ['$$23/131$$', 1.0], // strip('$') removes every leading/trailing '$'
    ['\u00a023/131\u2003', 1.0], // Python whitespace
    ['\u001c23/131', 1.0], // \x1c is whitespace for Python's str.strip
    ['\\frac{23}{131}\u001c', 1.0],
    ['\ufeff23/131', 0.01], // BOM is not Python whitespace
    ['1'.repeat(4301) + '/131', 0.01], // int() refuses more than 4300 digits
    ['\\frac{1' + '0'.repeat(4300) + '}{1}', 0.01],
    ['\\frac{23}{131', 0.01],
    ['\\frac23 / 131', 0.01],
    ['frac{23}{131}', 0.01],
    ['x/y', 0.01],
  ];
  for (const [candidate, expected] of cases) {
    assert.equal(task.score(candidate, entry), expected, JSON.stringify(candidate)?.slice(0, 40));
  }
});

test('fraction_simplification: scorer on entries written by reasoning_gym (JSON) and odd metadata', () => {
  // RG's json.dumps of FractionSimplificationDataset(FractionSimplificationConfig(seed=42))[1]
  // (question text elided; the difficulty tuples become arrays).
  const entry = JSON.parse(
    '{"question": "(reasoning_gym question text)", "answer": "$40/293$", "metadata": {' +
      '"source_dataset": "fraction_simplification", "source_index": 1, "numerator": 3600, "denominator": 26370, ' +
      '"simplified_numerator": 40, "simplified_denominator": 293, "reduction_factor": 90, "style": "latex_inline", ' +
      '"factor": 90, "difficulty": {"value": [1, 1000], "factor": [1, 100]}}}',
  ) as TaskEntry;
  assert.equal(task.score('$40/293$', entry), 1);
  assert.equal(task.score('\\frac{40}{293}', entry), 1);
  assert.equal(task.score('3600/293', entry), 0.1);
  assert.equal(task.score('4/29', entry), 0.05);
  assert.equal(task.score('40 over 293', entry), 0.01);
  assert.deepEqual(task.generate(parse({}), 1).metadata, entry.metadata);

  // CPython, RG's score_answer on hand-made metadata:
  // {} -> KeyError inside the try -> 0.01; floats compare equal to ints (23 == 23.0) -> 1.0;
  // '92/1' with only simplified_numerator and numerator -> 0.1 (short-circuit skips the missing keys);
  // '9/1' with the same -> 0.01 (KeyError on 'denominator').
  const md = (metadata: Record<string, unknown>): TaskEntry => ({ question: 'q', answer: 'x', metadata });
  assert.equal(task.score('23/131', md({})), 0.01);
  assert.equal(task.score('23/131', md({ simplified_numerator: 23.0, simplified_denominator: 131.0 })), 1.0);
  assert.equal(task.score('92/1', md({ simplified_numerator: 23, numerator: 92 })), 0.1);
  assert.equal(task.score('9/1', md({ simplified_numerator: 23, numerator: 92 })), 0.01);
  assert.equal(task.score('23/131', { question: 'q', answer: null } as unknown as TaskEntry), 0.01);
});
