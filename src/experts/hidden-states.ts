// Finding the hidden state of a chosen layer inside a decoder ONNX graph, and rewriting the graph so
// that the expert session computes only that tensor (unused work such as the LM head is pruned by
// onnxruntime once `logits` is no longer an output).
//
// How layers are found: tensors named `hidden_states.{i}` (i = 0 embeddings .. L = last decoder layer),
// as written by musketeers' exporter, whether or not they are graph outputs. Other layouts (Hugging
// Face optimum exports) are not supported yet and get an error that says so.

import { valueInfo } from '../models/onnx/graph-builder.js';
import { DataType, type GraphProto, type ModelProto } from '../models/onnx/onnx-proto.js';

export interface HiddenStateTensor {
  /** Layer index 0..numLayers (0 = embedding output, numLayers = last decoder layer before the final norm). */
  index: number;
  /** Tensor name in the graph. */
  tensor: string;
  /** Already a graph output. */
  exposed: boolean;
}

export interface HiddenStateMap {
  numLayers: number;
  /** Width of the hidden states when it can be read from the graph. */
  width?: number;
  tensors: HiddenStateTensor[];
  method: string;
}

const MUSKETEERS_NAME = /^hidden_states\.(\d+)$/;

/** The layer outputs of a decoder graph; throws naming the file and what is supported when none are found. */
export function discoverHiddenStates(model: ModelProto, source: string): HiddenStateMap {
  const graph = model.graph;
  if (!graph) throw new Error(`${source}: the ONNX file has no graph`);
  const outputs = new Set(graph.output.map((o) => o.name));
  const found = new Map<number, HiddenStateTensor>();
  for (const node of graph.node) {
    for (const out of node.output) {
      const m = MUSKETEERS_NAME.exec(out);
      if (m) found.set(Number(m[1]), { index: Number(m[1]), tensor: out, exposed: outputs.has(out) });
    }
  }
  if (found.size === 0) {
    throw new Error(
      `${source}: no locatable decoder-layer outputs. Supported: decoder graphs whose layer outputs are tensors named ` +
        '`hidden_states.{i}` (models built or exported by musketeers). Re-export the model with musketeers, ' +
        'or add such outputs to the graph.',
    );
  }
  const tensors = [...found.values()].sort((a, b) => a.index - b.index);
  const numLayers = tensors[tensors.length - 1].index;
  return { numLayers, width: widthOf(graph), tensors, method: 'musketeers tensor names (hidden_states.{i})' };
}

function widthOf(graph: GraphProto): number | undefined {
  const embed = graph.initializer.find((t) => t.name === 'model.embed_tokens.weight');
  return embed && embed.dims.length === 2 ? Number(embed.dims[1]) : undefined;
}

/** Vocabulary size of the model's input embedding, when the graph names it the Hugging Face way. */
export function embeddingRows(model: ModelProto): number | undefined {
  const embed = model.graph?.initializer.find((t) => t.name === 'model.embed_tokens.weight');
  return embed && embed.dims.length === 2 ? Number(embed.dims[0]) : undefined;
}

/** Resolve a possibly negative layer index (-1 = last layer) against numLayers; error names the valid range. */
export function resolveLayer(layer: number, numLayers: number, source: string): number {
  const index = layer < 0 ? numLayers + 1 + layer : layer;
  if (!Number.isInteger(layer) || index < 0 || index > numLayers) {
    throw new Error(
      `${source}: layer ${layer} is out of range; this model has ${numLayers} layers: use 0..${numLayers} ` +
        `(0 = embeddings, ${numLayers} = last layer) or -1..-${numLayers + 1} counting from the end`,
    );
  }
  return index;
}

/**
 * A copy of `model` whose only output is the hidden state of `layerIndex` (exposing it if needed).
 * Initializer bytes are shared with the original, not copied.
 */
export function withOnlyHiddenStateOutput(model: ModelProto, map: HiddenStateMap, layerIndex: number): { model: ModelProto; output: string } {
  const t = map.tensors.find((x) => x.index === layerIndex);
  if (!t) {
    const have = map.tensors.map((x) => x.index).join(', ');
    throw new Error(`hidden state ${layerIndex} is not in the graph (found layers ${have})`);
  }
  const graph = model.graph!;
  const existing = graph.output.find((o) => o.name === t.tensor);
  return {
    model: { ...model, graph: { ...graph, output: [existing ?? valueInfo(t.tensor, DataType.FLOAT, ['batch', 'sequence', map.width ?? 'hidden'])] } },
    output: t.tensor,
  };
}
