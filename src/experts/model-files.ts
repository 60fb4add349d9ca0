// The files of an expert: where its model.onnx is when given a directory (optimum output directories,
// transformers.js `onnx/` layouts), the `config.json` beside it (width, KV heads, context length), and
// external data (`model.onnx_data`): ONNX Runtime resolves external data only for models loaded from a
// path, so a graph the runner rewrote is either given its weights inline (small models) or written as a
// small graph-only file next to the original that points at the same data file (large models).

import { closeSync, existsSync, openSync, readFileSync, readdirSync, readSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';

import { DataLocation, encodeModel, type ModelProto, type TensorProto } from '../models/onnx/onnx-proto.js';
import { sha256 } from './cache.js';

/** Model file names tried, in order, when an expert is given as a directory. */
export const MODEL_FILE_CANDIDATES = ['model.onnx', 'onnx/model.onnx', 'decoder_model.onnx', 'onnx/decoder_model.onnx'];

/** The .onnx file of an expert given as a file or a directory; errors list what the directory holds. */
export function resolveModelFile(path: string, expert: string): string {
  if (!existsSync(path)) throw new Error(`expert '${expert}': model not found: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  for (const c of MODEL_FILE_CANDIDATES) if (existsSync(join(path, c))) return join(path, c);
  const onnx = readdirSync(path).filter((f) => f.endsWith('.onnx'));
  throw new Error(
    `expert '${expert}': no model in ${path}: looked for ${MODEL_FILE_CANDIDATES.join(', ')}` +
      (onnx.length > 0 ? `; found ${onnx.join(', ')}: give the file's path instead` : '; export the model with `optimum-cli export onnx` (see the README)'),
  );
}

/** The directory holding the expert's tokenizer.json: the model's directory, or its parent for `onnx/` layouts. */
export function defaultTokenizerDir(modelFile: string): string {
  const dir = dirname(modelFile);
  if (!existsSync(join(dir, 'tokenizer.json')) && basename(dir) === 'onnx' && existsSync(join(dirname(dir), 'tokenizer.json'))) return dirname(dir);
  return dir;
}

/** The fields of a Hugging Face config.json the runner can use (undefined when there is no such file). */
export interface ModelConfigHints {
  hiddenSize?: number;
  numKvHeads?: number;
  headDim?: number;
  maxPositionEmbeddings?: number;
  numLayers?: number;
}

export function readConfigHints(modelFile: string): ModelConfigHints | undefined {
  for (const dir of [dirname(modelFile), dirname(dirname(modelFile))]) {
    const path = join(dir, 'config.json');
    if (!existsSync(path)) continue;
    try {
      const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      const n = (k: string) => (typeof j[k] === 'number' ? (j[k] as number) : undefined);
      const heads = n('num_attention_heads');
      const hidden = n('hidden_size');
      return {
        hiddenSize: hidden,
        numKvHeads: n('num_key_value_heads') ?? heads,
        headDim: n('head_dim') ?? (hidden !== undefined && heads !== undefined ? hidden / heads : undefined),
        maxPositionEmbeddings: n('max_position_embeddings'),
        numLayers: n('num_hidden_layers'),
      };
    } catch {
      return undefined; // not a transformers config: no hints
    }
  }
  return undefined;
}

function externalField(t: TensorProto, key: string): string | undefined {
  return t.externalData.find((e) => e.key === key)?.value;
}

/** Initializers stored outside the model file. */
export function externalTensors(model: ModelProto): TensorProto[] {
  return (model.graph?.initializer ?? []).filter((t) => t.dataLocation === DataLocation.EXTERNAL);
}

/** Total bytes of external data the model references. */
export function externalBytes(model: ModelProto): number {
  return externalTensors(model).reduce((a, t) => a + Number(externalField(t, 'length') ?? 0), 0);
}

function checkedLocation(t: TensorProto, modelFile: string): string {
  const location = externalField(t, 'location');
  if (!location) throw new Error(`${modelFile}: initializer ${t.name} is marked external but names no data file`);
  if (isAbsolute(location) || normalize(location).startsWith('..')) throw new Error(`${modelFile}: initializer ${t.name} points outside the model's directory (${location})`);
  const path = join(dirname(modelFile), location);
  if (!existsSync(path)) {
    throw new Error(`${modelFile}: external data file ${path} (weights of ${t.name} and others) is missing; copy it next to the model (optimum writes model.onnx and model.onnx_data side by side)`);
  }
  return path;
}

/** Check that every external data file exists; returns their paths. */
export function checkExternalData(model: ModelProto, modelFile: string): string[] {
  return [...new Set(externalTensors(model).map((t) => checkedLocation(t, modelFile)))];
}

/** A copy of the model with every external initializer's bytes read into rawData (the file is read range by range). */
export function inlineExternalData(model: ModelProto, modelFile: string): ModelProto {
  const fds = new Map<string, number>();
  try {
    const initializer = model.graph!.initializer.map((t) => {
      if (t.dataLocation !== DataLocation.EXTERNAL) return t;
      const path = checkedLocation(t, modelFile);
      if (!fds.has(path)) fds.set(path, openSync(path, 'r'));
      const fd = fds.get(path)!;
      const offset = Number(externalField(t, 'offset') ?? 0);
      const length = Number(externalField(t, 'length') ?? statSync(path).size - offset);
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, bytes, done, length - done, offset + done);
        if (n === 0) throw new Error(`${path} ends before the ${length} bytes of ${t.name} at offset ${offset} (truncated file?)`);
        done += n;
      }
      return { ...t, rawData: bytes, externalData: [], dataLocation: DataLocation.DEFAULT };
    });
    return { ...model, graph: { ...model.graph!, initializer } };
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

/**
 * Write the (rewritten, still external-data) graph next to `modelFile` as `.<name>.musketeers-<hash>.onnx`
 * so ONNX Runtime finds the data file; reused when it already exists. Returns its path.
 */
export function writeSidecarModel(model: ModelProto, modelFile: string): string {
  const bytes = encodeModel(model);
  const path = join(dirname(modelFile), `.${basename(modelFile, '.onnx')}.musketeers-${sha256(bytes).slice(0, 16)}.onnx`);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (error) {
    throw new Error(
      `${modelFile}: its weights are in external data too large to load inline, so the rewritten graph (hidden-state outputs added) ` +
        `must be written beside it, and ${dirname(modelFile)} is not writable (${(error as Error).message}); make the directory writable or copy the model somewhere writable`,
    );
  }
  return path;
}
