// Tests of the leg_counting port: config, determinism, items identical to reasoning_gym's (values printed
// by the mirrored Python generator), and the default exact-or-contained scorer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ANIMAL_LEGS, legCountingTask as task } from '../../tasks/arithmetic/leg_counting.js';
import type { TaskEntry } from '../../tasks/types.js';

const parse = (c: Record<string, unknown> = {}) => task.configSchema.parse(c);

function issues(config: Record<string, unknown>): string {
  const r = task.configSchema.safeParse(config);
  assert.equal(r.success, false, `expected ${JSON.stringify(config)} to be rejected`);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

test('config defaults equal reasoning_gym LegCountingConfig', () => {
  assert.deepEqual(parse(), {
    seed: 42,
    size: 500,
    min_animals: 3,
    max_animals: 10,
    min_instances: 1,
    max_instances: 15,
  });
});

test('invalid configs are rejected with a message naming the key and the fix', () => {
  assert.match(issues({ min_animals: 0 }), /min_animals: min_animals \(0\) must be positive/);
  assert.match(issues({ min_animals: 10, max_animals: 5 }), /max_animals: max_animals \(5\) must be >= min_animals \(10\)/);
  assert.match(issues({ max_animals: 38 }), /max_animals \(38\) must be at most 37.*lower max_animals/);
  assert.match(issues({ min_instances: 0 }), /min_instances.*must be positive/);
  assert.match(issues({ max_instances: 0 }), /max_instances: max_instances \(0\) must be >= min_instances \(1\)/);
  assert.match(issues({ animals: ['cat'] }), /animals/); // unknown key
  assert.equal(task.configSchema.safeParse({ min_animals: 37, max_animals: 37 }).success, true);
});

test('generation is deterministic by (seed, index) and varies with the index', () => {
  const config = parse();
  assert.deepEqual(task.generate(config, 4), task.generate(config, 4));
  const answers = new Set(Array.from({ length: 50 }, (_, i) => JSON.stringify(task.generate(config, i).metadata.animals)));
  assert.equal(answers.size, 50);
});

test('items match reasoning_gym item for item (answers and metadata from the Python generator)', () => {
  // python3: LegCountingDataset(LegCountingConfig(seed=42))[i]["metadata"]
  const config = parse();
  const expected: [number, Record<string, number>, number][] = [
    [0, { 'sea slug': 3, deer: 12, giraffe: 2, elephant: 11 }, 100],
    [1, { sheep: 6, dog: 11, 'praying mantis': 12 }, 140],
    [2, { crab: 2, lobster: 10, human: 1, cow: 2, bee: 3, elephant: 13, dog: 9, snake: 12, shrimp: 5 }, 286],
  ];
  for (const [i, animals, total] of expected) {
    const e = task.generate(config, i);
    assert.equal(e.answer, String(total));
    assert.deepEqual(e.metadata, {
      source_dataset: 'leg_counting',
      source_index: i,
      animals,
      num_animals: Object.keys(animals).length,
      total_legs: total,
      difficulty: { num_animals: [3, 10], num_instances: [1, 15] },
    });
    // Insertion order (RG's dict order, the order of the question) is kept.
    assert.deepEqual(Object.keys(e.metadata.animals as object), Object.keys(animals));
  }
  assert.match(task.generate(config, 1).question, /6 sheep, 11 dogs and 12 praying mantises/);
  assert.match(task.generate(config, 2).question, /1 human,/);
});

test('200 items respect the config, totals add up, and the oracle scores 1.0', () => {
  const config = parse({ min_animals: 2, max_animals: 37, min_instances: 3, max_instances: 40 });
  for (let i = 0; i < 200; i++) {
    const e = task.generate(config, i);
    const md = e.metadata as Record<string, any>;
    const entries = Object.entries(md.animals as Record<string, number>);
    assert.ok(entries.length >= 2 && entries.length <= 37);
    assert.equal(md.num_animals, entries.length);
    let total = 0;
    for (const [name, count] of entries) {
      assert.ok(ANIMAL_LEGS.has(name), name);
      assert.ok(count >= 3 && count <= 40);
      total += count * ANIMAL_LEGS.get(name)!;
    }
    assert.equal(md.total_legs, total);
    assert.equal(e.answer, String(total));
    assert.deepEqual(md.difficulty, { num_animals: [2, 37], num_instances: [3, 40] });
    assert.equal(task.score(e.answer, e), 1);
  }
});

test('the animal table has reasoning_gym leg counts', () => {
  assert.equal(ANIMAL_LEGS.size, 37);
  assert.equal(ANIMAL_LEGS.get('spider'), 8);
  assert.equal(ANIMAL_LEGS.get('insect'), 6);
  assert.equal(ANIMAL_LEGS.get('starfish'), 5);
  assert.equal(ANIMAL_LEGS.get('woodlouse'), 14);
  assert.equal(ANIMAL_LEGS.get('snake'), 0);
});

test('scoring equals reasoning_gym default score_answer, partial credit included', () => {
  const entry = task.generate(parse(), 0); // answer '100'
  // Values printed by ProceduralDataset.score_answer in python3:
  assert.equal(task.score('100', entry), 1);
  assert.equal(task.score('100 legs', entry), 0.375); // 3 / 8
  assert.equal(task.score('1,00', entry), 0); // no comma or Decimal tolerance in the default scorer
  assert.equal(task.score('１００', entry), 0); // nor Unicode digits
  assert.equal(task.score('100.0', entry), 0.6); // 3 / 5
  assert.equal(task.score('', entry), 0);
  assert.equal(task.score(null, entry), 0);
});

test('scores an entry exactly as reasoning_gym writes it to JSONL', () => {
  const line =
    '{"question": "(RG\'s question text; not used in scoring)\\n", "answer": "140", ' +
    '"metadata": {"source_dataset": "leg_counting", "source_index": 1, "animals": {"sheep": 6, "dog": 11, ' +
    '"praying mantis": 12}, "num_animals": 3, "total_legs": 140, ' +
    '"difficulty": {"num_animals": [3, 10], "num_instances": [1, 15]}}}';
  const entry = JSON.parse(line) as TaskEntry;
  assert.equal(task.score('140', entry), 1);
  assert.equal(task.score('There are 140 legs.', entry), 3 / 19); // python3: 0.15789473684210525
  assert.equal(task.score('14', entry), 0);
  assert.equal(task.score('140', { question: '', answer: null, metadata: {} }), 0); // RG raises TypeError
});
