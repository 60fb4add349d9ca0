// Adam over named tf.Variables with global-norm gradient clipping, a warm-up + cosine learning-rate
// schedule, and state that can be saved and restored exactly (for checkpoints and resume). Shared by
// supervised training of the tiny models and by the GRPO update.

import type { NamedTensor } from './decoder-config.js';
import * as tf from './tf.js';
import { adamSettings } from './adam-settings.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value (0 = no clipping). */
  clipNorm?: number;
}

export interface AdamState {
  step: number;
  m: Map<string, NamedTensor>;
  v: Map<string, NamedTensor>;
}

export interface StepResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Whether the step was applied (false when the gradient was not finite). */
  applied: boolean;
}

/** Linear warm-up to `peak` over `warmup` steps, then cosine decay to `floor * peak` at `total`. */
export function warmupCosine(step: number, peak: number, warmup: number, total: number, floor = 0.1): number {
  if (warmup > 0 && step < warmup) return (peak * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export class NamedAdam {
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();
  step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly clipNorm: number;

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    options: AdamOptions = {},
  ) {
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, clipNorm: this.clipNorm } = adamSettings(options));
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /**
   * Apply one update with gradients by parameter name at learning rate `lr` (one rate, or a rate per
   * parameter name). A non-finite gradient norm skips the update (and does not advance the step), so a
   * NaN never reaches the weights.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number | ((name: string) => number)): StepResult {
    const names = [...this.params.keys()];
    for (const n of names) if (!grads.has(n)) throw new Error(`no gradient for parameter ${n}`);
    const gradNorm = tf.tidy(() => Math.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads.get(n)!)))).dataSync()[0]));
    if (!Number.isFinite(gradNorm)) return { gradNorm, applied: false };
    const scale = this.clipNorm > 0 && gradNorm > this.clipNorm ? this.clipNorm / gradNorm : 1;
    this.step += 1;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const n of names) {
        const p = this.params.get(n)!;
        const g = tf.mul(grads.get(n)!, scale);
        const m = this.m.get(n)!;
        const v = this.v.get(n)!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        if (this.weightDecay > 0) update = tf.add(update, tf.mul(p, this.weightDecay));
        p.assign(tf.sub(p, tf.mul(update, typeof lr === 'number' ? lr : lr(n))));
      }
    });
    return { gradNorm, applied: true };
  }

  getState(): AdamState {
    const copy = (src: Map<string, tf.Variable>) => new Map([...src].map(([n, t]) => [n, { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() }]));
    return { step: this.step, m: copy(this.m), v: copy(this.v) };
  }

  setState(state: AdamState): void {
    for (const [label, src, dst] of [['m', state.m, this.m], ['v', state.v, this.v]] as const) {
      for (const [n, t] of dst) {
        const s = src.get(n);
        if (!s) throw new Error(`optimizer state lacks ${label} for ${n}`);
        if (s.shape.join(',') !== t.shape.join(',')) throw new Error(`optimizer state ${label} for ${n} has shape [${s.shape}], expected [${t.shape}]`);
        t.assign(tf.tensor(s.data, s.shape));
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
