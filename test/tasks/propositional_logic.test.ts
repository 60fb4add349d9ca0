// Tests of the propositional_logic port: config, determinism, generation parity with Reasoning Gym,
// the entailment checker against brute-force truth tables, and scores computed by RG's own scorer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PyRandom } from '../../tasks/common/rng.js';
import {
  collectVariables,
  evaluate,
  type Expr,
  exprToString,
  isTrivial,
  isValidConclusion,
  parseExpr,
  propositionalLogicTask as task,
} from '../../tasks/logic/propositional_logic.js';
import type { TaskEntry } from '../../tasks/types.js';

const defaults = () => task.configSchema.parse({});

function depthOf(e: Expr): number {
  if (e.op === null) return 1;
  return 1 + Math.max(depthOf(e.left as Expr), e.right ? depthOf(e.right) : 0);
}

/** RG's truth-table enumeration, literally. */
function bruteValid(premises: Expr[], conclusion: Expr): boolean {
  const vars = [...collectVariables([...premises, conclusion])].sort();
  for (let mask = 0; mask < 2 ** vars.length; mask++) {
    const a = new Map(vars.map((v, j) => [v, ((mask >> j) & 1) === 1]));
    if (premises.every((p) => evaluate(p, a)) && !evaluate(conclusion, a)) return false;
  }
  return true;
}

test('config defaults equal Reasoning Gym', () => {
  assert.deepEqual(defaults(), {
    seed: 42,
    size: 500,
    min_vars: 2,
    max_vars: 4,
    min_statements: 2,
    max_statements: 4,
    min_complexity: 1,
    max_complexity: 3,
  });
});

test('invalid configs are rejected with a message naming the key', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ min_vars: 0 }, /min_vars \(0\) must be positive/],
    [{ min_vars: 4, max_vars: 3 }, /max_vars \(3\) must be >= min_vars \(4\)/],
    [{ min_statements: 0 }, /min_statements \(0\) must be positive/],
    [{ min_statements: 5 }, /max_statements \(4\) must be >= min_statements \(5\)/],
    [{ min_complexity: 0 }, /min_complexity \(0\) must be positive/],
    [{ max_complexity: 0 }, /max_complexity \(0\) must be >= min_complexity/],
  ];
  for (const [cfg, message] of cases) {
    const r = task.configSchema.safeParse(cfg);
    assert.equal(r.success, false, JSON.stringify(cfg));
    assert.match(r.error!.issues.map((i) => i.message).join('\n'), message);
  }
  assert.equal(task.configSchema.safeParse({ max_var: 3 }).success, false); // unknown key
  assert.equal(task.configSchema.safeParse({ min_vars: 1.5 }).success, false);
});

test('generation is deterministic by (seed, index) and varies across indices', () => {
  const cfg = defaults();
  assert.deepEqual(task.generate(cfg, 7), task.generate(cfg, 7));
  const distinct = new Set(Array.from({ length: 60 }, (_, i) => JSON.stringify(task.generate(cfg, i).metadata.premises)));
  assert.ok(distinct.size > 50, `only ${distinct.size} distinct premise lists in 60 items`);
  assert.notDeepEqual(task.generate({ ...cfg, seed: 43 }, 0).metadata, task.generate(cfg, 0).metadata);
});

test('items follow Reasoning Gym streams (metadata printed by reasoning_gym, seed 42)', () => {
  const cfg = defaults();
  const md = (i: number) => task.generate(cfg, i).metadata;
  assert.deepEqual(md(0), {
    source_dataset: 'propositional_logic',
    source_index: 0,
    premises: ['R', 'Q'],
    variables: ['P', 'Q', 'R', 'S'],
    complexity: 3,
    example_answer: '(P ∨ Q)',
    difficulty: { vars: [2, 4], statements: [2, 4], complexity: [1, 3] },
  });
  assert.deepEqual(md(1).premises, ['((Q → P) ∨ (Q → P))', '((Q ↔ Q) → (P → P))', 'P']);
  assert.equal(md(1).example_answer, '(Q ∨ P)');
  assert.deepEqual(md(2).premises, ['((Q ∨ P) ∧ ¬P)', 'P', '((P ∧ R) ∧ ¬R)', '((Q ↔ R) → ¬Q)']);
  assert.equal(md(2).example_answer, '(Q ∧ Q)');
});

test('200 items respect the config; the example answer scores 1.0 except on RG fallback items', () => {
  for (const overrides of [{}, { min_vars: 1, max_vars: 6, min_statements: 1, max_statements: 5, min_complexity: 2, max_complexity: 4 }]) {
    const cfg = task.configSchema.parse(overrides);
    for (let i = 0; i < 200; i++) {
      const e = task.generate(cfg, i);
      const md = e.metadata as { premises: string[]; variables: string[]; example_answer: string; complexity: number };
      assert.equal(e.answer, null);
      assert.ok(md.variables.length >= cfg.min_vars && md.variables.length <= cfg.max_vars);
      assert.deepEqual(md.variables, [...'PQRSTU'].slice(0, md.variables.length));
      assert.ok(md.premises.length >= cfg.min_statements && md.premises.length <= cfg.max_statements);
      for (const p of md.premises) {
        const d = depthOf(parseExpr(p));
        assert.ok(d >= cfg.min_complexity && d <= cfg.max_complexity, `premise ${p} has depth ${d}`);
        assert.equal(exprToString(parseExpr(p)), p); // RG re-parses its own strings
      }
      for (const p of md.premises) assert.ok(e.question.includes(p));
      const score = task.score(md.example_answer, e);
      if (score !== 1) {
        // RG's fallback after 100 failed candidates: the first variable, which need not follow.
        assert.equal(md.example_answer, md.variables[0]);
        assert.equal(md.complexity, 1);
        assert.ok(score === 0.05 || score === 0.25);
      }
    }
  }
  // reasoning_gym itself: seed 42 item 117 falls back to 'P', which scores 0.05.
  const e = task.generate(defaults(), 117);
  assert.equal(e.metadata.example_answer, 'P');
  assert.equal(task.score('P', e), 0.05);
});

test('entailment and tautology checks agree with brute-force truth tables', () => {
  const rng = new PyRandom(2024);
  const vars = ['P', 'Q', 'R', 'S', 'p'];
  const ops = ['∧', '∨', '¬', '→', '↔'];
  const gen = (depth: number): string => {
    if (depth <= 1 || rng.random() < 0.2) return rng.choice(vars);
    const op = rng.choice(ops);
    if (op === '¬') return `¬${gen(depth - 1)}`;
    return `(${gen(depth - 1)} ${op} ${gen(depth - 1)})`;
  };
  let valid = 0;
  for (let k = 0; k < 600; k++) {
    const premises = Array.from({ length: rng.randint(0, 3) }, () => parseExpr(gen(rng.randint(1, 4))));
    const conclusion = parseExpr(gen(rng.randint(1, 5)));
    const expected = bruteValid(premises, conclusion);
    if (expected) valid++;
    assert.equal(isValidConclusion(premises, conclusion), expected, `${premises.map(exprToString)} ⊢ ${exprToString(conclusion)}`);
    assert.equal(isTrivial(conclusion), conclusion.op === null || bruteValid([], conclusion));
  }
  assert.ok(valid > 50 && valid < 550, `both outcomes exercised (${valid} valid)`);
});

test('parser follows RG: precedence, rightmost split, enclosing parentheses, free-text leaves', () => {
  assert.equal(exprToString(parseExpr('P ∧ Q ∨ R → S ↔ P')), '((((P ∧ Q) ∨ R) → S) ↔ P)');
  assert.equal(exprToString(parseExpr('P → Q → R')), '((P → Q) → R)'); // rightmost split: left-associative
  assert.equal(exprToString(parseExpr('¬P ∧ Q')), '(¬P ∧ Q)');
  assert.equal(exprToString(parseExpr(' ((¬(P ∨ Q))) ')), '¬(P ∨ Q)');
  assert.deepEqual(parseExpr('(P) ∧ (Q)'), { op: '∧', left: { op: null, left: 'P' }, right: { op: null, left: 'Q' } });
  assert.deepEqual(parseExpr('x y'), { op: null, left: 'x y' });
  assert.deepEqual(parseExpr('(P'), { op: null, left: '(P' });
  assert.throws(() => parseExpr('P ∧'), /Empty expression/);
  assert.throws(() => parseExpr('()'), /Empty expression/);
});

// The entry as reasoning_gym writes it (json.dumps of dataset[0], seed 42).
const RG_ENTRY_JSON =
  '{"question": "The following question is a propositional logic reasoning question.\\n\\nIn the question we provide a list of premises. The task is to infer a correct conclusion from the premise.\\n\\nFORMAT INSTRUCTIONS:\\n- Return the conclusion logic statement, as your final answer.\\n- Use the following notation to denote symbols\\n    - OR = \\u2228\\n    - AND = \\u2227\\n    - IMPLIES = \\u2192\\n    - IFF = \\u2194\\n    - NOT = \\u00ac\\n\\nHere is the question:\\nGiven:\\n1. R\\n.2. Q\\n.What can we conclude from the above statements?", "answer": null, "metadata": {"source_dataset": "propositional_logic", "source_index": 0, "premises": ["R", "Q"], "variables": ["P", "Q", "R", "S"], "complexity": 3, "example_answer": "(P \\u2228 Q)", "difficulty": {"vars": [2, 4], "statements": [2, 4], "complexity": [1, 3]}}}';

test('scores equal reasoning_gym score_answer on an RG-written entry and on a contradictory one', () => {
  const rgEntry = JSON.parse(RG_ENTRY_JSON) as TaskEntry;
  // Item 2 of seed 42: premises include ((P ∧ R) ∧ ¬R), so they are contradictory and everything follows.
  const contradictory = task.generate(defaults(), 2);
  // [candidate, RG score on item 0 (premises R, Q; variables P..S), RG score on item 2 (variables P..R)],
  // each printed by reasoning_gym's PropositionalLogicDataset.score_answer.
  const cases: Array<[string, number, number]> = [
    ['(P ∨ Q)', 1.0, 1.0],
    ['(R ∧ Q)', 1.0, 1.0],
    ['Q', 0.25, 0.25], // follows, but a bare variable is "trivial"
    ['P ∨ ¬P', 0.25, 0.25], // tautology
    ['p ∨ ¬p', 0.25, 0.25], // lower-case text is just another variable
    ['¬(P ∧ ¬P)', 0.25, 0.25],
    ['P', 0.05, 0.25], // parses but does not follow from R, Q
    ['p', 0.05, 0.25],
    ['Wrong', 0.0, 0.0], // W is not a variable of the entry
    ['T', 0.0, 0.0],
    ['', 0.0, 0.0], // empty expression: ValueError -> 0
    ['(P ∨', 0.0, 0.0],
    ['()', 0.0, 0.0],
    ['¬¬Q', 1.0, 1.0],
    ['Q ∧ R → P', 0.05, 1.0],
    ['Q → R', 1.0, 1.0],
    ['(Q ↔ R)', 1.0, 1.0],
    ['R ∨ S', 1.0, 0.0], // S is not a variable of item 2
    ['(S', 0.05, 0.0], // "(S" is a leaf of its own
    ['S)', 0.05, 0.0],
    ['x y ∧ Q', 0.05, 1.0],
  ];
  for (const [candidate, onRg, onContradictory] of cases) {
    assert.equal(task.score(candidate, rgEntry), onRg, `item 0: ${candidate}`);
    assert.equal(task.score(candidate, contradictory), onContradictory, `item 2: ${candidate}`);
  }
  assert.equal(task.score(null, rgEntry), 0);
  assert.equal(task.score(undefined, rgEntry), 0);
});

test('scoring never throws on garbage and stays fast on many-variable candidates', () => {
  const e = task.generate(defaults(), 0);
  assert.equal(task.score('P', { question: '', answer: null, metadata: { variables: ['P'] } }), 0); // no premises: KeyError -> 0
  assert.equal(task.score('P', { question: '', answer: null, metadata: { variables: ['P'], premises: ['P', ''] } }), 0);
  assert.equal(task.score('P', { question: '', answer: null, metadata: {} }), 0);
  assert.equal(task.score('¬'.repeat(20000) + 'P', e), 0); // RG: RecursionError
  assert.equal(task.score('('.repeat(3000) + 'P' + ')'.repeat(3000), e), 0);
  const many = Array.from({ length: 60 }, (_, i) => `v${i}`);
  const started = Date.now();
  // RG would enumerate 2^60+ assignments; the results below follow from the formulas' meaning.
  assert.equal(task.score(many.join(' ∨ '), e), 0.05);
  assert.equal(task.score(many.map((v) => `(${v} ∨ ¬${v})`).join(' ∧ '), e), 0.25);
  assert.equal(task.score(many.map((v) => `(${v} ↔ ${v})`).join(' ↔ '), e), 0.25);
  assert.ok(Date.now() - started < 2000);
});
