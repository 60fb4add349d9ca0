// Chooses the TensorFlow.js backend at run time: tfjs-node-gpu, tfjs-node, wasm, cpu (the first that
// loads, or the one asked for with `--backend`), logs the choice, and patches the few gaps of the wasm
// backend that the decoder's gradients need. Safe to call more than once.

import { dirname, sep } from 'node:path';
import { createRequire } from 'node:module';

import * as tf from './tf.js';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;
export const BACKEND_NAMES: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** The subset of a pino logger this module uses. */
export interface BackendLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export interface BackendInfo {
  /** The project's name for the backend (what `--backend` takes). */
  name: BackendName;
  /** The name tfjs registered it under ('tensorflow' for tfjs-node and tfjs-node-gpu). */
  tfBackend: string;
  /** wasm only: whether the SIMD and the multi-threaded binaries are in use. */
  simd?: boolean;
  threads?: number;
}

const INSTALL_ADVICE: Record<BackendName, string> = {
  'tfjs-node-gpu':
    'install it with `npm install @tensorflow/tfjs-node-gpu@4.22.0` on a machine with CUDA 11.2 + cuDNN 8.1 and internet access (its install script downloads libtensorflow)',
  'tfjs-node':
    'install it with `npm install @tensorflow/tfjs-node@4.22.0` on a machine with internet access (its install script downloads libtensorflow)',
  wasm: 'reinstall the dependencies (`npm ci`); `@tensorflow/tfjs-backend-wasm` ships its .wasm binaries in the package',
  cpu: 'reinstall the dependencies (`npm ci`); `@tensorflow/tfjs-backend-cpu` comes with `@tensorflow/tfjs`',
};

let current: BackendInfo | undefined;

/** The backend chosen by the last successful {@link selectBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Select and initialise a backend. `auto` tries tfjs-node-gpu, tfjs-node, wasm, cpu in that order;
 * packages that are not installed are skipped (debug log). An explicit request that cannot load throws
 * an error that says how to install it. Returns the chosen name and logs it at info level.
 */
export async function selectBackend(requested: BackendRequest = 'auto', log?: BackendLogger): Promise<BackendName> {
  if (current && (requested === 'auto' || requested === current.name) && tf.getBackend() === current.tfBackend) {
    return current.name;
  }
  if (requested !== 'auto' && !BACKEND_NAMES.includes(requested)) {
    throw new Error(`unknown tfjs backend '${String(requested)}': use one of auto, ${BACKEND_NAMES.join(', ')}`);
  }
  const candidates: readonly BackendName[] = requested === 'auto' ? BACKEND_NAMES : [requested];
  const failures: string[] = [];
  for (const name of candidates) {
    let info: BackendInfo | undefined;
    try {
      info = await tryBackend(name);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (requested !== 'auto') {
        throw new Error(`tfjs backend '${name}' could not be loaded (${reason}); ${INSTALL_ADVICE[name]}, or use --backend auto`, { cause: error });
      }
      failures.push(`${name}: ${reason}`);
      const missing = isMissingModule(error);
      (missing ? log?.debug : log?.warn)?.call(log, `tfjs backend ${name} unavailable${missing ? ' (package not installed)' : ''}: ${reason}`);
      continue;
    }
    current = info;
    const detail = info.name === 'wasm' ? ` (SIMD ${info.simd ? 'on' : 'off'}, threads ${info.threads})` : '';
    log?.info(`tfjs backend: ${info.name}${detail}`);
    return info.name;
  }
  throw new Error(`no tfjs backend could be loaded: ${failures.join('; ')}`);
}

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function tryBackend(name: BackendName): Promise<BackendInfo> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      // A variable specifier keeps TypeScript from resolving these optional packages at build time.
      const specifier = `@tensorflow/${name}`;
      await import(specifier);
      await activate('tensorflow');
      return { name, tfBackend: 'tensorflow' };
    }
    case 'wasm': {
      const wasm = await loadWasmModule();
      if (!wasmPathsSet) {
        // In Node the emscripten loader needs a file-system directory holding the three .wasm binaries;
        // they ship next to the package's main file (dist/).
        const require = createRequire(import.meta.url);
        wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep);
        wasmPathsSet = true;
      }
      registerWasmGaps();
      await activate('wasm');
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return { name, tfBackend: 'wasm', simd: simd === true, threads: wasm.getThreadsCount() };
    }
    case 'cpu': {
      await activate('cpu');
      // The cpu backend prints a banner recommending tfjs-node on first use; this module logs the choice
      // itself, so mark the banner as shown.
      const backend = tf.backend() as unknown as { firstUse?: boolean };
      if (backend.firstUse === true) backend.firstUse = false;
      return { name, tfBackend: 'cpu' };
    }
  }
}

let wasmPathsSet = false;

interface WasmModule {
  setWasmPaths(prefix: string): void;
  getThreadsCount(): number;
}

async function loadWasmModule(): Promise<WasmModule> {
  const mod = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmModule & { default?: WasmModule };
  // The package's Node entry is CommonJS; its named exports may sit on `default`.
  return typeof mod.setWasmPaths === 'function' ? mod : (mod.default as WasmModule);
}

async function activate(tfName: string): Promise<void> {
  const ok = await tf.setBackend(tfName);
  if (!ok || tf.getBackend() !== tfName) throw new Error(`tf.setBackend('${tfName}') failed to initialise`);
  await tf.ready();
}

let wasmGapsRegistered = false;

/**
 * The wasm backend (4.22) lacks UnsortedSegmentSum, the kernel behind the gradient of `tf.gather` (used by
 * embedding lookups). Register a plain-JS version so that gradients w.r.t. embedding tables work there.
 */
function registerWasmGaps(): void {
  if (wasmGapsRegistered) return;
  wasmGapsRegistered = true;
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  interface WasmBackendLike {
    readSync(dataId: object): Float32Array | Int32Array;
    makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array | Int32Array): tf.TensorInfo;
  }
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as WasmBackendLike;
      const x = inputs.x as tf.TensorInfo; // [n, ...rest]
      const ids = inputs.segmentIds as tf.TensorInfo; // [n]
      const numSegments = (attrs as { numSegments: number }).numSegments;
      if (ids.shape.length !== 1) throw new Error(`UnsortedSegmentSum (wasm shim): segmentIds must be rank 1, got shape [${ids.shape.join(', ')}]`);
      const xs = b.readSync(x.dataId);
      const seg = b.readSync(ids.dataId);
      const inner = x.shape.slice(1).reduce((p, d) => p * d, 1);
      const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < seg.length; i++) {
        const s = seg[i];
        if (s < 0 || s >= numSegments) continue;
        const src = i * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) out[dst + j] += xs[src + j];
      }
      return b.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
    },
  });
}
