// `musketeers score` end to end: the DESIGN.md contract (one JSON line per input line, in order, with
// "score"; gsm8k lines carry "strict" and "flexible"), malformed lines named by number, --skip-invalid,
// nothing written on failure, exit codes.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { runCli, spawnCli, tempDir } from '../helpers/cli.js';

// An entry exactly as Python reasoning_gym's chain_sum writes it (our own numbers).
const RG_CHAIN_SUM = {
  question: 'State the final answer to the following arithmetic problem: 12 + 30 - 2 =',
  answer: '40',
  metadata: { source_dataset: 'chain_sum', source_index: 3, num_terms: 3, num_digits: 2, expression: '12 + 30 - 2', difficulty: { num_terms: [2, 6], num_digits: [1, 4] } },
};
const GSM8K_ENTRY = { question: 'Ann has 3 boxes of 4 pens. How many pens?', answer: 'She has 3 * 4 = 12 pens.\n#### 12' };

function lines(...objs: unknown[]): string {
  return objs.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n') + '\n';
}

function inputFile(text: string): string {
  const f = join(tempDir(), 'in.jsonl');
  writeFileSync(f, text);
  return f;
}

test('scores Reasoning Gym entries with partial credit and gsm8k with both filters, in order', async () => {
  const file = inputFile(
    lines(
      { entry: RG_CHAIN_SUM, candidate: '40' },
      { entry: RG_CHAIN_SUM, candidate: '+040.0' }, // Decimal equality -> 1.0
      { entry: RG_CHAIN_SUM, candidate: 'x = 40' }, // containment: len("40")/len("x = 40") = 2/6
      { entry: RG_CHAIN_SUM, candidate: null, id: 'no-answer' },
      '',
      { task: 'gsm8k', entry: GSM8K_ENTRY, candidate: 'So 3*4 = 12.\n#### 12' },
      { task: 'gsm8k', entry: GSM8K_ENTRY, candidate: 'The answer is 12.' },
    ),
  );
  const r = await runCli('score', '--input', file);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(out.map((o) => o.line), [1, 2, 3, 4, 6, 7]);
  assert.deepEqual(out.map((o) => o.score), [1, 1, 2 / 6, 0, 1, 0]);
  assert.equal(out[3].id, 'no-answer');
  assert.equal(out[0].task, 'chain_sum');
  assert.deepEqual([out[4].strict, out[4].flexible], [1, 1]);
  assert.deepEqual([out[5].strict, out[5].flexible], [0, 1]);
  assert.equal(out[5].strict_extracted, '[invalid]');

  const flexible = await runCli('score', '--input', file, '--gsm8k-mode', 'flexible');
  assert.equal(JSON.parse(flexible.stdout.trim().split('\n')[5]).score, 1);
});

test('--extract-answer scores the last <answer> tag of full completions', async () => {
  const file = inputFile(lines({ entry: RG_CHAIN_SUM, candidate: 'think <answer>3</answer> no, <answer> 40 </answer>' }, { entry: RG_CHAIN_SUM, candidate: 'no tags: 40' }));
  const r = await runCli('score', '--input', file, '--extract-answer');
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(out.map((o) => [o.score, o.extracted]), [[1, '40'], [0, null]]);
});

test('malformed lines: error names every bad line, exit 1, nothing written', async () => {
  const file = inputFile(lines({ entry: RG_CHAIN_SUM, candidate: '40' }, '{not json', { entry: RG_CHAIN_SUM }, { entry: { question: 'q', answer: '1' }, candidate: '1' }, { entry: RG_CHAIN_SUM, candidate: 40 }, { task: 'chain_summ', entry: RG_CHAIN_SUM, candidate: '1' }, { entry: RG_CHAIN_SUM, candidate: '1', extra: 1 }));
  const outFile = join(tempDir(), 'out.jsonl');
  const r = await runCli('score', '--input', file, '--output', outFile);
  assert.equal(r.code, 1);
  assert.equal(existsSync(outFile), false);
  assert.match(r.message, /6 of 7 lines .* are invalid; nothing was written/);
  assert.match(r.message, /in\.jsonl:2: not valid JSON/);
  assert.match(r.message, /in\.jsonl:3: missing "candidate"/);
  assert.match(r.message, /in\.jsonl:4: no task/);
  assert.match(r.message, /in\.jsonl:5: "candidate" must be a string or null, got number/);
  assert.match(r.message, /in\.jsonl:6: unknown task 'chain_summ'. Did you mean 'chain_sum'/);
  assert.match(r.message, /in\.jsonl:7: unknown key\(s\) "extra"/);
});

test('--skip-invalid keeps every valid line and reports the rest', async () => {
  const file = inputFile(lines({ entry: RG_CHAIN_SUM, candidate: '40' }, 'garbage', { entry: RG_CHAIN_SUM, candidate: '41' }));
  const outFile = join(tempDir(), 'out.jsonl');
  const r = await runCli('score', '--input', file, '--output', outFile, '--skip-invalid');
  assert.equal(r.code, 0);
  const out = readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(out.map((o) => [o.line, o.score]), [[1, 1], [3, 0]]);
});

test('usage errors exit 2', async () => {
  assert.equal((await runCli('score')).code, 2);
  assert.equal((await runCli('score', '--input', '/nonexistent.jsonl')).code, 2);
  const file = inputFile(lines({ entry: RG_CHAIN_SUM, candidate: '40' }));
  assert.equal((await runCli('score', '--input', file, '--gsm8k-mode', 'loose')).code, 2);
});

test('the real binary: tasks sample | score round trip gives 1.0 everywhere', () => {
  const sample = spawnCli(['--json', 'tasks', 'sample', 'products', '-n', '4', '--seed', '5']);
  assert.equal(sample.code, 0, sample.stderr);
  const entries = sample.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const file = inputFile(lines(...entries.map((e) => ({ entry: e, candidate: e.answer }))));
  const scored = spawnCli(['--json', 'score', '--input', file]);
  assert.equal(scored.code, 0, scored.stderr);
  assert.deepEqual(scored.stdout.trim().split('\n').map((l) => JSON.parse(l).score), [1, 1, 1, 1]);
  const log = JSON.parse(scored.stderr.trim().split('\n').pop()!);
  assert.equal(log.scored, 4);
});
