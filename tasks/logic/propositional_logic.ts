// Reasoning Gym's `propositional_logic`: random premises over variables P, Q, ...; the model names a
// conclusion that follows from them. Scoring parses the candidate formula with RG's parser and checks
// entailment exactly (RG uses truth tables; here a SAT search with the same yes/no answer).

import { z } from 'zod';

import { baseTaskConfigShape, orderedRange } from '../common/config.js';
import { pyStrip } from '../common/pystr.js';
import type { PyRandom } from '../common/rng.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'propositional_logic';

/** Operator symbols, in the order of RG's `Operator` enum (the order `rng.choice` picks from). */
export const AND = '∧';
export const OR = '∨';
export const NOT = '¬';
export const IMPLIES = '→';
export const IFF = '↔';
const OPERATORS = [AND, OR, NOT, IMPLIES, IFF] as const;
type Operator = (typeof OPERATORS)[number];
/** Binary operators from loosest to tightest binding, as RG's parser tries them. */
const PRECEDENCE: Operator[] = [IFF, IMPLIES, OR, AND];

/** RG's `Expression`: a variable leaf (operator null, `left` the name) or an operator node. */
export interface Expr {
  op: Operator | null;
  left: Expr | string;
  right?: Expr;
}

const leaf = (name: string): Expr => ({ op: null, left: name });

class ParseError extends Error {}

/**
 * RG's recursive parser runs into Python's recursion limit (1000 frames) on input nested about that
 * deep (parentheses, `¬` chains or long operator chains) and raises RecursionError, which its scorer
 * does not catch; here such input is a parse failure, scored 0.
 */
const MAX_PARSE_DEPTH = 1000;

/**
 * RG's `parse_expr`, step for step: strip; drop one pair of enclosing parentheses if they match;
 * split at the rightmost top-level operator of the loosest precedence level present; then a leading
 * `¬`; anything else is a variable leaf (any text, e.g. "foo" or "(P"). Throws ParseError where RG
 * raises ValueError (an empty expression). Scanning UTF-16 units gives the same splits as Python's
 * code points because every character the parser looks at is a single BMP unit.
 */
export function parseExpr(input: string, depth = 0): Expr {
  if (depth > MAX_PARSE_DEPTH) throw new ParseError('expression nested too deeply');
  const expr = pyStrip(input);
  if (expr.length === 0) throw new ParseError('Empty expression');

  if (expr[0] === '(' && expr[expr.length - 1] === ')') {
    let level = 0;
    let valid = true;
    for (let i = 1; i < expr.length - 1; i++) {
      const ch = expr[i];
      if (ch === '(') level++;
      else if (ch === ')') {
        level--;
        if (level < 0) {
          valid = false;
          break;
        }
      }
    }
    if (level === 0 && valid) return parseExpr(expr.slice(1, -1), depth + 1);
  }

  for (const op of PRECEDENCE) {
    let level = 0;
    for (let i = expr.length - 1; i >= 0; i--) {
      const ch = expr[i];
      if (ch === ')') level++;
      else if (ch === '(') level--;
      else if (level === 0 && ch === op) {
        return { op, left: parseExpr(expr.slice(0, i), depth + 1), right: parseExpr(expr.slice(i + 1), depth + 1) };
      }
    }
  }

  if (expr.startsWith(NOT)) return { op: NOT, left: parseExpr(expr.slice(NOT.length), depth + 1) };
  return leaf(expr);
}

/** RG's `Expression.__str__`: `¬x`, `(a op b)`, or the variable name. */
export function exprToString(e: Expr): string {
  if (e.op === null) return e.left as string;
  if (e.op === NOT) return `${NOT}${exprToString(e.left as Expr)}`;
  return `(${exprToString(e.left as Expr)} ${e.op} ${exprToString(e.right as Expr)})`;
}

/** RG's `Expression.evaluate` (the variable must be assigned). */
export function evaluate(e: Expr, assignment: ReadonlyMap<string, boolean>): boolean {
  switch (e.op) {
    case null: {
      const v = assignment.get(e.left as string);
      if (v === undefined) throw new Error(`unassigned variable ${e.left as string}`);
      return v;
    }
    case NOT:
      return !evaluate(e.left as Expr, assignment);
    case AND:
      return evaluate(e.left as Expr, assignment) && evaluate(e.right as Expr, assignment);
    case OR:
      return evaluate(e.left as Expr, assignment) || evaluate(e.right as Expr, assignment);
    case IMPLIES:
      return !evaluate(e.left as Expr, assignment) || evaluate(e.right as Expr, assignment);
    case IFF:
      return evaluate(e.left as Expr, assignment) === evaluate(e.right as Expr, assignment);
  }
}

/** RG's `_collect_variables`: the leaf names of the expressions. */
export function collectVariables(exprs: readonly Expr[], into = new Set<string>()): Set<string> {
  for (const e of exprs) {
    if (e.op === null) into.add(e.left as string);
    else {
      collectVariables([e.left as Expr], into);
      if (e.right) collectVariables([e.right], into);
    }
  }
  return into;
}

/**
 * RG's `Expression.simplify`, including its quirks: Python compares sub-expressions by identity (no
 * `__eq__`), so `x ∧ x` built from two separate leaves is kept; `a → b` becomes `(¬a ∨ b)` and a
 * double negation directly under a rewritten `¬` is dropped.
 */
export function simplify(e: Expr): Expr {
  if (e.op === null) return e;
  const left = typeof e.left === 'string' ? e.left : simplify(e.left);
  const right = e.right ? simplify(e.right) : e.right;
  if (e.op === NOT) {
    if (typeof left !== 'string' && left.op === NOT) return left.left as Expr;
    return { op: NOT, left };
  }
  if ((e.op === AND || e.op === OR) && left === right) return left as Expr;
  if (e.op === IMPLIES) return simplify({ op: OR, left: { op: NOT, left }, right });
  return { op: e.op, left, right };
}

/** RG's `_measure_complexity`: 1 per node. */
export function measureComplexity(e: Expr): number {
  if (e.op === null) return 1;
  if (e.op === NOT) return 1 + measureComplexity(e.left as Expr);
  return 1 + measureComplexity(e.left as Expr) + measureComplexity(e.right as Expr);
}

// ---------------------------------------------------------------------------------------------
// Satisfiability. RG decides entailment by enumerating all 2^n assignments; the answer depends only
// on whether some assignment makes the premises true and the conclusion false, so a SAT search with
// memoised Shannon expansion gives the same result without RG's exponential cost on candidates
// that mention many distinct "variables" (any text can be a leaf).

type Nnf =
  | { t: 'const'; v: boolean }
  | { t: 'lit'; name: string; pos: boolean }
  | { t: 'and' | 'or' | 'iff'; a: Nnf; b: Nnf };

const TRUE: Nnf = { t: 'const', v: true };
const FALSE: Nnf = { t: 'const', v: false };

function mkAnd(a: Nnf, b: Nnf): Nnf {
  if (a.t === 'const') return a.v ? b : FALSE;
  if (b.t === 'const') return b.v ? a : FALSE;
  return { t: 'and', a, b };
}

function mkOr(a: Nnf, b: Nnf): Nnf {
  if (a.t === 'const') return a.v ? TRUE : b;
  if (b.t === 'const') return b.v ? TRUE : a;
  return { t: 'or', a, b };
}

function mkIff(a: Nnf, b: Nnf): Nnf {
  if (a.t === 'const') return a.v ? b : negate(b);
  if (b.t === 'const') return b.v ? a : negate(a);
  return { t: 'iff', a, b };
}

function negate(n: Nnf): Nnf {
  switch (n.t) {
    case 'const':
      return n.v ? FALSE : TRUE;
    case 'lit':
      return { t: 'lit', name: n.name, pos: !n.pos };
    case 'and':
      return mkOr(negate(n.a), negate(n.b));
    case 'or':
      return mkAnd(negate(n.a), negate(n.b));
    case 'iff':
      return mkIff(n.a, negate(n.b));
  }
}

function toNnf(e: Expr, negated = false): Nnf {
  switch (e.op) {
    case null:
      return { t: 'lit', name: e.left as string, pos: !negated };
    case NOT:
      return toNnf(e.left as Expr, !negated);
    case AND: {
      const l = toNnf(e.left as Expr, negated);
      const r = toNnf(e.right as Expr, negated);
      return negated ? mkOr(l, r) : mkAnd(l, r);
    }
    case OR: {
      const l = toNnf(e.left as Expr, negated);
      const r = toNnf(e.right as Expr, negated);
      return negated ? mkAnd(l, r) : mkOr(l, r);
    }
    case IMPLIES: {
      // a → b  ==  ¬a ∨ b;  ¬(a → b)  ==  a ∧ ¬b
      const l = toNnf(e.left as Expr, !negated);
      const r = toNnf(e.right as Expr, negated);
      return negated ? mkAnd(l, r) : mkOr(l, r);
    }
    case IFF:
      return mkIff(toNnf(e.left as Expr), toNnf(e.right as Expr, negated));
  }
}

function assign(n: Nnf, name: string, value: boolean): Nnf {
  switch (n.t) {
    case 'const':
      return n;
    case 'lit':
      return n.name === name ? (n.pos === value ? TRUE : FALSE) : n;
    case 'and':
      return mkAnd(assign(n.a, name, value), assign(n.b, name, value));
    case 'or':
      return mkOr(assign(n.a, name, value), assign(n.b, name, value));
    case 'iff':
      return mkIff(assign(n.a, name, value), assign(n.b, name, value));
  }
}

function nnfVars(n: Nnf, into: Map<string, number>): Map<string, number> {
  if (n.t === 'lit') into.set(n.name, (into.get(n.name) ?? 0) + 1);
  else if (n.t !== 'const') {
    nnfVars(n.a, into);
    nnfVars(n.b, into);
  }
  return into;
}

function nnfKey(n: Nnf): string {
  switch (n.t) {
    case 'const':
      return n.v ? 'T' : 'F';
    case 'lit':
      return (n.pos ? '+' : '-') + JSON.stringify(n.name);
    default:
      return `${n.t}(${nnfKey(n.a)},${nnfKey(n.b)})`;
  }
}

function satisfiable(n: Nnf, memo: Map<string, boolean>): boolean {
  if (n.t === 'const') return n.v;
  if (n.t === 'lit') return true;
  if (n.t === 'or') return satisfiable(n.a, memo) || satisfiable(n.b, memo);
  const key = nnfKey(n);
  const known = memo.get(key);
  if (known !== undefined) return known;
  let result: boolean;
  const counts = nnfVars(n, new Map());
  if (n.t === 'and') {
    const left = nnfVars(n.a, new Map());
    const right = nnfVars(n.b, new Map());
    const shared = [...left.keys()].some((v) => right.has(v));
    if (!shared) {
      memo.set(key, (result = satisfiable(n.a, memo) && satisfiable(n.b, memo)));
      return result;
    }
  }
  // Shannon expansion on the most frequent variable.
  let pivot = '';
  let best = -1;
  for (const [v, c] of counts) {
    if (c > best) {
      best = c;
      pivot = v;
    }
  }
  result = satisfiable(assign(n, pivot, true), memo) || satisfiable(assign(n, pivot, false), memo);
  memo.set(key, result);
  return result;
}

/** RG's `_is_valid_conclusion`: no assignment makes every premise true and the conclusion false. */
export function isValidConclusion(premises: readonly Expr[], conclusion: Expr): boolean {
  let counterexample = toNnf(conclusion, true);
  for (const p of premises) counterexample = mkAnd(toNnf(p), counterexample);
  return !satisfiable(counterexample, new Map());
}

/** RG's `_is_trivial`: a bare variable, or a formula true under every assignment. */
export function isTrivial(e: Expr): boolean {
  if (e.op === null) return true;
  return !satisfiable(toNnf(e, true), new Map());
}

// ---------------------------------------------------------------------------------------------

const configSchema = z
  .object({
    ...baseTaskConfigShape,
    min_vars: z.number().int().default(2).describe('minimum number of variables (P, Q, R, ...)'),
    max_vars: z.number().int().default(4).describe('maximum number of variables'),
    min_statements: z.number().int().default(2).describe('minimum number of premises'),
    max_statements: z.number().int().default(4).describe('maximum number of premises'),
    min_complexity: z.number().int().default(1).describe('minimum nesting depth of a premise (1 = a bare variable)'),
    max_complexity: z.number().int().default(3).describe('maximum nesting depth of a premise'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const key of ['min_vars', 'min_statements', 'min_complexity'] as const) {
      if (cfg[key] <= 0) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} (${cfg[key]}) must be positive; set it to 1 or more` });
      }
    }
    orderedRange<typeof cfg>('min_vars', 'max_vars')(cfg, ctx);
    orderedRange<typeof cfg>('min_statements', 'max_statements')(cfg, ctx);
    orderedRange<typeof cfg>('min_complexity', 'max_complexity')(cfg, ctx);
  });

export type PropositionalLogicConfig = z.infer<typeof configSchema>;

function generateExpression(rng: PyRandom, variables: readonly string[], depth: number): Expr {
  if (depth <= 1) return leaf(rng.choice(variables));
  const op = rng.choice(OPERATORS);
  if (op === NOT) return { op, left: generateExpression(rng, variables, depth - 1) };
  const left = generateExpression(rng, variables, depth - 1);
  const right = generateExpression(rng, variables, depth - 1);
  return { op, left, right };
}

function findValidConclusion(rng: PyRandom, premises: readonly Expr[], variables: readonly string[]): Expr {
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = simplify(generateExpression(rng, variables, 2));
    if (isValidConclusion(premises, candidate) && !isTrivial(candidate)) return candidate;
  }
  return leaf(variables[0]);
}

function formatQuestion(premises: readonly Expr[], variables: readonly string[]): string {
  const lines = [
    'Propositional logic exercise.',
    `The variables are ${variables.join(', ')}. Formulas use ${NOT} (not), ${AND} (and), ${OR} (or), ` +
      `${IMPLIES} (implies), ${IFF} (if and only if) and parentheses.`,
    '',
    'Premises:',
    ...premises.map((p, i) => `  (${i + 1}) ${exprToString(p)}`),
    '',
    'State one conclusion that logically follows from all the premises, i.e. a formula that is true ' +
      'under every assignment that makes every premise true. Prefer an informative conclusion: a lone ' +
      'variable or a formula that is always true earns only partial credit. Answer with the formula alone, ' +
      'written in the notation above.',
  ];
  return lines.join('\n');
}

export const propositionalLogicTask = defineTask<PropositionalLogicConfig>({
  name: DATASET_NAME,
  category: 'logic',
  description: 'Given propositional premises, state a non-trivial conclusion that they entail.',
  configSchema,
  generate(config, index) {
    const rng = rngForItem(config.seed, index);
    const numVars = rng.randint(config.min_vars, config.max_vars);
    const variables = Array.from({ length: numVars }, (_, i) => String.fromCodePoint('P'.codePointAt(0)! + i));
    const numStatements = rng.randint(config.min_statements, config.max_statements);
    const premises: Expr[] = [];
    for (let i = 0; i < numStatements; i++) {
      const depth = rng.randint(config.min_complexity, config.max_complexity);
      premises.push(generateExpression(rng, variables, depth));
    }
    const conclusion = findValidConclusion(rng, premises, variables);
    return {
      question: formatQuestion(premises, variables),
      answer: null,
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        premises: premises.map(exprToString),
        variables,
        complexity: measureComplexity(conclusion),
        example_answer: exprToString(conclusion),
        difficulty: {
          vars: [config.min_vars, config.max_vars],
          statements: [config.min_statements, config.max_statements],
          complexity: [config.min_complexity, config.max_complexity],
        },
      },
    };
  },
  score(answer, entry) {
    return scorePropositionalLogic(answer, entry);
  },
});

/**
 * RG's `score_answer`: 0.0 if the candidate uses an ASCII capital letter that is not one of the
 * entry's variables, or if a premise or the candidate fails to parse; 0.05 for a parsable formula that
 * does not follow from the premises; 0.25 for one that follows but is trivial (a bare variable, or a
 * tautology); 1.0 otherwise. Surprising but matched: lower-case words are leaves like any other
 * variable (so "p ∨ ¬p" is a tautology worth 0.25, and any text without capitals scores 0.05 when it
 * does not follow); with contradictory premises every parsable answer follows. Where RG would crash
 * instead of returning (Python's recursion limit on deeply nested input, malformed metadata) this
 * returns 0.
 */
export function scorePropositionalLogic(answer: string | null | undefined, entry: TaskEntry): number {
  if (typeof answer !== 'string') return 0;
  try {
    const metadata = entry.metadata ?? {};
    const variables = metadata.variables;
    const premiseTexts = metadata.premises;
    if (!Array.isArray(variables) || !Array.isArray(premiseTexts)) return 0;
    const valid = new Set(variables.map(String));
    for (const m of answer.matchAll(/[A-Z]/g)) if (!valid.has(m[0])) return 0;
    if (!premiseTexts.every((p) => typeof p === 'string')) return 0;
    const premises = (premiseTexts as string[]).map((p) => parseExpr(p));
    const candidate = parseExpr(answer);
    if (isValidConclusion(premises, candidate)) return isTrivial(candidate) ? 0.25 : 1.0;
    return 0.05;
  } catch {
    return 0;
  }
}
