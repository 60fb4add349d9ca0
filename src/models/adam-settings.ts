// Adam's defaults in one place, without tfjs, for the tfjs optimizer (./optim.ts) and the onnx engine's
// Float32Array one (src/engine/adam.ts).

import type { AdamOptions } from './optim.js';

/** AdamOptions with every default filled in (one place for both Adam implementations). */
export function adamSettings(options: AdamOptions = {}): Required<AdamOptions> {
  return { beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-8, weightDecay: options.weightDecay ?? 0, clipNorm: options.clipNorm ?? 0 };
}
