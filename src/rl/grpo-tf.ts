// The GRPO loss as a differentiable TensorFlow.js function (used inside the optimizer step). It is the
// same formula as `grpoLoss` in ./grpo.ts, which is the tested reference; a test checks they agree.

import * as tf from '../models/tf.js';
import type { GrpoHyper } from './grpo.js';

export interface GrpoTensors {
  /** Policy log-probs of the sampled tokens, differentiable. [B, T] */
  logp: tf.Tensor2D;
  /** Log-probs when sampled (constants). [B, T] */
  oldLogp: tf.Tensor2D;
  /** Reference-policy log-probs (constants); needed when beta > 0. [B, T] */
  refLogp?: tf.Tensor2D;
  /** 1 for completion tokens, 0 for padding. [B, T] */
  mask: tf.Tensor2D;
  /** One advantage per completion. [B] */
  advantages: tf.Tensor1D;
}

export interface GrpoTensorLoss {
  loss: tf.Scalar;
  /** Masked mean k3 KL over tokens (0 without a reference). */
  kl: tf.Scalar;
  clipRatioLow: tf.Scalar;
  clipRatioHigh: tf.Scalar;
}

/** Aggregate a masked [B, T] tensor like `aggregate` in ./grpo.ts. */
export function aggregateTensor(values: tf.Tensor2D, mask: tf.Tensor2D, hyper: Pick<GrpoHyper, 'aggregation' | 'maxCompletionLength'>): tf.Scalar {
  return tf.tidy(() => {
    const masked = tf.mul(values, mask);
    switch (hyper.aggregation) {
      case 'token-mean':
        return tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
      case 'seq-mean-token-mean':
        return tf.mean(tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1))) as tf.Scalar;
      case 'dr-grpo':
        return tf.div(tf.sum(masked), values.shape[0] * hyper.maxCompletionLength) as tf.Scalar;
      default:
        throw new Error(`unknown loss aggregation '${String(hyper.aggregation)}'`);
    }
  });
}

export function grpoLossTensor(t: GrpoTensors, hyper: GrpoHyper): GrpoTensorLoss {
  if (hyper.beta > 0 && !t.refLogp) throw new Error('beta > 0 needs reference log-probs (refLogp)');
  return tf.tidy(() => {
    const A = tf.expandDims(t.advantages, 1); // [B, 1]
    const ratio = tf.exp(tf.sub(t.logp, t.oldLogp)); // [B, T]
    const clipped = tf.clipByValue(ratio, 1 - hyper.epsilonLow, 1 + hyper.epsilonHigh);
    const surrogate = tf.minimum(tf.mul(ratio, A), tf.mul(clipped, A)); // [B, T]
    let tokenLoss = tf.neg(surrogate) as tf.Tensor2D;
    let kl: tf.Scalar = tf.scalar(0);
    if (t.refLogp) {
      const d = tf.sub(t.refLogp, t.logp);
      const k3 = tf.sub(tf.sub(tf.exp(d), d), 1) as tf.Tensor2D; // [B, T], >= 0
      if (hyper.beta > 0) tokenLoss = tf.add(tokenLoss, tf.mul(k3, hyper.beta)) as tf.Tensor2D;
      kl = aggregateTensor(k3, t.mask, { aggregation: 'token-mean', maxCompletionLength: hyper.maxCompletionLength });
    }
    const tokens = tf.maximum(tf.sum(t.mask), 1);
    const low = tf.logicalAnd(tf.less(ratio, 1 - hyper.epsilonLow), tf.less(A, 0));
    const high = tf.logicalAnd(tf.greater(ratio, 1 + hyper.epsilonHigh), tf.greater(A, 0));
    return {
      loss: aggregateTensor(tokenLoss, t.mask, hyper),
      kl,
      clipRatioLow: tf.div(tf.sum(tf.mul(tf.cast(low, 'float32'), t.mask)), tokens) as tf.Scalar,
      clipRatioHigh: tf.div(tf.sum(tf.mul(tf.cast(high, 'float32'), t.mask)), tokens) as tf.Scalar,
    };
  });
}
