// The text-concatenation baseline's prompt layout and policy-side checks (src/rl/text-concat.ts): what an
// expert's generation shows, the `NAME: ANSWER` lines, the token budget of the lines, characters the
// policy's tokenizer cannot encode, and prompts that do not fit the policy's positions.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DataError } from '../../src/errors.js';
import { buildCharTokenizer, projectTokenizer, trainBpeTokenizer } from '../../src/models/tokenizer/build.js';
import { encodePolicyPrompts } from '../../src/rl/setup.js';
import { expertAnswerText, textConcatBudget, textConcatPrompt } from '../../src/rl/text-concat.js';

const char = projectTokenizer(buildCharTokenizer(), 'char');
const bpe = projectTokenizer(trainBpeTokenizer(['What is 3 + 4?\n<answer>7</answer>', 'Sort 3, 1, 2: (P ∨ Q)'], { vocabSize: 300 }), 'bpe');

test('an expert shows the text inside its answer tag, on one line', () => {
  assert.equal(expertAnswerText('17</answer>', 'answer'), '17'); // answer-start prompts end with the opening tag
  assert.equal(expertAnswerText('<answer>17</answer>trailing', 'answer'), '17');
  assert.equal(expertAnswerText('think <answer> 3,\n 4 </answer>', 'answer'), '3, 4');
  assert.equal(expertAnswerText('<answer>(P ∨ Q', 'answer'), '(P ∨ Q'); // cut by the token budget
  assert.equal(expertAnswerText('no tag\nat all', 'answer'), 'no tag at all');
  assert.equal(expertAnswerText('<r>5</r>', 'r'), '5');
  assert.equal(expertAnswerText('</answer>', 'answer'), '');
});

test('the layout: one NAME: ANSWER line per expert, in order, then the question prompt', () => {
  const prompt = textConcatPrompt(
    [
      { expert: 'expert-sums', answer: '17' },
      { expert: 'expert-logic', answer: '' },
    ],
    'What is 9 + 8?\n',
  );
  assert.equal(prompt, 'expert-sums: 17\nexpert-logic:\nWhat is 9 + 8?\n');
});

test('budget: line tokens plus maxNewTokens times the longest decoding of one expert token; unencodable characters listed', () => {
  const b = textConcatBudget(bpe, [
    { name: 'expert-a', tokenizer: char, maxNewTokens: 5 },
    { name: 'expert-b', tokenizer: bpe, maxNewTokens: 3 },
  ]);
  assert.equal(b.experts.length, 2);
  const line = bpe.encode('expert-a: \n').length + 1;
  assert.equal(b.experts[0].lineTokens, line);
  // The byte-level policy writes the char expert's 3-byte characters (e.g. '…') as up to 3 tokens, never unknown.
  assert.ok(b.experts[0].perToken >= 1 && b.experts[0].perToken <= 3, `${b.experts[0].perToken}`);
  assert.equal(b.experts[1].perToken, 1); // the same tokenizer re-encodes each of its tokens as one
  assert.equal(b.tokens, b.experts[0].lineTokens + 5 * b.experts[0].perToken + b.experts[1].lineTokens + 3);
  assert.deepEqual(b.unencodable, {});

  // A char-level policy reads characters outside its alphabet as <unk>: a byte-level expert can write them.
  const wide = projectTokenizer(trainBpeTokenizer(['é é é ü ü ü'], { vocabSize: 270 }), 'wide');
  const c = textConcatBudget(char, [{ name: 'expert-a', tokenizer: wide, maxNewTokens: 2 }]);
  assert.ok(c.unencodable['expert-a']?.includes('é'), JSON.stringify(c.unencodable));

  // An expert name the policy's tokenizer cannot write back is an error naming the fix.
  assert.throws(() => textConcatBudget(char, [{ name: 'expert-é', tokenizer: char, maxNewTokens: 2 }]), (e: unknown) => e instanceof DataError && /cannot encode the expert name 'expert-é'.*rename the expert/.test(e.message));
});

test('policy prompt ids start with BOS; a prompt that leaves no room for the completion is a DataError naming the fix', () => {
  const [ids] = encodePolicyPrompts(bpe, ['ab\n'], { maxPositions: 20, prefixTokens: 0, maxNewTokens: 4 });
  assert.deepEqual(ids, [bpe.bosId, ...bpe.encode('ab\n')]);
  assert.throws(
    () => encodePolicyPrompts(bpe, ['expert-a: 123456789\nWhat is 3 + 4?\n'], { maxPositions: 20, prefixTokens: 0, maxNewTokens: 8, textConcat: true }),
    (e: unknown) => e instanceof DataError && /but the policy has maxPositionEmbeddings 20; lower grpo\.maxNewTokens or experts\.generation\.maxNewTokens/.test(e.message),
  );
});
