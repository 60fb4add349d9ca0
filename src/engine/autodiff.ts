// Reverse-mode differentiation over an engine graph (./graph.ts): walk the nodes between the chosen
// inputs and a scalar output backwards, apply each op's gradient rule (./grad-rules.ts, written in
// standard ONNX ops) and sum the contributions of values used more than once. The gradient nodes are
// appended to the same graph, so forward and backward run in one ONNX Runtime session.
//
// Only float values carry gradients: integer and boolean values (ids, masks, shapes) end every path,
// and so do values passed through Graph.detach (a stop-gradient).
// A node on a path whose op has no rule is an error naming the op and the node.

import { type Graph, type GraphNode, type Value, isFloat, shapeText } from './graph.js';
import { GRAD_RULES } from './grad-rules.js';

export interface GradientOptions {
  /** Gradient of `y` to start from (default: 1 for a scalar y). */
  seed?: Value;
}

/**
 * d y / d x for each x of `wrt`, as new values of the graph (same shapes as the xs). An x that does
 * not reach y gets zeros.
 */
export function gradients(g: Graph, y: Value, wrt: readonly Value[], options: GradientOptions = {}): Value[] {
  if (!isFloat(y.dtype)) throw new Error(`gradients: ${y.name} is ${y.dtype}; differentiate a float value`);
  if (!options.seed && y.shape.length !== 0) throw new Error(`gradients: ${y.name} has shape ${shapeText(y.shape)}; give a seed or differentiate a scalar`);
  for (const x of wrt) if (!isFloat(x.dtype)) throw new Error(`gradients: cannot differentiate with respect to ${x.name} (${x.dtype})`);

  // Values that depend on some x (forward), among the nodes that exist now.
  const nodes = [...g.nodes];
  const dependsOnX = new Set(wrt.map((x) => x.name));
  for (const n of nodes) {
    if (n.inputs.some((i) => i && dependsOnX.has(i.name))) for (const o of n.outputs) if (isFloat(o.dtype) && !g.detached.has(o.name)) dependsOnX.add(o.name);
  }
  // Nodes whose outputs reach y (backward).
  const reachesY = new Set([y.name]);
  const onPath: GraphNode[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (!n.outputs.some((o) => reachesY.has(o.name))) continue;
    if (!n.inputs.some((i) => i && dependsOnX.has(i.name))) continue;
    onPath.push(n);
    for (const i of n.inputs) if (i && dependsOnX.has(i.name)) reachesY.add(i.name);
  }

  const grads = new Map<string, Value>();
  const accumulate = (v: Value, d: Value) => {
    if (d.shape.join(',') !== v.shape.join(',')) throw new Error(`gradient rule bug: gradient of ${v.name} has shape ${shapeText(d.shape)}, the value has ${shapeText(v.shape)}`);
    const prev = grads.get(v.name);
    grads.set(v.name, prev ? g.add(prev, d) : d);
  };
  grads.set(y.name, options.seed ?? g.scalar(1));

  for (const n of onPath) {
    const outGrads = n.outputs.map((o) => grads.get(o.name));
    if (outGrads.every((d) => d === undefined)) continue;
    const rule = GRAD_RULES[n.op];
    if (!rule) throw new Error(`no gradient rule for op ${n.op} (node ${n.name} of graph ${g.name}) on the path from ${wrt.map((x) => x.name).join(', ')} to ${y.name}; add one in src/engine/grad-rules.ts`);
    const wants = n.inputs.map((i) => i !== undefined && dependsOnX.has(i.name) && reachesY.has(i.name));
    const inGrads = rule({ g, node: n, outGrads, wants });
    n.inputs.forEach((i, k) => {
      const d = inGrads[k];
      if (i && wants[k] && d) accumulate(i, d);
    });
  }
  return wrt.map((x) => grads.get(x.name) ?? g.zeros(x.shape));
}
