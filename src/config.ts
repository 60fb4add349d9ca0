// The one config schema of musketeers: YAML loading with file:line:column in every error, typed
// `--set a.b.c=value` overrides validated like the file, task configs validated by each task's own
// schema, and the resolved config as YAML for run directories and `musketeers config show`.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LineCounter, parseDocument, stringify, isMap, isPair, isScalar, type Document } from 'yaml';
import { z } from 'zod';

import { DEFAULT_SYSTEM_PROMPT, renderPrompt } from '../tasks/common/extract.js';
import { resolveCompositeSpecs } from '../tasks/composite.js';
import { taskRegistry } from '../tasks/index.js';
import { UnknownTaskError, type TaskRegistry } from '../tasks/registry.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { ORACLE_ENCODINGS } from './experts/oracle.js';
import { POOLINGS } from './experts/pooling.js';
import { ROUTER_ATTENTIONS, type RouterAttention } from './router/attention.js';
import { LORA_TARGETS, decoderConfig, type LoraTarget } from './models/decoder-config.js';

// ---------------------------------------------------------------------------------------------------
// Schema. Every field: description with default and allowed values; unknown keys are errors.
// ---------------------------------------------------------------------------------------------------

const taskSpecSchema = z
  .object({
    name: z.string().min(1).describe('Registered task name (see `musketeers tasks list`).'),
    weight: z.number().positive().default(1).describe('Relative sampling weight in the mixture (> 0).'),
    config: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("The task's own config (Reasoning Gym field names and defaults); see `musketeers tasks list --json`."),
  })
  .strict();

const promptSchema = z
  .object({
    system: z.string().default(DEFAULT_SYSTEM_PROMPT).describe('System prompt placed before each question.'),
    template: z
      .string()
      .default('{question}')
      .describe('User message; `{question}` is replaced by the task question, `{{`/`}}` are literal braces.'),
    answerTag: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a tag name such as answer')
      .default('answer')
      .describe('Tag holding the final answer; the last `<tag>…</tag>` of a completion is scored (Reasoning Gym convention).'),
  })
  .strict();

const gsm8kSchema = z
  .object({
    path: z
      .string()
      .nullable()
      .default(null)
      .describe('Local GSM8K data: a JSONL file, a parquet file, or a directory in the Hugging Face or OpenAI layout.'),
    split: z.enum(['train', 'test']).default('test').describe('Split to read.'),
  })
  .strict();

const dataSchema = z
  .object({
    tasks: z
      .array(taskSpecSchema)
      .min(1, 'list at least one task, e.g. `- name: chain_sum`')
      .describe('Weighted task mixture (Reasoning Gym composite semantics); each entry `{name, weight, config}`.'),
    trainSize: z.number().int().positive().default(10000).describe('Training items: composite indices 0..trainSize-1.'),
    evalSize: z
      .number()
      .int()
      .positive()
      .default(200)
      .describe('Held-out items, taken after the training indices and never sharing a question with them.'),
    prompt: promptSchema.prefault({}).describe('How questions are shown to models.'),
    gsm8k: gsm8kSchema.prefault({}).describe('GSM8K data location (no download: point at a local copy).'),
  })
  .strict();

const architectureSchema = z
  .object({
    hiddenSize: z.number().int().positive().describe('Residual stream width.'),
    numLayers: z.number().int().positive().describe('Decoder layers.'),
    numHeads: z.number().int().positive().describe('Query heads; hiddenSize must be divisible by numHeads unless headDim is set.'),
    numKvHeads: z.number().int().positive().optional().describe('Key/value heads (grouped-query attention); default numHeads. Must divide numHeads.'),
    headDim: z.number().int().positive().optional().describe('Per-head width; default hiddenSize / numHeads.'),
    intermediateSize: z.number().int().positive().optional().describe('SwiGLU MLP width; default 4 * hiddenSize.'),
    maxPositionEmbeddings: z.number().int().positive().default(512).describe('Longest sequence (prompt + completion) in tokens.'),
    tieWordEmbeddings: z.boolean().default(true).describe('Share the input embedding and the LM head.'),
    ropeTheta: z.number().positive().default(10000).describe('Rotary embedding base.'),
  })
  .strict();

const tokenizerSpecSchema = z
  .object({
    kind: z.enum(['char', 'bpe']).describe('`char`: one token per character; `bpe`: byte-level BPE trained on the task texts.'),
    vocabSize: z.number().int().min(260).max(8192).default(512).describe('BPE vocabulary size (bpe only).'),
    digits: z.enum(['groups-of-3', 'individual', 'free']).default('groups-of-3').describe('How BPE splits numbers (bpe only).'),
  })
  .strict();

const sftSchema = z
  .object({
    steps: z.number().int().positive().describe('Optimizer steps of supervised next-token training.'),
    batchSize: z.number().int().positive().default(16).describe('Sequences per step.'),
    learningRate: z.number().positive().default(3e-3).describe('Peak Adam learning rate (linear warm-up, cosine decay to 10%).'),
    warmupSteps: z.number().int().nonnegative().default(20).describe('Linear warm-up steps.'),
    promptLossWeight: z.number().min(0).max(1).default(0.1).describe('Loss weight of prompt tokens relative to answer tokens (0 = answer only).'),
    evalItemsPerTask: z.number().int().positive().default(50).describe('Held-out items per task for the accuracy printed on the model card.'),
    targets: z
      .enum(['teaching', 'reference'])
      .default('teaching')
      .describe(
        'Answers it is trained to write. `teaching`: where a task accepts many answers and stores a random one (propositional_logic), a valid answer that follows from the question by a fixed rule, learnable by a tiny model; `reference`: the stored answer everywhere (for a policy base that should learn the format, not the skill).',
      ),
  })
  .strict();

const worldModelSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lower-case letters, digits, `_` and `-` (it names models/<name>/)').describe('Model name; written to `<world.dir>/<name>/`.'),
    role: z.enum(['expert', 'policy']).describe('`expert`: frozen, read through ONNX; `policy`: the tfjs model GRPO trains (exactly one).'),
    tokenizer: tokenizerSpecSchema.describe('Tokenizer made for this model.'),
    architecture: architectureSchema.describe('Llama-family decoder shape.'),
    tasks: z
      .array(z.object({ name: z.string().min(1), weight: z.number().positive().default(1) }).strict())
      .min(1)
      .describe('Training mixture: names from data.tasks (their configs are used) with weights.'),
    train: sftSchema.describe('Supervised training.'),
  })
  .strict();

/** The training engines (src/engine/ for onnx; src/models/ tfjs for the reference). */
export const ENGINES = ['onnx', 'tfjs'] as const;
export type Engine = (typeof ENGINES)[number];
const engineSchema = z.enum(ENGINES).default('onnx');
const providersSchema = z.array(z.enum(['cuda', 'cpu'])).min(1).default(['cpu']);

const worldSchema = z
  .object({
    dir: z.string().min(1).default('models').describe('Directory of built models (`<dir>/<name>/model.onnx`, `tokenizer.json`, `weights.safetensors`, `model.json`).'),
    engine: engineSchema.describe(
      'Engine of the supervised training and the evaluation of the tiny models: `onnx` (generated forward + backward ONNX graphs on ONNX Runtime; src/engine/) or `tfjs` (TensorFlow.js, the reference implementation the onnx engine is checked against; `world.backend` picks its backend).',
    ),
    providers: providersSchema.describe('ONNX Runtime execution providers of the onnx engine, in order of preference; a missing CUDA provider warns once and falls back to cpu.'),
    backend: z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).default('auto').describe('TensorFlow.js backend for training (engine tfjs): first that loads, or the named one.'),
    models: z.array(worldModelSchema).min(1).describe('Tiny models to build: several heterogeneous experts and one policy base.'),
  })
  .strict();

// ---- training (musketeers train): policy, experts, router, GRPO, and the loop's schedule

const policySchema = z
  .object({
    model: z
      .string()
      .min(1)
      .optional()
      .describe("Policy to train: the name of a `world.models` entry with role policy (default: the world's policy model; not with `path`)."),
    path: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Policy to train from a local Hugging Face checkpoint directory instead of the world: `config.json` (LlamaForCausalLM, Qwen2ForCausalLM or MistralForCausalLM without sliding window; SmolLM is Llama), `model.safetensors` or shards with `model.safetensors.index.json` (F32, F16 or BF16), `tokenizer.json`, `tokenizer_config.json`. Relative paths are relative to the working directory. Default: none (the world\'s policy).',
      ),
    chatTemplate: z
      .string()
      .min(1)
      .default('none')
      .describe(
        "How the policy reads a prompt: `none` (the formatted question, BOS first when the tokenizer has one; the tiny world's format), `auto` (the `chat_template` of the policy's tokenizer_config.json: data.prompt.system as the system turn, the question as the user turn, then the generation prompt; for instruct checkpoints), or the path of a `.jinja` template.",
      ),
    mode: z
      .enum(['frozen', 'lora', 'full'])
      .default('lora')
      .describe('What of the policy trains beside the router: `frozen` (router only), `lora` (adapters on the policy; paper: LoRA rank 8), `full` (every weight).'),
    lora: z
      .object({
        rank: z.number().int().positive().default(8).describe('LoRA rank r (paper: 8).'),
        alpha: z.number().positive().default(16).describe('LoRA alpha; the update is scaled by alpha / r.'),
        targets: z
          .array(z.enum(LORA_TARGETS as unknown as [LoraTarget, ...LoraTarget[]]))
          .min(1)
          .default(['q_proj', 'v_proj'])
          .describe(`Projections that get adapters (PEFT's Llama default: q_proj, v_proj); any of ${LORA_TARGETS.join(', ')}.`),
      })
      .strict()
      .prefault({})
      .describe('LoRA adapter shape (mode: lora).'),
  })
  .strict();

const onnxExpertSchema = z
  .object({
    name: z.string().min(1).describe('Expert name (metrics `router/expert_mass/<name>`, `experts.models`, `ablate --drop-expert`).'),
    path: z
      .string()
      .min(1)
      .describe('The ONNX export: a `.onnx` file or a directory holding `model.onnx` (e.g. `optimum-cli export onnx` output; external data `model.onnx_data` beside it). Relative paths are relative to the working directory.'),
    tokenizer: z
      .string()
      .min(1)
      .optional()
      .describe("Directory or tokenizer.json of the expert's own tokenizer (default: the model's directory, or its parent for an `onnx/` subdirectory)."),
    chatTemplate: z
      .string()
      .min(1)
      .default('auto')
      .describe('How the expert reads a prompt: `auto` (the `chat_template` of its tokenizer_config.json, as a user turn followed by the generation prompt; the prompt as is when there is none), `none` (as is), or the path of a `.jinja` template.'),
    systemPrompt: z.string().optional().describe('System turn given to the chat template (default: none).'),
    addBos: z.boolean().default(false).describe("Prepend the tokenizer's BOS token (default false: chat templates that need BOS write it themselves)."),
  })
  .strict();

const oracleExpertSchema = z
  .object({
    name: z.string().min(1).describe('Expert name (as for any expert: `experts.models`, metrics `router/expert_mass/<name>`).'),
    encoding: z
      .enum(ORACLE_ENCODINGS)
      .default('tokens')
      .describe("What the state holds: `tokens` (easy: one row per answer token in the policy's tokenizer, a fixed random code of the token plus one of its position; read like `tokens` pooling) or `answer` (hard: one random vector per distinct answer string; read like `last` pooling)."),
    width: z.number().int().positive().default(64).describe('Width of the oracle state.'),
    noise: z.number().nonnegative().default(0).describe('Gaussian noise added to the state, std relative to its RMS value (so the noise norm is about noise x the state norm); fixed per item. 0 = none.'),
    corrupt: z.number().min(0).max(1).default(0).describe("Fraction of items whose state encodes another item's answer (same task and split); fixed per item. 0 = none."),
    seed: z.number().int().optional().describe('Seed of the codes, noise and corruption (default: the top-level seed).'),
  })
  .strict();

const expertsSchema = z
  .object({
    models: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Experts the router reads, by name: `world.models` entries with role expert and `experts.onnx` entries (default: all of them, world experts first, in config order).'),
    onnx: z
      .array(onnxExpertSchema)
      .default([])
      .describe('Real-model experts: ONNX exports (Hugging Face optimum layouts: text-generation, text-generation-with-past, feature-extraction; float32 or float16) with their own tokenizers and chat templates. Default: none.'),
    oracle: z
      .array(oracleExpertSchema)
      .default([])
      .describe(
        "DIAGNOSTIC experts that see answers: each item's state is a seeded function of its reference answer (training answers for training items, the evaluation item's own answer at evaluation), to measure whether the router can carry information to the policy at all (README: Oracle experts). `report` refuses runs that read one unless given --allow-oracle. Default: none.",
      ),
    layer: z.number().int().default(-1).describe('Hidden-state layer read from each expert: 0 = embeddings, -1 = last layer (paper: last; a shallow layer was worse).'),
    pooling: z
      .enum(POOLINGS)
      .default('last')
      .describe('How a prompt\'s states are pooled: `last` token (paper), `first`, `mean`, or `tokens` (every token; the router attends over all of them).'),
    providers: z
      .array(z.enum(['cuda', 'cpu']))
      .min(1)
      .default(['cpu'])
      .describe('ONNX Runtime execution providers in order of preference; a missing CUDA provider warns and falls back to cpu.'),
    batchSize: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe('Prompts per ONNX run when extracting hidden states. 1 (default) makes every state independent of which prompts share its batch (padded batches differ in the last bits), so runs repeat exactly whatever the cache holds; larger batches can be faster on a GPU.'),
    prompt: z
      .enum(['question', 'answer-start'])
      .default('question')
      .describe(
        'What each expert reads: the formatted `question`, or `answer-start` = the question followed by the opening answer tag (`<answer>`), so the pooled last-token state is the one the expert would answer from (the tiny world\'s counterpart of a chat template\'s generation prompt; experts with a chat template get the tag after their generation prompt).',
      ),
    generation: z
      .object({
        maxNewTokens: z
          .number()
          .int()
          .positive()
          .default(32)
          .describe("Longest text each expert writes, in the expert's own tokens (method text-concat; greedy, also stopping at the closing answer tag or EOS)."),
        batchSize: z
          .number()
          .int()
          .positive()
          .default(1)
          .describe('Prompts per ONNX run while experts write (method text-concat). 1 (default) makes every text independent of which prompts share its batch, as experts.batchSize does for states; larger batches are faster.'),
      })
      .strict()
      .prefault({})
      .describe('Greedy text generation by the experts, for method text-concat (the text-concatenation baseline).'),
    perturb: z
      .enum(['none', 'shuffle', 'zero'])
      .default('none')
      .describe('Ablations of what the router reads: `shuffle` gives each prompt the states of another prompt of its batch, `zero` gives zero states.'),
    cacheDir: z
      .string()
      .min(1)
      .nullable()
      .default('.cache/hidden-states')
      .describe('On-disk cache of hidden states (checksummed entries keyed by model, tokenizer, layer, pooling and prompt) and, under its `texts/` folder, of expert texts for method text-concat (keyed by model, tokenizer, generation settings and prompt); null disables both.'),
  })
  .strict();

const routerSchema = z
  .object({
    width: z.number().int().positive().default(512).describe('Common width D every expert state is projected to (paper: 512).'),
    numLatents: z.number().int().positive().default(8).describe('K learned latent queries = soft context tokens given to the policy (paper: 8).'),
    numHeads: z.number().int().positive().default(8).describe('Attention heads H of the cross-attention (paper: 8); must divide width.'),
    ffnMultiplier: z.number().int().positive().default(4).describe('FFN inner width as a multiple of D.'),
    selfAttentionBlocks: z.number().int().nonnegative().default(0).describe('Extra latent self-attention blocks after the cross-attention (paper: none).'),
    expertEmbeddings: z.boolean().default(true).describe("Add a learned identity embedding to each expert's projected states."),
    outputInitStd: z.number().nonnegative().default(0.001).describe('Std of the output projection at initialisation: near zero, so the context tokens start close to zero (paper).'),
    attention: z
      .enum(ROUTER_ATTENTIONS as unknown as [RouterAttention, ...RouterAttention[]])
      .default('learned')
      .describe('Cross-attention weights: `learned` (the method), `uniform` over expert positions (ablation), `top1` (hard routing: only the expert with the most learned mass; the paper\'s hard-routing baseline).'),
    trainable: z.boolean().default(true).describe('Train the router; false keeps it at initialisation while the policy trains (the freeze-router ablation; needs policy.mode lora or full).'),
    learningRate: z
      .number()
      .positive()
      .optional()
      .describe("Peak learning rate of the router's parameters, on grpo's schedule (default: grpo.learningRate for every parameter; the paper uses one rate). The policy's LoRA or weights keep grpo.learningRate."),
    warmup: z
      .object({
        steps: z.number().int().nonnegative().default(0).describe('Supervised steps before RL (0 = none, the paper).'),
        learningRate: z.number().positive().default(0.003).describe("Constant learning rate of the router's parameters in the warm-up."),
        policyLearningRate: z
          .number()
          .nonnegative()
          .default(0)
          .describe("Constant learning rate of the policy's trainable tensors (LoRA or weights) in the warm-up: 0 (default) warms the router alone and the policy does not move; above 0 the warm-up is also supervised fine-tuning of the policy, which then also applies to the baselines."),
        promptsPerStep: z.number().int().positive().optional().describe('Training prompts per warm-up step (default: train.promptsPerStep).'),
      })
      .strict()
      .prefault({})
      .describe(
        "A DEPARTURE FROM THE PAPER, off by default: a supervised warm-up of the router alone before RL. Each step minimises the frozen policy's NLL of the reference answer (`<answer>...</answer>` + EOS) given the router's context tokens, on training items only; then Adam's state is reset and, with grpo.beta > 0, the warmed-up router becomes the reference's router. With policyLearningRate 0 (default) the policy does not move and the no-experts baseline gets nothing from it; above 0 the warm-up is also supervised fine-tuning of the policy, which baselines (no-experts, freeze-router) then get as well, with the router left out.",
      ),
  })
  .strict();

const grpoSchema = z
  .object({
    groupSize: z.number().int().min(2).default(8).describe('G completions sampled per prompt (paper: 8).'),
    maxNewTokens: z.number().int().positive().default(128).describe('Longest completion in tokens (paper: 128).'),
    temperature: z.number().positive().default(1).describe('Sampling temperature of rollouts.'),
    topP: z.number().gt(0).max(1).default(1).describe('Nucleus sampling mass of rollouts.'),
    learningRate: z.number().positive().default(1e-4).describe('Peak Adam learning rate (paper: 1e-4).'),
    lrSchedule: z.enum(['constant', 'linear', 'cosine']).default('constant').describe('After warm-up: `constant`, `linear` decay to 0, or `cosine` decay to 10%.'),
    warmupSteps: z.number().int().nonnegative().default(0).describe('Linear learning-rate warm-up steps.'),
    adamBeta1: z.number().min(0).lt(1).default(0.9).describe('Adam beta1.'),
    adamBeta2: z.number().min(0).lt(1).default(0.999).describe('Adam beta2.'),
    weightDecay: z.number().nonnegative().default(0).describe('Decoupled weight decay (AdamW).'),
    maxGradNorm: z.number().nonnegative().default(1).describe('Clip the global gradient norm to this (0 = no clipping).'),
    beta: z.number().nonnegative().default(0.04).describe('KL coefficient to the reference policy, k3 estimator (paper: 0.04; 0 skips the reference forward).'),
    epsilonLow: z.number().positive().lt(1).default(0.2).describe('Lower clip of the importance ratio: ratio >= 1 - epsilonLow.'),
    epsilonHigh: z.number().positive().default(0.2).describe('Upper clip of the importance ratio: ratio <= 1 + epsilonHigh (DAPO uses 0.28).'),
    iterations: z.number().int().positive().default(1).describe('mu: optimizer steps on each batch of rollouts (ratio = 1 on the first).'),
    scaleRewards: z.enum(['group', 'batch', 'none']).default('group').describe('Advantage scaling: divide by the group std (GRPO), the batch std, or not at all (Dr. GRPO).'),
    lossAggregation: z
      .enum(['token-mean', 'seq-mean-token-mean', 'dr-grpo'])
      .default('token-mean')
      .describe('Loss over tokens: `token-mean` (DAPO; TRL default), `seq-mean-token-mean` (original GRPO), `dr-grpo` (sum / (rows * maxNewTokens)).'),
    formatRewardWeight: z.number().min(0).default(0).describe('Weight of the format reward (1 when the completion holds an answer tag) added to the task score.'),
    stopAtAnswer: z
      .boolean()
      .default(true)
      .describe('End a completion (rollouts and evaluation) once it closes the answer tag, e.g. `</answer>`: the verifier reads the answer there, and nothing after it is trained on.'),
  })
  .strict();

const trainSchema = z
  .object({
    seed: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Seed of the training run (router and LoRA initialisation, prompt order, sampling); default the top-level seed. Varying it repeats a run on the same world and data (the world and the splits follow the top-level seed).'),
    steps: z.number().int().positive().default(500).describe('GRPO steps (paper: 500 on Reasoning Gym, 233 on GSM8K).'),
    promptsPerStep: z.number().int().positive().default(4).describe('Prompts per step; rollouts per step = promptsPerStep * groupSize (paper: effective batch 32).'),
    engine: engineSchema.describe(
      'Engine of the policy and router (rollouts, log-probs, GRPO updates, evaluation): `onnx` (generated forward + loss + backward ONNX graphs on ONNX Runtime; src/engine/) or `tfjs` (TensorFlow.js, the reference implementation the onnx engine is checked against; `train.backend` picks its backend).',
    ),
    providers: providersSchema.describe('ONNX Runtime execution providers of the onnx engine, in order of preference; a missing CUDA provider warns once and falls back to cpu.'),
    backend: z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).default('auto').describe('TensorFlow.js backend of the policy and router (engine tfjs): first that loads, or the named one.'),
    evalEvery: z.number().int().nonnegative().default(50).describe('Held-out evaluation every N steps (0 = only before and after training).'),
    evalItemsPerTask: z.number().int().positive().default(50).describe('Held-out items per task in each evaluation (greedy decoding).'),
    checkpointEvery: z.number().int().positive().default(25).describe('Checkpoint every N steps (and at the end, and on SIGINT).'),
    keepCheckpoints: z.number().int().positive().default(2).describe('Checkpoints kept on disk (older ones are deleted).'),
    sampleEvery: z.number().int().nonnegative().default(10).describe('Log sample completions to samples.jsonl every N steps (0 = never).'),
    samplesPerLog: z.number().int().positive().default(4).describe('Completions written to samples.jsonl each time.'),
    maxBadSteps: z.number().int().positive().default(3).describe('Consecutive steps with a non-finite loss or gradient (skipped) before the run stops.'),
    logEvery: z.number().int().positive().default(10).describe('Log a progress line every N steps when no progress bar is shown.'),
  })
  .strict();

export const configSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, `.`, `_` and `-` (it names the run directory)')
      .default('run')
      .describe('Run name; the run directory is `<outputDir>/<name>`.'),
    seed: z.number().int().nonnegative().default(1234).describe('Master seed for data, initialisation and sampling.'),
    outputDir: z.string().min(1).default('runs').describe('Parent directory of run directories.'),
    data: dataSchema.describe('Tasks, splits, prompts.'),
    world: worldSchema.optional().describe('The tiny world: heterogeneous experts and a policy base built from the task generators (`musketeers experts build`).'),
    method: z
      .enum(['musketeers', 'no-experts', 'text-concat'])
      .default('musketeers')
      .describe(
        '`musketeers`: experts -> router -> soft context tokens -> policy; `no-experts`: the single-model RLVR baseline (same policy, loop and budget, no router); `text-concat`: each expert writes a greedy answer (experts.generation) and the policy reads them as text lines before the question (no router, no soft prefix; same loop and budget).',
      ),
    policy: policySchema.prefault({}).describe('The policy GRPO trains (`musketeers train`).'),
    experts: expertsSchema.prefault({}).describe('Frozen experts whose hidden states the router reads.'),
    router: routerSchema.prefault({}).describe('The Perceiver-style attention interface.'),
    grpo: grpoSchema.prefault({}).describe('GRPO hyper-parameters (TRL GRPOConfig names where they exist).'),
    train: trainSchema.prefault({}).describe('The training loop: length, batch, evaluation, checkpoints, logging.'),
  })
  .strict();

export type MusketeersConfig = z.output<typeof configSchema>;
export type TaskSpecConfig = z.output<typeof taskSpecSchema>;

// ---------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `configs/quickstart.yaml`, the embedded default config. */
export const DEFAULT_CONFIG_PATH = join(PACKAGE_ROOT, 'configs', 'quickstart.yaml');

export interface Override {
  path: (string | number)[];
  value: unknown;
  text: string;
}

/** Parse `a.b.c=value`; the value is read as YAML (`3` -> number, `true` -> boolean, `[1,2]` -> list). */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new ConfigError(undefined, [
      { path: '', source: `--set ${text}`, message: 'an override must look like key.path=value, e.g. --set data.trainSize=500' },
    ]);
  }
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  const path = key.split('.').map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
  if (path.some((seg) => seg === '')) {
    throw new ConfigError(undefined, [{ path: key, source: `--set ${text}`, message: 'empty key segment; write keys as a.b.c' }]);
  }
  let value: unknown;
  const doc = parseDocument(raw);
  if (doc.errors.length > 0) value = raw;
  else value = raw.trim() === '' ? '' : doc.toJS();
  return { path, value, text };
}

function setAtPath(root: Record<string, unknown>, override: Override): ConfigIssue | undefined {
  let node: unknown = root;
  const { path } = override;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    const container = node as Record<string | number, unknown>;
    let next = container[seg];
    if (next === undefined || next === null) {
      next = typeof path[i + 1] === 'number' ? [] : {};
      container[seg] = next;
    }
    if (typeof next !== 'object') {
      return {
        path: path.slice(0, i + 1).join('.'),
        source: `--set ${override.text}`,
        message: `cannot set a key inside a ${typeof next}; override the whole value instead`,
      };
    }
    node = next;
  }
  (node as Record<string | number, unknown>)[path[path.length - 1]] = override.value;
  return undefined;
}

interface SourceMap {
  file?: string;
  doc?: Document;
  lines?: LineCounter;
  overrides: Override[];
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[seg];
  }
  return node;
}

/** Where a key path came from: the --set that wrote it, or file:line:column of the YAML node. */
function locate(map: SourceMap, path: readonly PropertyKey[], keyOnly = false): string | undefined {
  const key = path.map(String).join('.');
  // An override that set this key or one of its ancestors is the source.
  for (let i = map.overrides.length - 1; i >= 0; i--) {
    const o = map.overrides[i];
    const okey = o.path.join('.');
    if (key === okey || key.startsWith(`${okey}.`)) return `--set ${o.text}`;
  }
  // Overrides inside this key changed it too: name them after the file location.
  const inside = map.overrides.filter((o) => o.path.join('.').startsWith(`${key}.`)).map((o) => `--set ${o.text}`);
  const fileLocation = locateInFile(map, path, keyOnly);
  if (inside.length === 0) return fileLocation;
  return `${fileLocation ?? '<config>'}, changed by ${inside.join(', ')}`;
}

function locateInFile(map: SourceMap, path: readonly PropertyKey[], keyOnly: boolean): string | undefined {
  if (!map.doc || !map.lines) return map.file;
  // Deepest existing node along the path.
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth) as (string | number)[];
    let offset: number | undefined;
    if (keyOnly && depth === path.length && depth > 0) {
      const parent = depth === 1 ? map.doc.contents : map.doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub[sub.length - 1]);
        if (pair && isScalar(pair.key)) offset = pair.key.range?.[0];
      }
    }
    if (offset === undefined) {
      const node = depth === 0 ? map.doc.contents : map.doc.getIn(sub, true);
      offset = (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
    }
    if (offset !== undefined) {
      const pos = map.lines.linePos(offset);
      return `${map.file ?? '<config>'}:${pos.line}:${pos.col}${depth < path.length ? ' (key missing here)' : ''}`;
    }
  }
  return map.file;
}

/** The schema found by walking `path` (through objects, arrays, defaults and optionals). */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let cur = s;
    for (;;) {
      if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodPrefault) {
        cur = (cur as unknown as { unwrap(): z.ZodType }).unwrap();
      } else if (cur instanceof z.ZodPipe) {
        cur = (cur as unknown as { in: z.ZodType }).in;
      } else return cur;
    }
  };
  for (const seg of path) {
    if (!current) return undefined;
    const s = unwrap(current);
    if (s instanceof z.ZodObject) current = (s.shape as Record<string, z.ZodType>)[String(seg)];
    else if (s instanceof z.ZodArray) current = s.element as z.ZodType;
    else return undefined;
  }
  return current ? unwrap(current) : undefined;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** Turn zod issues into ConfigIssues with key paths, sources, values and fixes. */
function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  raw: unknown,
  map: SourceMap,
  prefix: readonly PropertyKey[] = [],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const here = schemaAt(schema, issue.path);
      const allowed = here instanceof z.ZodObject ? Object.keys(here.shape) : [];
      for (const key of issue.keys) {
        const guess = closest(key, allowed);
        const fix = guess ? `did you mean '${guess}'? ` : '';
        out.push({
          path: [...path, key].join('.'),
          source: locate(map, [...path, key], true),
          message: `unknown key '${key}'; ${fix}allowed keys here: ${allowed.join(', ') || '(none)'}`,
        });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_value' && 'values' in issue) {
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (issue.code === 'invalid_type') {
      const got = valueAt(raw, path);
      message = got === undefined ? `required ${issue.expected} is missing; add it` : `expected ${issue.expected}`;
    }
    const value = valueAt(raw, path);
    out.push({ path: path.map(String).join('.'), source: locate(map, path), message, value: value === undefined ? undefined : formatValue(value) });
  }
  return out;
}

/** The world's models: unique names, one policy, mixtures drawn from data.tasks, valid architectures. */
function worldIssues(config: MusketeersConfig, map: SourceMap): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const world = config.world!;
  const at = (path: (string | number)[], message: string, value?: unknown): ConfigIssue => ({
    path: path.join('.'),
    source: locate(map, path),
    message,
    value: value === undefined ? undefined : formatValue(value),
  });
  const known = new Set(config.data.tasks.map((t) => t.name));
  const names = new Map<string, number>();
  world.models.forEach((m, i) => {
    if (names.has(m.name)) issues.push(at(['world', 'models', i, 'name'], `model name '${m.name}' is used twice (also world.models.${names.get(m.name)}); rename one`, m.name));
    names.set(m.name, i);
    m.tasks.forEach((t, k) => {
      if (!known.has(t.name)) {
        issues.push(at(['world', 'models', i, 'tasks', k, 'name'], `task '${t.name}' is not in data.tasks (${[...known].join(', ')}); add it there (its config is taken from there) or remove it here`, t.name));
      }
    });
    const a = m.architecture;
    try {
      decoderConfig({ vocabSize: 256, ...a });
    } catch (error) {
      issues.push(at(['world', 'models', i, 'architecture'], (error as Error).message.replace('invalid decoder config: ', '')));
    }
  });
  const policies = world.models.filter((m) => m.role === 'policy').length;
  if (policies !== 1) issues.push(at(['world', 'models'], `the world needs exactly one model with role: policy (found ${policies})`));
  if (world.models.length - policies < 1) issues.push(at(['world', 'models'], 'the world needs at least one model with role: expert'));
  return issues;
}

/** Every expert a config can read, by name: the world's experts, then the `experts.onnx` entries, then the oracles. */
export function availableExpertNames(config: MusketeersConfig): string[] {
  return [...(config.world?.models ?? []).filter((m) => m.role === 'expert').map((m) => m.name), ...config.experts.onnx.map((e) => e.name), ...config.experts.oracle.map((e) => e.name)];
}

/** The oracle experts (diagnostics that see answers) the router reads. */
export function selectedOracleNames(config: MusketeersConfig): string[] {
  const oracles = new Set(config.experts.oracle.map((o) => o.name));
  return config.method === 'musketeers' ? selectedExpertNames(config).filter((n) => oracles.has(n)) : [];
}

/** The experts the router reads: `experts.models`, or every available expert. */
export function selectedExpertNames(config: MusketeersConfig): string[] {
  return config.experts.models ?? availableExpertNames(config);
}

/** The training sections against each other and the world: known model names, router shape. */
function trainIssues(config: MusketeersConfig, map: SourceMap): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (path: (string | number)[], message: string, value?: unknown): ConfigIssue => ({
    path: path.join('.'),
    source: locate(map, path),
    message,
    value: value === undefined ? undefined : formatValue(value),
  });
  if (config.router.width % config.router.numHeads !== 0) {
    issues.push(at(['router', 'numHeads'], `router.width (${config.router.width}) must be divisible by router.numHeads (${config.router.numHeads}); pick a divisor`, config.router.numHeads));
  }
  if (config.method === 'musketeers' && !config.router.trainable && config.policy.mode === 'frozen') {
    issues.push(at(['router', 'trainable'], 'nothing would train: the router is frozen and policy.mode is frozen; set policy.mode to lora or full', false));
  }
  const warm = config.router.warmup;
  const warmsRouter = config.method === 'musketeers' && config.router.trainable;
  const warmsPolicy = warm.policyLearningRate > 0 && config.policy.mode !== 'frozen';
  if (warm.steps > 0 && !warmsRouter && !warmsPolicy) {
    const why = config.method !== 'musketeers' ? `method ${config.method} has no router` : 'router.trainable is false';
    issues.push(at(['router', 'warmup', 'steps'], `the warm-up would train nothing: ${why} and router.warmup.policyLearningRate is 0 (or policy.mode frozen); set router.warmup.steps to 0 or give the policy a warm-up rate`, warm.steps));
  }
  if (config.method === 'musketeers' && config.experts.perturb === 'shuffle' && config.train.promptsPerStep < 2) {
    issues.push(at(['experts', 'perturb'], 'shuffle swaps states between the prompts of a step; set train.promptsPerStep to 2 or more', 'shuffle'));
  }
  if (config.method === 'text-concat') issues.push(...textConcatIssues(config, at));
  if (config.policy.model !== undefined && config.policy.path !== undefined) {
    issues.push(at(['policy', 'path'], 'give either policy.model (a world model) or policy.path (a Hugging Face checkpoint directory), not both', config.policy.path));
  }
  const world = config.world;
  const role = new Map((world?.models ?? []).map((m) => [m.name, m.role]));
  const policies = (world?.models ?? []).filter((m) => m.role === 'policy').map((m) => m.name);
  if (world && config.policy.model !== undefined && role.get(config.policy.model) !== 'policy') {
    const what = role.has(config.policy.model) ? `'${config.policy.model}' is an expert` : `no world model is named '${config.policy.model}'`;
    issues.push(at(['policy', 'model'], `${what}; the world's policy is ${policies.join(', ') || '(none)'}`, config.policy.model));
  }
  config.experts.onnx.forEach((e, i) => {
    if (role.has(e.name)) issues.push(at(['experts', 'onnx', i, 'name'], `'${e.name}' is also a world model; give the ONNX expert another name`, e.name));
    const k = config.experts.onnx.findIndex((x) => x.name === e.name);
    if (k !== i) issues.push(at(['experts', 'onnx', i, 'name'], `expert name '${e.name}' is used twice (also experts.onnx.${k}); rename one`, e.name));
  });
  const taken = new Map<string, string>([...role.keys()].map((n) => [n, 'a world model']));
  config.experts.onnx.forEach((e, i) => taken.set(e.name, `experts.onnx.${i}`));
  config.experts.oracle.forEach((e, i) => {
    if (taken.has(e.name)) issues.push(at(['experts', 'oracle', i, 'name'], `expert name '${e.name}' is already used (${taken.get(e.name)}); give the oracle another name`, e.name));
    taken.set(e.name, `experts.oracle.${i}`);
  });
  const available = availableExpertNames(config);
  const seen = new Set<string>();
  (config.experts.models ?? []).forEach((name, i) => {
    if (seen.has(name)) issues.push(at(['experts', 'models', i], `expert '${name}' is listed twice; remove one`, name));
    seen.add(name);
    if (!available.includes(name)) {
      const what = role.get(name) === 'policy' ? `'${name}' is the policy, not an expert` : `no world expert, experts.onnx or experts.oracle entry is named '${name}'`;
      issues.push(at(['experts', 'models', i], `${what}; the experts are ${available.join(', ') || '(none)'}`, name));
    }
  });
  if (config.method === 'musketeers' && config.experts.models === undefined && available.length === 0 && (world || config.policy.path !== undefined)) {
    issues.push(at(['experts'], 'method musketeers needs experts: add experts.onnx entries or world models with role: expert (or use method: no-experts)'));
  }
  return issues;
}

/**
 * method text-concat reads expert texts, not hidden states: settings that only change the router or the
 * states it reads do not apply (an ablation of the method, not of this baseline), and only the policy trains.
 */
function textConcatIssues(config: MusketeersConfig, at: (path: (string | number)[], message: string, value?: unknown) => ConfigIssue): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const why = "method text-concat has no router (the policy reads the experts' answers as text)";
  if (config.policy.mode === 'frozen') issues.push(at(['policy', 'mode'], `nothing would train: ${why} and policy.mode is frozen; set policy.mode to lora or full`, 'frozen'));
  if (config.router.attention !== 'learned') issues.push(at(['router', 'attention'], `router.attention ablates the router, but ${why}; remove the setting or use method musketeers`, config.router.attention));
  if (!config.router.trainable) issues.push(at(['router', 'trainable'], `router.trainable ablates the router, but ${why}; remove the setting or use method musketeers`, false));
  if (config.experts.perturb !== 'none') issues.push(at(['experts', 'perturb'], `experts.perturb ablates the hidden states the router reads, but ${why}; remove the setting or use method musketeers`, config.experts.perturb));
  // Text generation runs the project's own exports (input_ids, attention_mask -> logits, no past inputs
  // or chat templates); optimum exports read through experts.onnx are not supported for it yet.
  const oracles = selectedExpertNames(config).filter((n) => config.experts.oracle.some((o) => o.name === n));
  if (oracles.length > 0) {
    issues.push(at(['experts', 'models'], `oracle experts (${oracles.join(', ')}) hold a vector, not text, so method text-concat cannot read them; select model experts in experts.models or use method musketeers`, oracles));
  }
  const real = new Set(config.experts.onnx.map((e) => e.name));
  const realSelected = selectedExpertNames(config).filter((name) => real.has(name));
  if (realSelected.length > 0) {
    issues.push(
      at(
        ['experts', 'models'],
        `method text-concat generates text with the tiny world's experts only; ${realSelected.join(', ')} ${realSelected.length === 1 ? 'is a real-model expert' : 'are real-model experts'} (experts.onnx), which can be read as hidden states (method musketeers) but not asked to write; select world experts in experts.models or use method musketeers`,
        realSelected,
      ),
    );
  }
  return issues;
}

/** Checks that need more than one field, or another module (the task registry). */
function semanticIssues(config: MusketeersConfig, raw: unknown, map: SourceMap, registry: TaskRegistry): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  config.data.tasks.forEach((spec, i) => {
    const namePath = ['data', 'tasks', i, 'name'];
    if (seen.has(spec.name)) {
      issues.push({
        path: namePath.join('.'),
        source: locate(map, namePath),
        value: formatValue(spec.name),
        message: `task '${spec.name}' is listed twice (also at data.tasks.${seen.get(spec.name)}); merge the two entries`,
      });
      return;
    }
    seen.set(spec.name, i);
    let task;
    try {
      task = registry.get(spec.name);
    } catch (error) {
      if (!(error instanceof UnknownTaskError)) throw error;
      issues.push({ path: namePath.join('.'), source: locate(map, namePath), value: formatValue(spec.name), message: error.message });
      return;
    }
    const result = task.configSchema.safeParse({ ...spec.config, seed: spec.config.seed ?? 0, size: spec.config.size ?? 1 });
    if (!result.success) {
      issues.push(...describeIssues(result.error.issues, task.configSchema as z.ZodType, raw, map, ['data', 'tasks', i, 'config']));
    }
  });
  if (config.world) issues.push(...worldIssues(config, map));
  issues.push(...trainIssues(config, map));
  const templatePath = ['data', 'prompt', 'template'];
  try {
    renderPrompt(config.data.prompt.template, 'Q');
    if (!config.data.prompt.template.includes('{question}')) {
      issues.push({
        path: templatePath.join('.'),
        source: locate(map, templatePath),
        value: formatValue(config.data.prompt.template),
        message: 'the template never shows the question; include {question}',
      });
    }
  } catch (error) {
    issues.push({ path: templatePath.join('.'), source: locate(map, templatePath), message: (error as Error).message });
  }
  return issues;
}

export interface LoadedConfig {
  config: MusketeersConfig;
  /** The file it came from (undefined for an in-memory config). */
  file?: string;
}

/** Validate a plain object (already merged with overrides). Throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, map: SourceMap = { overrides: [] }, registry: TaskRegistry = taskRegistry): MusketeersConfig {
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(map.file, describeIssues(parsed.error.issues, configSchema, raw, map));
  const issues = semanticIssues(parsed.data, raw, map, registry);
  if (issues.length > 0) throw new ConfigError(map.file, issues);
  return resolveTaskConfigs(parsed.data, registry);
}

/**
 * Fill every task config with its defaults so the resolved config names every parameter: the seed
 * defaults to seed + k + 1 for the k-th task and the size to trainSize (Reasoning Gym composite rules).
 */
function resolveTaskConfigs(config: MusketeersConfig, registry: TaskRegistry): MusketeersConfig {
  const specs = resolveCompositeSpecs(registry, config.data.tasks, config.seed, config.data.trainSize);
  return { ...config, data: { ...config.data, tasks: specs.map((s) => ({ name: s.name, weight: s.weight, config: s.config })) } };
}

/** Read, parse, override and validate a YAML config. Nothing is written anywhere. */
export function loadConfig(file: string, overrides: string[] = [], registry: TaskRegistry = taskRegistry): LoadedConfig {
  if (!existsSync(file)) {
    throw new ConfigError(file, [{ path: '', message: `config file not found: ${resolve(file)}; check the path (the bundled configs live in configs/)` }]);
  }
  const text = readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: '',
        source: e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file,
        message: `YAML syntax error: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  let raw = doc.toJS() as unknown;
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', source: file, message: 'the config must be a YAML mapping (key: value lines) at the top level' }]);
  }
  const parsedOverrides = overrides.map(parseOverride);
  const setIssues: ConfigIssue[] = [];
  for (const o of parsedOverrides) {
    const issue = setAtPath(raw as Record<string, unknown>, o);
    if (issue) setIssues.push(issue);
  }
  if (setIssues.length > 0) throw new ConfigError(file, setIssues);
  const config = validateConfig(raw, { file, doc, lines, overrides: parsedOverrides }, registry);
  return { config, file };
}

/** The resolved config as YAML, with a header naming where it came from. */
export function configToYaml(config: MusketeersConfig, header?: string): string {
  const body = stringify(config, { lineWidth: 0 });
  return header ? `${header.split('\n').map((l) => `# ${l}`).join('\n')}\n${body}` : body;
}
