// Building the tiny world: for each model of `world.models` — tokenizer, supervised training from the
// task generators, held-out evaluation on every task, then `<world.dir>/<name>/` with model.onnx,
// tokenizer.json, weights.safetensors and the model.json card (written last: its presence with a
// matching config hash marks a finished model, so a rebuild skips it). Training checkpoints go to
// `<name>/.partial/` so a killed build resumes where it stopped.

import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { taskRegistry } from '../../tasks/index.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { MusketeersConfig } from '../config.js';
import { sha256 } from '../experts/cache.js';
import { selectBackend, type BackendRequest } from '../models/backend.js';
import { decoderConfig, type DecoderConfig, type DecoderWeights, type NamedTensor } from '../models/decoder-config.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../models/onnx/export-decoder.js';
import { readSafetensors, writeSafetensors } from '../models/safetensors.js';
import { buildCharTokenizer, projectTokenizer, saveTokenizer, trainBpeTokenizer } from '../models/tokenizer/build.js';
import type { HfTokenizerJson } from '../models/tokenizer/format.js';
import { writeFileAtomic } from '../util/fs.js';
import { VERSION } from '../version.js';
import { constantBaselines, type ConstantBaseline } from './baseline.js';
import { heldOutByTask, sftItems } from './data.js';
import { evaluateTask, type TaskEvaluation } from './evaluate.js';
import { formatPrompt, referenceAnswer, type PromptFormat } from './format.js';
import { formatTarget } from './targets.js';
import type { SftCheckpoint, SftExample, SftHooks, SftOptions } from './sft.js';
import { trainWorldModel } from './train-model.js';
import { resolveProviders } from '../rl/engine-onnx.js';

export type WorldModel = NonNullable<MusketeersConfig['world']>['models'][number];

/** Bump when the meaning of a build changes (format, data, trainer), so old builds are redone. */
const BUILD_FORMAT = 3;

export interface ModelCard {
  name: string;
  role: 'expert' | 'policy';
  configHash: string;
  architecture: DecoderConfig;
  tokenizer: { kind: string; vocabSize: number };
  mixture: { task: string; weight: number; config: Record<string, unknown> }[];
  training: {
    steps: number;
    batchSize: number;
    learningRate: number;
    warmupSteps: number;
    promptLossWeight: number;
    trainItems: number;
    tokens: number;
    firstLoss: number;
    finalLoss: number;
    /** Mean loss over each tenth of training (the loss curve, summarised). */
    lossCurve: number[];
    skippedSteps: number;
    /** Wall-clock seconds of the whole model build (data, training, evaluation, export). */
    seconds: number;
    /** CPU seconds of the same (user + system of the building process): what the build costs on an idle machine. */
    cpuSeconds: number;
    backend: string;
    seed: number;
  };
  heldOut: TaskEvaluation[];
  /** Per task: the accuracy of always giving the best constant answer on the same held-out items. */
  baselines: ConstantBaseline[];
  format: PromptFormat;
  packageVersion: string;
  builtAt: string;
}

export interface BuildEvents {
  onModelStart?: (model: WorldModel, index: number, total: number) => void;
  onStep?: (model: WorldModel, step: number, steps: number, loss: number) => void;
  onModelDone?: (card: ModelCard, skipped: boolean) => void;
  onResume?: (model: WorldModel, step: number) => void;
  /** Warnings about the build as a whole (a requested CUDA provider that is missing). */
  warn?: (message: string) => void;
}

export interface BuildOptions {
  only?: string[];
  force?: boolean;
  registry?: TaskRegistry;
  events?: BuildEvents;
  /**
   * Models trained at once, each in its own child process (tfjs wasm uses one core per process).
   * 1 (the default) builds in this process, one model after another. A custom `registry` forces 1.
   */
  jobs?: number;
}

export interface BuildSummary {
  dir: string;
  backend: string;
  models: { card: ModelCard; skipped: boolean }[];
  /** Constant-answer baseline per task on the held-out items every model is evaluated on. */
  baselines: ConstantBaseline[];
  jobs: number;
  seconds: number;
}

function worldOf(config: MusketeersConfig): NonNullable<MusketeersConfig['world']> {
  if (!config.world) throw new Error('the config has no `world` section; add one (see configs/quickstart.yaml) to build tiny models');
  return config.world;
}

/** What determines a model's build: its spec, the configs of its tasks, the prompt format, seed and trainer version. */
export function modelConfigHash(config: MusketeersConfig, model: WorldModel): string {
  const tasks = config.data.tasks.map((t) => ({ name: t.name, config: t.config }));
  return sha256(JSON.stringify({ BUILD_FORMAT, model, tasks, prompt: config.data.prompt, seed: config.seed, split: [config.data.trainSize, config.data.evalSize] })).slice(0, 16);
}

export function modelDir(config: MusketeersConfig, name: string): string {
  return join(worldOf(config).dir, name);
}

export function readCard(dir: string): ModelCard | undefined {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ModelCard;
  } catch {
    return undefined;
  }
}

function makeTokenizer(model: WorldModel, corpus: string[]): HfTokenizerJson {
  if (model.tokenizer.kind === 'char') return buildCharTokenizer();
  return trainBpeTokenizer(corpus, { vocabSize: model.tokenizer.vocabSize, digits: model.tokenizer.digits });
}

// ---- checkpoints: weights and Adam moments in one safetensors file, the rest in its metadata

function saveCheckpoint(dir: string, hash: string, state: SftCheckpoint): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [n, t] of state.weights) tensors.set(`weights/${n}`, t);
  for (const [n, t] of state.optimizer.m) tensors.set(`adam_m/${n}`, t);
  for (const [n, t] of state.optimizer.v) tensors.set(`adam_v/${n}`, t);
  const meta = { hash, step: String(state.step), adamStep: String(state.optimizer.step), rng: JSON.stringify(state.rng), losses: JSON.stringify(state.losses), tokens: String(state.tokens) };
  writeSafetensors(join(dir, 'checkpoint.safetensors'), tensors, meta);
}

function loadCheckpoint(dir: string, hash: string): SftCheckpoint | undefined {
  const file = join(dir, 'checkpoint.safetensors');
  if (!existsSync(file)) return undefined;
  const { tensors, metadata } = readSafetensors(file);
  if (metadata.hash !== hash) return undefined;
  const pick = (prefix: string) => new Map([...tensors].filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t] as const));
  return {
    step: Number(metadata.step),
    rng: JSON.parse(metadata.rng),
    weights: pick('weights/') as DecoderWeights,
    optimizer: { step: Number(metadata.adamStep), m: pick('adam_m/'), v: pick('adam_v/') },
    losses: JSON.parse(metadata.losses) as number[],
    tokens: Number(metadata.tokens),
  };
}

/** How a build process runs the onnx engine (threads per operator: 1 when builds share the cores). */
export interface WorldEngineOptions {
  intraOpThreads?: number;
}

export async function buildModel(config: MusketeersConfig, model: WorldModel, index: number, registry: TaskRegistry, backend: string, events: BuildEvents, engineOptions: WorldEngineOptions = {}): Promise<ModelCard> {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const dir = modelDir(config, model.name);
  const partial = join(dir, '.partial');
  const hash = modelConfigHash(config, model);
  const format: PromptFormat = { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
  const train = model.train;

  // ---- data: held-out items from the RL eval split; training items from the model's own mixture
  const heldOut = heldOutByTask(config, registry, train.evalItemsPerTask);
  const items = sftItems(config, registry, model, index, Math.min(train.steps * train.batchSize, 20_000), heldOut.keys);
  const texts = items.map((e) => ({ prompt: formatPrompt(format, e), target: formatTarget(format, e, train.targets) }));

  // ---- tokenizer
  const tokenizerJson = makeTokenizer(model, texts.flatMap((t) => [t.prompt, t.target]));
  const tokenizer = projectTokenizer(tokenizerJson, model.name);
  const bos = tokenizer.bosId!;
  const eos = tokenizer.eosId!;
  const pool: SftExample[] = texts.map((t) => ({ promptIds: tokenizer.encode(t.prompt), targetIds: [...tokenizer.encode(t.target), eos] }));
  const limit = model.architecture.maxPositionEmbeddings;
  pool.forEach((e, i) => {
    const length = 1 + e.promptIds.length + e.targetIds.length;
    if (length > limit) {
      throw new Error(
        `world model '${model.name}': a ${String(items[i].metadata.source_dataset)} item is ${length} tokens (prompt + answer) but maxPositionEmbeddings is ${limit}; ` +
          'raise world.models[].architecture.maxPositionEmbeddings or make the task config smaller',
      );
    }
  });

  // ---- model and supervised training (resuming from .partial when its hash matches)
  const arch = decoderConfig({ family: 'musketeers-tiny', vocabSize: tokenizer.vocabSize, ...model.architecture });
  const resumeFrom = loadCheckpoint(partial, hash);
  if (resumeFrom) events.onResume?.(model, resumeFrom.step);
  const sftOptions: SftOptions = { steps: train.steps, batchSize: train.batchSize, learningRate: train.learningRate, warmupSteps: train.warmupSteps, promptLossWeight: train.promptLossWeight, clipNorm: 1, seed: config.seed + 7 * index, bosId: bos };
  const hooks: SftHooks = {
    onStep: (step, loss) => events.onStep?.(model, step, train.steps, loss),
    checkpointEvery: Math.max(10, Math.ceil(train.steps / 10)),
    checkpoint: (state) => {
      mkdirSync(partial, { recursive: true });
      saveCheckpoint(partial, hash, state);
    },
    resumeFrom,
  };
  const trained = await trainWorldModel(worldOf(config), arch, config.seed + index, pool, sftOptions, hooks, model.name, engineOptions);
  try {
    const { result, weights } = trained;

    // ---- held-out evaluation on every task of data.tasks
    const longestAnswer = Math.max(...pool.map((e) => e.targetIds.length));
    const evaluations: TaskEvaluation[] = [];
    for (const [name, list] of heldOut.byTask) {
      if (list.length === 0) continue;
      evaluations.push(await evaluateTask(trained.model, tokenizer, registry.get(name), list, { format, maxNewTokens: longestAnswer + 8, batchSize: 32, targets: train.targets }));
    }

    // ---- files: tokenizer, ONNX, weights, then the card (last: marks the model finished)
    saveTokenizer(dir, tokenizerJson, { name: model.name, modelMaxLength: limit });
    writeOnnxModel(join(dir, 'model.onnx'), exportDecoderToOnnx(arch, weights, { hiddenStates: 'all' }));
    writeSafetensors(join(dir, 'weights.safetensors'), weights, { format: 'pt', decoder_config: JSON.stringify(arch) });
    const card: ModelCard = {
      name: model.name,
      role: model.role,
      configHash: hash,
      architecture: arch,
      tokenizer: { kind: model.tokenizer.kind, vocabSize: tokenizer.vocabSize },
      mixture: model.tasks.map((t) => ({ task: t.name, weight: t.weight, config: config.data.tasks.find((d) => d.name === t.name)!.config })),
      training: {
        steps: train.steps,
        batchSize: train.batchSize,
        learningRate: train.learningRate,
        warmupSteps: train.warmupSteps,
        promptLossWeight: train.promptLossWeight,
        trainItems: items.length,
        tokens: result.tokens,
        firstLoss: result.losses[0],
        finalLoss: mean(result.losses.slice(-Math.max(1, Math.ceil(result.losses.length / 10)))),
        lossCurve: lossCurve(result.losses, 10),
        skippedSteps: result.skippedSteps,
        seconds: (performance.now() - started) / 1000,
        cpuSeconds: cpuSecondsSince(cpuStarted),
        backend: trained.device(backend),
        seed: config.seed,
      },
      heldOut: evaluations,
      baselines: constantBaselines(config, registry, heldOut.byTask),
      format,
      packageVersion: VERSION,
      builtAt: new Date().toISOString(),
    };
    writeFileAtomic(join(dir, 'model.json'), `${JSON.stringify(card, null, 2)}\n`);
    rmSync(partial, { recursive: true, force: true });
    return card;
  } finally {
    await trained.dispose();
  }
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** Mean loss of each of `parts` consecutive slices of the run, rounded to 4 decimals. */
function lossCurve(losses: number[], parts: number): number[] {
  const n = Math.min(parts, losses.length);
  return Array.from({ length: n }, (_, k) => {
    const slice = losses.slice(Math.floor((k * losses.length) / n), Math.floor(((k + 1) * losses.length) / n));
    return Number(mean(slice).toFixed(4));
  });
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
}

/**
 * Rough relative cost of building a model, to start the longest builds first when building in
 * parallel: tokens trained (characters of a few items of its mixture, about 3 per BPE token) times
 * layers. At these widths the time per token barely depends on the width (measured on wasm).
 */
function estimatedCost(config: MusketeersConfig, registry: TaskRegistry, model: WorldModel): number {
  const items = sftItems(config, registry, model, 0, 24, new Set());
  const chars = mean(items.map((e) => e.question.length + referenceAnswer(e).length + 20));
  const a = model.architecture;
  const tokens = model.tokenizer.kind === 'char' ? chars : chars / 3;
  return model.train.steps * model.train.batchSize * tokens * a.numLayers;
}

/** Messages of the build worker (`worker.ts`) to its parent. */
export type WorkerMessage =
  | { type: 'step'; step: number; steps: number; loss: number }
  | { type: 'resume'; step: number }
  | { type: 'done'; card: ModelCard }
  | { type: 'error'; message: string; stack?: string };

/** Build one model in a child process (same code, same seeds: the same card as an in-process build). */
function buildInChild(config: MusketeersConfig, model: WorldModel, index: number, backend: string, events: BuildEvents, children: Set<ReturnType<typeof fork>>): Promise<ModelCard> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./worker.js', import.meta.url), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
    children.add(child);
    // The child's own output (library notices) goes to stderr, never into the parent's --json stdout.
    child.stdout?.pipe(process.stderr, { end: false });
    child.stderr?.pipe(process.stderr, { end: false });
    let settled = false;
    const finish = (error: Error | undefined, card?: ModelCard) => {
      if (settled) return;
      settled = true;
      children.delete(child);
      if (error) reject(error);
      else resolve(card!);
    };
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'step') events.onStep?.(model, m.step, m.steps, m.loss);
      else if (m.type === 'resume') events.onResume?.(model, m.step);
      else if (m.type === 'done') finish(undefined, m.card);
      else if (m.type === 'error') {
        const error = new Error(m.message);
        if (m.stack) error.stack = m.stack;
        finish(error);
      }
    });
    child.on('error', (e) => finish(e));
    child.on('exit', (code, signal) => finish(new Error(`building world model '${model.name}': worker process ended (${signal ?? `exit code ${code}`}) before finishing`)));
    child.send({ config, index, backend, engine: { intraOpThreads: 1 } });
  });
}

/** Build (or skip, when finished with the same config) every world model. */
export async function buildWorld(config: MusketeersConfig, options: BuildOptions = {}): Promise<BuildSummary> {
  const world = worldOf(config);
  const registry = options.registry ?? taskRegistry;
  const events = options.events ?? {};
  const names = world.models.map((m) => m.name);
  for (const n of options.only ?? []) {
    if (!names.includes(n)) throw new Error(`--only ${n}: no such world model; the config defines ${names.join(', ')}`);
  }
  const selected = world.models.filter((m) => !options.only || options.only.length === 0 || options.only.includes(m.name));
  const started = performance.now();
  const backend = await selectBackend(world.backend as BackendRequest);
  if (world.engine === 'onnx') resolveProviders(world.providers, events.warn, 'world.providers');
  const results = new Map<string, BuildSummary['models'][number]>();
  const todo: WorldModel[] = [];
  for (const model of selected) {
    const existing = readCard(modelDir(config, model.name));
    const complete = existing && existing.configHash === modelConfigHash(config, model) && ['model.onnx', 'tokenizer.json', 'weights.safetensors'].every((f) => existsSync(join(modelDir(config, model.name), f)));
    if (complete && !options.force) results.set(model.name, { card: existing, skipped: true });
    else todo.push(model);
  }
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, todo.length, options.registry && options.registry !== taskRegistry ? 1 : Infinity));
  let startedCount = 0;
  const start = (model: WorldModel) => {
    events.onModelStart?.(model, startedCount++, selected.length);
    if (options.force) rmSync(join(modelDir(config, model.name), '.partial'), { recursive: true, force: true });
  };
  for (const model of selected) {
    const done = results.get(model.name);
    if (done) {
      start(model);
      events.onModelDone?.(done.card, true);
    }
  }
  if (jobs === 1) {
    for (const model of todo) {
      start(model);
      const card = await buildModel(config, model, world.models.indexOf(model), registry, backend, events);
      results.set(model.name, { card, skipped: false });
      events.onModelDone?.(card, false);
    }
  } else {
    // Longest first onto whichever worker frees up: the finish time is close to the best split.
    const cost = new Map(todo.map((m) => [m.name, estimatedCost(config, registry, m)]));
    const queue = [...todo].sort((a, b) => cost.get(b.name)! - cost.get(a.name)!);
    const children = new Set<ReturnType<typeof fork>>();
    const lane = async () => {
      for (let model = queue.shift(); model; model = queue.shift()) {
        start(model);
        const card = await buildInChild(config, model, world.models.indexOf(model), backend, events, children);
        results.set(model.name, { card, skipped: false });
        events.onModelDone?.(card, false);
      }
    };
    try {
      await Promise.all(Array.from({ length: jobs }, lane));
    } catch (error) {
      queue.length = 0;
      for (const child of children) child.kill('SIGTERM');
      throw error;
    }
  }
  // The cards hold the baselines on their own held-out items; the summary's are on the largest such set.
  const heldOut = heldOutByTask(config, registry, Math.max(...selected.map((m) => m.train.evalItemsPerTask)));
  const models = selected.map((m) => results.get(m.name)!);
  return { dir: world.dir, backend, models, baselines: constantBaselines(config, registry, heldOut.byTask), jobs, seconds: (performance.now() - started) / 1000 };
}
