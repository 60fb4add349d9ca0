// One generic test that walks the registry: every task is deterministic, well-formed, scores its own
// answers 1, scores garbage within [0, 1] without throwing, and survives a JSON round trip (the way
// entries come back from JSONL files).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CompositeDataset, resolveCompositeSpecs, splitTrainEval, questionKey } from '../../tasks/composite.js';
import { taskRegistry } from '../../tasks/index.js';
import { TaskRegistry, UnknownTaskError } from '../../tasks/registry.js';

const EXPECTED = [
  'base_conversion', 'basic_arithmetic', 'chain_sum', 'count_bits', 'fraction_simplification', 'gcd', 'knights_knaves', 'lcm',
  'leg_counting', 'letter_counting', 'number_sorting', 'products', 'propositional_logic', 'spell_backward', 'word_sorting',
];

test('the registry holds the 15 ported tasks', () => {
  assert.deepEqual(taskRegistry.names(), EXPECTED);
});

test('the registry refuses duplicates and suggests names', () => {
  const registry = new TaskRegistry();
  const task = taskRegistry.get('gcd');
  registry.register(task);
  assert.throws(() => registry.register(task), /already registered/);
  assert.throws(() => taskRegistry.get('gdc'), (e: unknown) => e instanceof UnknownTaskError && /Did you mean 'gcd'/.test(e.message));
});

const GARBAGE = ['', ' ', 'x', '0', '-1', '1e309', 'NaN', '<answer>', 'True', '[1, 2]', 'a'.repeat(300), '\u0000', '😀'];

for (const task of taskRegistry.list()) {
  test(`${task.name}: generic contract`, () => {
    const config = task.configSchema.parse({});
    assert.equal(config.seed, 42);
    assert.equal(config.size, 500);
    const questions = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const a = task.generate(config, i);
      const b = task.generate(config, i);
      assert.deepEqual(a, b, `${task.name}[${i}] is not deterministic`);
      assert.equal(typeof a.question, 'string');
      assert.ok(a.question.length > 0);
      // Reasoning Gym leaves `answer` null where many answers are right (propositional_logic); such
      // tasks give an example in metadata.example_answer instead.
      const oracle = a.answer ?? (a.metadata.example_answer as string | undefined);
      assert.equal(typeof oracle, 'string', `${task.name}[${i}] has neither answer nor metadata.example_answer`);
      assert.equal(a.metadata.source_dataset, task.name);
      assert.equal(a.metadata.source_index, i);
      questions.add(a.question);
      const roundTrip = JSON.parse(JSON.stringify(a));
      if (a.answer !== null) {
        assert.equal(task.score(a.answer, a), 1, `${task.name}[${i}] oracle answer does not score 1`);
        assert.equal(task.score(a.answer, roundTrip), 1, `${task.name}[${i}] fails after a JSON round trip`);
      } else {
        // An example answer may be a fallback that earns only partial credit (as in Reasoning Gym).
        const s = task.score(oracle, a);
        assert.ok(s > 0, `${task.name}[${i}] example answer scores 0`);
        assert.equal(task.score(oracle, roundTrip), s, `${task.name}[${i}] scores differently after a JSON round trip`);
      }
      // No answer never scores full credit (fraction_simplification gives 0.01, as Reasoning Gym does).
      for (const none of [null, undefined]) {
        const s = task.score(none, a);
        assert.ok(s >= 0 && s < 0.1, `${task.name} scored a missing answer as ${s}`);
      }
      for (const g of GARBAGE) {
        const s = task.score(g, a);
        assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `${task.name} scored ${JSON.stringify(g)} as ${s}`);
      }
    }
    assert.ok(questions.size > 20, `${task.name}: only ${questions.size} distinct questions in 40 items`);
    const other = task.generate(task.configSchema.parse({ seed: 43 }), 0);
    const again = task.generate(task.configSchema.parse({ seed: 42 }), 1);
    assert.deepEqual(other.question, again.question, 'item i of seed s+1 equals item i+1 of seed s (random.Random(seed + index))');
  });
}

test('composite: weighted mixture, deterministic, Reasoning Gym seeding rules', () => {
  const specs = resolveCompositeSpecs(taskRegistry, [{ name: 'chain_sum', weight: 3 }, { name: 'gcd', weight: 1 }], 10, 100);
  assert.equal(specs[0].config.seed, 11);
  assert.equal(specs[1].config.seed, 12);
  const ds = new CompositeDataset(taskRegistry, specs, 10, 100);
  const counts: Record<string, number> = { chain_sum: 0, gcd: 0 };
  for (let i = 0; i < 400; i++) counts[String(ds.get(i).metadata.source_dataset)]++;
  assert.ok(counts.chain_sum > 240 && counts.chain_sum < 360, `chain_sum drawn ${counts.chain_sum}/400 at weight 3:1`);
  assert.deepEqual(ds.get(17), ds.get(17));
  const e = ds.get(5);
  assert.equal(ds.score(e.answer, e), 1);
});

test('composite: train and eval splits never share a question', () => {
  // gcd over 1..6 has few distinct questions, so overlaps must be skipped.
  const specs = resolveCompositeSpecs(taskRegistry, [{ name: 'gcd', weight: 1, config: { min_value: 1, max_value: 12 } }], 0, 50);
  const ds = new CompositeDataset(taskRegistry, specs, 0, 50);
  const split = splitTrainEval(ds, 30, 10);
  const train = new Set(split.train.map((i) => questionKey(ds.get(i))));
  for (const i of split.eval) assert.ok(!train.has(questionKey(ds.get(i))));
  assert.equal(split.eval.length, 10);
  assert.ok(split.skippedOverlaps > 0);
  const tiny = resolveCompositeSpecs(taskRegistry, [{ name: 'gcd', weight: 1, config: { min_value: 1, max_value: 2 } }], 0, 50);
  assert.throws(() => splitTrainEval(new CompositeDataset(taskRegistry, tiny, 0, 50), 30, 10), /too small/);
});
