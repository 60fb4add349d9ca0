// GSM8K: lm-evaluation-harness `gsm8k` scoring (strict-match and flexible-extract) and the local
// loader (JSONL, single parquet file, HF hub directory layout, flat shards, OpenAI layout).
//
// Expected scores were derived by reading the harness (`lm_eval/tasks/gsm8k/gsm8k.yaml`,
// `lm_eval/filters/extraction.py` RegexFilter, `lm_eval/api/metrics.py` exact_match_hf_evaluate)
// and confirmed by running a local Python copy of that filter + metric code on the same inputs.
// Recap of the rules the comments below refer to:
//   strict   = first match of `#### (-?[0-9.,]+)`, else "[invalid]"
//   flexible = last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`, first non-empty group, else "[invalid]"
//   exact_match removes `,` then `$` then `(?s).*#### ` then `\.$` from prediction AND reference,
//   lower-cases both, compares.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { snappyUncompress } from 'hyparquet';

import {
  DatasetFormatError,
  DatasetNotFoundError,
  GSM8K_STOP_SEQUENCES,
  GSM8K_TASK_NAME,
  gsm8kExactMatch,
  gsm8kTargetNumber,
  harnessRegexFilter,
  loadGsm8k,
  scoreGsm8k,
  scoreGsm8kCompletion,
  truncateAtStops,
  GSM8K_FLEXIBLE_PATTERN,
  type Gsm8kEntry,
} from '../../tasks/gsm8k/index.js';
import { snappyLiteralOnly, writeStringParquet, type TestCodec } from '../helpers/parquet-writer.js';

// dist/test/tasks/ -> repository root -> test/fixtures/gsm8k (fixtures are not copied by tsc).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'gsm8k');

type Case = [completion: string | null, reference: string, strict: number, flexible: number, why: string];

const SCORE_CASES: Case[] = [
  ['Tom has 40 + 2 = 42 apples.\n#### 42', 'Tom has 40+2=42.\n#### 42', 1, 1,
    'strict finds "42"; flexible\'s last match is "42"; the reference reduces to "42" via (?s).*#### '],
  ['The answer is 42.', 'So 42\n#### 42', 0, 1,
    'no "#### " -> strict "[invalid]"; flexible matches "42." (2+ chars of [$0-9.,]) and \\.$ drops the dot'],
  ['Total: $1,234.00', 'x\n#### 1234', 0, 0,
    'flexible extracts "$1,234.00" -> "1234.00" after removing , and $; only ONE trailing dot goes, "00" stays: no match'],
  ['Total: $1,234', 'x\n#### 1234', 0, 1, 'flexible "$1,234" -> "1234"'],
  ['#### $1,234', 'x\n#### 1234', 0, 1,
    'strict needs a digit, "-", "." or "," right after "#### ", and "$" is none of them -> "[invalid]"; flexible "$1,234"'],
  ['She loses 5, so she has -3 left. #### -3', '#### -3', 1, 1, 'negative numbers: both "-3"'],
  ['She has -3', '#### -3', 0, 1,
    'flexible: "-3" cannot be group 1 (needs 2 chars after the optional "-"), so group 2 "-3" matches'],
  ['3 apples and 5 pears. Total 8', '#### 8', 0, 1,
    'flexible takes the LAST match (group_select -1): matches are "3", "5.", "8"'],
  ['The answer is 8. Wait..', '#### 8', 0, 0,
    'flexible\'s last match is ".." (two chars of [$0-9.,]); \\.$ leaves "." which is not "8"'],
  ['The answer is 8...', '#### 8', 0, 0, '"8..." loses only its last dot -> "8.."'],
  ['#### 7\n#### 8', '#### 8', 0, 1, 'strict takes the FIRST "#### " match (7); flexible the last (8)'],
  ['#### 8.', '#### 8', 1, 1, 'a trailing period is removed by \\.$ from the extracted "8."'],
  ['#### 1,000.', '#### 1000', 1, 1, '"1,000." -> "1000." -> "1000"'],
  ['#### 4.2', '#### 4.2', 1, 1, 'decimals compare as text'],
  ['answer 0.5', '#### .5', 0, 0, 'no numeric normalisation: "0.5" is not ".5"'],
  ['#### . 8', '#### 8', 0, 1, 'strict extracts "." (a single allowed char) which becomes ""; flexible finds "8"'],
  ['####42', '#### 42', 0, 1, 'strict needs the space after ####'],
  ['2023-10-05', '#### 5', 0, 0, 'flexible splits a date into "2023", "-10", "-05"; the last is "-05"'],
  ['x is 5,\n', '#### 5', 0, 1, 'flexible "5," -> "5"'],
  ['costs $5', '#### 5', 0, 1, 'flexible "$5" is two chars of [$0-9.,] -> "5"'],
  ['#### 5\n', '#### 5', 1, 1, 'the match itself never includes the newline'],
  ['no numbers here', '#### 8', 0, 0, 'both filters fall back to "[invalid]"'],
  ['', '#### 8', 0, 0, 'empty completion: "[invalid]" twice'],
  [null, '#### 8', 0, 0, 'a non-string response is treated as "" by the harness'],
  ['#### 42', '42', 1, 1, 'a bare-number reference works: (?s).*#### does not match it'],
  ['#### 42', '####  42', 0, 0, 'the reference keeps the 2nd space after "#### " is removed: " 42" != "42"'],
  ['#### 42', '#### 42.\n', 0, 0,
    'reference "42.\\n": Python $ matches before the final newline, so the dot goes, but "42\\n" != "42"'],
  ['#### 18', 'Janet-style 16-3-4=<<16-3-4=9>>9; 9*2=$<<9*2=18>>18\n#### 18', 1, 1,
    'calculator annotations and $ in the reasoning are all cut by (?s).*#### '],
  ['#### 6,350', 'Total 3,500 + 2,850 = $6,350.\n#### 6,350', 1, 1, 'commas removed on both sides'],
];

describe('GSM8K scoring (lm-evaluation-harness gsm8k semantics)', () => {
  for (const [completion, reference, strict, flexible, why] of SCORE_CASES) {
    test(`${JSON.stringify(completion)} vs ${JSON.stringify(reference)}: ${why}`, () => {
      const got = scoreGsm8k(completion, reference);
      assert.equal(got.strict, strict, `strict (extracted ${JSON.stringify(got.strictExtracted)})`);
      assert.equal(got.flexible, flexible, `flexible (extracted ${JSON.stringify(got.flexibleExtracted)})`);
    });
  }

  test('extracted strings are the raw filter outputs, before exact_match normalisation', () => {
    assert.deepEqual(scoreGsm8k('Total: $1,234.00', '#### 1234'), {
      strict: 0,
      flexible: 0,
      strictExtracted: '[invalid]',
      flexibleExtracted: '$1,234.00',
    });
    assert.equal(scoreGsm8k('#### 1,000.', '#### 1000').strictExtracted, '1,000.');
    assert.equal(scoreGsm8k('The answer is 8. Wait..', '#### 8').flexibleExtracted, '..');
    assert.equal(scoreGsm8k('2023-10-05', '#### 5').flexibleExtracted, '-05');
  });

  test('tuple matches keep the first non-empty group; non-strings behave as ""', () => {
    // findall on `(-?[$0-9.,]{2,})|(-?[0-9]+)` gives ("12", "") and ("", "7"): group_select 0 -> "12".
    assert.equal(harnessRegexFilter('12 and 7', GSM8K_FLEXIBLE_PATTERN, 0), '12');
    assert.equal(harnessRegexFilter('12 and 7', GSM8K_FLEXIBLE_PATTERN, -1), '7');
    assert.equal(harnessRegexFilter(undefined, GSM8K_FLEXIBLE_PATTERN, -1), '[invalid]');
    assert.equal(harnessRegexFilter('none', GSM8K_FLEXIBLE_PATTERN, -1, 'FALLBACK'), 'FALLBACK');
    // Python would raise IndexError for an out-of-range group_select.
    assert.throws(() => harnessRegexFilter('12', GSM8K_FLEXIBLE_PATTERN, 3), RangeError);
  });

  test('exact_match: case-insensitive, Python `$`, numpy NUL stripping', () => {
    // ignore_case: both sides lower-cased (a filtered prediction never has letters; the metric does).
    assert.equal(gsm8kExactMatch('ABC', 'abc'), 1);
    assert.equal(gsm8kExactMatch('[INVALID]', '#### [invalid]'), 1);
    // `\.$` in Python also matches a dot right before a final "\n": "42.\n" -> "42\n" on both sides.
    assert.equal(gsm8kExactMatch('42\n', '42.\n'), 1);
    // ...but not before an earlier newline: "a.\n." loses only its last dot -> "a.\n" vs "a\n".
    assert.equal(gsm8kExactMatch('a.\n.', 'a.\n'), 0);
    // Only one trailing dot is removed: "5.." -> "5." vs "5".
    assert.equal(gsm8kExactMatch('5..', '5.'), 0);
    // The greedy (?s).*#### keeps only what follows the LAST marker, across newlines.
    assert.equal(gsm8kExactMatch('4', '#### 3\n#### 4'), 1);
    // numpy `<U` arrays drop trailing NULs after the first re.sub, so "5.\0" -> "5." -> "5".
    assert.equal(gsm8kExactMatch('5.\0', '5'), 1);
  });

  test('gsm8kTargetNumber: text after the last "#### ", commas removed', () => {
    assert.equal(gsm8kTargetNumber('a\n#### 6,350'), '6350');
    assert.equal(gsm8kTargetNumber('#### -5'), '-5');
    assert.equal(gsm8kTargetNumber('#### 1\n#### 2 '), '2');
    assert.equal(gsm8kTargetNumber('no marker'), null);
  });

  test('truncateAtStops cuts at the earliest stop, ignores empty stops, defaults to the harness list', () => {
    assert.deepEqual([...GSM8K_STOP_SEQUENCES], ['Question:', '</s>', '<|im_end|>']);
    assert.equal(truncateAtStops('x #### 3</s>\n\nQuestion: next'), 'x #### 3');
    assert.equal(truncateAtStops('a Question: b </s>'), 'a ');
    assert.equal(truncateAtStops('a<|im_end|>b'), 'a');
    assert.equal(truncateAtStops('no stop'), 'no stop');
    assert.equal(truncateAtStops('a<eos>b', ['', '<eos>']), 'a');
  });

  test('scoreGsm8kCompletion picks strict by default, flexible on request, uses full_answer', () => {
    const entry = { answer: '42', metadata: { full_answer: 'It is 6 * 7.\n#### 42' } };
    assert.deepEqual(
      { ...scoreGsm8kCompletion('The answer is 42.', entry) },
      { strict: 0, flexible: 1, strictExtracted: '[invalid]', flexibleExtracted: '42.', score: 0 },
    );
    assert.equal(scoreGsm8kCompletion('The answer is 42.', entry, 'flexible').score, 1);
    assert.equal(scoreGsm8kCompletion('#### 42', { answer: '42', metadata: {} }).score, 1);
    assert.throws(() => scoreGsm8kCompletion('x', entry, 'loose' as never), /strict or flexible/);
    assert.equal(GSM8K_TASK_NAME, 'gsm8k');
  });
});

describe('GSM8K loader', () => {
  let tmp: string;
  let expectedTest: { question: string; answer: string }[];

  const toEntries = (rows: { question: string; answer: string }[], split: 'train' | 'test'): Gsm8kEntry[] =>
    rows.map((r, i) => ({
      question: r.question,
      answer: gsm8kTargetNumber(r.answer) as string,
      metadata: { source_dataset: 'gsm8k', source_index: i, split, full_answer: r.answer },
    }));

  const readJsonlRows = async (file: string) =>
    (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { question: string; answer: string });

  const parquetOf = (rows: { question: string; answer: string }[], codecs: [TestCodec, TestCodec]) =>
    writeStringParquet([
      { name: 'question', values: rows.map((r) => r.question), codec: codecs[0] },
      { name: 'answer', values: rows.map((r) => r.answer), codec: codecs[1] },
    ]);

  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'musketeers-gsm8k-'));
    expectedTest = await readJsonlRows(path.join(FIXTURES, 'test.jsonl'));
    const train = await readJsonlRows(path.join(FIXTURES, 'train.jsonl'));
    // HF hub layout: <dir>/main/{test,train}-00000-of-00001.parquet (snappy and zstd column chunks).
    await mkdir(path.join(tmp, 'hf', 'main'), { recursive: true });
    await writeFile(path.join(tmp, 'hf', 'main', 'test-00000-of-00001.parquet'), parquetOf(expectedTest, ['SNAPPY', 'ZSTD']));
    await writeFile(path.join(tmp, 'hf', 'main', 'train-00000-of-00001.parquet'), parquetOf(train, ['UNCOMPRESSED', 'SNAPPY']));
    // Flat shards, written out of order on purpose: they must be read in name order.
    await mkdir(path.join(tmp, 'shards'));
    await writeFile(path.join(tmp, 'shards', 'test-00001-of-00002.parquet'), parquetOf(expectedTest.slice(4), ['ZSTD', 'ZSTD']));
    await writeFile(path.join(tmp, 'shards', 'test-00000-of-00002.parquet'), parquetOf(expectedTest.slice(0, 4), ['UNCOMPRESSED', 'UNCOMPRESSED']));
    // OpenAI repository layout.
    await mkdir(path.join(tmp, 'openai', 'grade_school_math', 'data'), { recursive: true });
    await copyFile(path.join(FIXTURES, 'test.jsonl'), path.join(tmp, 'openai', 'grade_school_math', 'data', 'test.jsonl'));
    await mkdir(path.join(tmp, 'empty'));
  });

  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test('JSONL file: entries in Reasoning Gym shape', async () => {
    const entries = await loadGsm8k(path.join(FIXTURES, 'test.jsonl'));
    assert.equal(entries.length, 6);
    assert.deepEqual(entries, toEntries(expectedTest, 'test'));
    assert.equal(entries[2].answer, '6350'); // "#### 6,350" -> commas removed
    assert.equal(entries[3].answer, '-5');
    assert.match(entries[5].question, /^Léa's garden .*"the great tulip disaster"/);
    assert.equal(entries[5].metadata.source_index, 5);
  });

  test('single parquet file, HF directory layout, flat shards and OpenAI layout give identical entries', async () => {
    const fromJsonl = await loadGsm8k(path.join(FIXTURES, 'test.jsonl'));
    const fromFile = await loadGsm8k(path.join(tmp, 'hf', 'main', 'test-00000-of-00001.parquet'));
    const fromHfDir = await loadGsm8k(path.join(tmp, 'hf'), { split: 'test' });
    const fromShards = await loadGsm8k(path.join(tmp, 'shards'), { split: 'test' });
    const fromOpenAi = await loadGsm8k(path.join(tmp, 'openai'), { split: 'test' });
    const fromFixtureDir = await loadGsm8k(FIXTURES, { split: 'test' });
    for (const got of [fromFile, fromHfDir, fromShards, fromOpenAi, fromFixtureDir]) assert.deepEqual(got, fromJsonl);
  });

  test('split picks the file in a directory; limit keeps the first entries', async () => {
    const train = await loadGsm8k(path.join(tmp, 'hf'), { split: 'train' });
    assert.deepEqual(train.map((e) => e.answer), ['72', '625']);
    assert.equal(train[0].metadata.split, 'train');
    const trainJsonl = await loadGsm8k(FIXTURES, { split: 'train' });
    assert.deepEqual(trainJsonl, train);
    const limited = await loadGsm8k(path.join(tmp, 'shards'), { limit: 5 });
    assert.deepEqual(limited, (await loadGsm8k(path.join(FIXTURES, 'test.jsonl'))).slice(0, 5));
    assert.deepEqual(await loadGsm8k(path.join(tmp, 'hf'), { limit: 0 }), []);
    await assert.rejects(loadGsm8k(path.join(tmp, 'hf'), { limit: -1 }), /non-negative integer/);
  });

  test('missing file or directory: DatasetNotFoundError naming every place and how to get the data', async () => {
    const missing = path.join(tmp, 'nope');
    await assert.rejects(loadGsm8k(missing), (err: unknown) => {
      assert.ok(err instanceof DatasetNotFoundError);
      assert.deepEqual(err.paths, [missing]);
      assert.ok(err.message.includes(missing));
      assert.match(err.message, /openai\/gsm8k/);
      assert.match(err.message, /grade-school-math/);
      assert.match(err.message, /--data PATH/);
      assert.match(err.message, /data\.gsm8k\.path/);
      return true;
    });
    const empty = path.join(tmp, 'empty');
    await assert.rejects(loadGsm8k(empty, { split: 'train' }), (err: unknown) => {
      assert.ok(err instanceof DatasetNotFoundError);
      const expected = [
        path.join(empty, 'main', 'train-*.parquet'),
        path.join(empty, 'train-*.parquet'),
        path.join(empty, 'train.jsonl'),
        path.join(empty, 'grade_school_math', 'data', 'train.jsonl'),
      ];
      for (const p of expected) {
        assert.ok(err.paths.includes(p), `paths lists ${p}`);
        assert.ok(err.message.includes(p), `message names ${p}`);
      }
      return true;
    });
  });

  test('malformed JSONL: the error names the file, the line number and the problem', async () => {
    const file = path.join(tmp, 'bad.jsonl');
    const good = JSON.stringify({ question: 'q', answer: 'a\n#### 1' });
    const cases: [string, RegExp][] = [
      ['{"question": "q", "answer": ', /invalid JSON/],
      [JSON.stringify({ question: 'q' }), /missing field "answer"/],
      [JSON.stringify({ question: 3, answer: '#### 1' }), /field "question" must be a string, got number/],
      [JSON.stringify({ question: 'q', answer: '42' }), /no "#### " final-answer marker/],
      ['[1, 2]', /expected a JSON object/],
    ];
    for (const [badLine, why] of cases) {
      // Line 1 good, line 2 blank (ignored, but still counted), line 3 bad.
      await writeFile(file, `${good}\n\n${badLine}\n${good}\n`);
      await assert.rejects(loadGsm8k(file), (err: unknown) => {
        assert.ok(err instanceof DatasetFormatError);
        assert.equal(err.file, file);
        assert.equal(err.line, 3);
        assert.ok(err.message.startsWith(`${file}:3: `), err.message);
        assert.match(err.message, why);
        return true;
      });
    }
    // Blank lines and CRLF endings alone are fine.
    await writeFile(file, `\r\n${good}\r\n  \n${good}`);
    assert.equal((await loadGsm8k(file)).length, 2);
  });

  test('parquet without the expected columns or with a bad row: DatasetFormatError', async () => {
    const noAnswer = path.join(tmp, 'no-answer.parquet');
    await writeFile(noAnswer, writeStringParquet([{ name: 'question', values: ['q'] }, { name: 'solution', values: ['#### 1'] }]));
    await assert.rejects(loadGsm8k(noAnswer), /no "answer" column \(columns: question, solution\)/);
    const badRow = path.join(tmp, 'bad-row.parquet');
    await writeFile(badRow, parquetOf([{ question: 'q', answer: '#### 1' }, { question: 'q', answer: 'none' }], ['UNCOMPRESSED', 'UNCOMPRESSED']));
    await assert.rejects(loadGsm8k(badRow), (err: unknown) => err instanceof DatasetFormatError && err.row === 1 && /row 1/.test(err.message));
  });

  test('test helper: literal-only snappy decodes with a real snappy decoder', () => {
    const data = new TextEncoder().encode('ab'.repeat(40000));
    const out = new Uint8Array(data.length);
    snappyUncompress(snappyLiteralOnly(data), out);
    assert.deepEqual(out, data);
  });
});
