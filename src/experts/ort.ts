// The project's only door to onnxruntime-node (tests go through it too): sessions that know their
// inputs, outputs and model metadata, validated runs with errors that name the model and the shapes,
// tensor helpers, and execution-provider selection with a CUDA -> CPU fallback.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import * as ort from 'onnxruntime-node';

import { type ModelHeader, readModelHeader } from '../models/onnx/model-file.js';

export type Tensor = ort.Tensor;
export type TensorType = ort.Tensor.Type;
export type ExecutionProvider = 'cuda' | 'cpu';

/** How to get the CUDA provider (it is not in the npm package; its install step downloads it). */
export const CUDA_INSTALL_HINT =
  'the CUDA execution provider of onnxruntime-node is not installed; on a machine with CUDA 12 reinstall it with ' +
  '`npm install onnxruntime-node --onnxruntime-node-install=cuda12` (or set ONNXRUNTIME_NODE_INSTALL=cuda12 during `npm install`)';

export interface CreateSessionOptions {
  /** Providers in order of preference; default ['cpu']. 'cuda' falls back to 'cpu' with a warning when unavailable. */
  executionProviders?: ExecutionProvider[];
  /** Threads for one operator; default: ORT's choice (all cores). */
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * ORT's CPU memory arena (default on). Off, a session returns its activations after each run instead
   * of keeping its peak: less memory with many cached sessions, slower runs.
   */
  cpuMemArena?: boolean;
  /** Receives warnings (CUDA fallback, unreadable metadata); default process.emitWarning. */
  warn?: (message: string) => void;
  /** Name for the model in errors when it is given as bytes. */
  name?: string;
}

/** Declared type of a graph input or output (from ORT's session metadata). */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  /** ORT tensor type ('float32', 'int64', 'float16', ...); undefined for non-tensors. */
  type?: TensorType;
  /** Dimensions: numbers, or strings for symbolic dims; [] when undeclared. */
  shape: (number | string)[];
}

export type Feeds = Record<string, ort.Tensor>;
export type Results = Record<string, ort.Tensor>;

function describeTensor(name: string, t: ort.Tensor): string {
  return `${name} ${t.type} [${t.dims.join(', ')}]`;
}

export class OrtSession {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  private disposed = false;

  constructor(
    private readonly session: ort.InferenceSession,
    /** The model file, or `<N bytes>` / the given name for in-memory models. */
    readonly source: string,
    /** Top-level model fields: producer, opsets, metadata_props. */
    readonly header: ModelHeader,
    /** The providers the session was created with. */
    readonly executionProviders: readonly ExecutionProvider[],
  ) {
    const convert = (m: ort.InferenceSession.ValueMetadata): ValueInfo =>
      m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false, shape: [] };
    this.inputs = session.inputMetadata.map(convert);
    this.outputs = session.outputMetadata.map(convert);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** metadata_props of the model as an object. */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Check feed names, dtypes, ranks and fixed dims against the model; throws listing every problem. */
  validate(feeds: Feeds, outputNames?: readonly string[]): void {
    const problems: string[] = [];
    for (const info of this.inputs) {
      const t = feeds[info.name];
      if (!t) {
        problems.push(`missing input ${info.name}`);
        continue;
      }
      if (info.type !== undefined && t.type !== info.type) problems.push(`input ${info.name} has type ${t.type}, the model expects ${info.type}`);
      if (info.shape.length > 0) {
        if (t.dims.length !== info.shape.length) problems.push(`input ${info.name} has rank ${t.dims.length} [${t.dims.join(', ')}], the model expects rank ${info.shape.length} [${info.shape.join(', ')}]`);
        else
          info.shape.forEach((d, i) => {
            if (typeof d === 'number' && t.dims[i] !== d) problems.push(`input ${info.name} has dim ${i} = ${t.dims[i]}, the model expects ${d}`);
          });
      }
    }
    for (const name of Object.keys(feeds)) if (!this.inputNames.includes(name)) problems.push(`unknown input ${name} (the model's inputs are ${this.inputNames.join(', ')})`);
    for (const name of outputNames ?? []) if (!this.outputNames.includes(name)) problems.push(`unknown output ${name} (the model's outputs are ${this.outputNames.join(', ')})`);
    if (problems.length > 0) throw new Error(`${this.source}: invalid inputs: ${problems.join('; ')}; given ${this.describeFeeds(feeds)}`);
  }

  private describeFeeds(feeds: Feeds): string {
    return Object.entries(feeds)
      .map(([n, t]) => describeTensor(n, t))
      .join(', ');
  }

  /** Validate then run; `outputNames` restricts the fetched outputs (default: all). */
  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Results> {
    if (this.disposed) throw new Error(`${this.source}: session used after dispose()`);
    this.validate(feeds, outputNames);
    try {
      return outputNames ? await this.session.run(feeds, [...outputNames]) : await this.session.run(feeds);
    } catch (error) {
      throw new Error(`ONNX Runtime failed running ${this.source} with inputs ${this.describeFeeds(feeds)}: ${(error as Error).message}`, { cause: error });
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/** The folder holding the onnxruntime-node binding (and, when installed, the CUDA provider libraries). */
function bindingFolder(): string | undefined {
  try {
    const root = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
    for (const napi of readdirSync(root)) {
      const dir = join(root, napi, process.platform, process.arch);
      if (existsSync(dir)) return dir;
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Whether the CUDA execution provider library is installed next to the binding. */
export function cudaProviderInstalled(): boolean {
  const dir = bindingFolder();
  if (!dir) return false;
  return readdirSync(dir).some((f) => /^(lib)?onnxruntime_providers_cuda\.(so|dll)$/.test(f));
}

/** Create a session from a model file (external data is resolved next to it) or from bytes. */
export async function createSession(pathOrBytes: string | Uint8Array, options: CreateSessionOptions = {}): Promise<OrtSession> {
  const warn = options.warn ?? ((m: string) => process.emitWarning(m, 'OnnxRuntimeWarning'));
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : (options.name ?? `<in-memory ONNX model, ${pathOrBytes.length} bytes>`);
  if (typeof pathOrBytes === 'string') {
    if (!existsSync(pathOrBytes)) throw new Error(`ONNX model file not found: ${pathOrBytes}`);
    if (!statSync(pathOrBytes).isFile()) throw new Error(`ONNX model path is not a file: ${pathOrBytes}`);
  }

  let providers: ExecutionProvider[] = [...(options.executionProviders ?? ['cpu'])];
  if (providers.length === 0) providers = ['cpu'];
  if (providers.includes('cuda') && !cudaProviderInstalled()) {
    warn(`${source}: CUDA requested but unavailable, using CPU: ${CUDA_INSTALL_HINT}`);
    providers = providers.filter((p) => p !== 'cuda');
    if (!providers.includes('cpu')) providers.push('cpu');
  }
  const sessionOptions = (eps: ExecutionProvider[]): ort.InferenceSession.SessionOptions => {
    // ORT rejects keys that are present but undefined.
    const o: ort.InferenceSession.SessionOptions = { executionProviders: eps, graphOptimizationLevel: options.graphOptimizationLevel ?? 'all' };
    if (options.intraOpThreads !== undefined) o.intraOpNumThreads = options.intraOpThreads;
    if (options.interOpThreads !== undefined) o.interOpNumThreads = options.interOpThreads;
    if (options.cpuMemArena !== undefined) o.enableCpuMemArena = options.cpuMemArena;
    return o;
  };
  const open = async (eps: ExecutionProvider[]) =>
    typeof pathOrBytes === 'string' ? ort.InferenceSession.create(pathOrBytes, sessionOptions(eps)) : ort.InferenceSession.create(pathOrBytes, sessionOptions(eps));

  let session: ort.InferenceSession;
  try {
    session = await open(providers);
  } catch (error) {
    if (!providers.includes('cuda')) throw loadError(source, error);
    // The CUDA library exists but cannot start (no driver, wrong CUDA version): retry on CPU.
    warn(`${source}: the CUDA execution provider failed to start (${(error as Error).message}); using CPU. If CUDA should work: ${CUDA_INSTALL_HINT}`);
    providers = ['cpu'];
    try {
      session = await open(providers);
    } catch (error2) {
      throw loadError(source, error2);
    }
  }

  let header: ModelHeader = { opsetImport: [], metadata: {} };
  try {
    header = readModelHeader(pathOrBytes);
  } catch (error) {
    warn(`${source}: could not read the model metadata: ${(error as Error).message}`);
  }
  return new OrtSession(session, source, header, providers);
}

function loadError(source: string, error: unknown): Error {
  const message = (error as Error).message.replace(/\.+$/, '');
  return new Error(`cannot load ONNX model ${source}: ${message}. Is it a complete .onnx file (with its external data file next to it, if any)?`, { cause: error });
}

// ---- tensor helpers ----

/** int64 tensor [rows, cols] from a rectangular number[][] (e.g. token ids, attention masks). */
export function int64Tensor(rows: readonly (readonly number[])[]): ort.Tensor {
  const cols = rows.length === 0 ? 0 : rows[0].length;
  const data = new BigInt64Array(rows.length * cols);
  rows.forEach((row, i) => {
    if (row.length !== cols) throw new Error(`int64Tensor: row ${i} has ${row.length} values, row 0 has ${cols}; pad the rows to one length`);
    row.forEach((v, j) => {
      if (!Number.isSafeInteger(v)) throw new Error(`int64Tensor: value ${v} at [${i}, ${j}] is not an integer`);
      data[i * cols + j] = BigInt(v);
    });
  });
  return new ort.Tensor('int64', data, [rows.length, cols]);
}

/** float32 tensor with the given dims (data is used as is when it is a Float32Array). */
export function float32Tensor(data: Float32Array | readonly number[], dims: readonly number[]): ort.Tensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  const n = dims.reduce((a, b) => a * b, 1);
  if (arr.length !== n) throw new Error(`float32Tensor: ${arr.length} values for dims [${dims.join(', ')}] (${n} expected)`);
  return new ort.Tensor('float32', arr, [...dims]);
}

/** An empty float32 or float16 tensor (one dim is 0), e.g. an empty KV cache. */
export function emptyFloatTensor(type: 'float32' | 'float16', dims: readonly number[]): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== 0) throw new Error(`emptyFloatTensor: dims [${dims.join(', ')}] hold ${n} values, expected 0`);
  return type === 'float32' ? new ort.Tensor('float32', new Float32Array(0), [...dims]) : new ort.Tensor('float16', new Uint16Array(0), [...dims]);
}

/** The float32 data of an output tensor (throws, naming it, when it is not float32). */
export function float32Data(t: ort.Tensor, name = 'tensor'): Float32Array {
  if (t.type !== 'float32' || !(t.data instanceof Float32Array)) throw new Error(`${name} has type ${t.type}, expected float32`);
  return t.data;
}

/** Version of the onnxruntime-node package in use. */
export function onnxRuntimeVersion(): string | undefined {
  return (ort.env as { versions?: { node?: string } }).versions?.node;
}

/** The element types the training engine feeds and reads. */
export type EngineTensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
export type EngineArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor over `data` (not copied), with its element count checked against dims. */
export function engineTensor(type: EngineTensorType, data: EngineArray, dims: readonly number[]): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor of type ${type}: ${data.length} values for dims [${dims.join(', ')}] (${n} expected)`);
  return new ort.Tensor(type, data as never, [...dims]);
}
