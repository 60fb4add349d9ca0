// Stand-in experts for the benchmarks: each `role: expert` model of a config's world with its own
// tokenizer (character-level, or a BPE trained here on the task generators' texts with the data
// section's task configs) and RANDOM weights of its architecture, exported to ONNX in a directory.

import { join } from 'node:path';

import type { MusketeersConfig } from '../src/config.js';
import { decoderConfig, initDecoderWeights, type DecoderConfig } from '../src/models/decoder-config.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../src/models/onnx/export-decoder.js';
import { buildCharTokenizer, projectTokenizer, saveTokenizer, trainBpeTokenizer } from '../src/models/tokenizer/build.js';
import { corpusTexts, generateCorpusItems, loadCorpusTasks } from '../src/models/tokenizer/corpus.js';
import type { HfTokenizerJson } from '../src/models/tokenizer/format.js';
import type { TextTokenizer } from '../src/models/tokenizer/types.js';

export type WorldModel = NonNullable<MusketeersConfig['world']>['models'][number];

export interface BenchExpert {
  model: WorldModel;
  tokenizer: TextTokenizer;
  arch: DecoderConfig;
  /** model.onnx (tokenizer.json next to it). */
  modelPath: string;
}

/** The config's experts (or the named ones), checked against the world. */
export function chooseExperts(config: MusketeersConfig, configPath: string, names: string[] | undefined, what: string): WorldModel[] {
  if (!config.world) throw new Error(`bench ${what}: ${configPath} has no world section; the benchmark needs world.models with role expert`);
  const experts = config.world.models.filter((m) => m.role === 'expert');
  if (!names) return experts;
  const unknown = names.filter((n) => !experts.some((m) => m.name === n));
  if (unknown.length > 0) throw new Error(`bench ${what}: no expert named ${unknown.join(', ')} in ${configPath}; experts: ${experts.map((m) => m.name).join(', ')}`);
  return experts.filter((m) => names.includes(m.name));
}

/** A tokenizer maker with a corpus cache: BPE corpora from the task generators, per task list. */
export async function tokenizerMaker(config: MusketeersConfig, itemsPerTask: number): Promise<(model: WorldModel) => HfTokenizerJson> {
  const taskConfigs = Object.fromEntries(
    config.data.tasks.map((t) => {
      const { seed: _seed, size: _size, ...rest } = t.config as Record<string, unknown>;
      return [t.name, rest];
    }),
  );
  const corpusCache = new Map<string, string[]>();
  const tasks = await loadCorpusTasks();
  const corpus = (names: string[]): string[] => {
    const key = names.join(',');
    if (!corpusCache.has(key)) {
      const chosen = names.map((n) => tasks.find((t) => t.name === n)!);
      corpusCache.set(key, corpusTexts(generateCorpusItems(chosen, { itemsPerTask, configs: taskConfigs })));
    }
    return corpusCache.get(key)!;
  };
  return (model) => (model.tokenizer.kind === 'char' ? buildCharTokenizer() : trainBpeTokenizer(corpus(model.tasks.map((t) => t.name)), { vocabSize: model.tokenizer.vocabSize, digits: model.tokenizer.digits }));
}

/** Write one stand-in expert (tokenizer + random-weight ONNX decoder with every hidden state) under dir/<name>/. */
export function writeBenchExpert(dir: string, model: WorldModel, tokenizerJson: HfTokenizerJson): BenchExpert {
  const tokenizer = projectTokenizer(tokenizerJson, model.name);
  const arch = decoderConfig({ vocabSize: tokenizer.vocabSize, ...model.architecture });
  const modelDir = join(dir, model.name);
  const modelPath = join(modelDir, 'model.onnx');
  saveTokenizer(modelDir, tokenizerJson);
  writeOnnxModel(modelPath, exportDecoderToOnnx(arch, initDecoderWeights(arch, 1), { hiddenStates: 'all' }));
  return { model, tokenizer, arch, modelPath };
}
