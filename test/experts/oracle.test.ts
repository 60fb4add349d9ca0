// Oracle experts (a diagnostic that sees answers): states are a deterministic function of the item's
// reference answer, noise and corruption are fixed per item, corruption draws only from the item's own
// split and task, and an item of neither split is refused.

import assert from 'node:assert/strict';
import test from 'node:test';

import type { TaskEntry } from '../../tasks/types.js';
import { OracleExpert, type OracleSettings } from '../../src/experts/oracle.js';
import type { TextTokenizer } from '../../src/models/tokenizer/types.js';

/** One id per character (enough for answers made of digits). */
const charTokenizer = {
  name: 'chars',
  vocabSize: 256,
  padId: 0,
  bosId: 1,
  eosId: 2,
  unkId: 3,
  specialIds: new Set([0, 1, 2, 3]),
  encode: (text: string) => [...text].map((c) => c.charCodeAt(0)),
  decode: (ids: number[]) => String.fromCharCode(...ids),
} as unknown as TextTokenizer;

const entry = (task: string, i: number, answer: string): TaskEntry => ({ question: `${task} question ${i}`, answer, metadata: { source_dataset: task, source_index: i } });

const train = [...Array.from({ length: 40 }, (_, i) => entry('sums', i, String(i % 7))), ...Array.from({ length: 40 }, (_, i) => entry('gcd', i, `g${i % 5}`))];
const evaluation = Array.from({ length: 20 }, (_, i) => entry('sums', 100 + i, String(50 + i)));
const settings = (over: Partial<OracleSettings> = {}): OracleSettings => ({ name: 'oracle', encoding: 'tokens', width: 16, noise: 0, corrupt: 0, seed: 5, ...over });
const open = (over: Partial<OracleSettings> = {}) => new OracleExpert(settings(over), { train, eval: evaluation }, charTokenizer);

test('oracle states are deterministic, per answer (not per question), and shaped by the encoding', async () => {
  const a = open();
  const b = open();
  const [s1, s2] = await a.extract([train[0], train[7]]); // same answer "0"
  assert.deepEqual(s1.shape, [1, 16]);
  assert.deepEqual(s1.data, s2.data, 'two items with the same answer get the same clean state');
  assert.deepEqual((await b.extract([train[0]]))[0].data, s1.data, 'a second oracle with the same seed agrees');
  const [multi] = await a.extract([evaluation[3]]); // "53": two tokens
  assert.deepEqual(multi.shape, [2, 16]);
  const other = new OracleExpert(settings({ seed: 6 }), { train, eval: evaluation }, charTokenizer);
  assert.notDeepEqual((await other.extract([train[0]]))[0].data, s1.data, 'another seed gives other codes');
  const hard = open({ encoding: 'answer' });
  const [h] = await hard.extract([evaluation[3]]);
  assert.deepEqual(h.shape, [16]);
  assert.equal(a.lastStats.computed, 1);
});

test('noise is fixed per item, and its size follows noise x the state norm', async () => {
  const clean = (await open().extract([train[0]]))[0].data;
  const noisy = open({ noise: 0.5 });
  const n1 = (await noisy.extract([train[0]]))[0].data;
  const n2 = (await noisy.extract([train[0]]))[0].data;
  assert.deepEqual(n1, n2, 'the same item gets the same noise every time');
  const n7 = (await noisy.extract([train[7]]))[0].data;
  assert.notDeepEqual(n1, n7, 'two items with the same answer get different noise');
  const norm = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
  const diff = Float32Array.from(n1, (v, i) => v - clean[i]);
  const ratio = norm(diff) / norm(clean);
  assert.ok(ratio > 0.15 && ratio < 1.2, `noise norm ratio ${ratio} should be near 0.5`);
});

test('corruption replaces the answer by one of the same task and split, for about the asked fraction', () => {
  const oracle = open({ corrupt: 0.5 });
  const trainAnswers = new Set(train.filter((e) => e.metadata.source_dataset === 'sums').map((e) => e.answer));
  const evalAnswers = new Set(evaluation.map((e) => e.answer));
  let corrupted = 0;
  for (const e of train.filter((x) => x.metadata.source_dataset === 'sums')) {
    const got = oracle.encodedAnswer(e);
    assert.equal(got.split, 'train');
    assert.ok(trainAnswers.has(got.answer), `training item got ${got.answer}, which is not a training answer of its task`);
    assert.deepEqual(oracle.encodedAnswer(e), got, 'corruption is fixed per item');
    if (got.corrupted) corrupted++;
  }
  assert.ok(corrupted >= 10 && corrupted <= 30, `${corrupted} of 40 corrupted at 0.5`);
  for (const e of evaluation) {
    const got = oracle.encodedAnswer(e);
    assert.equal(got.split, 'eval');
    assert.ok(evalAnswers.has(got.answer), 'an evaluation item never gets a training answer');
  }
  for (const e of train.filter((x) => x.metadata.source_dataset === 'gcd')) assert.match(oracle.encodedAnswer(e).answer, /^g\d$/, 'never another task’s answer');
  assert.equal(open({ corrupt: 0 }).encodedAnswer(train[3]).answer, '3');
});

test('an item of neither split is refused, and a question in both splits is an error', async () => {
  const oracle = open();
  await assert.rejects(oracle.extract([entry('sums', 999, '1')]), /diagnostic that sees answers.*in neither/);
  assert.throws(() => new OracleExpert(settings(), { train, eval: [train[0]] }, charTokenizer), /in both splits/);
  assert.throws(() => new OracleExpert(settings(), { train, eval: evaluation }), /needs the policy's tokenizer/);
});
