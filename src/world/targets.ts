// The supervised targets of the tiny world. Most tasks have one answer, and a world model is trained
// to write it. A few Reasoning Gym tasks accept many answers and store one sampled at random
// (propositional_logic: any non-trivial formula the premises entail scores 1; RG keeps a random valid
// depth-2 formula as `example_answer`). A random valid formula cannot be learnt from the question by a
// model of 10^5 parameters: trained on it, the logic expert scored below the constant answer "(P ∨ Q)".
// For such tasks the world teaches a valid answer that follows from the question by a fixed rule, and
// the rule's answer is checked with the task's own scorer (falling back to the stored answer if it
// ever scores below 1). Scorers, generators and the RL rewards are unchanged. A model trained with
// `train.targets: reference` (the quickstart's policy base) sees the stored answers instead.

import { isTrivial, parseExpr, scorePropositionalLogic, OR } from '../../tasks/logic/propositional_logic.js';
import type { TaskEntry } from '../../tasks/types.js';
import { referenceAnswer, type PromptFormat } from './format.js';

/**
 * propositional_logic: the first premise that is informative on its own (neither a bare variable nor
 * a tautology), copied as written; a premise entails itself. When every premise is a bare variable or a
 * tautology, `(X ∨ Y)` with X the first bare-variable premise and Y the first other variable.
 * Undefined where no rule applies.
 */
export function propositionalLogicTeachingAnswer(entry: TaskEntry): string | undefined {
  const premises = entry.metadata.premises;
  const variables = entry.metadata.variables;
  if (!Array.isArray(premises) || !Array.isArray(variables)) return undefined;
  const texts = premises.map(String);
  const parsed = texts.map((p) => parseExpr(p));
  const informative = parsed.findIndex((p) => !isTrivial(p));
  if (informative >= 0) return texts[informative];
  const bare = parsed.find((p) => p.op === null);
  if (!bare) return undefined;
  const x = bare.left as string;
  const y = variables.map(String).find((v) => v !== x);
  return y === undefined ? undefined : `(${x} ${OR} ${y})`;
}

const TEACHING_RULES: Readonly<Record<string, { rule: (entry: TaskEntry) => string | undefined; score: (answer: string, entry: TaskEntry) => number }>> = {
  propositional_logic: { rule: propositionalLogicTeachingAnswer, score: scorePropositionalLogic },
};

/** The answer a world model is trained to write for an entry: a rule's answer where its task has one and it scores 1, else the reference answer. */
export function teachingAnswer(entry: TaskEntry): string {
  const teaching = TEACHING_RULES[String(entry.metadata.source_dataset)];
  if (teaching) {
    const answer = teaching.rule(entry);
    if (answer !== undefined && teaching.score(answer, entry) === 1) return answer;
  }
  return referenceAnswer(entry);
}

export type TargetKind = 'teaching' | 'reference';

/** A world model's supervised target: the teaching (or reference) answer in the answer tags (EOS is added by the trainer). */
export function formatTarget(format: PromptFormat, entry: TaskEntry, kind: TargetKind = 'teaching'): string {
  const answer = kind === 'teaching' ? teachingAnswer(entry) : referenceAnswer(entry);
  return `<${format.answerTag}>${answer}</${format.answerTag}>`;
}
