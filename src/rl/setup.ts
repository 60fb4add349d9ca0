// What `musketeers train` trains and reads, resolved from the config: the policy (a world model's
// weights, tokenizer and architecture, or a Hugging Face checkpoint directory given by policy.path) with
// its trainable parameters for the chosen mode, the frozen experts (the world's experts and the
// experts.onnx exports of real models, each with its tokenizer and chat template), and the router's
// shape. Every error names the file or config key and the fix.

import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { selectedExpertNames, type MusketeersConfig } from '../config.js';
import { ConfigError, DataError } from '../errors.js';
import { checkWeights, type DecoderConfig, type DecoderWeights } from '../models/decoder-config.js';
import { TfDecoder } from '../models/decoder.js';
import { readHfCheckpoint } from '../models/hf/policy.js';
import { type ChatTemplate, loadChatTemplate } from '../models/tokenizer/chat-template.js';
import { readSafetensors } from '../models/safetensors.js';
import { loadTokenizer } from '../models/tokenizer/hf.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import * as tf from '../models/tf.js';
import type { PerceiverRouter, RouterConfig } from '../router/perceiver.js';
import type { TrainCheckpoint } from './checkpoint.js';
import { modelDir } from '../world/build.js';
import type { ExpertSpec } from './expert-pool.js';
import type { OracleSplits } from '../experts/oracle.js';
import { taskRegistry } from '../../tasks/index.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import { splitData } from '../world/data.js';
import type { ExpertTextPoolOptions } from './expert-texts.js';

export interface PolicyFiles {
  name: string;
  dir: string;
  architecture: DecoderConfig;
  weights: DecoderWeights;
}

/** The seed of the training run: `train.seed`, else the top-level seed (which also made the world and splits). */
export function trainingSeed(config: MusketeersConfig): number {
  return config.train.seed ?? config.seed;
}

/** Name and directory of the policy the config trains. */
export function policyLocation(config: MusketeersConfig): { name: string; dir: string } {
  if (config.policy.path !== undefined) return { name: basename(resolve(config.policy.path)), dir: resolve(config.policy.path) };
  if (!config.world) {
    throw new ConfigError(undefined, [
      { path: 'policy', message: 'training needs a policy: set policy.path to a Hugging Face checkpoint directory, or add a `world` section (see configs/quickstart.yaml)' },
    ]);
  }
  const name = config.policy.model ?? config.world.models.find((m) => m.role === 'policy')!.name;
  return { name, dir: modelDir(config, name) };
}

/** Read the policy's architecture (model.json) and weights (weights.safetensors), checked against each other. */
export function readPolicyFiles(name: string, dir: string): PolicyFiles {
  const card = join(dir, 'model.json');
  const weightsFile = join(dir, 'weights.safetensors');
  for (const f of [card, weightsFile, join(dir, 'tokenizer.json')]) {
    if (!existsSync(f)) throw new DataError(`policy '${name}': ${f} not found; build the world with \`musketeers experts build CONFIG\` (train builds it when missing)`);
  }
  const architecture = (JSON.parse(readFileSync(card, 'utf8')) as { architecture?: DecoderConfig }).architecture;
  if (!architecture) throw new DataError(`policy '${name}': ${card} has no \`architecture\`; rebuild the model with \`musketeers experts build CONFIG --only ${name} --force\``);
  const { tensors } = readSafetensors(weightsFile);
  try {
    checkWeights(architecture, tensors, weightsFile);
  } catch (error) {
    throw new DataError(`policy '${name}': ${(error as Error).message}; the weights do not match ${card}: rebuild the model`);
  }
  return { name, dir, architecture, weights: tensors };
}

/** The policy of the config: the world's policy model, or the Hugging Face checkpoint at policy.path. */
export function loadPolicyFiles(config: MusketeersConfig): PolicyFiles {
  const location = policyLocation(config);
  if (config.policy.path === undefined) return readPolicyFiles(location.name, location.dir);
  const checkpoint = readHfCheckpoint(location.dir);
  return { name: location.name, dir: checkpoint.dir, architecture: checkpoint.architecture, weights: checkpoint.weights };
}

export function loadPolicyTokenizer(files: PolicyFiles): TextTokenizer {
  const tokenizer = loadTokenizer(files.dir, { name: files.name });
  if (tokenizer.vocabSize > files.architecture.vocabSize) {
    throw new DataError(`policy '${files.name}': tokenizer ${join(files.dir, 'tokenizer.json')} has ${tokenizer.vocabSize} ids but the model embeds ${files.architecture.vocabSize}; the tokenizer belongs to another model`);
  }
  if (tokenizer.eosId === undefined) {
    throw new DataError(`policy '${files.name}': tokenizer ${join(files.dir, 'tokenizer.json')} defines no EOS token (eos_token in tokenizer_config.json); generation needs one to stop`);
  }
  return tokenizer;
}

/** A chat template the policy's prompts are rendered with, and the system turn given to it. */
export interface PolicyChat {
  template: ChatTemplate;
  system?: string;
}

/** policy.chatTemplate resolved: `none` -> undefined, `auto` -> the checkpoint's template (an error when it has none), or a file. */
export function policyChat(config: MusketeersConfig, files: PolicyFiles): PolicyChat | undefined {
  const spec = config.policy.chatTemplate;
  if (spec === 'none') return undefined;
  const template = spec === 'auto' ? loadChatTemplate(files.dir) : loadChatTemplate(resolve(spec));
  if (!template) {
    throw new DataError(`policy '${files.name}': policy.chatTemplate is ${spec} but ${spec === 'auto' ? join(files.dir, 'tokenizer_config.json') : resolve(spec)} holds no chat_template; set policy.chatTemplate: none or give a .jinja file`);
  }
  const system = config.data.prompt.system;
  return { template, system: system === '' ? undefined : system };
}

/**
 * Token ids of a policy prompt. With a chat template: the rendered user turn (after the system turn)
 * ending with the generation prompt, encoded as is (templates write BOS themselves where the model
 * wants it). Without: BOS first when the tokenizer has one (Llama), none otherwise (Qwen2).
 */
export function policyPromptIds(tokenizer: TextTokenizer, text: string, chat?: PolicyChat): number[] {
  if (chat) return tokenizer.encode(chat.template.prompt(text.replace(/\n$/, ''), chat.system));
  const ids = tokenizer.encode(text);
  return tokenizer.bosId === undefined ? ids : [tokenizer.bosId, ...ids];
}

/**
 * Policy token ids of prompt texts (policyPromptIds); a prompt that leaves no room for the prefix tokens and the
 * completion budget within the policy's positions is a DataError that names the fix.
 */
export function encodePolicyPrompts(
  tokenizer: TextTokenizer,
  texts: readonly string[],
  limits: { maxPositions: number; prefixTokens: number; maxNewTokens: number; textConcat?: boolean; chat?: PolicyChat },
): number[][] {
  return texts.map((text) => {
    const ids = policyPromptIds(tokenizer, text, limits.chat);
    const need = limits.prefixTokens + ids.length + limits.maxNewTokens;
    if (need > limits.maxPositions) {
      throw new DataError(
        `a policy prompt of ${ids.length} tokens + ${limits.prefixTokens} context tokens + grpo.maxNewTokens ${limits.maxNewTokens} = ${need} positions, ` +
          `but the policy has maxPositionEmbeddings ${limits.maxPositions}; lower grpo.maxNewTokens${limits.textConcat ? ' or experts.generation.maxNewTokens' : ''} or use smaller task configs. The prompt begins: ${JSON.stringify(text.slice(0, 120))}`,
      );
    }
    return ids;
  });
}

export interface TrainablePolicy {
  decoder: TfDecoder;
  /** Trainable policy variables by checkpoint name (LoRA: PEFT names; full: HF names); empty when frozen. */
  params: Map<string, tf.Variable>;
}

/** The policy decoder with the variables its mode trains (LoRA adapters attached when mode is lora). */
export function buildPolicy(config: MusketeersConfig, files: PolicyFiles, name = 'policy'): TrainablePolicy {
  const full = config.policy.mode === 'full';
  const decoder = new TfDecoder(files.architecture, files.weights, { trainable: full, name });
  if (config.policy.mode === 'lora') {
    decoder.attachLora({ ...config.policy.lora, seed: trainingSeed(config) + 17 });
    return { decoder, params: decoder.loraVariables() };
  }
  if (full) return { decoder, params: decoder.variables() };
  return { decoder, params: new Map() };
}

/** The splits an oracle expert may read: every item of the config's training and evaluation splits. */
export function oracleSplits(config: MusketeersConfig, registry: TaskRegistry = taskRegistry): OracleSplits {
  const { dataset, split } = splitData(config, registry);
  return { train: split.train.map((i) => dataset.get(i)), eval: split.eval.map((i) => dataset.get(i)) };
}

/** The experts the config reads (experts.models, default all: world experts, experts.onnx, experts.oracle), as specs. */
export function expertSpecs(config: MusketeersConfig): ExpertSpec[] {
  const onnx = new Map(config.experts.onnx.map((e) => [e.name, e]));
  const oracles = new Map(config.experts.oracle.map((e) => [e.name, e]));
  let splits: OracleSplits | undefined;
  return selectedExpertNames(config).map((name): ExpertSpec => {
    const oracle = oracles.get(name);
    if (oracle) {
      const { seed, ...rest } = oracle;
      return {
        kind: 'oracle',
        name,
        settings: { ...rest, seed: seed ?? config.seed },
        splits: () => (splits ??= oracleSplits(config)),
        tokenizer: () => loadTokenizer(policyLocation(config).dir, { name: `${name} (the policy's tokenizer)` }),
      };
    }
    const real = onnx.get(name);
    if (real) {
      return { name, model: resolve(real.path), tokenizer: real.tokenizer === undefined ? undefined : resolve(real.tokenizer), addBos: real.addBos, chatTemplate: real.chatTemplate, systemPrompt: real.systemPrompt };
    }
    const dir = modelDir(config, name);
    return { name, model: join(dir, 'model.onnx'), tokenizer: dir, addBos: true };
  });
}

/** How the experts write for method text-concat: greedy, stopping at the closing answer tag, cached under experts.cacheDir. */
export function expertTextOptions(config: MusketeersConfig, warn?: (message: string) => void): ExpertTextPoolOptions {
  return {
    providers: config.experts.providers,
    batchSize: config.experts.generation.batchSize,
    maxNewTokens: config.experts.generation.maxNewTokens,
    stopStrings: [`</${config.data.prompt.answerTag}>`],
    cacheDir: config.experts.cacheDir,
    warn,
  };
}

export function routerConfig(config: MusketeersConfig, experts: string[], widths: number[], outputWidth: number): RouterConfig {
  const { trainable: _trainable, learningRate: _learningRate, warmup: _warmup, ...shape } = config.router;
  return { ...shape, experts, expertWidths: widths, outputWidth, seed: trainingSeed(config) + 29 };
}

/** Load a checkpoint's router and policy weights (as the policy mode stores them) into live models. */
export function applyCheckpointWeights(config: MusketeersConfig, checkpoint: Pick<TrainCheckpoint, 'router' | 'policy'>, policy: TfDecoder, router: PerceiverRouter | undefined): void {
  if (router) router.setWeights(new Map([...checkpoint.router]));
  if (config.policy.mode === 'lora') policy.setLoraWeights(checkpoint.policy);
  else if (config.policy.mode === 'full') policy.setWeights(checkpoint.policy);
}
