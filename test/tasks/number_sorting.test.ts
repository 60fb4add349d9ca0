// Tests of the `number_sorting` port: RG's config defaults and checks, the same items as RG's generator
// (reference items printed by CPython + numpy running RG's __getitem__), the Python number formatting
// and numpy rounding it relies on, and RG's scorer (reference scores printed by CPython).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { numberSortingTask } from '../../tasks/algorithmic/number_sorting.js';
import { numpyRound, pyFloatRepr, pyJsonLoads, pyLiteralEval } from '../../tasks/algorithmic/py_values.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (raw: unknown) => numberSortingTask.configSchema.parse(raw);
function issues(raw: unknown): string {
  const result = numberSortingTask.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('number_sorting: config defaults equal Reasoning Gym NumberSortingConfig', () => {
  assert.deepEqual(parse({}), {
    seed: 42,
    size: 500,
    min_numbers: 3,
    max_numbers: 10,
    min_decimals: 0,
    max_decimals: 2,
    min_value: -100,
    max_value: 100,
  });
});

test('number_sorting: invalid configs are rejected with messages naming the key', () => {
  assert.match(issues({ min_numbers: 0 }), /min_numbers.*positive/);
  assert.match(issues({ min_numbers: 10, max_numbers: 5 }), /max_numbers \(5\) must be >= min_numbers \(10\)/);
  assert.match(issues({ min_decimals: -1 }), /min_decimals.*non-negative/);
  assert.match(issues({ min_decimals: 3, max_decimals: 1 }), /max_decimals \(1\) must be >= min_decimals \(3\)/);
  assert.match(issues({ min_value: 100, max_value: 0 }), /max_value \(0\) must be > min_value \(100\)/);
  assert.match(issues({ min_value: 5, max_value: 5 }), /max_value/);
  assert.match(issues({ max_value: Infinity }), /max_value/);
});

test('number_sorting: Python float repr and numpy rounding', () => {
  // python3: [repr(x) for x in (1.0, -0.0, 0.1, 1e16, 1.5e16, 1e15, 1e-05, 0.0001, 123456789.125, 2.5e-07, 1e22, -3.492e-05)]
  const cases: Array<[number, string]> = [
    [1, '1.0'], [-0, '-0.0'], [0.1, '0.1'], [1e16, '1e+16'], [1.5e16, '1.5e+16'], [1e15, '1000000000000000.0'],
    [1e-5, '1e-05'], [0.0001, '0.0001'], [123456789.125, '123456789.125'], [2.5e-7, '2.5e-07'], [1e22, '1e+22'],
    [-3.492e-5, '-3.492e-05'], [NaN, 'nan'], [-Infinity, '-inf'],
  ];
  for (const [x, repr] of cases) assert.equal(pyFloatRepr(x), repr);
  // python3 + numpy: np.round(2.5, 0) = 2.0, np.round(3.5, 0) = 4.0, np.round(-0.3, 0) = -0.0,
  // np.round(0.125, 2) = 0.12, np.round(1.005, 2) = 1.0 (1.005 * 100 = 100.49999999999999), np.round(5.5, 400) = nan
  assert.equal(numpyRound(2.5, 0), 2);
  assert.equal(numpyRound(3.5, 0), 4);
  assert.ok(Object.is(numpyRound(-0.3, 0), -0));
  assert.equal(numpyRound(0.125, 2), 0.12);
  assert.equal(numpyRound(1.005, 2), 1);
  assert.ok(Number.isNaN(numpyRound(5.5, 400)));
});

test('number_sorting: deterministic by (seed, index), and items vary', () => {
  const config = parse({ seed: 123 });
  assert.deepEqual(numberSortingTask.generate(config, 7), numberSortingTask.generate(config, 7));
  const answers = new Set(Array.from({ length: 50 }, (_, i) => numberSortingTask.generate(config, i).answer));
  assert.equal(answers.size, 50);
});

test('number_sorting: same items as Reasoning Gym for the same seed and index', () => {
  // CPython + numpy 2.4, RG's NumberSortingDataset(seed=42), items 0-2 (answer, original_numbers, direction):
  const config = parse({});
  const expected: Array<[string, string[], string]> = [
    ["['-95.0', '-51.0', '47.29', '48.13']", ['-95.0', '-51.0', '47.29', '48.13'], 'ascending'],
    ["['91.9', '34.0', '-43.0']", ['-43.0', '91.9', '34.0'], 'descending'],
    [
      "['72.0', '38.7', '37.8', '18.2', '14.0', '4.0', '-24.1', '-68.66', '-94.0']",
      ['4.0', '72.0', '-24.1', '-94.0', '14.0', '-68.66', '37.8', '38.7', '18.2'],
      'descending',
    ],
  ];
  expected.forEach(([answer, original, direction], i) => {
    const entry = numberSortingTask.generate(config, i);
    assert.equal(entry.answer, answer);
    assert.deepEqual(entry.metadata.original_numbers, original);
    assert.equal(entry.metadata.direction, direction);
    assert.equal(entry.metadata.numbers, original.length);
    assert.ok(entry.question.includes(`${direction} order: ${original.join(', ')}`));
  });
  // Signed zeros and stable sorting: seed 13, 0 decimals, values in [-2, 2], item 0 (RG):
  // original ['-1.0', '1.0', '1.0', '-1.0', '1.0', '-0.0', '2.0'] -> ['-1.0', '-1.0', '-0.0', '1.0', '1.0', '1.0', '2.0']
  const z = numberSortingTask.generate(parse({ seed: 13, min_decimals: 0, max_decimals: 0, min_value: -2, max_value: 2 }), 0);
  assert.equal(z.answer, "['-1.0', '-1.0', '-0.0', '1.0', '1.0', '1.0', '2.0']");
  // Exponent notation: seed 12, 3-9 decimals in [-0.001, 0.001], item 4 starts ['-6e-05', '-0.000166', ...] (RG)
  const small = numberSortingTask.generate(parse({ seed: 12, min_decimals: 3, max_decimals: 9, min_value: -0.001, max_value: 0.001 }), 4);
  assert.deepEqual((small.metadata.original_numbers as string[]).slice(0, 2), ['-6e-05', '-0.000166']);
  // seed 14, values in [-1e18, 1e18], item 0 (RG): ['2.3175715956964378e+17', '-4.5776954687935366e+17', ...]
  const big = numberSortingTask.generate(parse({ seed: 14, min_decimals: 0, max_decimals: 3, min_value: -1e18, max_value: 1e18 }), 0);
  assert.deepEqual((big.metadata.original_numbers as string[]).slice(0, 2), ['2.3175715956964378e+17', '-4.5776954687935366e+17']);
});

test('number_sorting: metadata respects the config over 200 items and the oracle scores 1', () => {
  const config = parse({ seed: 5, min_numbers: 2, max_numbers: 12, min_decimals: 1, max_decimals: 3, min_value: -10, max_value: 10 });
  const counts = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const entry = numberSortingTask.generate(config, i);
    const md = entry.metadata as Record<string, any>;
    assert.equal(md.source_dataset, 'number_sorting');
    assert.equal(md.source_index, i);
    assert.ok(md.numbers >= 2 && md.numbers <= 12);
    assert.equal(md.original_numbers.length, md.numbers);
    counts.add(md.numbers);
    for (const s of md.original_numbers as string[]) {
      const decimals = s.includes('.') ? s.split('.')[1].length : 0;
      assert.ok(decimals >= 1 && decimals <= 3, s);
      assert.ok(Number(s) >= -10 && Number(s) <= 10);
    }
    const values = (md.sorted_numbers as string[]).map(Number);
    const sorted = [...values].sort((a, b) => (md.direction === 'ascending' ? a - b : b - a));
    assert.deepEqual(values, sorted);
    assert.deepEqual([...md.sorted_numbers].sort(), [...md.original_numbers].sort());
    assert.equal(entry.answer, `[${md.sorted_numbers.map((s: string) => `'${s}'`).join(', ')}]`);
    assert.deepEqual(md.difficulty, { numbers: [2, 12], decimals: [1, 3], value: [-10, 10] });
    assert.equal(numberSortingTask.score(entry.answer, entry), 1);
  }
  assert.equal(counts.size, 11);
});

test("number_sorting: scores equal RG's score_answer", () => {
  // The mock entry of RG's own tests, in RG's JSON shape (answer is a Python list repr, not JSON).
  const entry = JSON.parse(
    '{"question": "Sort ascending.", "answer": "[\'-97.8\', \'-95.7\', \'-92.8\', \'-83.6\', \'-16.5\', \'61.5\', \'71.1\']", ' +
      '"metadata": {"source_dataset": "number_sorting", "source_index": 0, "direction": "ascending", ' +
      '"original_numbers": ["-16.5", "-83.6", "-95.7", "-97.8", "61.5", "71.08", "-92.85"], ' +
      '"sorted_numbers": ["-97.8", "-95.7", "-92.8", "-83.6", "-16.5", "61.5", "71.1"], "numbers": 7, ' +
      '"difficulty": {"numbers": [3, 10], "decimals": [0, 2], "value": [-100.0, 100.0]}}}',
  ) as TaskEntry;
  // python3, RG's NumberSortingDataset.score_answer on this entry:
  const cases: Array<[string | null, number]> = [
    ["['-97.8', '-95.7', '-92.8', '-83.6', '-16.5', '61.5', '71.1']", 1.0],
    ["['-97.8', '-95.7', '-92.85', '-83.6', '-16.5', '61.5', '71.08']", 1.0], // within the tolerance of 1
    ["['-16.5', '-83.6', '-92.85', '-95.7', '-97.8', '61.5', '71.08']", 0.0], // not sorted
    ["['-97.8', '-95.7', '-92.85', '-83.6', '-16.5', '61.5']", 0.0], // wrong length
    ["'-97.8', '-95.7', '-92.85', '-83.6', '-16.5', '61.5', '71.08'", 0.0], // not a list
    [null, 0.0],
    ["['-97.8', '-95.7', '-91.0', '-83.6', '-16.5', '61.5', '72.0']", 0.0], // 1.8 off
    ['[-97.8, -95.7, -92.8, -83.6, -16.5, 61.5, 71.1]', 1.0], // bare numbers are fine
    ['["-97.8","-95.7","-92.8","-83.6","-16.5","61.5","71.1"]', 1.0],
    // Surprising but RG: NaN passes both the order check and the tolerance check.
    ["['nan', 'nan', 'nan', 'nan', 'nan', 'nan', 'nan']", 1.0],
    ["['-97.8', '-95.7', 'nan', '-83.6', '-16.5', '61.5', '71.1']", 1.0],
    ['[-97.8, -95.7, -92.8, -83.6, -16.5, 61.5, NaN]', 1.0],
    ["['-97.8', '-95.7', '-92.8', '-83.6', '-16.5', '61.5', ' 7_1.1 ']", 1.0], // Python float() syntax
    ["['-97.8', '-95.7', '-92.8', '-83.6', '-16.5', '61.5', '71.1',]", 0.0], // JSON has no trailing comma
    ["['-97.8', '-95.7', '-92.8', '-83.6', '-16.5', '61.5', 'seventy']", 0.0],
  ];
  for (const [candidate, score] of cases) assert.equal(numberSortingTask.score(candidate, entry), score, String(candidate));
  // python3: expected ['-1', '0'] ascending: "[false, true]" -> 1.0 (bools are numbers), "[0, 111...1 (400 digits)]" -> 0.0
  // (OverflowError in float()), "[0, 1e999]" -> 0.0 (inf is 1e308+ away)
  const tf: TaskEntry = { question: '', answer: "['-1', '0']", metadata: { direction: 'ascending' } };
  assert.equal(numberSortingTask.score('[false, true]', tf), 1.0);
  assert.equal(numberSortingTask.score(`[0, ${'1'.repeat(400)}]`, tf), 0.0);
  assert.equal(numberSortingTask.score('[0, 1e999]', tf), 0.0);
  // python3: RG's descending mock entry accepts the unrounded numbers -> 1.0
  const desc: TaskEntry = {
    question: '',
    answer: "['71.1', '61.5', '-16.5', '-83.6', '-92.8', '-95.7', '-97.8']",
    metadata: { direction: 'descending' },
  };
  assert.equal(numberSortingTask.score("['71.08', '61.5', '-16.5', '-83.6', '-92.85', '-95.7', '-97.8']", desc), 1.0);
  // Where RG raises inside its try (missing direction, unparsable oracle), the score is 0.
  assert.equal(numberSortingTask.score("['1']", { question: '', answer: "['1']", metadata: {} }), 0);
  assert.equal(numberSortingTask.score("['1']", { question: '', answer: 'oops', metadata: { direction: 'ascending' } }), 0);
});

test('number_sorting: the json.loads and literal-eval emulations', () => {
  assert.deepEqual(pyJsonLoads(' [1, 2.0, "x", NaN, -Infinity] '), {
    type: 'list',
    items: [
      { type: 'int', value: 1n },
      { type: 'float', value: 2 },
      { type: 'str', value: 'x' },
      { type: 'float', value: NaN },
      { type: 'float', value: -Infinity },
    ],
  });
  for (const bad of ['[1,]', '[01]', "['a']", '\ufeff[1]', '[1] x', '{"a" 1}', '[.5]', '"\u0001"']) {
    assert.equal(pyJsonLoads(bad), null, bad);
  }
  assert.deepEqual(pyLiteralEval("('a', -2_0, 1.5e1,)"), {
    type: 'tuple',
    items: [
      { type: 'str', value: 'a' },
      { type: 'int', value: -20n },
      { type: 'float', value: 15 },
    ],
  });
  assert.deepEqual(pyLiteralEval('(7)'), { type: 'int', value: 7n });
  // python3: eval raises SyntaxError/NameError for each of these
  for (const bad of ['[1 2]', "['a'", 'x', '[01]', 'e5']) assert.equal(pyLiteralEval(bad), null, bad);
  // Outside the supported subset (Python evaluates it, but float() of a complex raises, so the score is 0 anyway).
  assert.equal(pyLiteralEval('[1j]'), null);
});
