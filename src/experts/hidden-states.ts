// Finding the hidden state of a chosen layer inside a decoder ONNX graph, and rewriting the graph so
// that the expert session computes only that tensor (unused work such as the LM head is pruned by
// onnxruntime once `logits` is no longer an output).
//
// How layers are found, in order:
// 1. musketeers exports: tensors named `hidden_states.{i}` (i = 0 embeddings .. L = last decoder layer),
//    whether or not they are graph outputs.
// 2. Exports by torch.onnx (Hugging Face optimum, `torch.onnx.export` of a transformers model): nodes are
//    named by module scope, `/model/layers.{i}/...` (or `/layers.{i}/`, `/transformer/h.{i}/`). Layer
//    i's output (hidden state i + 1) is the one tensor produced inside block i and read by a node
//    outside it (the next block, or the final norm); KV-cache outputs (`present.*`) are graph outputs
//    read by no node and do not count; when several remain, constants (shared by an exporter's
//    common-subexpression elimination) are dropped and the one the block computes last is taken. Hidden state 0 (the embeddings) is the one tensor block 0 reads
//    from a node outside every block that no other block reads (rotary tables and the mask are read by
//    every block; when several remain, the one block 0 reads at the places block 1 reads hidden state 1,
//    then the one the lookup on input_ids produces). A block with no such tensor, or more than one, is
//    an error that lists them.
// Merged decoders (`decoder_model_merged.onnx`, with If subgraphs) and graphs whose nodes carry no
// scope names (the dynamo exporter, ORT-fused graphs) are not supported: the error says how to export.

import { attr, toAttributeProto, valueInfo } from '../models/onnx/graph-builder.js';
import { DataType, type GraphProto, type ModelProto, type NodeProto } from '../models/onnx/onnx-proto.js';

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
  if (found.size === 0) return discoverByScope(graph, source);
  const tensors = [...found.values()].sort((a, b) => a.index - b.index);
  const numLayers = tensors[tensors.length - 1].index;
  return { numLayers, width: embeddingShape(model)?.[1], tensors, method: 'musketeers tensor names (hidden_states.{i})' };
}

const SUPPORTED =
  'Supported: (1) musketeers exports (tensors named `hidden_states.{i}`); (2) torch.onnx exports of decoder models such as ' +
  'Hugging Face optimum\'s `optimum-cli export onnx --task text-generation[-with-past]|feature-extraction` (nodes named by module scope, ' +
  '`/model/layers.{i}/...`), not merged (export with `--no-post-process`) and not ORT-optimised (no `--optimize`).';

/** The decoder block a node belongs to, from its scope name (`/model/layers.3/self_attn/MatMul` -> 3). */
export function blockOf(nodeName: string | undefined): number | undefined {
  const m = /(?:^|\/)(?:layers|h|blocks|layer)\.(\d+)\//.exec(nodeName ?? '');
  return m ? Number(m[1]) : undefined;
}

function discoverByScope(graph: GraphProto, source: string): HiddenStateMap {
  const outputs = new Set(graph.output.map((o) => o.name));
  const producedBy = new Map<string, number | undefined>(); // tensor -> block of its producer (undefined: outside every block)
  const consumers = new Map<string, (number | undefined)[]>(); // tensor -> blocks of its readers
  let blocks = -1;
  let subgraphs = false;
  for (const node of graph.node) {
    const b = blockOf(node.name);
    if (b !== undefined) blocks = Math.max(blocks, b);
    if (node.attribute.some((a) => a.g !== undefined || a.graphs.length > 0)) subgraphs = true;
    for (const o of node.output) if (o !== '') producedBy.set(o, b);
    for (const i of node.input) {
      if (i === '') continue;
      if (!consumers.has(i)) consumers.set(i, []);
      consumers.get(i)!.push(b);
    }
  }
  const numLayers = blocks + 1;
  if (numLayers === 0) {
    const why = subgraphs
      ? 'the graph has control-flow subgraphs (If/Loop: a merged decoder?) and no scope-named decoder blocks at the top level'
      : 'no node is named by a decoder-block scope (`/model/layers.{i}/...`)';
    throw new Error(`${source}: no locatable decoder-layer outputs: ${why}. ${SUPPORTED}`);
  }
  const tensors: HiddenStateTensor[] = [];
  const problems: string[] = [];
  const pick = (index: number, candidates: string[], what: string) => {
    if (candidates.length === 1) tensors.push({ index, tensor: candidates[0], exposed: outputs.has(candidates[0]) });
    else problems.push(`${what}: ${candidates.length === 0 ? 'no candidate tensor' : `${candidates.length} candidates (${candidates.slice(0, 6).join(', ')})`}`);
  };
  const order = new Map<string, { index: number; op: string }>(); // tensor -> its producer's position and op type
  graph.node.forEach((n, index) => n.output.forEach((o) => order.set(o, { index, op: n.opType })));
  for (let b = 0; b < numLayers; b++) {
    let candidates = [...producedBy].filter(([t, pb]) => pb === b && (consumers.get(t) ?? []).some((r) => r !== b)).map(([t]) => t);
    if (candidates.length > 1) {
      // Constants an exporter shared between blocks (common-subexpression elimination) are not states;
      // of the rest, the block's output is the tensor it computes last (its final residual add).
      candidates = candidates.filter((t) => !['Constant', 'ConstantOfShape'].includes(order.get(t)!.op));
      if (candidates.length > 1) candidates = [candidates.reduce((a, c) => (order.get(c)!.index > order.get(a)!.index ? c : a))];
    }
    pick(b + 1, candidates, `output of block ${b}`);
  }
  // Hidden state 0: read by block 0, produced outside every block, read by no other block.
  let embedCandidates = [...consumers]
    .filter(([t, readers]) => producedBy.has(t) && producedBy.get(t) === undefined && readers.includes(0) && readers.every((r) => r === 0 || r === undefined))
    .map(([t]) => t);
  const next = tensors.find((t) => t.index === 1);
  if (embedCandidates.length > 1 && next && numLayers > 1) {
    // Several (a one-block model, or per-block copies of shared tables): keep the one block 0 reads
    // at the same places (node names relative to the block) as block 1 reads hidden state 1.
    const readersIn = (tensor: string, block: number) =>
      graph.node
        .filter((n) => blockOf(n.name) === block && n.input.includes(tensor))
        .map((n) => (n.name ?? '').replace(/^.*?(?:layers|h|blocks|layer)\.\d+\//, ''))
        .sort()
        .join('|');
    const signature = readersIn(next.tensor, 1);
    embedCandidates = embedCandidates.filter((t) => readersIn(t, 0) === signature);
  }
  if (embedCandidates.length > 1) {
    // Still several (one block only): the embedding lookup is the node that reads input_ids.
    const readsIds = embedCandidates.filter((t) => graph.node.some((n) => n.output.includes(t) && n.input.includes('input_ids')));
    if (readsIds.length === 1) embedCandidates = readsIds;
  }
  pick(0, embedCandidates, 'embeddings (input of block 0)');
  if (problems.length > 0) {
    throw new Error(`${source}: no locatable decoder-layer outputs (${numLayers} scope-named blocks found, but ${problems.join('; ')}). ${SUPPORTED}`);
  }
  tensors.sort((a, b) => a.index - b.index);
  return {
    numLayers,
    width: embeddingShape({ graph } as ModelProto)?.[1],
    tensors,
    method: 'module scopes of a torch.onnx export (/model/layers.{i}/...: the tensor each block passes on)',
  };
}

/** [rows, width] of the input embedding: the initializer the Gather on input_ids reads (through a Cast, if any). */
export function embeddingShape(model: ModelProto): [number, number] | undefined {
  const graph = model.graph;
  if (!graph) return undefined;
  const inits = new Map(graph.initializer.map((t) => [t.name ?? '', t]));
  const named = inits.get('model.embed_tokens.weight');
  if (named && named.dims.length === 2) return [Number(named.dims[0]), Number(named.dims[1])];
  const producer = new Map<string, (typeof graph.node)[number]>();
  for (const n of graph.node) for (const o of n.output) producer.set(o, n);
  for (const n of graph.node) {
    if (n.opType !== 'Gather' || n.input[1] !== 'input_ids') continue;
    let data = n.input[0];
    const cast = producer.get(data);
    if (cast && cast.opType === 'Cast') data = cast.input[0];
    const t = inits.get(data);
    if (t && t.dims.length === 2) return [Number(t.dims[0]), Number(t.dims[1])];
  }
  return undefined;
}

/** Vocabulary size of the model's input embedding, when it can be found. */
export function embeddingRows(model: ModelProto): number | undefined {
  return embeddingShape(model)?.[0];
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

/** Name of the float32 output the runner adds for a hidden state. */
export const EXPOSED_PREFIX = 'musketeers.hidden_states.';

/**
 * A copy of `model` whose only output is the hidden state of `layerIndex` as float32: the located tensor
 * read through a Cast to FLOAT (a no-op for float32 graphs; float16 graphs give float32 states).
 * Initializer bytes are shared with the original, not copied.
 */
export function withOnlyHiddenStateOutput(model: ModelProto, map: HiddenStateMap, layerIndex: number): { model: ModelProto; output: string } {
  const t = map.tensors.find((x) => x.index === layerIndex);
  if (!t) {
    const have = map.tensors.map((x) => x.index).join(', ');
    throw new Error(`hidden state ${layerIndex} is not in the graph (found layers ${have})`);
  }
  const graph = model.graph!;
  const output = `${EXPOSED_PREFIX}${layerIndex}`;
  const cast: NodeProto = { name: `musketeers/expose_hidden_state_${layerIndex}`, opType: 'Cast', input: [t.tensor], output: [output], attribute: [toAttributeProto('to', attr.int(DataType.FLOAT))] };
  return {
    model: { ...model, graph: { ...graph, node: [...graph.node, cast], output: [valueInfo(output, DataType.FLOAT, ['batch', 'sequence', map.width ?? 'hidden'])] } },
    output,
  };
}
