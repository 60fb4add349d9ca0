// The text format of the tiny models' sequences, shared by supervised training, evaluation, GRPO
// rollouts and the experts' prompts:
//   prompt  = the task question through the prompt template, then a newline
//   target  = <answer>ANSWER</answer>, then EOS (a token, added by the trainer); targets.ts says which answer
// The tiny models have no chat template and tokens are scarce on a CPU, so the system prompt is not
// shown to them; the answer-tag convention is what the verifier reads.

import { renderPrompt } from '../../tasks/common/extract.js';
import type { TaskEntry } from '../../tasks/types.js';

export interface PromptFormat {
  template: string;
  answerTag: string;
}

export function formatPrompt(format: PromptFormat, entry: Pick<TaskEntry, 'question'>): string {
  return `${renderPrompt(format.template, entry.question)}\n`;
}

/** The reference answer of an entry: `answer`, or `metadata.example_answer` where Reasoning Gym has none. */
export function referenceAnswer(entry: TaskEntry): string {
  if (typeof entry.answer === 'string') return entry.answer;
  const example = entry.metadata.example_answer;
  if (typeof example === 'string') return example;
  throw new Error(`entry ${String(entry.metadata.source_dataset)}#${String(entry.metadata.source_index)} has no answer and no metadata.example_answer`);
}

/**
 * What the experts read: the prompt alone (`question`), or the prompt followed by the opening answer tag
 * (`answer-start`), so that the last token's hidden state is the one from which the expert would write
 * its answer (the tiny world's counterpart of a chat template's generation prompt).
 */
export type ExpertPromptMode = 'question' | 'answer-start';

export function formatExpertPrompt(format: PromptFormat, entry: Pick<TaskEntry, 'question'>, mode: ExpertPromptMode): string {
  const { user, assistant } = expertPromptParts(format, entry, mode);
  return user + assistant;
}

/**
 * The same as a user turn and the start of the reply, for experts with chat templates (the answer tag
 * then follows the template's generation prompt); concatenated, they are formatExpertPrompt.
 */
export function expertPromptParts(format: PromptFormat, entry: Pick<TaskEntry, 'question'>, mode: ExpertPromptMode): { user: string; assistant: string } {
  return { user: formatPrompt(format, entry), assistant: mode === 'answer-start' ? `<${format.answerTag}>` : '' };
}
