// Reasoning Gym's `basic_arithmetic` task: evaluate an integer expression with + - * and / (floor
// division), optionally with parentheses and negated groups. Same config, RNG stream and default scorer;
// the two places where Reasoning Gym's items are broken are repaired (see `simpleTask` and `generate`).

import { z } from 'zod';

import { baseTaskConfigShape, termsAndDigitsChecks } from '../common/config.js';
import { type PyRandom, rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';
import { absBig, evalFloorDiv, findCommonDivisors, floorDiv, PyZeroDivisionError } from './int_math.js';

const DATASET_NAME = 'basic_arithmetic';
const SUPPORTED_OPERATORS = ['+', '-', '*', '/'];

export const basicArithmeticConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_terms: z.number().int().default(2).describe('fewest numbers in an expression (at least 1)'),
    max_terms: z.number().int().default(6).describe('most numbers in an expression (>= min_terms)'),
    min_digits: z.number().int().default(1).describe('fewest digits per number (at least 1)'),
    max_digits: z.number().int().default(4).describe('most digits per number (>= min_digits)'),
    operators: z
      .array(z.string())
      .default(['+', '-', '*', '/'])
      .describe("operators to draw from, any of '+', '-', '*', '/' (repeats weight the draw)"),
    allow_parentheses: z
      .boolean()
      .default(true)
      .describe('build nested expressions with parentheses (false: a flat chain evaluated left to right)'),
    allow_negation: z.boolean().default(true).describe('allow negated parenthesised groups, -( ... )'),
    format_style: z
      .enum(['simple', 'natural'])
      .default('simple')
      .describe("question phrasing: 'simple' (one fixed sentence) or 'natural' (one of four, drawn at random)"),
    whitespace: z
      .enum(['no_space', 'single', 'random'])
      .default('single')
      .describe("spacing between tokens with parentheses on: 'no_space', 'single' or 'random'"),
  })
  .strict()
  .superRefine((config, ctx) => {
    termsAndDigitsChecks(config, ctx);
    if (config.operators.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['operators'],
        message: "operators is empty; list at least one of '+', '-', '*', '/'",
      });
    }
    config.operators.forEach((op, i) => {
      if (!SUPPORTED_OPERATORS.includes(op)) {
        ctx.addIssue({
          code: 'custom',
          path: ['operators', i],
          message: `unsupported operator '${op}' in operators; use only '+', '-', '*', '/'`,
        });
      }
    });
    // Stricter than Reasoning Gym, which accepts this config and then fails on most items (IndexError:
    // operators inside a run of plain numbers are drawn from the operators other than '/').
    if (
      config.allow_parentheses &&
      config.max_terms >= 2 &&
      config.operators.length > 0 &&
      config.operators.every((op) => op === '/')
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['operators'],
        message:
          "operators has only '/', which cannot build expressions of 2+ terms with allow_parentheses on; " +
          "add '+', '-' or '*' to operators, set allow_parentheses to false, or set max_terms to 1",
      });
    }
  });

export type BasicArithmeticConfig = z.output<typeof basicArithmeticConfigSchema>;

interface Built {
  expression: string;
  result: bigint;
}

/**
 * Reasoning Gym's `_generate_complex_task`: a random expression tree. Divisions are made exact where
 * the generator can (divisor drawn from the common divisors of both sides, or a correction term added
 * inside a parenthesised divisor); Python's `//` decides the rest. Throws {@link PyZeroDivisionError}
 * exactly where Reasoning Gym's `eval` raises ZeroDivisionError.
 */
function complexTask(rng: PyRandom, config: BasicArithmeticConfig, numTerms: number, numDigits: number): Built {
  const limit = 10n ** BigInt(numDigits);
  const nonDivision = config.operators.filter((op) => op !== '/');

  const pickDivisor = (dividend: bigint): bigint =>
    dividend !== 0n ? rng.choice(findCommonDivisors(dividend, 0n)) : rng.randintBig(1n, limit - 1n);

  const addTerms = (remaining: number): string[] => {
    const numLeft = rng.randint(1, remaining);
    const numRight = remaining - numLeft;
    const left: string[] = [];
    if (numLeft > 1 && rng.random() > 0.5) {
      // Python evaluates `rng.random() > 0.5 and allow_negation`: the draw happens either way.
      left.push(rng.random() > 0.5 && config.allow_negation ? '-(' : '(');
      left.push(...addTerms(numLeft));
      left.push(')');
    } else {
      for (let i = 0; i < numLeft; i++) {
        left.push(String(rng.randintBig(-limit + 1n, limit - 1n)));
        if (i + 1 < numLeft) left.push(rng.choice(nonDivision));
      }
    }
    if (numRight === 0) return left;

    const op = rng.choice(config.operators);
    if (op !== '/') {
      left.push(op, ...addTerms(numRight));
      return left;
    }
    // The dividend is the whole left part when it ends with ')', otherwise only its last number.
    const last = left[left.length - 1];
    const dividend = evalFloorDiv(last === ')' ? left.join('') : last);
    left.push(op);
    if (numRight > 1) {
      const right = addTerms(numRight - 1);
      if (right[right.length - 1] === ')') {
        const rightValue = evalFloorDiv(right.join(''));
        const correction = rightValue === 0n ? 1n : rng.choice(findCommonDivisors(dividend, rightValue)) - rightValue;
        right.pop();
        right.push('+', String(correction), ')');
      } else {
        left.push(String(pickDivisor(dividend)), '+');
      }
      left.push(...right);
    } else {
      left.push(String(pickDivisor(dividend)));
    }
    return left;
  };

  const parts = addTerms(numTerms);
  let expression: string;
  if (config.whitespace === 'no_space') {
    expression = parts.join('');
  } else if (config.whitespace === 'single') {
    expression = parts.join(' ');
  } else {
    let joined = '';
    for (const p of parts) {
      if (rng.random() < 0.15) joined += ' ';
      joined += p;
    }
    expression = joined.trim();
  }
  // As in Reasoning Gym: a literal divisor 0 after a space is rewritten to 1.
  expression = expression.replaceAll('/ 0', '/ 1');
  return { expression, result: evalFloorDiv(expression) };
}

/**
 * Reasoning Gym's `_generate_simple_task`, repaired: a flat chain of numbers in [0, 10^digits] whose
 * value is computed strictly left to right; a '/' divides by a divisor of the running value drawn from
 * [2, min(|value|, 10^digits)), or, when there is none, becomes '*' by a fresh number.
 *
 * Reasoning Gym draws the same numbers and computes the same value (so `answer` equals RG's), but its
 * expression text keeps the originally drawn number after a '/' (and the '/' itself on the fallback),
 * and its question does not say the chain is read left to right, so its answers do not follow from its
 * questions. Here the expression shows the divisor or multiplier actually used and the question states
 * the left-to-right order.
 */
function simpleTask(rng: PyRandom, config: BasicArithmeticConfig, numTerms: number, numDigits: number): Built {
  const limit = 10n ** BigInt(numDigits);
  const constants: bigint[] = [];
  for (let i = 0; i < numTerms; i++) constants.push(rng.randintBig(0n, limit));
  const operators: string[] = [];
  for (let i = 0; i < numTerms - 1; i++) operators.push(rng.choice(config.operators));

  let result = constants[0];
  const parts = [String(result)];
  operators.forEach((op, i) => {
    const c = constants[i + 1];
    if (op === '+') {
      result += c;
      parts.push('+', String(c));
    } else if (op === '-') {
      result -= c;
      parts.push('-', String(c));
    } else if (op === '*') {
      result *= c;
      parts.push('*', String(c));
    } else {
      const divisors = divisorsBelow(result, limit);
      if (divisors.length > 0) {
        const d = rng.choice(divisors);
        result = floorDiv(result, d);
        parts.push('/', String(d));
      } else {
        const m = rng.randintBig(1n, limit - 1n);
        result *= m;
        parts.push('*', String(m));
      }
    }
  });
  return { expression: parts.join(' '), result };
}

/** `[d for d in range(2, min(abs(value), limit)) if value % d == 0]`. */
function divisorsBelow(value: bigint, limit: bigint): bigint[] {
  const a = absBig(value);
  const stop = a < limit ? a : limit;
  const out: bigint[] = [];
  if (a <= BigInt(Number.MAX_SAFE_INTEGER)) {
    const x = Number(a);
    const end = Number(stop);
    for (let d = 2; d < end; d++) if (x % d === 0) out.push(BigInt(d));
  } else {
    for (let d = 2n; d < stop; d++) if (a % d === 0n) out.push(d);
  }
  return out;
}

const NATURAL_TEMPLATES: ((e: string) => string)[] = [
  (e) => `What does ${e} come to?`,
  (e) => `Find the value of ${e}.`,
  (e) => `Determine the result of ${e}.`,
  (e) => `Reduce ${e} to a single number.`,
];

function formatQuestion(rng: PyRandom, config: BasicArithmeticConfig, expression: string): string {
  // 'natural' draws one of four phrasings, as Reasoning Gym does (one `rng.choice` over four).
  const lead =
    config.format_style === 'simple' ? `Work out the value of ${expression}.` : rng.choice(NATURAL_TEMPLATES)(expression);
  const notes: string[] = [];
  if (!config.allow_parentheses) {
    notes.push(
      'Apply the operations one at a time from left to right, ignoring the usual precedence of * and / over + and -.',
    );
  }
  if (expression.includes('/')) notes.push('Here / is integer division rounding down (toward negative infinity).');
  notes.push('Give the result as a single integer.');
  return `${lead} ${notes.join(' ')}`;
}

/** How many extra attempts an item gets when Reasoning Gym's own generator would raise on it. */
const MAX_REDRAWS = 100;

export const basicArithmeticTask = defineTask<BasicArithmeticConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Evaluate an integer expression with +, -, *, floor division, parentheses and negation.',
  configSchema: basicArithmeticConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const numTerms = rng.randint(config.min_terms, config.max_terms);
    const numDigits = rng.randint(config.min_digits, config.max_digits);

    let built: Built;
    if (config.allow_parentheses) {
      // Reasoning Gym raises ZeroDivisionError on a few items (about 1 in 20000 with '/' and '+' only;
      // a corrected divisor inside -( ... ) can come out 0). Instead of failing, the expression is drawn
      // again from the same generator, which simply continues; every other item matches RG exactly.
      for (let attempt = 0; ; attempt++) {
        try {
          built = complexTask(rng, config, numTerms, numDigits);
          break;
        } catch (err) {
          if (!(err instanceof PyZeroDivisionError) || attempt >= MAX_REDRAWS) throw err;
        }
      }
    } else {
      built = simpleTask(rng, config, numTerms, numDigits);
    }

    return {
      question: formatQuestion(rng, config, built.expression),
      answer: built.result.toString(),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        expression: built.expression,
        num_terms: numTerms,
        num_digits: numDigits,
        difficulty: {
          num_terms: [config.min_terms, config.max_terms],
          num_digits: [config.min_digits, config.max_digits],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's default ProceduralDataset.score_answer (no override for this task). RG raises a TypeError
    // when entry.answer is not a string and the candidate differs; that scores 0 here.
    return typeof entry.answer === 'string' ? exactOrContainedScore(answer, entry.answer) : 0;
  },
});
