// The text-concatenation baseline's prompt layout (method text-concat): each expert's greedy output,
// reduced to its answer, on a line of its own as `NAME: ANSWER`, in expert order, then the policy's usual
// prompt (the formatted question and its newline):
//
//   expert-sums: 17
//   expert-logic: (P ∨ Q)
//   What is 9 + 8?
//
// Also the checks that the policy's tokenizer can encode such prompts and that they fit its positions.

import { DataError } from '../errors.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';

/**
 * What an expert's generation shows the policy: the text inside its answer tag (an opening tag the
 * expert wrote, or the one its `answer-start` prompt ended with, is dropped; the text ends at the closing
 * tag), whitespace runs collapsed to one space so that each expert stays on one line. An expert that
 * wrote nothing shows an empty answer.
 */
export function expertAnswerText(generated: string, answerTag: string): string {
  const open = `<${answerTag}>`;
  const close = `</${answerTag}>`;
  let text = generated;
  const end = text.indexOf(close);
  if (end >= 0) text = text.slice(0, end);
  const start = text.lastIndexOf(open);
  if (start >= 0) text = text.slice(start + open.length);
  return text.replace(/\s+/g, ' ').trim();
}

/** One line per expert, `NAME: ANSWER`, then the question prompt. */
export function textConcatPrompt(answers: readonly { expert: string; answer: string }[], questionPrompt: string): string {
  return `${answers.map((a) => (a.answer === '' ? `${a.expert}:` : `${a.expert}: ${a.answer}`)).join('\n')}\n${questionPrompt}`;
}

/** Expert-side facts the policy-side checks need. */
export interface ExpertWriter {
  name: string;
  tokenizer: TextTokenizer;
  /** Longest generation in the expert's tokens. */
  maxNewTokens: number;
}

export interface TextConcatBudget {
  /** Upper estimate of the policy tokens the expert lines add to a prompt. */
  tokens: number;
  /** Per expert: policy tokens of its line prefix and the most policy tokens one of its tokens can decode to. */
  experts: { name: string; lineTokens: number; perToken: number }[];
  /** Characters the experts can write that the policy's tokenizer does not round-trip (read as unknown), per expert. */
  unencodable: Record<string, string[]>;
}

/**
 * How many policy tokens the expert lines can take (an estimate from above, not a bound BPE guarantees):
 * for each expert, its `NAME: \n` line plus maxNewTokens times the most policy tokens any single token of
 * its vocabulary decodes to. Throws DataError when the policy's tokenizer cannot write an expert's name.
 */
export function textConcatBudget(policy: TextTokenizer, experts: readonly ExpertWriter[]): TextConcatBudget {
  const unencodable: Record<string, string[]> = {};
  const rows = experts.map((e) => {
    const line = `${e.name}: \n`;
    if (policy.decode(policy.encode(line), { skipSpecial: true }) !== line) {
      throw new DataError(`method text-concat: the policy's tokenizer '${policy.name}' cannot encode the expert name '${e.name}' (it does not decode back); rename the expert in world.models`);
    }
    let perToken = 1;
    const bad = new Set<string>();
    for (let id = 0; id < e.tokenizer.vocabSize; id++) {
      if (e.tokenizer.specialIds.has(id) || e.tokenizer.idToToken(id) === undefined) continue;
      const text = e.tokenizer.decode([id], { skipSpecial: true });
      // A byte-level token holding part of a UTF-8 character decodes alone to U+FFFD; in real text it joins
      // its neighbours into one character, which a byte-level policy writes in at most as many tokens.
      if (text === '' || text.includes('\uFFFD')) continue;
      const ids = policy.encode(text);
      perToken = Math.max(perToken, ids.length);
      if (policy.unkId !== undefined && ids.includes(policy.unkId)) for (const ch of text) if (!policy.encode(ch).every((x) => x !== policy.unkId)) bad.add(ch);
    }
    if (bad.size > 0) unencodable[e.name] = [...bad].sort();
    return { name: e.name, lineTokens: policy.encode(line).length + 1, perToken };
  });
  const tokens = rows.reduce((a, r, i) => a + r.lineTokens + experts[i].maxNewTokens * r.perToken, 0);
  return { tokens, experts: rows, unencodable };
}

