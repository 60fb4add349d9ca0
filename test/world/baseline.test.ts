// The constant-answer baseline: the best fixed answer is chosen on training items (by the task's own
// scorer, not only by frequency) and measured on the held-out items; real tasks give sane numbers.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { z } from 'zod';

import { taskRegistry } from '../../tasks/index.js';
import type { AnyTaskDefinition, TaskEntry } from '../../tasks/types.js';
import { loadConfig } from '../../src/config.js';
import { constantBaseline, constantBaselines, trainItemsByTask } from '../../src/world/baseline.js';
import { heldOutByTask } from '../../src/world/data.js';
import { REPO_ROOT } from '../helpers/cli.js';

const entry = (answer: string, accepts: string[] = [answer]): TaskEntry => ({ question: `q${answer}`, answer, metadata: { source_dataset: 'fake', accepts } });

/** Scores 1 for any answer the entry lists in metadata.accepts, 0.5 for "half", else 0. */
const fake: AnyTaskDefinition = {
  name: 'fake',
  category: 'arithmetic',
  description: 'test task',
  configSchema: z.object({}),
  generate: () => entry('0'),
  score: (answer: string | null | undefined, e: TaskEntry) => ((e.metadata.accepts as string[]).includes(answer ?? '') ? 1 : answer === 'half' ? 0.5 : 0),
} as unknown as AnyTaskDefinition;

test('the most frequent training answer, measured on the held-out items', () => {
  const train = ['1', '1', '2', '3', '1'].map((a) => entry(a));
  const heldOut = ['1', '2', '2'].map((a) => entry(a));
  const b = constantBaseline(fake, train, heldOut);
  assert.equal(b.answer, '1');
  assert.equal(b.accuracy, 1 / 3);
  assert.equal(b.meanScore, 1 / 3);
  assert.equal(b.trainAccuracy, 3 / 5);
  assert.equal(b.items, 3);
  assert.equal(b.trainItems, 5);
  // The choice never looks at the held-out items.
  assert.equal(constantBaseline(fake, train, ['2', '2'].map((a) => entry(a))).answer, '1');
  assert.equal(constantBaseline(fake, train, ['2', '2'].map((a) => entry(a))).accuracy, 0);
});

test('the best constant under the scorer beats a more frequent reference answer', () => {
  // "a" is the most frequent reference answer, but "b" is accepted by every item (as "(Q ∨ P)" is by
  // many propositional_logic items whose reference is another formula).
  const train = [entry('a', ['a', 'b']), entry('a', ['a', 'b']), entry('a', ['a']), entry('b', ['b']), entry('b', ['b'])];
  const b = constantBaseline(fake, train, [entry('c', ['c', 'b']), entry('c', ['c'])]);
  assert.equal(b.answer, 'b');
  assert.equal(b.trainAccuracy, 4 / 5);
  assert.equal(b.accuracy, 1 / 2);
  // Only the `candidates` most frequent answers are tried; ties keep the more frequent (then earlier) one.
  assert.equal(constantBaseline(fake, train, [], { candidates: 1 }).answer, 'a');
  assert.equal(constantBaseline(fake, [entry('x'), entry('y')], []).answer, 'x');
  assert.equal(constantBaseline(fake, [], [entry('x')]).accuracy, 0);
});

test('baselines of the quickstart tasks: one per task, from the training split, below perfect', () => {
  const { config } = loadConfig(join(REPO_ROOT, 'configs', 'quickstart.yaml'), []);
  const heldOut = heldOutByTask(config, taskRegistry, 30);
  const baselines = constantBaselines(config, taskRegistry, heldOut.byTask);
  assert.deepEqual(baselines.map((b) => b.task), config.data.tasks.map((t) => t.name));
  const train = trainItemsByTask(config, taskRegistry, 2000);
  for (const b of baselines) {
    assert.equal(b.items, heldOut.byTask.get(b.task)!.length);
    assert.ok(b.accuracy >= 0 && b.accuracy < 0.9, `${b.task}: constant ${b.answer} scores ${b.accuracy}`);
    const answers = train.get(b.task)!.map((e) => e.answer ?? e.metadata.example_answer);
    assert.ok(answers.includes(b.answer), `${b.task}: ${b.answer} is a training reference answer`);
  }
  const sorted = (name: string) => baselines.find((b) => b.task === name)!;
  assert.equal(sorted('products').answer, '0');
});
