// The world's supervised targets: one-answer tasks teach their answer; propositional_logic teaches a
// valid conclusion that follows from the question by a fixed rule, checked by the task's own scorer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { taskRegistry } from '../../tasks/index.js';
import { scorePropositionalLogic } from '../../tasks/logic/propositional_logic.js';
import type { TaskEntry } from '../../tasks/types.js';
import { referenceAnswer } from '../../src/world/format.js';
import { formatTarget, propositionalLogicTeachingAnswer, teachingAnswer } from '../../src/world/targets.js';

const logic = (premises: string[], variables = ['P', 'Q', 'R'], example = '(P ∨ ¬P)'): TaskEntry => ({
  question: 'q',
  answer: null,
  metadata: { source_dataset: 'propositional_logic', source_index: 0, premises, variables, example_answer: example },
});

test('propositional_logic: the first informative premise, copied as written', () => {
  assert.equal(propositionalLogicTeachingAnswer(logic(['P', '(Q ∧ R)', '¬P'])), '(Q ∧ R)');
  assert.equal(propositionalLogicTeachingAnswer(logic(['¬Q'])), '¬Q');
  // a tautology is skipped like a bare variable
  assert.equal(propositionalLogicTeachingAnswer(logic(['(P ∨ ¬P)', '(P → Q)'])), '(P → Q)');
});

test('propositional_logic: bare-variable premises give (X ∨ Y) with the next variable', () => {
  assert.equal(propositionalLogicTeachingAnswer(logic(['Q', 'R'])), '(Q ∨ P)');
  assert.equal(propositionalLogicTeachingAnswer(logic(['P'])), '(P ∨ Q)');
  assert.equal(teachingAnswer(logic(['P'])), '(P ∨ Q)');
  // a model built with train.targets: reference (the quickstart policy base) sees the stored example
  assert.equal(formatTarget({ template: '{question}', answerTag: 'answer' }, logic(['P']), 'reference'), '<answer>(P ∨ ¬P)</answer>');
  assert.equal(formatTarget({ template: '{question}', answerTag: 'answer' }, logic(['P']), 'teaching'), '<answer>(P ∨ Q)</answer>');
  // only tautologies: no rule applies, the stored example answer is taught
  assert.equal(propositionalLogicTeachingAnswer(logic(['(P ∨ ¬P)'])), undefined);
  assert.equal(teachingAnswer(logic(['(P ∨ ¬P)'], ['P', 'Q'], '(Q → Q)')), '(Q → Q)');
});

test('contradictory premises: the copied premise scores 1, as every formula follows', () => {
  const entry = logic(['(P ∧ ¬P)']);
  assert.equal(teachingAnswer(entry), '(P ∧ ¬P)');
  assert.equal(scorePropositionalLogic('(P ∧ ¬P)', entry), 1);
});

test('on generated items the rule applies almost always and scores 1 (quickstart and default configs)', () => {
  const task = taskRegistry.get('propositional_logic');
  for (const config of [
    { min_vars: 3, max_vars: 6, min_statements: 1, max_statements: 1, min_complexity: 2, max_complexity: 2 },
    { min_vars: 3, max_vars: 5, min_statements: 1, max_statements: 2, min_complexity: 1, max_complexity: 2 },
    {},
  ]) {
    const resolved = task.configSchema.parse({ seed: 7, size: 300, ...config });
    let fallbacks = 0;
    for (let i = 0; i < 300; i++) {
      const entry = task.generate(resolved, i);
      const ruled = propositionalLogicTeachingAnswer(entry);
      if (ruled === undefined) {
        fallbacks++;
        assert.equal(teachingAnswer(entry), referenceAnswer(entry));
      } else {
        assert.equal(task.score(ruled, entry), 1, `item ${i}: ${ruled}`);
        assert.equal(teachingAnswer(entry), ruled);
      }
    }
    assert.ok(fallbacks < 30, `${fallbacks} of 300 items fell back to the example answer`);
  }
});

test('tasks with one answer teach it', () => {
  const entry: TaskEntry = { question: 'What is 2+2?', answer: '4', metadata: { source_dataset: 'chain_sum', source_index: 0 } };
  assert.equal(teachingAnswer(entry), '4');
  assert.equal(formatTarget({ template: '{question}', answerTag: 'answer' }, entry), '<answer>4</answer>');
});
