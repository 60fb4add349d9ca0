// A linear projection y = x W^T (+ b) over tf.Variables in the Hugging Face [out, in] layout, with an
// optional LoRA adapter y += (alpha / r) · x A^T B^T (A [r, in], B [out, r], B initialised to zero so an
// attached adapter starts as the identity change). The decoder builds every projection from this class.

import { matMul } from './matmul.js';
import * as tf from './tf.js';

export interface LoraAdapter {
  rank: number;
  alpha: number;
  /** [rank, in] */
  A: tf.Variable<tf.Rank.R2>;
  /** [out, rank] */
  B: tf.Variable<tf.Rank.R2>;
}

export class Linear {
  lora: LoraAdapter | undefined;
  /** W^T [in, out], held only while frozen inference (generation) runs on wasm; see cacheTranspose(). */
  private weightT: tf.Tensor2D | undefined;

  constructor(
    /** Hugging Face name without the `.weight` suffix, e.g. `model.layers.0.self_attn.q_proj`. */
    readonly name: string,
    /** [out, in] */
    readonly weight: tf.Variable<tf.Rank.R2>,
    /** [out] */
    readonly bias?: tf.Variable<tf.Rank.R1>,
  ) {}

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  /** x [n, in] -> [n, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let y: tf.Tensor2D = this.weightT ? tf.matMul(x, this.weightT) : matMul(x, this.weight as tf.Tensor2D, false, true); // [n, out]
      if (this.bias) y = tf.add(y, this.bias);
      if (this.lora) {
        const { A, B, alpha, rank } = this.lora;
        const down = matMul(x, A as tf.Tensor2D, false, true); // [n, rank]
        const up = matMul(down, B as tf.Tensor2D, false, true); // [n, out]
        y = tf.add(y, tf.mul(up, alpha / rank));
      }
      return y;
    });
  }

  /**
   * Keep W^T while the weights are known not to change (one generate() call), so that each decoding step
   * runs a plain product instead of re-transposing W. Not for use under gradients. Dispose with
   * clearTransposeCache().
   */
  cacheTranspose(): void {
    if (!this.weightT) this.weightT = tf.keep(tf.transpose(this.weight as tf.Tensor2D));
  }

  clearTransposeCache(): void {
    this.weightT?.dispose();
    this.weightT = undefined;
  }

  /**
   * Attach a LoRA adapter. A is drawn U(-1/sqrt(in), 1/sqrt(in)) (PEFT's kaiming-uniform(a=sqrt(5)) bound)
   * from `uniform`, B is zero. Both are trainable variables.
   */
  attachLora(rank: number, alpha: number, uniform: () => number, variableName: (suffix: string) => string): LoraAdapter {
    if (this.lora) throw new Error(`${this.name} already has a LoRA adapter; detach it first`);
    if (!Number.isInteger(rank) || rank <= 0) throw new Error(`LoRA rank must be a positive integer (got ${rank})`);
    const bound = 1 / Math.sqrt(this.inFeatures);
    const a = new Float32Array(rank * this.inFeatures);
    for (let i = 0; i < a.length; i++) a[i] = (2 * uniform() - 1) * bound;
    // Variables inside a tidy: the initial-value tensors are released, the variables survive.
    const [A, B] = tf.tidy(() => [
      tf.variable(tf.tensor2d(a, [rank, this.inFeatures]), true, variableName(`${this.name}.lora_A.weight`)),
      tf.variable(tf.zeros([this.outFeatures, rank]) as tf.Tensor2D, true, variableName(`${this.name}.lora_B.weight`)),
    ]);
    this.lora = { rank, alpha, A, B };
    return this.lora;
  }

  detachLora(): void {
    if (!this.lora) return;
    this.lora.A.dispose();
    this.lora.B.dispose();
    this.lora = undefined;
  }
}
