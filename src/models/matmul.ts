// Matrix product that avoids the slow transposed paths of the tfjs wasm backend. Measured on this machine
// (wasm 4.22, [504,128]x[128,512]): plain a@b 6 ms, a@b^T 30 ms, a^T@b 55 ms, but an explicit transpose
// followed by a plain product 8 ms. On wasm this op transposes explicitly, in the forward pass and in its
// own gradient; on other backends it is tf.matMul.

import * as tf from './tf.js';

type Mat = tf.Tensor2D | tf.Tensor3D;

/** Swap the last two axes of a rank-2 or rank-3 tensor. */
function swapLast<T extends Mat>(x: T): T {
  return (x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1])) as T;
}

/** op(a) @ op(b) with only plain products on wasm. */
function plainProduct<T extends Mat>(a: T, b: T, transposeA: boolean, transposeB: boolean): T {
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b) as T;
}

/**
 * tf.matMul(a, b, transposeA, transposeB) for rank 2 or rank 3 (same batch) operands. Differentiable;
 * on wasm the gradients are computed with explicit transposes as well.
 */
export function matMul<T extends Mat>(a: T, b: T, transposeA = false, transposeB = false): T {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB) as T;
  const op = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sa, sb] = saved as [T, T];
      const g = dy as T;
      if (!transposeA && !transposeB) return [plainProduct(g, sb, false, true), plainProduct(sa, g, true, false)];
      if (!transposeA && transposeB) return [plainProduct(g, sb, false, false), plainProduct(g, sa, true, false)];
      if (transposeA && !transposeB) return [plainProduct(sb, g, false, true), plainProduct(sa, g, false, false)];
      return [plainProduct(sb, g, true, true), plainProduct(g, sa, true, true)];
    };
    return { value: plainProduct(x as T, y as T, transposeA, transposeB), gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as T;
}
