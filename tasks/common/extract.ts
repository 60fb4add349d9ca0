// Answer extraction and prompt formatting: Reasoning Gym's `<answer>...</answer>` convention.

import { PY_WS_CLASS, pyStrip } from './pystr.js';

/**
 * Reasoning Gym's `extract_answer`: the content of the last `<tag>...</tag>` pair (non-greedy,
 * across lines), with one optional whitespace character trimmed inside each tag, then stripped.
 * Returns null when the completion has no such pair.
 */
export function extractAnswer(completion: string, tagName = 'answer', strip = true): string | null {
  const escaped = tagName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`<${escaped}>${PY_WS_CLASS}?([\\s\\S]*?)${PY_WS_CLASS}?</${escaped}>`, 'gu');
  let last: string | null = null;
  for (const m of completion.matchAll(re)) last = m[1];
  if (last === null) return null;
  return strip ? pyStrip(last) : last;
}

/** Default system prompt asking for the answer inside tags (the project's own wording). */
export const DEFAULT_SYSTEM_PROMPT =
  'Solve the problem. Think briefly if needed, then give only the final answer inside <answer></answer> tags.';

/** Default user template: `{question}` is replaced by the task question. */
export const DEFAULT_PROMPT_TEMPLATE = '{question}';

/**
 * Fill a prompt template. Placeholders: `{question}`; `{{` and `}}` produce literal braces.
 * Throws on unknown placeholders so that a typo in a config cannot silently drop the question.
 */
export function renderPrompt(template: string, question: string): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (name === 'question') return question;
    throw new Error(`unknown placeholder {${name}} in prompt template; the only placeholder is {question} (write {{ and }} for literal braces)`);
  });
}
