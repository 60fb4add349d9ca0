// ONNX export of the decoder: parity with the float64 reference (logits and every hidden state, left
// padding included), padded vs unpadded rows, output names and shapes, metadata, protobuf round trips
// that onnxruntime runs identically (unknown fields, external data), and a corrupt file's error.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { type DecoderConfig, decoderConfig } from '../../src/models/decoder-config.js';
import { METADATA_DECODER_CONFIG, exportDecoderToOnnx, writeOnnxModel } from '../../src/models/onnx/export-decoder.js';
import { DataLocation, decodeModel, encodeModel, encodeStringStringEntry } from '../../src/models/onnx/onnx-proto.js';
import { ProtoWriter } from '../../src/models/onnx/protobuf.js';
import { referenceForward } from '../../src/models/reference.js';
import { type Results, createSession, float32Data, int64Tensor } from '../../src/experts/ort.js';
import { leftPaddedPrompts, maxAbsDiff, randomWeights } from './decoder-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'musketeers-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIGS: [string, DecoderConfig][] = [
  ['GQA tied (vocab 50, hidden 32, 2 layers, 4 heads, 2 KV heads)', decoderConfig({ vocabSize: 50, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2 })],
  ['attention bias, untied, 1 KV head', decoderConfig({ vocabSize: 50, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 1, intermediateSize: 48, attentionBias: true, tieWordEmbeddings: false, ropeTheta: 100 })],
  ['MHA, 3 layers, headDim != hidden/heads', decoderConfig({ vocabSize: 37, hiddenSize: 24, numLayers: 3, numHeads: 2, headDim: 16, rmsNormEps: 1e-5, tieWordEmbeddings: false, maxPositionEmbeddings: 64 })],
];

async function runOrt(bytes: Uint8Array | string, ids: number[][], mask: number[][]): Promise<Results> {
  const session = await createSession(bytes, { intraOpThreads: 1 });
  try {
    return await session.run({ input_ids: int64Tensor(ids), attention_mask: int64Tensor(mask) });
  } finally {
    await session.dispose();
  }
}

for (const [label, config] of CONFIGS) {
  test(`export matches the reference on left-padded prompts: ${label}`, async (t) => {
    const weights = randomWeights(config, 1234);
    const prompts = leftPaddedPrompts(config.vocabSize, [9, 5, 1], 99);
    const bytes = exportDecoderToOnnx(config, weights, { hiddenStates: 'all' });
    const out = await runOrt(bytes, prompts.ids, prompts.mask);
    const ref = referenceForward(config, weights, { inputIds: prompts.ids, attentionMask: prompts.mask });

    const diffs: Record<string, number> = { logits: maxAbsDiff(float32Data(out.logits), ref.logits) };
    for (let i = 0; i <= config.numLayers; i++) diffs[`hidden_states.${i}`] = maxAbsDiff(float32Data(out[`hidden_states.${i}`]), ref.hiddenStates[i]);
    diffs.last_hidden_state = maxAbsDiff(float32Data(out.last_hidden_state), ref.finalHidden);
    t.diagnostic(`max abs diff vs reference: ${JSON.stringify(diffs)}`);
    for (const [name, d] of Object.entries(diffs)) assert.ok(d < 1e-4, `${name}: max abs diff ${d}`);
    assert.ok(diffs.logits > 0, 'float32 vs float64 should differ a little; exactly 0 would mean the comparison is broken');

    // Shapes: logits [B, T, V], hidden states [B, T, H].
    assert.deepEqual(out.logits.dims, [3, 9, config.vocabSize]);
    for (let i = 0; i <= config.numLayers; i++) assert.deepEqual(out[`hidden_states.${i}`].dims, [3, 9, config.hiddenSize]);
    assert.deepEqual(out.last_hidden_state.dims, [3, 9, config.hiddenSize]);
    // Fully masked rows (the left padding) are finite.
    for (const v of float32Data(out.logits)) assert.ok(Number.isFinite(v));

    // A padded row's real positions equal the same prompt run alone, unpadded.
    for (const row of [1, 2]) {
      const len = prompts.lengths[row];
      const alone = await runOrt(bytes, [prompts.ids[row].slice(9 - len)], [Array(len).fill(1)]);
      for (const name of ['logits', 'hidden_states.1', `hidden_states.${config.numLayers}`, 'last_hidden_state']) {
        const padded = float32Data(out[name]);
        const n = out[name].dims[2];
        const single = float32Data(alone[name]);
        let d = 0;
        for (let tt = 0; tt < len; tt++) for (let k = 0; k < n; k++) d = Math.max(d, Math.abs(padded[(row * 9 + 9 - len + tt) * n + k] - single[tt * n + k]));
        assert.ok(d < 1e-4, `${name} row ${row}: padded vs unpadded differ by ${d}`);
      }
    }
  });
}

test('hidden-state selection, metadata, file round trip', async () => {
  const config = CONFIGS[0][1];
  const weights = randomWeights(config, 5);
  const bytes = exportDecoderToOnnx(config, weights, { hiddenStates: [0, -1] });
  const path = join(dir, 'sub', 'decoder.onnx');
  writeOnnxModel(path, bytes);
  assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
  const session = await createSession(path);
  try {
    assert.deepEqual([...session.outputNames], ['logits', 'hidden_states.0', 'hidden_states.2', 'last_hidden_state']);
    assert.deepEqual([...session.inputNames], ['input_ids', 'attention_mask']);
    assert.deepEqual(session.inputs[0], { name: 'input_ids', isTensor: true, type: 'int64', shape: ['batch', 'sequence'] });
    assert.deepEqual(session.outputs[0].shape, ['batch', 'sequence', 50]);
    assert.deepEqual(JSON.parse(session.metadata[METADATA_DECODER_CONFIG]), config);
    assert.equal(session.header.producerName, 'musketeers');
    assert.deepEqual(session.header.opsetImport.map((o) => [o.domain ?? '', o.version]), [['', 17]]);
    const out = await session.run({ input_ids: int64Tensor([[1, 2, 3]]), attention_mask: int64Tensor([[1, 1, 1]]) }, ['hidden_states.2']);
    assert.deepEqual(Object.keys(out), ['hidden_states.2']);
  } finally {
    await session.dispose();
  }
  assert.throws(() => exportDecoderToOnnx(config, weights, { hiddenStates: [3] }), /hidden state index 3 is out of range: valid are 0..2/);
});

test('decode -> encode of an exported model is byte-identical; with foreign unknown fields ORT still runs it identically', async () => {
  const config = CONFIGS[1][1];
  const weights = randomWeights(config, 77);
  const bytes = exportDecoderToOnnx(config, weights);
  const model = decodeModel(bytes, 'exported.onnx');
  assert.deepEqual(encodeModel(model), bytes);
  assert.equal(model.graph!.initializer.find((t) => t.name === 'model.embed_tokens.weight')!.rawData!.buffer, bytes.buffer); // views, not copies

  // Fields ORT knows but this codec does not model: node / value-info / graph metadata_props; plus a field number nobody knows.
  const meta = (k: string) => new ProtoWriter().messageField(9, encodeStringStringEntry({ key: k, value: 'v' })).finish();
  model.graph!.node[3].unknownFields = [meta('node_meta')];
  model.graph!.output[0].unknownFields = [new ProtoWriter().messageField(4, encodeStringStringEntry({ key: 'vi', value: 'v' })).finish()];
  model.graph!.unknownFields = [new ProtoWriter().messageField(16, encodeStringStringEntry({ key: 'g', value: 'v' })).finish()];
  model.unknownFields = [new ProtoWriter().int64Field(4242, 1).finish()];
  const withUnknowns = encodeModel(model);
  const again = decodeModel(withUnknowns);
  assert.equal(again.graph!.node[3].unknownFields!.length, 1);
  assert.deepEqual(encodeModel(again), withUnknowns);

  const prompts = leftPaddedPrompts(config.vocabSize, [6, 3], 3);
  const a = await runOrt(bytes, prompts.ids, prompts.mask);
  const b = await runOrt(withUnknowns, prompts.ids, prompts.mask);
  for (const name of Object.keys(a)) assert.deepEqual(b[name].data, a[name].data, name);
});

test('initializers moved to external data (model.onnx_data, as optimum writes) load from the path and run identically', async () => {
  const config = CONFIGS[0][1];
  const weights = randomWeights(config, 8);
  const bytes = exportDecoderToOnnx(config, weights);
  const model = decodeModel(bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer) {
    if (!t.rawData || t.rawData.length < 1024) continue;
    const pad = (4096 - (offset % 4096)) % 4096; // page-aligned offsets, as the ONNX docs recommend
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(t.rawData);
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(t.rawData.length) },
    ];
    t.dataLocation = DataLocation.EXTERNAL;
    offset += t.rawData.length;
    delete t.rawData;
  }
  const sub = mkdtempSync(join(dir, 'ext-'));
  writeFileSync(join(sub, 'model.onnx_data'), Buffer.concat(chunks));
  const small = encodeModel(model);
  assert.ok(small.length < bytes.length / 4);
  writeOnnxModel(join(sub, 'model.onnx'), small);
  const prompts = leftPaddedPrompts(config.vocabSize, [4, 2], 12);
  const a = await runOrt(bytes, prompts.ids, prompts.mask);
  const b = await runOrt(join(sub, 'model.onnx'), prompts.ids, prompts.mask);
  for (const name of Object.keys(a)) assert.deepEqual(b[name].data, a[name].data, name);
});

test('a corrupt .onnx file gives a clear error naming the file', async () => {
  const config = CONFIGS[0][1];
  const bytes = exportDecoderToOnnx(config, randomWeights(config, 1));
  const truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(createSession(truncated), (e: Error) => e.message.includes(`cannot load ONNX model ${truncated}`) && /complete \.onnx file/.test(e.message));
  const garbage = join(dir, 'garbage.onnx');
  writeFileSync(garbage, 'this is not a model\n');
  await assert.rejects(createSession(garbage), (e: Error) => e.message.includes(garbage));
  await assert.rejects(createSession(join(dir, 'missing.onnx')), /ONNX model file not found: .*missing\.onnx/);
  assert.throws(() => decodeModel(readFileSync(truncated), truncated), (e: Error) => e.message.startsWith(`${truncated}: invalid protobuf at byte`));
});
