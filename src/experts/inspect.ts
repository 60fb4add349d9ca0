// What `musketeers experts inspect` reports about an ONNX decoder: producer, opsets, weight types and
// external data files, inputs, outputs, metadata and the hidden-state tensors per layer (with the method
// that located them, their width and whether they are already graph outputs).

import { readOnnxModelFile } from '../models/onnx/model-file.js';
import { dataTypeName, type ValueInfoProto } from '../models/onnx/onnx-proto.js';
import { DataLocation } from '../models/onnx/onnx-proto.js';
import { planFeeds, type FeedPlan } from './feeds.js';
import { discoverHiddenStates, type HiddenStateMap } from './hidden-states.js';
import { readConfigHints } from './model-files.js';

export interface TensorDescription {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface ModelInspection {
  file: string;
  bytes: number;
  producer?: string;
  opsets: { domain: string; version: number }[];
  inputs: TensorDescription[];
  outputs: TensorDescription[];
  metadata: Record<string, string>;
  initializers: number;
  /** Values held by all initializers (weights plus constant tables such as RoPE cos/sin). */
  initializerValues: number;
  nodes: number;
  hiddenStates?: HiddenStateMap;
  /** Why hidden states could not be located, when they could not. */
  hiddenStatesError?: string;
  /** External data files the initializers point to (location relative to the model) and the bytes read from each. */
  externalData: { location: string; bytes: number; tensors: number }[];
  /** Weight element types (FLOAT, FLOAT16, ...) and how many initializers have each. */
  initializerTypes: Record<string, number>;
  /** How the runner feeds the graph's inputs, or why it cannot. */
  feeds?: FeedPlan;
  feedsError?: string;
}

function describe(v: ValueInfoProto): TensorDescription {
  const t = v.type?.tensorType;
  return {
    name: v.name,
    type: t?.elemType !== undefined ? dataTypeName(t.elemType) : 'non-tensor',
    shape: (t?.shape?.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? '?'),
  };
}

export function inspectModel(file: string): ModelInspection {
  const { model, bytes } = readOnnxModelFile(file);
  const graph = model.graph;
  if (!graph) throw new Error(`${file}: the ONNX file has no graph`);
  const initNames = new Set(graph.initializer.map((t) => t.name));
  let hiddenStates: HiddenStateMap | undefined;
  let hiddenStatesError: string | undefined;
  try {
    hiddenStates = discoverHiddenStates(model, file);
  } catch (error) {
    hiddenStatesError = (error as Error).message;
  }
  let feeds: FeedPlan | undefined;
  let feedsError: string | undefined;
  try {
    feeds = planFeeds(model, file, readConfigHints(file));
  } catch (error) {
    feedsError = (error as Error).message;
  }
  const external = new Map<string, { location: string; bytes: number; tensors: number }>();
  const initializerTypes: Record<string, number> = {};
  for (const t of graph.initializer) {
    const type = dataTypeName(t.dataType);
    initializerTypes[type] = (initializerTypes[type] ?? 0) + 1;
    if (t.dataLocation !== DataLocation.EXTERNAL) continue;
    const location = t.externalData.find((e) => e.key === 'location')?.value ?? '?';
    const e = external.get(location) ?? { location, bytes: 0, tensors: 0 };
    e.bytes += Number(t.externalData.find((x) => x.key === 'length')?.value ?? 0);
    e.tensors++;
    external.set(location, e);
  }
  return {
    file,
    bytes: bytes.byteLength,
    externalData: [...external.values()],
    initializerTypes,
    feeds,
    feedsError,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || undefined,
    opsets: model.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    inputs: graph.input.filter((i) => !initNames.has(i.name)).map(describe),
    outputs: graph.output.map(describe),
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])),
    initializers: graph.initializer.length,
    initializerValues: graph.initializer.reduce((a, t) => a + t.dims.reduce((x, y) => x * Number(y), 1), 0),
    nodes: graph.node.length,
    hiddenStates,
    hiddenStatesError,
  };
}

export function formatInspection(r: ModelInspection): string {
  const fmt = (t: TensorDescription) => `  ${t.name.padEnd(22)} ${t.type.padEnd(8)} [${t.shape.join(', ')}]`;
  const lines = [
    `${r.file} (${(r.bytes / 1e6).toFixed(2)} MB, ${r.initializerValues.toLocaleString('en-US')} initializer values, ${r.nodes} nodes)`,
    `producer: ${r.producer ?? 'unknown'}; opsets: ${r.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    `weights: ${Object.entries(r.initializerTypes).map(([t, n]) => `${n} ${t}`).join(', ') || 'none'}` +
      (r.externalData.length > 0 ? `; external data: ${r.externalData.map((e) => `${e.location} (${(e.bytes / 1e6).toFixed(2)} MB, ${e.tensors} tensors)`).join(', ')}` : ''),
    'inputs:',
    ...r.inputs.map(fmt),
    'outputs:',
    ...r.outputs.map(fmt),
  ];
  if (r.feeds) {
    const p = r.feeds;
    const past = p.past.length > 0 ? `; ${p.past.length} past_key_values inputs fed empty [batch, ${p.past[0].heads}, 0, ${p.past[0].headDim}] ${p.past[0].type}` : '';
    lines.push(`runner feeds: input_ids, attention_mask (left padding)${p.positionIds ? ', position_ids = cumsum(mask) - 1' : ''}${past}`);
  } else lines.push(`runner feeds: cannot run this graph: ${r.feedsError ?? ''}`);
  if (r.hiddenStates) {
    const h = r.hiddenStates;
    lines.push(`hidden states (${h.numLayers} layers, width ${h.width ?? 'unknown'}; found by ${h.method}):`);
    const nameWidth = Math.max(18, ...h.tensors.map((t) => t.tensor.length));
    for (const t of h.tensors) {
      const neg = t.index - h.numLayers - 1;
      const role = t.index === 0 ? 'embeddings' : `layer ${t.index}`;
      lines.push(`  layer ${String(t.index).padStart(2)} (${String(neg).padStart(3)})  ${t.tensor.padEnd(nameWidth)} ${role.padEnd(10)} ${t.exposed ? 'graph output' : 'internal: exposed on demand'}`);
    }
  } else {
    lines.push(`hidden states: none located. ${r.hiddenStatesError ?? ''}`);
  }
  const meta = Object.entries(r.metadata);
  if (meta.length > 0) {
    lines.push('metadata:');
    for (const [k, v] of meta) lines.push(`  ${k}: ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`);
  }
  return lines.join('\n');
}
