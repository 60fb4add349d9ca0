// Reasoning Gym's `knights_knaves`: truth-tellers and liars make statements about each other; the
// model works out who is who. Puzzles come from RG's sampler (same NumPy PCG64 streams, so the same
// statements and unique solutions as RG for a given seed); names and wording are this project's own.

import { z } from 'zod';

import { baseTaskConfigShape } from '../common/config.js';
import { pySplit, pyStrip } from '../common/pystr.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';
import { NumpyGenerator } from './numpy_rng.js';

const DATASET_NAME = 'knights_knaves';

/**
 * Islanders' names (this project's list). 51 names, the length of RG's list, so a name is drawn at the
 * same index of the stream as RG's. Each is one word, distinct in lower case, and none is a role word
 * or "is"/"a"/"an"/"and", which the answer parser treats specially.
 */
export const NAMES = [
  'Alice', 'Bruno', 'Clara', 'Diego', 'Elena', 'Felix', 'Greta', 'Hugo', 'Iris', 'Jonas',
  'Kira', 'Leo', 'Maya', 'Nico', 'Opal', 'Pablo', 'Quinn', 'Rosa', 'Sami', 'Tara',
  'Ulrich', 'Vera', 'Wade', 'Xena', 'Yara', 'Zane', 'Ada', 'Boris', 'Cleo', 'Dante',
  'Esme', 'Farah', 'Gideon', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lena', 'Marco', 'Nadia',
  'Oscar', 'Priya', 'Rafael', 'Selma', 'Tobias', 'Uma', 'Viktor', 'Wendy', 'Yusuf', 'Zelda',
  'Milo',
] as const;

/**
 * Truth-teller / liar terms. These are the role words RG's answer parser recognises (its
 * `VALID_ROLES`), so they are kept as RG has them, in the same order; every entry RG writes uses one.
 */
export const ROLE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['a knight', 'a knave'],
  ['a pioneer', 'a laggard'],
  ['a saint', 'a sinner'],
  ['a hero', 'a villain'],
  ['an angel', 'a devil'],
  ['an altruist', 'an egoist'],
  ['a sage', 'a fool'],
];

const VALID_ROLES = new Set(ROLE_PAIRS.flatMap((pair) => pair.map((term) => term.split(' ')[1])));

/** A statement in RG's tuple form (JSON arrays): who it is about and how it is built. */
export type Statement =
  | readonly ['telling-truth' | 'lying', number]
  | readonly ['not', Statement]
  | readonly ['and' | 'or', ...Statement[]]
  | readonly ['->' | '<=>', Statement, Statement];

const MAX_RETRY = 1000;

const configSchema = z
  .object({
    ...baseTaskConfigShape,
    n_people: z.number().int().default(2).describe('number of islanders in each puzzle'),
    depth_constraint: z.number().int().default(2).describe('maximum nesting depth of a statement (1 = "X is a knight/knave")'),
    width_constraint: z.number().int().default(2).describe('maximum number of parts joined by one and/or'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const key of ['n_people', 'depth_constraint', 'width_constraint'] as const) {
      if (cfg[key] < 1) ctx.addIssue({ code: 'custom', path: [key], message: `${key} (${cfg[key]}) must be at least 1; set it to 1 or more` });
    }
    // Beyond RG's validate(): configurations on which RG never produces an item.
    if (cfg.depth_constraint === 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['depth_constraint'],
        message:
          'depth_constraint 1 allows only statements like "X is a knight", and such puzzles never have a unique solution ' +
          '(swapping every role keeps them consistent; Reasoning Gym fails on every item); set depth_constraint to 2 or more',
      });
    }
    if (cfg.n_people === 1 && cfg.depth_constraint === 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['depth_constraint'],
        message:
          'with n_people 1 and depth_constraint 2 no puzzle has a unique solution (Reasoning Gym fails or loops forever); ' +
          'set depth_constraint to 3 or more, or n_people to 2 or more',
      });
    }
    if (cfg.n_people > NAMES.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['n_people'],
        message: `n_people (${cfg.n_people}) must be at most ${NAMES.length}, the number of available names (Reasoning Gym fails the same way); lower n_people`,
      });
    }
  });

export type KnightsKnavesConfig = z.infer<typeof configSchema>;

/** RG's `test_satisfiability`: the truth of a statement under an assignment (true = truth-teller). */
export function statementHolds(s: Statement, assignment: readonly boolean[]): boolean {
  switch (s[0]) {
    case 'telling-truth':
      return assignment[s[1]];
    case 'lying':
      return !assignment[s[1]];
    case 'not':
      return !statementHolds(s[1], assignment);
    case 'and':
      return (s.slice(1) as Statement[]).every((x) => statementHolds(x, assignment));
    case 'or':
      return (s.slice(1) as Statement[]).some((x) => statementHolds(x, assignment));
    case '->':
      return !statementHolds(s[1], assignment) || statementHolds(s[2], assignment);
    case '<=>':
      return statementHolds(s[1], assignment) === statementHolds(s[2], assignment);
    default:
      throw new Error(`unknown statement: ${JSON.stringify(s)}`);
  }
}

/**
 * RG's `find_solution`: the assignments (in itertools.product([True, False]) order) under which each
 * person is a truth-teller exactly when their statement holds. `limit` stops early; RG only ever
 * asks whether there are 0, 1 or more.
 */
export function findSolutions(statements: readonly Statement[], limit = Infinity): boolean[][] {
  const n = statements.length;
  const solutions: boolean[][] = [];
  for (let mask = 0; mask < 2 ** n; mask++) {
    // product([True, False], repeat=n): the first person varies slowest, True before False.
    const assignment = Array.from({ length: n }, (_, i) => ((mask >> (n - 1 - i)) & 1) === 0);
    if (statements.every((s, i) => statementHolds(s, assignment) === assignment[i])) {
      solutions.push(assignment);
      if (solutions.length >= limit) break;
    }
  }
  return solutions;
}

/** RG's `KKProblemSampler`, on the same NumPy stream. */
class ProblemSampler {
  private readonly distinctCache = new Map<number, number>();

  constructor(
    private readonly rng: NumpyGenerator,
    private readonly nPeople: number,
    private readonly depthConstraint: number,
    private readonly widthConstraint: number,
  ) {}

  sampleUnique(): { statements: Statement[]; solution: boolean[] } {
    for (let attempt = 0; attempt < MAX_RETRY; attempt++) {
      const statements = Array.from({ length: this.nPeople }, (_, p) => this.sampleStatement(p, this.depthConstraint));
      const solutions = findSolutions(statements, 2);
      if (solutions.length === 1) return { statements, solution: solutions[0] };
    }
    // RG: `problems[0]` on an empty list raises IndexError.
    throw new Error(
      `knights_knaves: no puzzle with a unique solution in ${MAX_RETRY} attempts (Reasoning Gym fails on this item too); ` +
        'use more people or a larger depth_constraint',
    );
  }

  private sampleStatement(personId: number, depth: number): Statement {
    const dice = this.rng.integers(0, 6);
    if (depth === 1 || dice === 0) {
      for (;;) {
        const kind = (['telling-truth', 'lying'] as const)[this.rng.choiceIndex(2)];
        const person = this.rng.integers(0, this.nPeople);
        // nobody says "I am lying"
        if (!(kind === 'lying' && person === personId)) return [kind, person];
      }
    }
    if (dice === 1) return ['not', this.sampleStatement(personId, depth - 1)];
    if (dice === 2 || dice === 3) {
      const op = dice === 2 ? 'and' : 'or';
      if (this.widthConstraint < 2) {
        // RG: rng.integers(2, width_constraint + 1) raises ValueError (low >= high).
        throw new Error(
          'knights_knaves: width_constraint 1 cannot build an and/or statement (Reasoning Gym raises here too); ' +
            'set width_constraint to 2 or more, or depth_constraint to 1',
        );
      }
      const count = this.rng.integers(2, this.widthConstraint + 1);
      return [op, ...this.sampleSubstatements(personId, depth, count)];
    }
    const op = dice === 4 ? '->' : '<=>';
    const [a, b] = this.sampleSubstatements(personId, depth, 2);
    return [op, a, b];
  }

  /** Distinct sub-statements drawn at depth - 1 (RG's dedup loop). */
  private sampleSubstatements(personId: number, depth: number, count: number): Statement[] {
    const available = this.distinctStatements(depth - 1);
    if (count > available) {
      // RG's dedup loop would never finish.
      throw new Error(
        `knights_knaves: a statement needs ${count} different parts but only ${available} exist with n_people=${this.nPeople} ` +
          '(Reasoning Gym loops forever here); raise n_people or depth_constraint, or lower width_constraint',
      );
    }
    const out: Statement[] = [];
    const seen = new Set<string>();
    while (out.length < count) {
      const s = this.sampleStatement(personId, depth - 1);
      const key = JSON.stringify(s);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(s);
    }
    return out;
  }

  /** How many different statements `sampleStatement(p, depth)` can return (capped; only compared to small counts). */
  private distinctStatements(depth: number): number {
    const cap = 1e12;
    const cached = this.distinctCache.get(depth);
    if (cached !== undefined) return cached;
    const primitives = 2 * this.nPeople - 1;
    let total = primitives;
    if (depth > 1) {
      const sub = this.distinctStatements(depth - 1);
      const perms = (k: number) => {
        let p = 1;
        for (let i = 0; i < k; i++) p = Math.min(cap, p * (sub - i));
        return p;
      };
      total += sub; // not
      if (this.widthConstraint >= 2) {
        for (let k = 2; k <= Math.min(this.widthConstraint, sub); k++) total += 2 * perms(k); // and, or
      }
      if (sub >= 2) total += 2 * perms(2); // ->, <=>
    }
    total = Math.min(cap, total);
    this.distinctCache.set(depth, total);
    return total;
  }
}

// ---------------------------------------------------------------------------------------------
// Wording (this project's own).

interface Terms {
  knight: string;
  knave: string;
  a_knight: string;
  a_knave: string;
  Knight: string;
  Knave: string;
}

const capitalize = (s: string) => (s.length === 0 ? s : s[0].toUpperCase() + s.slice(1).toLowerCase());
const plural = (word: string) => (word.endsWith('o') ? `${word}es` : `${word}s`);
const upperFirst = (s: string) => (s.length === 0 ? s : s[0].toUpperCase() + s.slice(1));

const isPrimitive = (s: Statement) => s[0] === 'telling-truth' || s[0] === 'lying';
/** Rendered as a single "X is a knight/knave" clause (a negated primitive uses the opposite role). */
const isSimple = (s: Statement) => isPrimitive(s) || (s[0] === 'not' && isPrimitive(s[1]));

function describe(s: Statement, names: readonly string[], terms: Terms): string {
  const part = (x: Statement) => (isSimple(x) ? describe(x, names, terms) : `(${describe(x, names, terms)})`);
  switch (s[0]) {
    case 'telling-truth':
      return `${names[s[1]]} is ${terms.a_knight}`;
    case 'lying':
      return `${names[s[1]]} is ${terms.a_knave}`;
    case 'not': {
      const inner = s[1];
      if (inner[0] === 'telling-truth') return describe(['lying', inner[1]], names, terms);
      if (inner[0] === 'lying') return describe(['telling-truth', inner[1]], names, terms);
      return `it is false that ${part(inner)}`;
    }
    case 'and':
    case 'or':
      return (s.slice(1) as Statement[]).map(part).join(` ${s[0]} `);
    case '->':
      return `if ${part(s[1])}, then ${part(s[2])}`;
    case '<=>':
      return `${part(s[1])} exactly when ${part(s[2])}`;
  }
}

/** Ways of reporting what someone said; `said` is the bare clause, `Said` the same clause capitalised. */
const SPEECH: ReadonlyArray<(name: string, said: string, Said: string) => string> = [
  (n, _s, S) => `${n} says, "${S}."`,
  (n, s) => `${n} claims that ${s}.`,
  (n, _s, S) => `"${S}," ${n} insists.`,
  (n, _s, S) => `${n} tells you: "${S}."`,
  (n, s) => `${n} announces that ${s}.`,
  (n, s) => `According to ${n}, ${s}.`,
  (n, _s, S) => `${n} declares, "${S}."`,
  (n, s) => `${n} swears that ${s}.`,
  (n, _s, S) => `When asked, ${n} replies: "${S}."`,
  (n, s) => `${n} maintains that ${s}.`,
  (n, _s, S) => `"${S}." That is what ${n} says.`,
  (n, s) => `${n} assures you that ${s}.`,
];

function listNames(names: readonly string[]): string {
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The oracle answer in RG's format: "A is a knight, B is a knave, and C is a knight." */
export function solutionText(names: readonly string[], solution: readonly boolean[], terms: Terms): string {
  const clauses = names.map((name, i) => `${name} is ${solution[i] ? terms.a_knight : terms.a_knave}`);
  // RG writes ", and " even before a single clause (", and Alice is a knight."); one clause alone reads
  // better and normalises to the same (name, role) set, so scores are unchanged.
  if (clauses.length === 1) return `${clauses[0]}.`;
  return `${clauses.slice(0, -1).join(', ')}, and ${clauses[clauses.length - 1]}.`;
}

export const knightsKnavesTask = defineTask<KnightsKnavesConfig>({
  name: DATASET_NAME,
  category: 'logic',
  description: 'Knights-and-knaves puzzles: decide from their statements which islanders always tell the truth.',
  configSchema,
  generate(config, index) {
    const rng = rngForItem(config.seed, index);
    const sampler = new ProblemSampler(
      new NumpyGenerator(rng.randint(0, 2 ** 32)),
      config.n_people,
      config.depth_constraint,
      config.width_constraint,
    );
    const { statements, solution } = sampler.sampleUnique();

    const fmt = new NumpyGenerator(rng.randint(0, 2 ** 32));
    const names = fmt.sampleIndices(NAMES.length, config.n_people).map((i) => NAMES[i] as string);
    const [aKnight, aKnave] = ROLE_PAIRS[fmt.choiceIndex(ROLE_PAIRS.length)];
    const knight = aKnight.split(' ')[1];
    const knave = aKnave.split(' ')[1];
    const terms: Terms = { knight, knave, a_knight: aKnight, a_knave: aKnave, Knight: capitalize(knight), Knave: capitalize(knave) };

    const lines: string[] = [
      `Everyone living on a certain island is either ${aKnight} or ${aKnave}. ` +
        `${upperFirst(plural(knight))} only ever say true things, and ${plural(knave)} only ever say false things ` +
        `("or" below is inclusive). You come across ${config.n_people} of them: ${listNames(names)}.`,
    ];
    statements.forEach((s, i) => {
      const said = describe(s, names, terms);
      lines.push(SPEECH[fmt.choiceIndex(SPEECH.length)](names[i], said, upperFirst(said)));
    });
    const pattern = names.map((name) => `${name} is ${aKnight}/${knave}`);
    const patternText = pattern.length === 1 ? pattern[0] : `${pattern.slice(0, -1).join(', ')}, and ${pattern[pattern.length - 1]}`;
    lines.push(`Which of them are ${plural(knight)} and which are ${plural(knave)}? Answer in the form "${patternText}".`);

    return {
      question: lines.join(' '),
      answer: solutionText(names, solution, terms),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        statements,
        solution,
        names,
        knight_knave_terms: terms,
        difficulty: {
          n_people: config.n_people,
          depth_constraint: config.depth_constraint,
          width_constraint: config.width_constraint,
        },
      },
    };
  },
  score(answer, entry) {
    return scoreKnightsKnaves(answer, entry);
  },
});

/**
 * RG's `_normalize_answer`: lower-case, punctuation . , ( ) to spaces, " and " dropped, then each role
 * word pairs with the most recent other word ("is", "a", "an" skipped). Returns "name\u0000role" keys.
 */
export function normalizeAnswer(answer: string): Set<string> {
  const text = pyStrip(answer.toLowerCase()).replace(/[.,)(]/g, ' ').replaceAll(' and ', ' ');
  const pairs = new Set<string>();
  let currentName: string | null = null;
  for (const part of pySplit(text)) {
    if (part === 'is' || part === 'a' || part === 'an') continue;
    if (VALID_ROLES.has(part)) {
      if (currentName) {
        pairs.add(`${currentName}\u0000${part}`);
        currentName = null;
      }
    } else {
      currentName = part;
    }
  }
  return pairs;
}

/**
 * RG's `score_answer`: 1.0 when the candidate's (name, role) pairs equal the oracle's as sets (order,
 * punctuation and "a"/"an"/"is" do not matter); when the candidate has as many pairs as the oracle
 * and some match, 0.3 + 0.7 * matching / total; else 0. Only `entry.answer` is used. Matched quirks:
 * roles are compared as words, so "Alice is a sage" earns nothing on a knight/knave puzzle; a candidate
 * with an extra or missing pair gets 0 even if the rest is right; duplicate pairs count once.
 */
export function scoreKnightsKnaves(answer: string | null | undefined, entry: TaskEntry): number {
  if (typeof answer !== 'string' || answer.length === 0) return 0;
  if (typeof entry.answer !== 'string') return 0; // RG: None.lower() raises, caught -> 0.0
  const oracle = normalizeAnswer(entry.answer);
  const candidate = normalizeAnswer(answer);
  if (oracle.size === candidate.size && [...oracle].every((p) => candidate.has(p))) return 1.0;
  if (oracle.size === candidate.size) {
    const matching = [...oracle].filter((p) => candidate.has(p)).length;
    if (matching > 0) return 0.3 + (0.7 * matching) / oracle.size;
  }
  return 0;
}
