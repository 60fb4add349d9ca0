// `musketeers tasks list|sample`, help and exit codes of the CLI surface.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli, spawnCli } from '../helpers/cli.js';

test('tasks list shows all 15 tasks; --json gives defaults', async () => {
  const human = await runCli('tasks', 'list');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /15 tasks/);
  const json = await runCli('--json', 'tasks', 'list', '--category', 'logic');
  const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.name).sort(), ['knights_knaves', 'propositional_logic']);
  assert.equal(rows[0].defaults.seed, 42);
  assert.equal((await runCli('tasks', 'list', '--category', 'poetry')).code, 2);
});

test('tasks sample is deterministic and applies --set to the task config', async () => {
  const a = await runCli('--json', 'tasks', 'sample', 'chain_sum', '-n', '3', '--seed', '9', '--set', 'min_terms=5', '--set', 'max_terms=5');
  const b = await runCli('--json', 'tasks', 'sample', 'chain_sum', '-n', '3', '--seed', '9', '--set', 'min_terms=5', '--set', 'max_terms=5');
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  for (const e of a.stdout.trim().split('\n').map((l) => JSON.parse(l))) assert.equal(e.metadata.num_terms, 5);
});

test('tasks sample prints believable items for every task', async () => {
  const list = await runCli('--json', 'tasks', 'list');
  for (const row of list.stdout.trim().split('\n').map((l) => JSON.parse(l))) {
    const r = await runCli('tasks', 'sample', row.name, '-n', '2');
    assert.equal(r.code, 0, `${row.name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`── ${row.name} #0`));
    assert.match(r.stdout, /answer: /);
  }
});

test('tasks sample errors: unknown task, bad --set, missing name', async () => {
  const unknown = await runCli('tasks', 'sample', 'gcdd');
  assert.equal(unknown.code, 1);
  assert.match(unknown.message, /unknown task 'gcdd'\. Did you mean 'gcd'/);
  const bad = await runCli('tasks', 'sample', 'chain_sum', '--set', 'min_terms=9', '--set', 'max_terms=2');
  assert.equal(bad.code, 2);
  assert.match(bad.message, /max_terms/);
  assert.equal((await runCli('tasks', 'sample')).code, 2);
  assert.equal((await runCli('tasks', 'sample', 'gcd', '-n', 'zero')).code, 2);
});

test('tasks sample --config draws from the mixture; eval split differs from train', async () => {
  const train = await runCli('--json', 'tasks', 'sample', '--config', 'configs/smoke.yaml', '-n', '8');
  const evalR = await runCli('--json', 'tasks', 'sample', '--config', 'configs/smoke.yaml', '-n', '8', '--split', 'eval');
  assert.equal(train.code, 0, train.stderr);
  const t = new Set(train.stdout.trim().split('\n').map((l) => JSON.parse(l).question));
  for (const q of evalR.stdout.trim().split('\n').map((l) => JSON.parse(l).question)) assert.ok(!t.has(q));
});

test('help teaches, version prints, unknown commands exit 2 (real binary)', () => {
  const help = spawnCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Getting started:/);
  assert.match(help.stdout, /Exit codes: 0 ok, 1 failure, 2 usage or config error/);
  const version = spawnCli(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const unknown = spawnCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.message, /unknown command 'frobnicate'/);
});
