// Engine graphs as ONNX Runtime sessions: compile a Graph (./graph.ts) through the project's one ORT
// module, feed typed arrays by input name (checked against the graph's static shapes before the run),
// read typed arrays back. A SessionCache holds one session per shape bucket and graph kind, built on
// first use and disposed together.
//
// Threads: a graph whose largest matrix product is small (the tiny world's models) runs on one
// intra-op thread unless told otherwise. Its ops take microseconds, so a second thread gains little
// (~20% on an idle 2-core machine) but every op then waits for both threads: on a loaded machine a
// descheduled worker stalls each of hundreds of ops, and the same runs took 2x longer than on one thread
// (NOTES-speed.md). Graphs with large products (real models) keep ORT's default (every core).

import { type EngineArray, type ExecutionProvider, type OrtSession, createSession, engineTensor } from '../experts/ort.js';
import { type Graph, type GraphNode, type Value, shapeText, sizeOf } from './graph.js';

export interface EngineSessionOptions {
  executionProviders?: ExecutionProvider[];
  warn?: (message: string) => void;
  /** ORT graph optimisation level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Threads per operator (default: 1 for graphs of small ops, see singleThreadGraph; else ORT's choice, every core). */
  intraOpThreads?: number;
  /** ORT's CPU memory arena per session (default on; measured on the quickstart: 2.8 GB peak RSS and 0.58 s/step with it, 0.69 GB and 0.64-0.76 s/step without). */
  cpuMemArena?: boolean;
}

export type Feeds = Record<string, EngineArray>;
export type Fetched = Record<string, EngineArray>;

/** Largest matrix product (FLOPs of one MatMul / Gemm) of a graph below which it runs on one thread by default. */
export const SMALL_PRODUCT_FLOPS = 2 ** 27;

/** 2 * M * N * K of a MatMul / Gemm node (a batched MatMul counts its whole output), from the static shapes. */
function productFlops(node: GraphNode): number {
  const a = node.inputs[0];
  if (!a || (node.op !== 'MatMul' && node.op !== 'Gemm')) return 0;
  const transA = node.op === 'Gemm' && node.attrs.transA?.kind === 'int' && Number(node.attrs.transA.value) === 1;
  const k = transA ? a.shape[0] : a.shape[a.shape.length - 1];
  return 2 * sizeOf(node.outputs[0].shape) * k;
}

/** Whether every matrix product of the graph is small (see SMALL_PRODUCT_FLOPS). */
export function singleThreadGraph(graph: Graph): boolean {
  return graph.nodes.every((n) => productFlops(n) < SMALL_PRODUCT_FLOPS);
}

const ARRAY_OF: Record<Value['dtype'], string> = { float32: 'Float32Array', float64: 'Float64Array', int64: 'BigInt64Array', int32: 'Int32Array', bool: 'Uint8Array' };

export class EngineSession {
  private constructor(
    private readonly session: OrtSession,
    readonly name: string,
    readonly inputs: readonly Value[],
    readonly outputs: readonly Value[],
    /** Seconds spent building, encoding and loading the graph. */
    readonly compileSeconds: number,
  ) {}

  static async compile(graph: Graph, options: EngineSessionOptions = {}): Promise<EngineSession> {
    const t0 = performance.now();
    const bytes = graph.encode();
    const session = await createSession(bytes, { executionProviders: options.executionProviders, warn: options.warn, name: `engine graph ${graph.name}`, graphOptimizationLevel: options.optimization, intraOpThreads: options.intraOpThreads ?? (singleThreadGraph(graph) ? 1 : undefined), cpuMemArena: options.cpuMemArena ?? true });
    return new EngineSession(session, graph.name, [...graph.inputs], [...graph.outputs], (performance.now() - t0) / 1000);
  }

  get providers(): readonly ExecutionProvider[] {
    return this.session.executionProviders;
  }

  /** Run with every graph input fed; returns the asked outputs (default all) as typed arrays. */
  async run(feeds: Feeds, fetch?: readonly string[]): Promise<Fetched> {
    const problems: string[] = [];
    const tensors: Record<string, ReturnType<typeof engineTensor>> = {};
    for (const v of this.inputs) {
      const data = feeds[v.name];
      if (!data) {
        problems.push(`missing input ${v.name} ${v.dtype} ${shapeText(v.shape)}`);
        continue;
      }
      if (data.constructor.name !== ARRAY_OF[v.dtype]) problems.push(`input ${v.name} is a ${data.constructor.name}, the graph expects ${v.dtype} (${ARRAY_OF[v.dtype]})`);
      else if (data.length !== sizeOf(v.shape)) problems.push(`input ${v.name} has ${data.length} values, the graph expects ${v.dtype} ${shapeText(v.shape)} = ${sizeOf(v.shape)}`);
      else tensors[v.name] = engineTensor(v.dtype, data, v.shape);
    }
    for (const name of Object.keys(feeds)) if (!this.inputs.some((v) => v.name === name)) problems.push(`unknown input ${name}`);
    if (problems.length > 0) throw new Error(`engine graph ${this.name}: ${problems.join('; ')}`);
    const names = fetch ?? this.outputs.map((o) => o.name);
    const results = await this.session.run(tensors, names);
    const out: Fetched = {};
    for (const n of names) out[n] = results[n].data as EngineArray;
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

/** One compiled session per key (graph kind + shape bucket), compiled once even under concurrent use. */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<EngineSession>>();
  /** Sessions compiled so far and the seconds that took. */
  compiled = 0;
  compileSeconds = 0;

  constructor(private readonly options: EngineSessionOptions = {}) {}

  get(key: string, build: () => Graph): Promise<EngineSession> {
    let hit = this.sessions.get(key);
    if (!hit) {
      hit = (async () => {
        const t0 = performance.now();
        const s = await EngineSession.compile(build(), this.options);
        this.compiled++;
        this.compileSeconds += (performance.now() - t0) / 1000;
        return s;
      })();
      this.sessions.set(key, hit);
      hit.catch(() => this.sessions.delete(key));
    }
    return hit;
  }

  get size(): number {
    return this.sessions.size;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        await (await p).dispose();
      } catch {
        // a session that failed to compile has nothing to release
      }
    }
  }
}
