// `musketeers eval`: the policy (at a checkpoint, or as it starts: base weights and the router at
// initialisation, with no experts at all, or reading the experts' texts) on held-out items of registered tasks or GSM8K. n samples
// per item (or greedy), accuracy with a 95% interval, mean score, unbiased pass@k, GSM8K strict and
// flexible accuracy, and the router's attention mass per expert — per task and overall.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { extractAnswer } from '../../tasks/common/extract.js';
import { scoreGsm8kCompletion, type Gsm8kMode } from '../../tasks/gsm8k/index.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { TaskEntry } from '../../tasks/types.js';
import type { MusketeersConfig } from '../config.js';
import { DataError } from '../errors.js';
import { selectBackend, type BackendRequest } from '../models/backend.js';
import { latestCheckpoint, loadCheckpoint, CheckpointError, type TrainCheckpoint } from '../rl/checkpoint.js';
import { Conditioner, disposeConditioning } from '../rl/conditioning.js';
import { ExpertPool } from '../rl/expert-pool.js';
import { ExpertTextPool } from '../rl/expert-texts.js';
import { sampleCompletions } from '../rl/rollout.js';
import { runPaths, stepName } from '../rl/run-dir.js';
import { tfGenerator, tfRouterRuntime } from '../rl/engine-tfjs.js';
import { applyCheckpointWeights, buildPolicy, encodePolicyPrompts, expertSpecs, expertTextOptions, loadPolicyFiles, loadPolicyTokenizer, policyChat, routerConfig } from '../rl/setup.js';
import { PerceiverRouter } from '../router/perceiver.js';
import type { PromptFormat } from '../world/format.js';
import { mean, passAtK, tConfidenceInterval, wilsonInterval } from './stats.js';

export interface ResolvedCheckpoint {
  runDir: string;
  dir: string;
  step: number;
  checkpoint: TrainCheckpoint;
}

/** A run directory (its newest valid checkpoint) or one `checkpoints/step_NNNNNN` directory. */
export function resolveCheckpoint(path: string, warn: (m: string) => void = () => {}): ResolvedCheckpoint {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new DataError(`--checkpoint ${path}: no such directory`);
  if (existsSync(join(abs, 'state.json'))) {
    try {
      const checkpoint = loadCheckpoint(abs);
      return { runDir: dirname(dirname(abs)), dir: abs, step: checkpoint.step, checkpoint };
    } catch (error) {
      if (error instanceof CheckpointError) throw new DataError(`--checkpoint ${path}: ${error.message}`);
      throw error;
    }
  }
  const paths = runPaths(abs);
  if (!existsSync(paths.config)) throw new DataError(`--checkpoint ${path}: neither a run directory (no config.yaml) nor a checkpoint directory (no state.json)`);
  const latest = latestCheckpoint(paths.checkpoints, warn);
  if (!latest) throw new DataError(`--checkpoint ${path}: the run has no valid checkpoint in ${paths.checkpoints}; train it (\`musketeers train --resume ${path}\`) or evaluate without --checkpoint`);
  return { runDir: abs, dir: latest.dir, step: latest.checkpoint.step, checkpoint: latest.checkpoint };
}

export interface EvalSpec {
  config: MusketeersConfig;
  /** Items per task (`gsm8k` for GSM8K entries). */
  items: Map<string, TaskEntry[]>;
  checkpoint?: ResolvedCheckpoint;
  /** Samples per item; 1 with greedy. */
  samples: number;
  greedy: boolean;
  gsm8kMode: Gsm8kMode;
  registry: TaskRegistry;
  warn?: (m: string) => void;
}

export interface TaskEvalResult {
  task: string;
  items: number;
  samples: number;
  /** Fraction of samples scoring 1 (GSM8K: by the chosen mode). */
  accuracy: number;
  /** 95% interval: Wilson over items (one sample each) or Student-t over per-item accuracies. */
  ci95: [number, number];
  meanScore: number;
  /** pass@k (Chen et al. 2021, unbiased) for k = 1, 2, 4, ... <= samples. */
  passAtK: Record<string, number>;
  formatRate: number;
  gsm8k?: { strict: number; flexible: number };
  expertMass?: Record<string, number>;
  routerEntropy?: number;
}

export interface EvalResult {
  policy: string;
  method: string;
  checkpoint?: { dir: string; step: number };
  samples: number;
  greedy: boolean;
  temperature: number;
  tasks: TaskEvalResult[];
  /** Mean over tasks of the per-task accuracy. */
  accuracy: number;
  expertMass?: Record<string, number>;
  seconds: number;
}

/** Evaluate; models are built, used and disposed inside. */
export async function evaluatePolicy(spec: EvalSpec): Promise<EvalResult> {
  const started = performance.now();
  const { config } = spec;
  if (spec.checkpoint && config.method !== 'musketeers' && spec.checkpoint.checkpoint.router.size > 0) {
    throw new DataError(`--checkpoint ${spec.checkpoint.dir} holds a router but the config's method is ${config.method}`);
  }
  await selectBackend(config.train.backend as BackendRequest);
  const format: PromptFormat = { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
  const files = loadPolicyFiles(config);
  const chat = policyChat(config, files);
  const tokenizer = loadPolicyTokenizer(files);
  const policy = buildPolicy(config, files, 'eval-policy');
  files.weights.clear(); // the decoder holds its own copy
  let pool: ExpertPool | undefined;
  let texts: ExpertTextPool | undefined;
  let router: PerceiverRouter | undefined;
  try {
    if (config.method === 'musketeers') {
      pool = await ExpertPool.open(expertSpecs(config), { ...config.experts, warn: spec.warn });
      router = new PerceiverRouter(routerConfig(config, pool.names, pool.widths, files.architecture.hiddenSize));
    }
    if (config.method === 'text-concat') texts = await ExpertTextPool.open(expertSpecs(config), expertTextOptions(config, spec.warn));
    if (spec.checkpoint) applyCheckpointWeights(config, spec.checkpoint.checkpoint, policy.decoder, router);
    const conditioner = new Conditioner(format, pool, router ? tfRouterRuntime(router) : undefined, config.experts.perturb, config.experts.prompt, texts);
    const n = spec.greedy ? 1 : spec.samples;
    const temperature = spec.greedy ? 0 : config.grpo.temperature;
    const stopStrings = config.grpo.stopAtAnswer ? [`</${format.answerTag}>`] : [];
    const results: TaskEvalResult[] = [];
    const overallMass: number[][] = [];
    for (const [task, entries] of spec.items) {
      if (entries.length === 0) continue;
      const perItem: number[] = []; // correct samples per item
      const scores: number[] = [];
      const strict: number[] = [];
      const flexible: number[] = [];
      let formatted = 0;
      const mass: number[][] = [];
      const entropy: number[] = [];
      const batchSize = Math.max(1, Math.floor(32 / n));
      for (let start = 0; start < entries.length; start += batchSize) {
        const batch = entries.slice(start, start + batchSize);
        const conditioning = await conditioner.condition(batch);
        try {
          for (const r of conditioning.routing) {
            mass.push(r.mass);
            entropy.push(r.entropy);
          }
          const promptIds = encodePolicyPrompts(tokenizer, conditioning.promptTexts, {
            maxPositions: files.architecture.maxPositionEmbeddings,
            prefixTokens: conditioning.prefix?.shape[1] ?? 0,
            maxNewTokens: config.grpo.maxNewTokens,
            textConcat: texts !== undefined,
            chat,
          });
          const completions = await sampleCompletions(tfGenerator(policy.decoder), tokenizer, promptIds, conditioning.prefix, {
            groupSize: n,
            maxNewTokens: config.grpo.maxNewTokens,
            temperature,
            topP: config.grpo.topP,
            seed: config.seed * 7_777 + start,
            stopStrings: task === 'gsm8k' ? [] : stopStrings,
          });
          const correct = new Array<number>(batch.length).fill(0);
          for (const c of completions) {
            const entry = batch[c.promptIndex];
            let score: number;
            if (task === 'gsm8k') {
              const s = scoreGsm8kCompletion(c.text, entry, spec.gsm8kMode);
              strict.push(s.strict);
              flexible.push(s.flexible);
              score = s.score;
              if (extractAnswer(c.text, format.answerTag) !== null) formatted++;
            } else {
              const answer = extractAnswer(c.text, format.answerTag);
              if (answer !== null) formatted++;
              score = spec.registry.get(task).score(answer, entry);
            }
            scores.push(score);
            if (score === 1) correct[c.promptIndex]++;
          }
          perItem.push(...correct);
        } finally {
          disposeConditioning(conditioning);
        }
      }
      const successes = perItem.reduce((a, b) => a + b, 0);
      const accuracy = successes / (entries.length * n);
      const ci = n === 1 ? wilsonInterval(successes, entries.length) : tConfidenceInterval(perItem.map((c) => c / n));
      const pass: Record<string, number> = {};
      for (let k = 1; k <= n; k *= 2) pass[`pass@${k}`] = mean(perItem.map((c) => passAtK(n, c, k)));
      const experts = conditioner.experts;
      overallMass.push(...mass);
      results.push({
        task,
        items: entries.length,
        samples: n,
        accuracy,
        ci95: [ci.lower, ci.upper],
        meanScore: mean(scores),
        passAtK: pass,
        formatRate: formatted / scores.length,
        ...(task === 'gsm8k' ? { gsm8k: { strict: mean(strict), flexible: mean(flexible) } } : {}),
        ...(experts.length > 0 ? { expertMass: Object.fromEntries(experts.map((e, i) => [e, mean(mass.map((m) => m[i]))])), routerEntropy: mean(entropy) } : {}),
      });
    }
    const experts = conditioner.experts;
    return {
      policy: files.name,
      method: config.method,
      checkpoint: spec.checkpoint ? { dir: spec.checkpoint.dir, step: spec.checkpoint.step } : undefined,
      samples: n,
      greedy: spec.greedy,
      temperature,
      tasks: results,
      accuracy: results.length === 0 ? 0 : mean(results.map((r) => r.accuracy)),
      ...(experts.length > 0 && overallMass.length > 0 ? { expertMass: Object.fromEntries(experts.map((e, i) => [e, mean(overallMass.map((m) => m[i]))])) } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    router?.dispose();
    policy.decoder.dispose();
    await pool?.dispose();
    await texts?.dispose();
  }
}

/** File name of an evaluation report: `<what>-<step_NNNNNN|start>[-greedy|-nN].json`. */
export function evalFileName(what: string, checkpoint: ResolvedCheckpoint | undefined, greedy: boolean, samples: number): string {
  return `${what.replace(/[^A-Za-z0-9._-]+/g, '_')}-${checkpoint ? stepName(checkpoint.step) : 'start'}-${greedy ? 'greedy' : `n${samples}`}.json`;
}
