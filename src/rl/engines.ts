// Opens the engine a config asks for (train.engine): `tfjs` (./engine-tfjs.ts) or `onnx`
// (./engine-onnx.ts). The trainer and evaluation only see the PolicyEngine interface.

import { TfjsEngine, type EngineSetup } from './engine-tfjs.js';
import type { PolicyEngine } from './policy-engine.js';

export interface OpenEngineOptions extends EngineSetup {
  warn?: (message: string) => void;
}

export async function openEngine(options: OpenEngineOptions): Promise<PolicyEngine> {
  switch (options.config.train.engine) {
    case 'tfjs':
      return new TfjsEngine(options);
    case 'onnx': {
      const { OnnxEngine } = await import('./engine-onnx.js');
      return OnnxEngine.open(options);
    }
  }
}
