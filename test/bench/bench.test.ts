// The benchmark harness runs and writes well-formed JSON (no timing thresholds: speed is reported by
// `npm run bench`, never asserted).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { parseArgs, runBench } from '../../bench/run.js';
import { tempDir } from '../helpers/tmp.js';

test('arguments: sections, quick, out; unknown ones are errors', () => {
  assert.deepEqual(parseArgs(['--only', 'matmul,decoder', '--quick', '--out', 'x']), { only: ['matmul', 'decoder'], quick: true, out: 'x', json: false });
  assert.throws(() => parseArgs(['--only', 'gpu']), /unknown section gpu/);
  assert.throws(() => parseArgs(['--fast']), /unknown argument --fast/);
});

test('the MatMul section writes a table and JSON with finite positive rates', async () => {
  const out = tempDir();
  let printed = '';
  const result = await runBench({ only: ['matmul'], quick: true, out, json: false }, (s) => (printed += s));
  assert.match(printed, /ONNX Runtime MatMul/);
  assert.match(printed, /1024x1024/);
  const saved = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  assert.deepEqual(saved, JSON.parse(JSON.stringify(result)));
  const rows = saved.sections.matmul as { n: number; gflops: number }[];
  assert.deepEqual(rows.map((r) => r.n), [256, 1024]);
  for (const r of rows) assert.ok(Number.isFinite(r.gflops) && r.gflops > 0);
  assert.ok(saved.machine.cpus >= 1);
  assert.ok(existsSync(out));
});
