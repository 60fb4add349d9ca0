// Tests of the knights_knaves port: config, determinism, puzzles identical to Reasoning Gym's for the
// same seed, unique solutions checked by an independent brute force, and RG's answer scoring.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  findSolutions,
  knightsKnavesTask as task,
  NAMES,
  normalizeAnswer,
  ROLE_PAIRS,
  type Statement,
} from '../../tasks/logic/knights_knaves.js';
import { NumpyGenerator } from '../../tasks/logic/numpy_rng.js';
import type { TaskEntry } from '../../tasks/types.js';

const defaults = () => task.configSchema.parse({});

/** Independent evaluation of a statement (not the module's). */
function truth(s: unknown, knights: boolean[]): boolean {
  const [op, ...args] = s as [string, ...unknown[]];
  if (op === 'telling-truth') return knights[args[0] as number];
  if (op === 'lying') return !knights[args[0] as number];
  if (op === 'not') return !truth(args[0], knights);
  if (op === 'and') return args.every((a) => truth(a, knights));
  if (op === 'or') return args.some((a) => truth(a, knights));
  if (op === '->') return !truth(args[0], knights) || truth(args[1], knights);
  if (op === '<=>') return truth(args[0], knights) === truth(args[1], knights);
  throw new Error(`bad statement ${JSON.stringify(s)}`);
}

/** Every consistent assignment, by brute force over all 2^n. */
function consistentAssignments(statements: unknown[]): boolean[][] {
  const n = statements.length;
  const out: boolean[][] = [];
  for (let mask = 0; mask < 2 ** n; mask++) {
    const knights = Array.from({ length: n }, (_, i) => ((mask >> i) & 1) === 1);
    if (statements.every((s, i) => truth(s, knights) === knights[i])) out.push(knights);
  }
  return out;
}

function depth(s: unknown): number {
  const [op, ...args] = s as [string, ...unknown[]];
  if (op === 'telling-truth' || op === 'lying') return 1;
  return 1 + Math.max(...args.map(depth));
}

function maxWidth(s: unknown): number {
  const [op, ...args] = s as [string, ...unknown[]];
  if (op === 'telling-truth' || op === 'lying') return 0;
  return Math.max(op === 'and' || op === 'or' ? args.length : 0, ...args.map(maxWidth));
}

test('NumPy generator reproduces np.random.default_rng', () => {
  // python3: g = np.random.default_rng(42); g.bit_generator.random_raw(2)
  const raw = new NumpyGenerator(42);
  assert.equal(raw.nextUint64(), 14276969152011380360n);
  assert.equal(raw.nextUint64(), 8095878257575067585n);
  // g = np.random.default_rng(42): [g.integers(0, 6) for _ in range(5)], g.integers(2, 3), g.integers(0, 7),
  // g.integers(0, 2**31 + 5), g.integers(0, 1); g.choice(["a","b"]) x3; g.choice(np.arange(51), 5, replace=False)
  const g = new NumpyGenerator(42);
  assert.deepEqual([0, 1, 2, 3, 4].map(() => g.integers(0, 6)), [0, 4, 3, 2, 2]);
  assert.deepEqual([g.integers(2, 3), g.integers(0, 7), g.integers(0, 2 ** 31 + 5), g.integers(0, 1)], [2, 6, 184566854, 0]);
  assert.deepEqual([0, 1, 2].map(() => g.choiceIndex(2)), [1, 0, 0]);
  assert.deepEqual(g.sampleIndices(51, 5), [50, 46, 24, 36, 38]);
  assert.deepEqual(g.sampleIndices(4, 4), [3, 1, 2, 0]);
  // seed 2**32 (RG draws seeds with randint(0, 2**32)): first raw output
  assert.equal(new NumpyGenerator(2 ** 32).nextUint64(), 16412783775159424549n);
});

test('config defaults equal Reasoning Gym', () => {
  assert.deepEqual(defaults(), { seed: 42, size: 500, n_people: 2, depth_constraint: 2, width_constraint: 2 });
});

test('invalid configs are rejected with a message naming the key', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ n_people: 0 }, /n_people \(0\) must be at least 1/],
    [{ depth_constraint: 0 }, /depth_constraint \(0\) must be at least 1/],
    [{ width_constraint: 0 }, /width_constraint \(0\) must be at least 1/],
    [{ n_people: NAMES.length + 1 }, /n_people \(52\) must be at most 51/],
    // Beyond RG's validate(): RG accepts these but never produces an item.
    [{ depth_constraint: 1 }, /depth_constraint 1 .* never have a unique solution/],
    [{ n_people: 1 }, /n_people 1 and depth_constraint 2/],
  ];
  for (const [cfg, message] of cases) {
    const r = task.configSchema.safeParse(cfg);
    assert.equal(r.success, false, JSON.stringify(cfg));
    assert.match(r.error!.issues.map((i) => i.message).join('\n'), message);
  }
  assert.equal(task.configSchema.safeParse({ people: 3 }).success, false); // unknown key
  assert.equal(task.configSchema.safeParse({ n_people: 2.5 }).success, false);
});

test('generation is deterministic by (seed, index) and varies across indices', () => {
  const cfg = defaults();
  assert.deepEqual(task.generate(cfg, 3), task.generate(cfg, 3));
  const distinct = new Set(Array.from({ length: 60 }, (_, i) => task.generate(cfg, i).question));
  assert.ok(distinct.size > 55);
  assert.notDeepEqual(task.generate({ ...cfg, seed: 1 }, 0).question, task.generate(cfg, 0).question);
});

const RG_SEED9_N4_ITEM0 = {
  statements: [
    ['lying', 3],
    ['not', ['or', ['telling-truth', 0], ['lying', 3], ['telling-truth', 1]]],
    ['<=>', ['<=>', ['telling-truth', 0], ['lying', 3]], ['->', ['lying', 3], ['lying', 1]]],
    ['and', ['telling-truth', 0], ['and', ['telling-truth', 2], ['lying', 0], ['telling-truth', 3]], ['lying', 2]],
  ],
  solution: [true, false, true, false],
};

test('puzzles match Reasoning Gym for the same seed (statements, solution, name index, terms)', () => {
  // From reasoning_gym (seed 42): item 0 is Zoey (RG name index 48) and Riley (40), sage/fool;
  // item 1 is Riley (40) and Olivia (2), pioneer/laggard. Our names sit at the same indices.
  const e0 = task.generate(defaults(), 0);
  assert.deepEqual(e0.metadata.statements, [['lying', 1], ['or', ['telling-truth', 0], ['telling-truth', 1]]]);
  assert.deepEqual(e0.metadata.solution, [false, true]);
  assert.deepEqual(e0.metadata.names, [NAMES[48], NAMES[40]]);
  assert.deepEqual(e0.metadata.knight_knave_terms, {
    knight: 'sage', knave: 'fool', a_knight: 'a sage', a_knave: 'a fool', Knight: 'Sage', Knave: 'Fool',
  });
  assert.equal(e0.answer, `${NAMES[48]} is a fool, and ${NAMES[40]} is a sage.`);
  const e1 = task.generate(defaults(), 1);
  assert.deepEqual(e1.metadata.statements, [['->', ['telling-truth', 0], ['lying', 1]], ['and', ['telling-truth', 1], ['lying', 0]]]);
  assert.deepEqual(e1.metadata.solution, [true, false]);
  assert.deepEqual(e1.metadata.names, [NAMES[40], NAMES[2]]);
  assert.equal((e1.metadata.knight_knave_terms as Record<string, string>).a_knight, 'a pioneer');
  // reasoning_gym, n_people=4 depth=3 width=3 seed=9, item 0
  const e2 = task.generate(task.configSchema.parse({ seed: 9, n_people: 4, depth_constraint: 3, width_constraint: 3 }), 0);
  assert.deepEqual(e2.metadata.solution, RG_SEED9_N4_ITEM0.solution);
  assert.deepEqual(e2.metadata.statements, RG_SEED9_N4_ITEM0.statements);
});


test('200 items per config: unique solution by brute force, constraints respected, oracle scores 1.0', () => {
  const configs = [{}, { n_people: 3 }, { n_people: 4, depth_constraint: 3, width_constraint: 3, seed: 5 }];
  for (const overrides of configs) {
    const cfg = task.configSchema.parse(overrides);
    for (let i = 0; i < 200; i++) {
      const e = task.generate(cfg, i);
      const md = e.metadata as {
        source_dataset: string;
        source_index: number;
        statements: unknown[];
        solution: boolean[];
        names: string[];
        knight_knave_terms: Record<string, string>;
        difficulty: Record<string, number>;
      };
      assert.equal(md.source_dataset, 'knights_knaves');
      assert.equal(md.source_index, i);
      assert.deepEqual(md.difficulty, { n_people: cfg.n_people, depth_constraint: cfg.depth_constraint, width_constraint: cfg.width_constraint });
      assert.equal(md.names.length, cfg.n_people);
      assert.equal(new Set(md.names).size, cfg.n_people);
      for (const name of md.names) assert.ok((NAMES as readonly string[]).includes(name));
      assert.ok(ROLE_PAIRS.some(([k, n]) => k === md.knight_knave_terms.a_knight && n === md.knight_knave_terms.a_knave));
      assert.equal(md.statements.length, cfg.n_people);
      md.statements.forEach((s, p) => {
        assert.ok(depth(s) <= cfg.depth_constraint);
        assert.ok(maxWidth(s) <= cfg.width_constraint);
        assert.notDeepEqual(s, ['lying', p]); // nobody says "I am lying"
      });
      const all = consistentAssignments(md.statements);
      assert.equal(all.length, 1, `item ${i} has ${all.length} solutions`);
      assert.deepEqual(all[0], md.solution);
      assert.deepEqual(findSolutions(md.statements as Statement[]), [md.solution]);
      for (const name of md.names) assert.ok(e.question.includes(name));
      assert.ok(typeof e.answer === 'string' && e.answer.endsWith('.'));
      assert.equal(task.score(e.answer, e), 1.0);
    }
  }
});

test('the oracle answer uses RG\'s format', () => {
  const e = task.generate(task.configSchema.parse({ n_people: 3 }), 0);
  const { names, solution, knight_knave_terms: t } = e.metadata as {
    names: string[];
    solution: boolean[];
    knight_knave_terms: Record<string, string>;
  };
  const clause = (i: number) => `${names[i]} is ${solution[i] ? t.a_knight : t.a_knave}`;
  assert.equal(e.answer, `${clause(0)}, ${clause(1)}, and ${clause(2)}.`);
});

// reasoning_gym's entry for seed 42, item 0 (json.dumps of dataset[0]).
const RG_ENTRY_JSON =
  '{"question": "A very special island is inhabited only by sages and fools. Sages always tell the truth, and fools always lie. You meet 2 inhabitants: Zoey, and Riley. Zoey commented, \\"Riley is a fool\\". In Riley\'s words: \\"Zoey is a sage or Riley is a sage\\". So who is a sage and who is a fool? (Format your answer like: \\"Zoey is a sage/fool, and Riley is a sage/fool\\")", "answer": "Zoey is a fool, and Riley is a sage.", "metadata": {"source_dataset": "knights_knaves", "source_index": 0, "statements": [["lying", 1], ["or", ["telling-truth", 0], ["telling-truth", 1]]], "solution": [false, true], "names": ["Zoey", "Riley"], "knight_knave_terms": {"knight": "sage", "knave": "fool", "a_knight": "a sage", "a_knave": "a fool", "Knight": "Sage", "Knave": "Fool"}, "difficulty": {"n_people": 2, "depth_constraint": 2, "width_constraint": 2}}}';

test('scores equal reasoning_gym score_answer on an RG-written entry', () => {
  const entry = JSON.parse(RG_ENTRY_JSON) as TaskEntry;
  // Each value printed by reasoning_gym's KnightsKnavesDataset.score_answer on this entry.
  const cases: Array<[string | null, number]> = [
    ['Zoey is a fool, and Riley is a sage.', 1.0],
    ['(Zoey, fool), (Riley, sage)', 1.0],
    ['(Riley,sage), (Zoey,fool)', 1.0],
    ['ZOEY IS A FOOL, AND RILEY IS A SAGE', 1.0],
    ['Zoey\u00a0is a fool, Riley\u2003sage', 1.0], // Python whitespace
    ['Zoey is a fool, Riley is a sage, Riley is a sage', 1.0], // duplicates collapse
    ['Zoey is a fool and Riley is a fool.', 0.6499999999999999], // 0.3 + 0.7 * 1 / 2
    ['Riley sage sage Zoey fool fool', 1.0], // a role with no pending name is skipped
    ['Zoey sage Riley fool', 0.0], // both wrong
    ['zoey sage riley fool', 0.0],
    ['Zoey is a fool', 0.0], // one pair instead of two: no partial credit
    ['Zoey is a fool, Riley is a sage, Bob is a knave', 0.0], // an extra pair
    ['Zoey is a knave, and Riley is a knight.', 0.0], // other vocabulary
    ['Zoey is a liar, and Riley is a sage.', 0.0], // "liar" is not a role: one pair only
    ['', 0.0],
    [null, 0.0],
  ];
  for (const [candidate, expected] of cases) assert.equal(task.score(candidate, entry), expected, String(candidate));
  // Oracle answer None: RG's .lower() raises AttributeError, caught -> 0.0
  assert.equal(task.score('Zoey is a fool', { ...entry, answer: null }), 0);
});

test('three- and four-person partial credit', () => {
  const entry: TaskEntry = { question: '', answer: 'Ada is a knight, Bo is a knave, and Cy is a knight.', metadata: {} };
  // 0.3 + 0.7 * 2 / 3 and 0.3 + 0.7 * 1 / 3 (python3 floats)
  assert.equal(task.score('Ada is a knight, Bo is a knight, Cy is a knight', entry), 0.7666666666666666);
  assert.equal(task.score('Ada is a knave, Bo is a knight, Cy is a knight', entry), 0.5333333333333333);
  assert.equal(task.score('Ada is a knave, Bo is a knight, Cy is a knave', entry), 0);
  const four: TaskEntry = { question: '', answer: 'Al is an angel, Bea is a devil, Cy is an angel, and Di is an angel.', metadata: {} };
  // 0.3 + 0.7 * 3 / 4 = 0.825 ; 0.3 + 0.7 * 2 / 4 = 0.6499999999999999 ; 0.3 + 0.7 * 1 / 4 = 0.475 (python3)
  assert.equal(task.score('Al angel, Bea devil, Cy angel, Di devil', four), 0.825);
  assert.equal(task.score('Al angel, Bea devil, Cy devil, Di devil', four), 0.6499999999999999);
  assert.equal(task.score('Al devil, Bea angel, Cy devil, Di angel', four), 0.475);
  // RG quirk, matched: a person named "A" lower-cases to the article "a" and is skipped, so the oracle
  // below normalises to {(b, knave)} and "B is a knave" alone is a full match (RG prints 1.0, 1.0, 0.0).
  const quirk: TaskEntry = { question: '', answer: 'A is a knight, and B is a knave.', metadata: {} };
  assert.equal(task.score('B is a knave', quirk), 1.0);
  assert.equal(task.score('A is a knight, and B is a knave.', quirk), 1.0);
  assert.equal(task.score('x is a knight, and B is a knave.', quirk), 0);
  assert.deepEqual([...normalizeAnswer('Ada is an altruist, and Bo is an egoist.')].sort(), ['ada\u0000altruist', 'bo\u0000egoist']);
});

test('where Reasoning Gym raises or never returns, generate throws a message saying how to fix the config', () => {
  // seed 42, n_people 2, width_constraint 1: RG's rng.integers(2, 2) raises ValueError on item 0;
  // item 2 is produced normally.
  const narrow = task.configSchema.parse({ width_constraint: 1 });
  assert.throws(() => task.generate(narrow, 0), /width_constraint 1 cannot build an and\/or statement/);
  assert.equal(consistentAssignments(task.generate(narrow, 2).metadata.statements as unknown[]).length, 1);
  // seed 42, width_constraint 4: RG loops forever on item 6 (4 distinct primitives needed, 3 exist)
  // (checked by running reasoning_gym under a timeout), and returns item 0.
  const wide = task.configSchema.parse({ width_constraint: 4 });
  assert.throws(() => task.generate(wide, 6), /needs 4 different parts but only 3 exist/);
  assert.doesNotThrow(() => task.generate(wide, 0));
  // seed 42, n_people 1, depth 3: RG returns item 6 (a self-contradicting "and"), hangs on item 0.
  const solo = task.configSchema.parse({ n_people: 1, depth_constraint: 3 });
  const e = task.generate(solo, 6);
  assert.deepEqual(e.metadata.solution, [false]);
  assert.equal(e.answer, `${(e.metadata.names as string[])[0]} is ${(e.metadata.knight_knave_terms as Record<string, string>).a_knave}.`);
  assert.throws(() => task.generate(solo, 0), /loops forever/);
});

test('the name list is safe for the answer parser', () => {
  assert.equal(NAMES.length, 51);
  const lower = NAMES.map((n) => n.toLowerCase());
  assert.equal(new Set(lower).size, NAMES.length);
  const roles = new Set(ROLE_PAIRS.flatMap((pair) => pair.map((t) => t.split(' ')[1])));
  for (const n of lower) {
    assert.match(n, /^[a-z]+$/);
    assert.ok(!roles.has(n) && !['is', 'a', 'an', 'and'].includes(n), n);
  }
});
