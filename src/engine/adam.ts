// Adam for the ONNX Runtime engine: the same optimizer as NamedAdam (src/models/optim.ts) — global-norm
// gradient clipping, bias correction, weight decay added to the update, a non-finite gradient norm
// skipping the step without advancing it — over parameters held as Float32Arrays and updated in place.
// Its state has NamedAdam's layout (AdamState: step, m and v by parameter name with shapes), so
// checkpoints written by either engine look the same and load into either.
//
// Arithmetic: parameters, m and v are stored as float32. The global norm is accumulated in float64;
// the clip scale and the bias corrections 1 - beta^t are float64; each element's update is computed in
// float64 (plain JS numbers) from the stored float32 values and rounded to float32 once when m, v and
// the parameter are written back. tfjs does every step in float32, so results differ from NamedAdam in
// the last float32 bits (a few 1e-8 relative per step), not in semantics. One consequence of the
// float64 norm: a finite but huge gradient whose float32 sum of squares would overflow still gets a
// finite norm here and is applied (clipped), where NamedAdam would skip it. Everything is deterministic
// (no threads, correctly rounded sqrt), so the same state and gradients give the same bytes: resuming
// this engine from its own checkpoint is byte-exact.

import type { NamedTensor } from '../models/decoder-config.js';
import { adamSettings } from '../models/adam-settings.js';
import type { AdamOptions, AdamState, StepResult } from '../models/optim.js';

export type { AdamOptions, AdamState, StepResult };

interface Slot {
  param: Float32Array;
  shape: readonly number[];
  m: Float32Array;
  v: Float32Array;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Sum of squares of a gradient, in float64. */
function sumOfSquares(g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return s;
}

export class FloatAdam {
  private readonly slots = new Map<string, Slot>();
  step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly clipNorm: number;

  /**
   * `params`: parameter name -> values (updated in place by apply). `shapes`: each parameter's shape,
   * kept in the state so checkpoints match NamedAdam's layout.
   */
  constructor(params: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>, options: AdamOptions = {}) {
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, clipNorm: this.clipNorm } = adamSettings(options));
    for (const [name, param] of params) {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`no shape for parameter ${name}`);
      if (sizeOf(shape) !== param.length) throw new Error(`parameter ${name} has ${param.length} values, its shape [${shape}] holds ${sizeOf(shape)}`);
      this.slots.set(name, { param, shape: [...shape], m: new Float32Array(param.length), v: new Float32Array(param.length) });
    }
  }

  /** Over named tensors (shape + data, as DecoderWeights); their data arrays are updated in place. */
  static fromNamed(params: ReadonlyMap<string, NamedTensor>, options: AdamOptions = {}): FloatAdam {
    const data = new Map([...params].map(([n, t]) => [n, t.data]));
    const shapes = new Map([...params].map(([n, t]) => [n, t.shape]));
    return new FloatAdam(data, shapes, options);
  }

  /** The parameter names, in the order their gradients are summed into the global norm. */
  names(): string[] {
    return [...this.slots.keys()];
  }

  /** Global L2 norm of the gradients (float64), after checking each is present with the right size. */
  private globalNorm(grads: ReadonlyMap<string, Float32Array>): number {
    let total = 0;
    for (const [name, slot] of this.slots) {
      const g = grads.get(name);
      if (!g) throw new Error(`no gradient for parameter ${name}`);
      if (g.length !== slot.param.length) throw new Error(`gradient for ${name} has ${g.length} values, the parameter has ${slot.param.length} [${slot.shape}]`);
      total += sumOfSquares(g);
    }
    return Math.sqrt(total);
  }

  /** One parameter's update: m, v and the parameter, element by element. */
  private updateSlot(slot: Slot, g: Float32Array, scale: number, lr: number, c1: number, c2: number): void {
    const { param, m, v } = slot;
    const { beta1, beta2, epsilon, weightDecay } = this;
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    // mi / vi are the float32-rounded values written back, exactly what reading m[i] / v[i] again gives.
    const n = param.length;
    if (weightDecay > 0) {
      for (let i = 0; i < n; i++) {
        const gi = g[i] * scale;
        const mi = (m[i] = beta1 * m[i] + a1 * gi);
        const vi = (v[i] = beta2 * v[i] + a2 * gi * gi);
        param[i] -= (Math.fround(mi) / c1 / (Math.sqrt(Math.fround(vi) / c2) + epsilon) + param[i] * weightDecay) * lr;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const gi = g[i] * scale;
      const mi = (m[i] = beta1 * m[i] + a1 * gi);
      const vi = (v[i] = beta2 * v[i] + a2 * gi * gi);
      param[i] -= (Math.fround(mi) / c1 / (Math.sqrt(Math.fround(vi) / c2) + epsilon)) * lr;
    }
  }

  /**
   * Apply one update with gradients by parameter name at learning rate `lr` (one rate, or a rate per
   * parameter name). A non-finite gradient norm skips the update (and does not advance the step), so a
   * NaN never reaches the weights.
   */
  apply(grads: ReadonlyMap<string, Float32Array>, lr: number | ((name: string) => number)): StepResult {
    const gradNorm = this.globalNorm(grads);
    if (!Number.isFinite(gradNorm)) return { gradNorm, applied: false };
    const scale = this.clipNorm > 0 && gradNorm > this.clipNorm ? this.clipNorm / gradNorm : 1;
    this.step += 1;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    for (const [name, slot] of this.slots) this.updateSlot(slot, grads.get(name)!, scale, typeof lr === 'number' ? lr : lr(name), c1, c2);
    return { gradNorm, applied: true };
  }

  getState(): AdamState {
    const copy = (pick: (s: Slot) => Float32Array) => new Map([...this.slots].map(([n, s]) => [n, { shape: [...s.shape], data: pick(s).slice() }]));
    return { step: this.step, m: copy((s) => s.m), v: copy((s) => s.v) };
  }

  setState(state: AdamState): void {
    for (const label of ['m', 'v'] as const) {
      for (const [n, slot] of this.slots) {
        const s = state[label].get(n);
        if (!s) throw new Error(`optimizer state lacks ${label} for ${n}`);
        if (s.shape.join(',') !== slot.shape.join(',')) throw new Error(`optimizer state ${label} for ${n} has shape [${s.shape}], expected [${slot.shape}]`);
        if (s.data.length !== slot.param.length) throw new Error(`optimizer state ${label} for ${n} has ${s.data.length} values, expected ${slot.param.length}`);
      }
    }
    for (const [n, slot] of this.slots) {
      slot.m.set(state.m.get(n)!.data);
      slot.v.set(state.v.get(n)!.data);
    }
    this.step = state.step;
  }
}
