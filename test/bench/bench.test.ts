// The benchmark harness (npm run bench) at tiny sizes: arguments, section discovery, the FLOP count, and
// the table + JSON it writes. No timing thresholds: speed is reported by `npm run bench`, never asserted.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import type { BenchSectionDef } from '../../bench/common.js';
import { benchDecoders } from '../../bench/decoder.js';
import { benchEngines, type EngineRecord } from '../../bench/engines.js';
import { benchGrpo } from '../../bench/grpo.js';
import { benchExtract, extractionFlops, matrixParams } from '../../bench/extract.js';
import { benchGenerate } from '../../bench/generate.js';
import { benchMatmul } from '../../bench/matmul.js';
import { loadSections, parseArgs, runBench } from '../../bench/run.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const NAMES = ['matmul', 'extract', 'generate', 'decoder', 'grpo', 'engines'];

test('arguments: sections, quick, out, json; unknown or empty ones are errors', () => {
  assert.deepEqual(parseArgs([], NAMES), { only: NAMES, quick: false, out: 'bench-results', json: false });
  assert.deepEqual(parseArgs(['--only', 'matmul,decoder', '--quick', '--out', 'x', '--json'], NAMES), { only: ['matmul', 'decoder'], quick: true, out: 'x', json: true });
  assert.throws(() => parseArgs(['--only', 'gpu'], NAMES), /unknown section gpu; sections: matmul, extract, generate, decoder, grpo, engines/);
  assert.throws(() => parseArgs(['--fast'], NAMES), /unknown argument --fast/);
  assert.throws(() => parseArgs(['--out'], NAMES), /--out needs a value/);
  assert.throws(() => parseArgs(['--only', ','], NAMES), /names no section/);
});

test('sections are found from the files in bench/ (a new section is one new file), in run order', async () => {
  const sections = await loadSections();
  assert.deepEqual(sections.map((s) => s.name), NAMES);
  for (const s of sections) assert.ok(s.description.length > 0);
});

test('FLOP count: projection weights by hand, batches formed as the runner forms them', () => {
  // hidden 8, 2 heads of 4, 1 kv head, MLP 16, 1 layer: q 8·8 + k 4·8 + v 4·8 + o 8·8 + gate/up/down 3·16·8 = 576.
  const c = decoderConfig({ vocabSize: 50, hiddenSize: 8, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 16 });
  assert.equal(matrixParams(c), 576);
  assert.equal(matrixParams(decoderConfig({ vocabSize: 50, hiddenSize: 8, numLayers: 3, numHeads: 2, numKvHeads: 1, intermediateSize: 16 })), 3 * 576);
  // lengths 3, 1, 2 at batch 2: [3, 2] padded to 3, then [1].
  const f = extractionFlops(c, [3, 1, 2], 2);
  assert.equal(f.batches, 2);
  assert.equal(f.realTokens, 6);
  assert.equal(f.paddedTokens, 2 * 3 + 1);
  const attention = 2 * 3 * 1 * 4 * 3 * 8 + 1 * 1 * 1 * 4 * 1 * 8;
  assert.equal(f.attentionFlops, attention);
  assert.equal(f.flops, 7 * 2 * 576 + attention);
  // Batch 1 never pads.
  assert.equal(extractionFlops(c, [3, 1, 2], 1).paddedTokens, 6);
});

function assertPositive(value: unknown, what: string): void {
  assert.ok(typeof value === 'number' && Number.isFinite(value) && value > 0, `${what} = ${String(value)} should be a positive finite number`);
}

test('all five sections at tiny sizes: table and JSON with positive, finite rates', async () => {
  const sections: BenchSectionDef[] = [
    { name: 'matmul', order: 10, description: 'tiny', run: (ctx) => benchMatmul(ctx, { sizes: [64, 1024], repeats: () => 2 }) },
    { name: 'extract', order: 20, description: 'tiny', run: (ctx) => benchExtract(ctx, { prompts: 6, experts: ['expert-sums', 'expert-counting'], batchSizes: [1, 4], repeats: 1, warmup: 1, corpusItemsPerTask: 10 }) },
    { name: 'generate', order: 25, description: 'tiny', run: (ctx) => benchGenerate(ctx, { prompts: 3, experts: ['expert-generalist'], batchSizes: [1, 2], maxNewTokens: 3, repeats: 1, corpusItemsPerTask: 10 }) },
    {
      name: 'decoder',
      order: 30,
      description: 'tiny',
      run: (ctx) => benchDecoders(ctx, { backends: ['wasm', 'cpu', 'tfjs-node-gpu'], models: ['policy'], shape: () => ({ batch: 1, seq: 6 }), repeats: 1, warmup: 0 }),
    },
    // The smoke config's sizes, on a stand-in world built in a temporary directory (smoke's world dir is not built).
    { name: 'grpo', order: 40, description: 'tiny', run: (ctx) => benchGrpo(ctx, { configPath: join(REPO_ROOT, 'configs', 'smoke.yaml'), steps: 1, overrides: [`world.dir=${join(tempDir(), 'nowhere')}`] }) },
    {
      name: 'engines',
      order: 45,
      description: 'tiny',
      run: (ctx) => benchEngines(ctx, { configPath: join(REPO_ROOT, 'configs', 'smoke.yaml'), grpoSteps: 1, sftSteps: 2, sftLength: 12, large: false, overrides: [`world.dir=${join(tempDir(), 'nowhere2')}`] }),
    },
  ];
  const out = tempDir();
  let printed = '';
  const result = await runBench({ only: NAMES, quick: true, out, json: false }, { sections, print: (s) => (printed += s) });

  // Files: a timestamped copy and latest.json, both equal to the returned object.
  const files = readdirSync(out).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.match(files[0], /^bench-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.json$/);
  assert.equal(files[1], 'latest.json');
  const saved = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  assert.deepEqual(saved, JSON.parse(readFileSync(join(out, files[0]), 'utf8')));
  assert.deepEqual(saved, JSON.parse(JSON.stringify(result)));

  // Machine facts.
  assert.ok(saved.machine.cpus >= 1);
  assert.match(saved.machine.node, /^v\d+/);
  assert.match(saved.machine.onnxruntime, /^\d+\.\d+/);
  assert.ok(saved.machine.tfjsBackendsInstalled.includes('wasm') && saved.machine.tfjsBackendsInstalled.includes('cpu'));
  assert.deepEqual(Object.keys(saved.sections), NAMES);

  // MatMul.
  const mm = saved.sections.matmul.records;
  assert.deepEqual(mm.map((r: { n: number }) => r.n), [64, 1024]);
  for (const r of mm) {
    for (const k of ['gflops', 'gflopsMin', 'gflopsMax']) assertPositive(r[k], `matmul ${r.n} ${k}`);
    assert.ok(r.ms.min <= r.ms.median && r.ms.median <= r.ms.max);
  }

  // Extraction: per expert x batch size, cold and cached.
  const ex = saved.sections.extract.records;
  assert.deepEqual(ex.map((r: { expert: string; batchSize: number }) => `${r.expert}/${r.batchSize}`), ['expert-sums/1', 'expert-sums/4', 'expert-counting/1', 'expert-counting/4']);
  for (const r of ex) {
    assert.equal(r.prompts, 6);
    assert.ok(r.paddedTokens >= r.promptTokens);
    if (r.batchSize === 1) assert.equal(r.paddedTokens, r.promptTokens);
    for (const k of ['promptTokensPerSec', 'paddedTokensPerSec', 'firstPassPromptTokensPerSec', 'gflops', 'fractionOfMatmul']) assertPositive(r.cold[k], `${r.expert}/${r.batchSize} cold.${k}`);
    assertPositive(r.cached.promptsPerSec, `${r.expert}/${r.batchSize} cached.promptsPerSec`);
    assert.equal(r.cached.allHits, true);
    assert.ok(r.cold.fractionOfMatmul < 10, `fraction of MatMul ${r.cold.fractionOfMatmul} is implausible (FLOP count or reference wrong)`);
  }
  assert.notEqual(ex[0].vocabSize, ex[2].vocabSize); // char vs BPE tokenizer

  // Generation: per expert x batch size, cold and cached; random weights run every row to maxNewTokens.
  const gen = saved.sections.generate.records;
  assert.deepEqual(gen.map((r: { expert: string; batchSize: number }) => `${r.expert}/${r.batchSize}`), ['expert-generalist/1', 'expert-generalist/2']);
  for (const r of gen) {
    assert.ok(r.newTokens <= 3 * 3 && r.newTokens >= 3);
    assert.ok(r.forwardTokens > r.newTokens); // every step reruns the prompt
    for (const k of ['newTokensPerSec', 'forwardTokensPerSec', 'promptsPerSec']) assertPositive(r.cold[k], `generate ${r.batchSize} cold.${k}`);
    assertPositive(r.cached.promptsPerSec, `generate ${r.batchSize} cached.promptsPerSec`);
    assert.equal(r.cached.allHits, true);
  }

  // Decoder: wasm then cpu (switched in one process), tfjs-node-gpu reported unavailable.
  const dec = saved.sections.decoder.records;
  assert.deepEqual(dec.map((r: { backend: string }) => r.backend), ['wasm', 'cpu', 'tfjs-node-gpu']);
  assert.deepEqual(dec.map((r: { tfBackend?: string }) => r.tfBackend), ['wasm', 'cpu', undefined]);
  for (const r of dec.slice(0, 2)) for (const k of ['sampleTokensPerSec', 'forwardTokensPerSec', 'forwardBackwardTokensPerSec']) assertPositive(r[k], `${r.backend} ${k}`);
  assert.equal(dec[2].available, false);
  assert.match(dec[2].reason, /tfjs-node-gpu/);

  // GRPO step: every phase timed, shares and token rates consistent.
  const grpo = saved.sections.grpo.records;
  assert.deepEqual(grpo.map((r: { phase: string }) => r.phase), ['experts', 'rollout', 'reward', 'reference', 'backward', 'update', 'step']);
  for (const r of grpo.slice(0, 6)) assert.ok(r.seconds >= 0 && r.share >= 0 && r.share <= 1, `${r.phase}: ${r.seconds} s, share ${r.share}`);
  for (const phase of ['rollout', 'backward']) assertPositive(grpo.find((r: { phase: string }) => r.phase === phase).tokensPerSec, `grpo ${phase} tokens/s`);
  const step = grpo[6];
  assert.equal(step.rows, 2 * 4);
  assert.equal(step.standInWorld, true);
  assertPositive(step.peakRssBytes, 'peak RSS');
  assert.ok(grpo.slice(0, 6).reduce((a: number, r: { seconds: number }) => a + r.seconds, 0) <= step.seconds * 1.001);

  // Engines: the same GRPO phases and SFT steps on both engines, in the record shape.
  const eng = saved.sections.engines.records as EngineRecord[];
  for (const engine of ['tfjs', 'onnx']) {
    for (const phase of ['rollout', 'reference', 'backward', 'update', 'step']) assert.ok(eng.some((r) => r.engine === engine && r.workload === 'grpo' && r.phase === phase && r.seconds >= 0), `${engine} grpo ${phase}`);
    assert.deepEqual(eng.filter((r) => r.engine === engine && r.workload === 'sft').map((r) => r.model), ['expert-a', 'expert-b', 'policy']);
  }
  for (const r of eng.filter((x) => x.phase === 'step')) assertPositive(r.seconds, `${r.engine} ${r.workload} step`);
  assert.ok(!eng.some((r) => r.workload === 'grpo-0.5b'));

  // The printed tables.
  assert.match(printed, /ONNX Runtime MatMul/);
  assert.match(printed, /1024x1024/);
  assert.match(printed, /expert-counting +bpe/);
  assert.match(printed, /Expert text generation/);
  assert.match(printed, /tfjs-node-gpu +- .*unavailable: package not installed/);
});

test('--json prints only the JSON document', async () => {
  const out = tempDir();
  let printed = '';
  const sections: BenchSectionDef[] = [{ name: 'matmul', order: 10, description: 'tiny', run: (ctx) => benchMatmul(ctx, { sizes: [32], repeats: () => 1 }) }];
  await runBench({ only: ['matmul'], quick: true, out, json: true }, { sections, print: (s) => (printed += s) });
  const doc = JSON.parse(printed);
  assert.deepEqual(Object.keys(doc.sections), ['matmul']);
  assert.equal(doc.sections.matmul.records[0].n, 32);
});
