// The n-Musketeers training loop (`musketeers train`), top to bottom: each step reads P training prompts,
// lets the frozen experts read them (ONNX, cached), routes their pooled states through the Perceiver
// router into K soft context tokens, samples G completions per prompt from the policy conditioned on
// them, scores them with the task verifiers, turns rewards into group-relative advantages, and takes
// GRPO optimizer steps on the router (and the policy's LoRA adapters or weights). Every step writes a
// line to metrics.jsonl; evaluation, sample logs and atomic checkpoints come at their intervals. The
// baselines run the same loop: `no-experts` without experts, `text-concat` with the experts' greedy answers
// written as text before each question instead of the router's context tokens.
//
// Determinism: step s reads training positions (s-1)*P .. s*P-1 of a per-epoch shuffle seeded by
// (seed, epoch), and samples with seed f(seed, s). A checkpoint therefore needs only weights, Adam
// moments and the loop counters; a resumed run repeats the uninterrupted run's numbers exactly.

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

import { taskRegistry } from '../../tasks/index.js';
import type { CompositeDataset } from '../../tasks/composite.js';
import { PyRandom } from '../../tasks/common/rng.js';
import type { TaskRegistry } from '../../tasks/registry.js';
import type { TaskEntry } from '../../tasks/types.js';
import { selectedOracleNames, type MusketeersConfig } from '../config.js';
import { DataError, MusketeersError } from '../errors.js';
import { sha256 } from '../experts/cache.js';
import { selectBackend, type BackendRequest } from '../models/backend.js';
import type { NamedTensor } from '../models/decoder-config.js';
import { warmupCosine } from '../models/optim.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { buildWorld, type BuildEvents } from '../world/build.js';
import { splitData } from '../world/data.js';
import { formatPrompt, type PromptFormat } from '../world/format.js';
import { latestCheckpoint, saveCheckpoint, type LoopState } from './checkpoint.js';
import { Conditioner, disposeConditioning } from './conditioning.js';
import { evaluateHeldOut, type EvalReport } from './evaluate.js';
import { ExpertPool } from './expert-pool.js';
import { ExpertTextPool } from './expert-texts.js';
import { groupAdvantages, type GrpoHyper } from './grpo.js';
import { rolloutMetrics, routingMetrics } from './metrics.js';
import { sampleCompletions, scoreCompletions, type Rollout } from './rollout.js';
import { appendJsonl, assertNoRun, createRunDir, evalStepsAfter, readJsonl, runPaths, stepName, truncateJsonl, type RunPaths } from './run-dir.js';
import { encodePolicyPrompts, expertSpecs, expertTextOptions, loadPolicyFiles, loadPolicyTokenizer, policyChat, routerConfig, trainingSeed } from './setup.js';
import { textConcatBudget } from './text-concat.js';
import type { UpdateMetrics } from './update.js';
import { openEngine } from './engines.js';
import { contextNormRatio, findSpecialists, specialistMassMetrics, tokenEmbeddingNorms } from './diagnostics.js';
import type { PolicyEngine } from './policy-engine.js';
import { warmupRouter, type WarmupOptions } from './warmup.js';

/** A training run that cannot go on (repeated non-finite steps). Exit code 1. */
export class TrainingError extends MusketeersError {}

export type StepMetrics = Record<string, number | boolean> & { step: number };

export interface TrainEvents {
  onReady?: (info: { runDir: string; startStep: number; steps: number; backend: string; experts: string[]; trainableParameters: number; resumedFrom?: string }) => void;
  onStep?: (metrics: StepMetrics) => void;
  onEval?: (report: EvalReport) => void;
  onCheckpoint?: (step: number, dir: string) => void;
  warn?: (message: string) => void;
  info?: (message: string) => void;
  world?: BuildEvents;
}

export interface TrainOptions {
  config: MusketeersConfig;
  /** Default `<outputDir>/<name>`. */
  runDir?: string;
  /** Continue the run in runDir from its newest valid checkpoint. */
  resume?: boolean;
  /** Config file the run came from (recorded in run.json). */
  source?: string;
  events?: TrainEvents;
  /** Aborting (SIGINT) ends the run after the current step, with a checkpoint. */
  signal?: AbortSignal;
  /** For tests: steps whose loss is made non-finite. */
  faults?: { nonFiniteSteps?: readonly number[] };
  registry?: TaskRegistry;
}

export interface TaskSummary {
  task: string;
  startAccuracy: number;
  finalAccuracy: number;
  delta: number;
  expertMass?: Record<string, number>;
}

export interface RunSummary {
  name: string;
  method: string;
  seed: number;
  runDir: string;
  steps: number;
  completedSteps: number;
  interrupted: boolean;
  skippedSteps: number;
  backend: string;
  seconds: number;
  reward: { first: number; last: number; window: number };
  startEval?: EvalReport;
  finalEval?: EvalReport;
  tasks: TaskSummary[];
  expertMass?: Record<string, number>;
  routerEntropy?: number;
  /** Engine counters (onnx: sessions compiled, one per graph kind and shape bucket, and their compile seconds). */
  engine?: Record<string, number>;
  lastCheckpoint?: string;
}

export interface TrainResult {
  summary: RunSummary;
  interrupted: boolean;
}

/** Hash of a config with keys in a canonical order (the identity a checkpoint is bound to). */
export function configHash(config: MusketeersConfig): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    return v;
  };
  return sha256(JSON.stringify(canonical(config))).slice(0, 16);
}

/** Learning rate at 1-based step `step` of `total`. */
export function learningRateAt(grpo: MusketeersConfig['grpo'], step: number, total: number): number {
  const s = step - 1;
  const peak = grpo.learningRate;
  if (grpo.warmupSteps > 0 && s < grpo.warmupSteps) return (peak * (s + 1)) / grpo.warmupSteps;
  const progress = Math.min(1, (s - grpo.warmupSteps) / Math.max(1, total - grpo.warmupSteps));
  switch (grpo.lrSchedule) {
    case 'constant':
      return peak;
    case 'linear':
      return peak * (1 - progress);
    case 'cosine':
      return warmupCosine(s, peak, grpo.warmupSteps, total);
  }
}

/** Training prompts in a fresh seeded shuffle every epoch; position k of the stream is deterministic. */
export class PromptStream {
  private permutations = new Map<number, number[]>();

  constructor(
    private readonly dataset: CompositeDataset,
    private readonly indices: readonly number[],
    private readonly seed: number,
  ) {
    if (indices.length === 0) throw new Error('no training items');
  }

  indexAt(position: number): number {
    const n = this.indices.length;
    const epoch = Math.floor(position / n);
    let perm = this.permutations.get(epoch);
    if (!perm) {
      perm = this.indices.slice();
      const rng = new PyRandom(this.seed * 7919 + epoch);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = rng.randbelow(i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      this.permutations.clear(); // one epoch at a time
      this.permutations.set(epoch, perm);
    }
    return perm[position % n];
  }

  batch(step: number, size: number): TaskEntry[] {
    return Array.from({ length: size }, (_, j) => this.dataset.get(this.indexAt((step - 1) * size + j)));
  }
}

/**
 * Held-out items by task: the first `perTask` items of each of `tasks` in evaluation-split order. The
 * trainer's periodic evaluation and `musketeers eval` use it, so both see the same items.
 */
export function heldOutItems(dataset: CompositeDataset, evalIndices: readonly number[], tasks: readonly string[], perTask: number): Map<string, TaskEntry[]> {
  const byTask = new Map<string, TaskEntry[]>(tasks.map((t) => [t, []]));
  for (const i of evalIndices) {
    const e = dataset.get(i);
    const list = byTask.get(String(e.metadata.source_dataset));
    if (list && list.length < perTask) list.push(e);
  }
  return byTask;
}

function sampleRecords(step: number, entries: readonly TaskEntry[], rollouts: readonly Rollout[], routing: { mass: number[] }[], experts: readonly string[], count: number, G: number, expertTexts?: readonly Record<string, string>[]): unknown[] {
  const picks: number[] = [];
  for (let k = 0; picks.length < Math.min(count, rollouts.length); k++) {
    const idx = ((k * G) % rollouts.length) + Math.floor((k * G) / rollouts.length);
    if (!picks.includes(idx)) picks.push(idx);
  }
  return picks.map((i) => {
    const r = rollouts[i];
    const e = entries[r.promptIndex];
    const mass = routing[r.promptIndex]?.mass;
    return {
      step,
      task: r.task,
      question: e.question,
      expected: e.answer,
      completion: r.text,
      answer: r.answer,
      reward: r.reward,
      taskScore: r.taskScore,
      ...(mass ? { expertMass: Object.fromEntries(experts.map((x, k) => [x, mass[k]])) } : {}),
      ...(expertTexts ? { expertTexts: expertTexts[r.promptIndex] } : {}),
    };
  });
}

function meanOf(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * The warm-up of a run: run it (writing warmup.jsonl and a checkpoint under warmup/), or, when the run
 * resumes, restore its result: RL checkpoints already hold the weights, so only the reference router is
 * taken from warmup/; a run stopped before its first RL checkpoint continues from the warm-up's weights.
 */
async function routerWarmupPhase(
  engine: PolicyEngine,
  conditioner: Conditioner,
  phase: { runDir: string; resumed: boolean; configHash: string; keep: number; events: TrainEvents; warmup: WarmupOptions },
): Promise<void> {
  const dir = join(phase.runDir, 'warmup');
  const saved = latestCheckpoint(dir, (m) => phase.events.warn?.(m));
  if (saved) {
    if (!phase.resumed) engine.restore(saved.checkpoint);
    engine.setReference(saved.checkpoint);
    phase.events.info?.(`router warm-up: restored from ${saved.dir}`);
    return;
  }
  if (phase.resumed) throw new DataError(`${phase.runDir} was trained after a router warm-up, but ${dir} holds no warm-up checkpoint; the run cannot be resumed exactly: start it again`);
  const log = join(phase.runDir, 'warmup.jsonl');
  if (existsSync(log)) rmSync(log);
  const { steps } = phase.warmup;
  const result = await warmupRouter(engine, conditioner, {
    ...phase.warmup,
    onStep: (m) => {
      appendJsonl(log, m);
      if (m.step === 1 || m.step % 10 === 0 || m.step === steps) phase.events.info?.(`router warm-up step ${m.step}/${steps}: reference-answer NLL ${m.nll.toFixed(3)} per token, token probability ${m.token_prob.toFixed(3)}`);
    },
  });
  saveCheckpoint(dir, { step: 0, router: result.router, policy: result.policy, optimizer: result.optimizer, loop: { badSteps: 0, skippedSteps: 0, promptsSeen: 0 }, configHash: phase.configHash }, 1);
  phase.events.info?.(`router warm-up: ${steps} steps, NLL ${result.nll.first.toFixed(3)} -> ${result.nll.last.toFixed(3)} per token`);
}

/** Train (or resume) one run. Returns its summary; throws typed errors for bad input and failed runs. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { config } = options;
  const events = options.events ?? {};
  const registry = options.registry ?? taskRegistry;
  const started = performance.now();
  const T = config.train.steps;
  const P = config.train.promptsPerStep;
  const G = config.grpo.groupSize;
  const useExperts = config.method === 'musketeers';
  const format: PromptFormat = { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
  const hash = configHash(config);
  const runDir = resolve(options.runDir ?? join(config.outputDir, config.name));

  // ---- resume: find the checkpoint before touching anything
  let paths: RunPaths;
  let resumeFrom: ReturnType<typeof latestCheckpoint>;
  if (options.resume) {
    paths = runPaths(runDir);
    if (!existsSync(paths.config)) throw new DataError(`${runDir} is not a run directory (no config.yaml); start a run with \`musketeers train CONFIG\``);
    resumeFrom = latestCheckpoint(paths.checkpoints, (m) => events.warn?.(m));
    if (resumeFrom && resumeFrom.checkpoint.configHash !== hash) {
      throw new DataError(`${resumeFrom.dir} was written with a different config than the one given; resume with the run's own config: \`musketeers train --resume ${runDir}\``);
    }
  } else {
    assertNoRun(runDir); // before minutes of world building, not after
  }

  // ---- the tiny world: build whatever is missing (finished models are skipped)
  const backend = await selectBackend(config.train.backend as BackendRequest, { debug: () => {}, info: (m) => events.info?.(m), warn: (m) => events.warn?.(m) });
  if (config.world) await buildWorld(config, { registry, events: events.world, jobs: availableParallelism() });

  // ---- data: the RL training split (epoch-shuffled stream) and held-out items per task
  const { dataset, split } = splitData(config, registry);
  const seed = trainingSeed(config);
  const stream = new PromptStream(dataset, split.train, seed);
  const heldOut = heldOutItems(dataset, split.eval, config.data.tasks.map((t) => t.name), config.train.evalItemsPerTask);

  // ---- policy (+ reference), experts, router: the engine holds them
  const policyFiles = loadPolicyFiles(config);
  const chat = policyChat(config, policyFiles);
  const tokenizer: TextTokenizer = loadPolicyTokenizer(policyFiles);
  let pool: ExpertPool | undefined;
  let texts: ExpertTextPool | undefined;
  let engine: PolicyEngine | undefined;
  const disposeAll = async () => {
    await engine?.dispose();
    await pool?.dispose();
    await texts?.dispose();
  };
  try {
    if (useExperts) pool = await ExpertPool.open(expertSpecs(config), { ...config.experts, cacheDir: config.experts.cacheDir, warn: (m) => events.warn?.(m) });
    const rc = pool ? routerConfig(config, pool.names, pool.widths, policyFiles.architecture.hiddenSize) : undefined;
    engine = await openEngine({ config, files: policyFiles, router: rc, backend, warn: (m) => events.warn?.(m) });
    const tokenNorms = tokenEmbeddingNorms(policyFiles.weights);
    const specialists = pool ? findSpecialists(config, pool.names) : {};
    policyFiles.weights.clear(); // the engine holds its own copies; free the loaded float32 arrays (a real checkpoint's full size)
    if (config.method === 'text-concat') texts = await ExpertTextPool.open(expertSpecs(config), expertTextOptions(config, (m) => events.warn?.(m)));
    const conditioner = new Conditioner(format, pool, engine.router, config.experts.perturb, config.experts.prompt, texts);
    const K = rc ? config.router.numLatents : 0;
    const maxPositions = policyFiles.architecture.maxPositionEmbeddings;
    checkLengths(config, tokenizer, dataset, split, format, K, maxPositions, texts ? expertLinesBudget(texts, tokenizer, events.warn) : 0);
    const promptLimits = { maxPositions, prefixTokens: K, maxNewTokens: config.grpo.maxNewTokens, textConcat: texts !== undefined };
    const trainableParameters = engine.trainableParameters;
    const live = engine;

    // ---- run directory: fresh, or cut back to the checkpoint it resumes from
    let startStep = 0;
    let loop: LoopState = { badSteps: 0, skippedSteps: 0, promptsSeen: 0 };
    if (options.resume) {
      paths = runPaths(runDir);
      if (resumeFrom) {
        const c = resumeFrom.checkpoint;
        live.restore(c);
        startStep = c.step;
        loop = { ...c.loop };
      }
      const dropped = truncateJsonl(paths.metrics, startStep);
      truncateJsonl(paths.samples, startStep);
      for (const f of evalStepsAfter(paths.eval, startStep)) rmSync(join(paths.eval, f));
      events.info?.(resumeFrom ? `resuming ${runDir} from step ${startStep} (${resumeFrom.dir}); ${dropped} later metric line(s) dropped` : `no checkpoint in ${runDir}: starting it from step 0`);
    } else {
      const oracles = selectedOracleNames(config);
      paths = createRunDir(runDir, config, { name: config.name, method: config.method, seed, backend: live.device, source: options.source, specialists, ...(oracles.length > 0 ? { oracleExperts: oracles } : {}) });
      if (oracles.length > 0) events.warn?.(`oracle expert(s) ${oracles.join(', ')}: a diagnostic that sees the reference answers; this run measures the interface's capacity, not collaboration (run.json: oracleExperts)`);
    }
    mkdirSync(paths.eval, { recursive: true });
    events.onReady?.({ runDir, startStep, steps: T, backend: live.device, experts: pool?.names ?? texts?.names ?? [], trainableParameters, resumedFrom: resumeFrom?.dir });

    const stopStrings = config.grpo.stopAtAnswer ? [`</${format.answerTag}>`] : [];
    const evalOptions = { maxNewTokens: config.grpo.maxNewTokens, batchSize: 32, stopStrings, maxPositions, chat };
    const runEval = async (step: number): Promise<EvalReport> => {
      const report = await evaluateHeldOut(step, live.generator, tokenizer, conditioner, registry, heldOut, evalOptions);
      writeFileAtomic(join(paths.eval, `${stepName(step)}.json`), `${JSON.stringify(report, null, 2)}\n`);
      events.onEval?.(report);
      return report;
    };
    const hyper: GrpoHyper = {
      epsilonLow: config.grpo.epsilonLow,
      epsilonHigh: config.grpo.epsilonHigh,
      beta: config.grpo.beta,
      aggregation: config.grpo.lossAggregation,
      maxCompletionLength: config.grpo.maxNewTokens,
    };
    const checkpoint = (step: number): string => {
      const dir = saveCheckpoint(
        paths.checkpoints,
        { step, ...live.checkpoint(), loop, configHash: hash },
        config.train.keepCheckpoints,
      );
      events.onCheckpoint?.(step, dir);
      return dir;
    };

    // ---- router warm-up (router.warmup; a departure from the paper, off by default): router only, training items only
    if (config.router.warmup.steps > 0) {
      const warmStream = new PromptStream(dataset, split.train, seed + 104_729);
      await routerWarmupPhase(live, conditioner, {
        runDir,
        resumed: startStep > 0,
        configHash: hash,
        keep: config.train.keepCheckpoints,
        events,
        warmup: {
          steps: config.router.warmup.steps,
          learningRate: config.router.warmup.learningRate,
          policyLearningRate: config.router.warmup.policyLearningRate,
          batch: (s) => warmStream.batch(s, config.router.warmup.promptsPerStep ?? P),
          format,
          tokenizer,
          promptLimits,
          hyper,
        },
      });
    }

    // ---- evaluation of the starting policy (after the warm-up, when there is one)
    if (startStep === 0 && !existsSync(join(paths.eval, `${stepName(0)}.json`))) await runEval(0);

    let lastCheckpoint: string | undefined = resumeFrom?.dir;
    let interrupted = false;
    for (let step = startStep + 1; step <= T; step++) {
      const t0 = performance.now();
      const lr = learningRateAt(config.grpo, step, T);
      // router.learningRate: the router's peak rate on the same schedule (default: one rate for all)
      const lrRouter = config.router.learningRate === undefined ? lr : (lr * config.router.learningRate) / config.grpo.learningRate;

      // ---- batch: P training prompts
      const entries = stream.batch(step, P);

      // ---- experts -> router -> context tokens [P, K, hidden] (no gradient; recomputed in the update),
      // or (text-concat) the experts' answers written into the prompt text
      const conditioning = await conditioner.condition(entries);
      let rollouts: Rollout[];
      let updates: UpdateMetrics[] = [];
      let tRollout = 0;
      let tReward = 0;
      let tReference = 0;
      try {
        // ---- policy token ids [P][L_p] with BOS
        const promptIds = encodePolicyPrompts(tokenizer, conditioning.promptTexts, promptLimits);
        // ---- rollouts: G completions per prompt, R = P * G rows, group by group
        const t1 = performance.now();
        const completions = await sampleCompletions(live.generator, tokenizer, promptIds, conditioning.prefix, {
          groupSize: G,
          maxNewTokens: config.grpo.maxNewTokens,
          temperature: config.grpo.temperature,
          topP: config.grpo.topP,
          seed: seed * 1_000_003 + step,
          stopStrings,
        });
        const t2 = performance.now();
        // ---- rewards -> group-relative advantages [R]
        rollouts = scoreCompletions(registry, entries, completions, { answerTag: format.answerTag, formatRewardWeight: config.grpo.formatRewardWeight });
        const adv = groupAdvantages(rollouts.map((r) => r.reward), G, config.grpo.scaleRewards);
        const advantages = options.faults?.nonFiniteSteps?.includes(step) ? adv.advantages.map(() => NaN) : adv.advantages;
        const t3 = performance.now();
        tRollout = (t2 - t1) / 1000;
        tReward = (t3 - t2) / 1000;

        // ---- reference log-probs [R][C]: the policy and router as they were at initialisation
        const rowPrompt = completions.map((c) => c.promptIndex);
        const rows = { promptIds, completionIds: completions.map((c) => c.completionIds), expertStates: conditioning.states, rowPrompt };
        const refLogp = live.referenceLogProbs ? await live.referenceLogProbs(rows) : undefined;
        // ---- mu optimizer steps on this batch (the first with ratio 1)
        const oldLogp = config.grpo.iterations > 1 ? await live.policyLogProbs(rows) : undefined;
        tReference = (performance.now() - t3) / 1000;
        for (let it = 0; it < config.grpo.iterations; it++) {
          updates.push(await live.update({ ...rows, advantages, oldLogp, refLogp }, hyper, { router: lrRouter, policy: lr }));
        }
        const applied = updates.every((u) => u.applied);
        loop = { badSteps: applied ? 0 : loop.badSteps + 1, skippedSteps: loop.skippedSteps + (applied ? 0 : 1), promptsSeen: loop.promptsSeen + P };

        // ---- metrics line
        const u = (f: (m: UpdateMetrics) => number) => meanOf(updates.map(f));
        const metrics: StepMetrics = {
          step,
          ...rolloutMetrics(
            rollouts.map((r) => ({ task: r.task, reward: r.reward, taskScore: r.taskScore, formatScore: r.formatScore, length: r.completionIds.length, truncated: r.finishReason === 'length' })),
            adv,
          ),
          loss: u((m) => m.loss),
          kl: u((m) => m.kl),
          clip_ratio: u((m) => m.clipRatio),
          'clip_ratio/low': u((m) => m.clipRatioLow),
          'clip_ratio/high': u((m) => m.clipRatioHigh),
          entropy: u((m) => m.entropy),
          grad_norm: u((m) => m.gradNorm),
          'grad_norm/router': u((m) => m.gradNormRouter),
          'grad_norm/policy': u((m) => m.gradNormPolicy),
          learning_rate: lr,
          ...(config.router.learningRate === undefined ? {} : { 'learning_rate/router': lrRouter }),
          ...routingMetrics(conditioner.experts, conditioning.routing),
          ...specialistMassMetrics(conditioner.experts, conditioning.routing, specialists),
          ...(conditioning.prefix ? { 'router/context_norm_ratio': contextNormRatio(conditioning.prefix, promptIds, tokenNorms) } : {}),
          'tokens/prompt': rows.promptIds.reduce((a, r) => a + r.length, 0) + rows.promptIds.length * K,
          'tokens/completion': rows.completionIds.reduce((a, r) => a + r.length, 0),
          'experts/cached': conditioning.cached,
          'time/experts': conditioning.expertSeconds,
          'time/rollout': tRollout,
          'time/reward': tReward,
          'time/reference': tReference,
          'time/backward': updates.reduce((a, m) => a + m.backwardSeconds, 0),
          'time/update': updates.reduce((a, m) => a + m.updateSeconds, 0),
          'time/step': (performance.now() - t0) / 1000,
          skipped: !applied,
        };
        appendJsonl(paths.metrics, metrics);
        if (config.train.sampleEvery > 0 && step % config.train.sampleEvery === 0) {
          for (const s of sampleRecords(step, entries, rollouts, conditioning.routing, conditioner.experts, config.train.samplesPerLog, G, conditioning.expertTexts)) appendJsonl(paths.samples, s);
        }
        events.onStep?.(metrics);
        if (!applied) {
          events.warn?.(`step ${step}: non-finite loss or gradient (loss ${updates.map((m) => m.loss).join(', ')}); update skipped (${loop.badSteps} in a row)`);
          if (loop.badSteps >= config.train.maxBadSteps) {
            throw new TrainingError(
              `stopped at step ${step}: ${loop.badSteps} consecutive steps had a non-finite loss or gradient (train.maxBadSteps = ${config.train.maxBadSteps}). ` +
                `The last good checkpoint is ${lastCheckpoint ?? '(none yet)'}; lower grpo.learningRate or grpo.maxGradNorm and resume with \`musketeers train --resume ${runDir}\``,
            );
          }
        }
      } finally {
        disposeConditioning(conditioning);
      }

      // ---- evaluation, checkpoint, interruption
      if (config.train.evalEvery > 0 && step % config.train.evalEvery === 0 && step < T) await runEval(step);
      interrupted = options.signal?.aborted ?? false;
      if ((step % config.train.checkpointEvery === 0 || step === T || interrupted) && loop.badSteps === 0) lastCheckpoint = checkpoint(step);
      if (interrupted) {
        events.info?.(`interrupted after step ${step}; checkpoint ${lastCheckpoint}; continue with \`musketeers train --resume ${runDir}\``);
        break;
      }
    }

    // ---- final evaluation and summary
    const metrics = readJsonl<StepMetrics>(paths.metrics);
    const completedSteps = metrics.length === 0 ? 0 : Number(metrics[metrics.length - 1].step);
    let finalEval: EvalReport | undefined;
    if (!interrupted && completedSteps === T) {
      finalEval = existsSync(join(paths.eval, `${stepName(T)}.json`)) ? readEval(paths, T) : await runEval(T);
    }
    const startEval = readEval(paths, 0);
    const window = Math.max(1, Math.ceil(metrics.length / 10));
    const rewards = metrics.map((m) => Number(m.reward));
    const summary: RunSummary = {
      name: config.name,
      method: config.method,
      seed,
      runDir,
      steps: T,
      completedSteps,
      interrupted,
      skippedSteps: loop.skippedSteps,
      backend: live.device,
      seconds: (performance.now() - started) / 1000,
      reward: { first: meanOf(rewards.slice(0, window)), last: meanOf(rewards.slice(-window)), window },
      startEval,
      finalEval,
      tasks: config.data.tasks.map((t) => {
        const s = startEval?.tasks[t.name]?.accuracy ?? NaN;
        const f = finalEval?.tasks[t.name]?.accuracy ?? NaN;
        return { task: t.name, startAccuracy: s, finalAccuracy: f, delta: f - s, expertMass: finalEval?.tasks[t.name]?.expertMass };
      }),
      expertMass: finalEval?.expertMass,
      routerEntropy: finalEval?.routerEntropy,
      lastCheckpoint,
      engine: live.stats?.(),
    };
    writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    return { summary, interrupted };
  } finally {
    await disposeAll();
  }
}

/** The summary of a run that trained every step and was evaluated at the end, else undefined. */
export function finishedRun(runDir: string): RunSummary | undefined {
  const file = runPaths(runDir).summary;
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
  return !s.interrupted && s.completedSteps === s.steps && s.finalEval ? s : undefined;
}

function readEval(paths: RunPaths, step: number): EvalReport | undefined {
  const file = join(paths.eval, `${stepName(step)}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EvalReport) : undefined;
}

/**
 * The policy tokens the expert lines of text-concat can add (an upper estimate; each prompt is also checked
 * when it is built). Characters the policy's tokenizer cannot encode are reported once.
 */
function expertLinesBudget(texts: ExpertTextPool, tokenizer: TextTokenizer, warn?: (m: string) => void): number {
  const budget = textConcatBudget(
    tokenizer,
    texts.generators.map((g) => ({ name: g.name, tokenizer: g.tokenizer, maxNewTokens: g.settings.maxNewTokens })),
  );
  for (const [expert, chars] of Object.entries(budget.unencodable)) {
    warn?.(`text-concat: the policy's tokenizer reads these characters expert '${expert}' can write as unknown tokens: ${chars.map((c) => JSON.stringify(c)).join(' ')}`);
  }
  return budget.tokens;
}

/** Every prompt, with the context tokens (or expert lines) and the completion budget, must fit the policy's positions. */
function checkLengths(config: MusketeersConfig, tokenizer: TextTokenizer, dataset: CompositeDataset, split: { train: number[]; eval: number[] }, format: PromptFormat, K: number, maxPositions: number, expertLines: number): void {
  let longest = 0;
  let example = '';
  for (const i of [...split.train, ...split.eval]) {
    const e = dataset.get(i);
    const n = 1 + tokenizer.encode(formatPrompt(format, e)).length;
    if (n > longest) {
      longest = n;
      example = String(e.metadata.source_dataset);
    }
  }
  const need = K + longest + expertLines + config.grpo.maxNewTokens;
  if (need > maxPositions) {
    const lines = expertLines > 0 ? ` + up to ${expertLines} tokens of expert lines (text-concat: experts.generation.maxNewTokens ${config.experts.generation.maxNewTokens} per expert)` : '';
    throw new DataError(
      `the longest prompt (${longest} tokens, a ${example} item) + ${K} context tokens${lines} + grpo.maxNewTokens ${config.grpo.maxNewTokens} = ${need} positions, ` +
        `but the policy has maxPositionEmbeddings ${maxPositions}; lower grpo.maxNewTokens${expertLines > 0 ? ' or experts.generation.maxNewTokens' : ''} or use smaller task configs`,
    );
  }
}
